"""The Statistics page shows what ``behavior.stats.analyze`` computes, on real tables.

Dose-response table (seeded): 4 doses × 6 mice, immobility falls with dose; mouse
m05 has an empty value (left out, and the page says so). The page's tests table,
post hoc table and figure are compared with the core called directly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from behavior.stats import DataWarning, analyze, read_table
from behavior.stats.formatting import stars


def write_dose_study(folder, seed: int = 11):
    rng = np.random.default_rng(seed)
    doses = np.repeat(["0", "1", "3", "10"], 6)
    subjects = [f"m{i:02d}" for i in range(1, doses.size + 1)]
    values = 160 - 6 * doses.astype(float) + rng.normal(0, 12, doses.size)
    cells = [f"{v:.2f}" for v in values]
    cells[4] = ""  # m05: no value (a recording that ends early)
    results = pd.DataFrame({"subject": subjects, "immobility_s": cells,
                            "note": ["" if c else "the recording ends before the window"
                                     for c in cells]})
    groups = pd.DataFrame({"subject": subjects, "dose_mg_kg": doses})
    rpath, gpath = folder / "fst_results.csv", folder / "fst_groups.csv"
    results.to_csv(rpath, index=False)
    groups.to_csv(gpath, index=False)
    return rpath, gpath


@pytest.fixture
def page(qtbot, tmp_path):
    from behavior_gui.settings import Settings
    from behavior_gui.stats_page import StatsPage

    p = StatsPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    return p


def choose(page, results, groups, value="immobility_s", factor="dose_mg_kg", control="0"):
    page.results_edit.setText(str(results))
    page.groups_edit.setText(str(groups) if groups else "")
    assert page.load()
    page.value_combo.setCurrentText(value)
    page.factor1.setCurrentText(factor)
    page.control_combo.setCurrentText(control)


def reported_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def test_stats_page_shows_the_cores_f_and_p(page, tmp_path):
    rpath, gpath = write_dose_study(tmp_path)
    choose(page, rpath, gpath)
    assert page.analyze()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        core = analyze(read_table(rpath), read_table(gpath), value="immobility_s",
                       between=["dose_mg_kg"], control="0")
    anova = core.tests.iloc[0]
    assert core.primary == "one-way ANOVA" and anova["df2"] == 19  # 23 animals, 4 groups
    shown = page.tests_table
    assert float(shown.text(0, "statistic")) == pytest.approx(anova["statistic"], rel=1e-3)
    # p as a lab reports it (APA: "< 0.001", else three decimals), exact in the tip
    assert shown.text(0, "p") == reported_p(anova["p"])
    column = list(shown.frame.columns).index("p")
    assert shown.item(0, column).toolTip() == f"p = {anova['p']:.3g}"
    assert shown.text(0, "df1") == "3" and shown.text(0, "df2") == "19"
    # the same F and p in the sentence the page shows
    text = page.summary.toPlainText()
    assert core.methods[0] in text
    assert f"F(3, 19) = {anova['statistic']:.2f}" in text
    # post hoc: Dunnett against dose 0, the core's adjusted p per comparison
    post = page.posthoc_table
    assert post.rowCount() == len(core.posthoc) == 3
    for i, row in core.posthoc.iterrows():
        assert post.text(i, "group2") == row["group2"]
        assert post.text(i, "p_adj") == reported_p(row["p_adj"])
        assert post.text(i, "stars") == stars(row["p_adj"])  # as the figure marks it
    # the row with an empty value is left out, and the page says so
    assert "m05" in text and "left out" in text.lower()
    assert len(page.result.design.data) == 23
    # the figure is the core's, labelled in words
    ax = page.figure.figure.axes[0]
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("Immobility (s)", "Dose (mg/kg)")


def test_stats_page_exports_the_cores_report(page, tmp_path):
    rpath, gpath = write_dose_study(tmp_path)
    choose(page, rpath, gpath)
    assert page.analyze()
    written = page.export(str(tmp_path / "report"))
    names = {p.name for p in written.values()}
    assert {"report.html", "dots.png", "dots.svg", "dots.pdf", "tests.csv",
            "posthoc.csv"} <= names
    tests = pd.read_csv(tmp_path / "report" / "tests.csv")
    assert tests["statistic"].iloc[0] == pytest.approx(page.result.tests["statistic"].iloc[0])
    assert "Dunnett" in (tmp_path / "report" / "report.html").read_text()


def test_stats_page_remembers_choices(qtbot, page, tmp_path):
    from behavior_gui.settings import Settings
    from behavior_gui.stats_page import StatsPage

    rpath, gpath = write_dose_study(tmp_path)
    choose(page, rpath, gpath, control="3")
    assert page.analyze()
    page.settings.sync()
    again = StatsPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    assert again.results_edit.text() == str(rpath)
    assert again.load()
    assert again.factor1.currentText() == "dose_mg_kg"
    assert again.control_combo.currentText() == "3"


def test_stats_page_names_a_bad_table_in_one_line(page, tmp_path):
    bad = tmp_path / "results.csv"
    bad.write_text("subject,immobility_s\n")
    page.results_edit.setText(str(bad))
    assert not page.load()
    text = page.summary.toPlainText()
    assert str(bad) in text and "Traceback" not in text and "\n" not in text.strip()


def test_stats_page_with_a_sessions_key(page, tmp_path):
    """Auto-scored results of a session's coded videos + its key: the groups come
    from the key, matched on the coded file's name."""
    from gui_helpers import make_gui_session

    made, _, table = make_gui_session(tmp_path, n=4)
    codes = sorted(made.codes)
    import json

    key = json.loads(made.key_path.read_text())
    group_of = {row["code"]: row["group"] for row in key["videos"]}
    rng = np.random.default_rng(2)
    results = pd.DataFrame({"video": [f"/runs/{c}.mp4" for c in codes], "arena": 1,
                            "immobility_s": [f"{100 + 30 * (group_of[c] == 'fluoxetine') + x:.1f}"
                                             for c, x in zip(codes, rng.normal(0, 5, 4),
                                                             strict=True)]})
    rpath = tmp_path / "auto.csv"
    results.to_csv(rpath, index=False)
    choose(page, rpath, made.key_path, factor="group", control="vehicle")
    assert page.analyze()
    data = page.result.design.data
    assert len(data) == 4
    assert dict(zip(data["subject"], data["group"], strict=True)) == {
        f"{c}.mp4 arena 1": group_of[c] for c in codes}
    assert page.result.primary == "Welch t-test"


def test_stats_page_mixed_anova_equals_the_core(page, tmp_path):
    """%PPI (long layout) over three prepulse levels in two groups of 6: the page's
    mixed ANOVA rows (F, Greenhouse–Geisser p) are the core's."""
    rng = np.random.default_rng(4)
    rows = []
    for i in range(12):
        treatment = "vehicle" if i < 6 else "mk801"
        for k, db in enumerate(("74", "78", "86")):
            ppi = 20 + 20 * k - 10 * (treatment == "mk801") + rng.normal(0, 6)
            rows.append({"subject": f"r{i:02d}", "pulse_db": "120", "prepulse_db": db,
                         "ppi_pct": f"{ppi:.2f}"})
    results = pd.DataFrame(rows)
    groups = pd.DataFrame({"subject": [f"r{i:02d}" for i in range(12)],
                           "treatment": ["vehicle"] * 6 + ["mk801"] * 6})
    rpath, gpath = tmp_path / "ppi.csv", tmp_path / "groups.csv"
    results.to_csv(rpath, index=False)
    groups.to_csv(gpath, index=False)
    choose(page, rpath, gpath, value="ppi_pct", factor="treatment", control="vehicle")
    page.within_combo.setCurrentText("prepulse_db")
    assert page.analyze()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        core = analyze(read_table(rpath), read_table(gpath), value="ppi_pct",
                       between=["treatment"], within="prepulse_db", control="vehicle")
    assert page.result.primary == core.primary == "mixed ANOVA"
    shown = page.tests_table
    assert shown.rowCount() == len(core.tests)
    for i, row in core.tests.iterrows():
        assert shown.text(i, "effect") == row["effect"]
        assert float(shown.text(i, "statistic")) == pytest.approx(row["statistic"], rel=1e-3)
        assert shown.text(i, "p") == reported_p(row["p"])
    ax = page.figure.figure.axes[0]
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("PPI (%)", "Prepulse (dB)")
    assert len(page.posthoc_table.frame) == 3  # one comparison per prepulse level


def test_stats_page_auto_scored_results_with_video_and_arena(page, tmp_path):
    """The auto-scorer's table (video, arena; an empty value with its note) and a
    groups table keyed the same way."""
    rng = np.random.default_rng(9)
    rows, groups = [], []
    for v in range(4):
        for arena in (1, 2):
            dose = ("0", "10")[(v + arena) % 2]
            value = 150 - 4 * float(dose) + rng.normal(0, 8)
            rows.append({"video": f"D:\\fst\\day1_{v}.mp4", "arena": arena,
                         "immobility_s": "" if (v, arena) == (3, 2) else f"{value:.2f}",
                         "note": "no animal found" if (v, arena) == (3, 2) else ""})
            groups.append({"video": f"day1_{v}.mp4", "arena": arena, "dose_mg_kg": dose})
    rpath, gpath = tmp_path / "results.csv", tmp_path / "groups.csv"
    pd.DataFrame(rows).to_csv(rpath, index=False)
    pd.DataFrame(groups).to_csv(gpath, index=False)
    choose(page, rpath, gpath)
    assert page.analyze()
    assert len(page.result.design.data) == 7
    text = page.summary.toPlainText()
    assert "day1_3.mp4 arena 2" in text and "no animal found" in text
