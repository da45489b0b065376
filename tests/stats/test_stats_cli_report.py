"""`behavior stats` end to end: files written, columns, report text, errors and warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from behavior.cli import main
from behavior.stats.formatting import format_df, format_p, format_stat, stars
from behavior.stats.outcome import POSTHOC_COLUMNS, TEST_COLUMNS


def write_ppi(tmp_path):
    """PPI long table: 5 vehicle + 5 drug animals x 3 prepulse levels; drug adds 15 %PPI.

    s4 is excluded by the startle analysis; s9 has no 82 dB row.
    """
    rng = np.random.default_rng(5)
    rows = []
    for i in range(10):
        animal = rng.normal(0, 5)
        for db in (74, 78, 82):
            if i == 9 and db == 82:
                continue
            rows.append(
                {
                    "subject": f"s{i}",
                    "prepulse_db": db,
                    "ppi_pct": round(
                        20 + (db - 74) * 3 + 15 * (i % 2) + animal + rng.normal(0, 3), 2
                    ),
                    "startle": 400,
                    "n_trials": 10,
                    "habituation": 0.8,
                    "nostim": 4,
                    "excluded": "too few valid trials" if i == 4 else "",
                }
            )
    pd.DataFrame(rows).to_csv(tmp_path / "ppi.csv", index=False)
    pd.DataFrame(
        {"subject": [f"s{i}" for i in range(10)], "treatment": ["vehicle", "drug"] * 5}
    ).to_csv(tmp_path / "groups.csv", index=False)


def test_cli_mixed_design_writes_tables_figures_and_report(tmp_path, capsys):
    write_ppi(tmp_path)
    out = tmp_path / "out"
    code = main(
        [
            "stats",
            str(tmp_path / "ppi.csv"),
            "--groups",
            str(tmp_path / "groups.csv"),
            "--value",
            "ppi_pct",
            "--between",
            "treatment",
            "--within",
            "prepulse_db",
            "--control",
            "vehicle",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "s4 (too few valid trials)" in captured.err
    assert "s9 (no 82)" in captured.err
    assert "mixed ANOVA" in captured.out
    for name in (
        "tests.csv",
        "posthoc.csv",
        "descriptives.csv",
        "assumptions.csv",
        "analysed_data.csv",
        "report.html",
        "lines.png",
        "lines.svg",
        "lines.pdf",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (out / "lines.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "lines.pdf").read_bytes()[:5] == b"%PDF-"
    tests = pd.read_csv(out / "tests.csv")
    assert tuple(tests.columns) == TEST_COLUMNS
    within = tests[(tests["test"] == "mixed ANOVA") & (tests["effect"] == "prepulse_db")].iloc[0]
    assert 0.5 <= within["epsilon"] <= 1.0 and within["p_gg"] >= within["p"]
    post = pd.read_csv(out / "posthoc.csv")
    assert tuple(post.columns) == POSTHOC_COLUMNS
    assert len(post) == 3 and set(post["group1"]) == {"vehicle"}
    desc = pd.read_csv(out / "descriptives.csv")
    # 4 vehicle animals left (s4 excluded), 4 drug animals (s9 incomplete)
    assert list(desc["n"]) == [4, 4, 4, 4, 4, 4]
    data = pd.read_csv(out / "analysed_data.csv")
    cell = data[(data["treatment"] == "drug") & (data["prepulse_db"] == 78)]["ppi_pct"]
    row = desc[(desc["treatment"] == "drug") & (desc["prepulse_db"] == 78)].iloc[0]
    assert row["mean"] == pytest.approx(cell.mean())
    assert row["sem"] == pytest.approx(cell.std(ddof=1) / math.sqrt(len(cell)))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Greenhouse–Geisser" in html and "too few valid trials" in html
    assert "data:image/png;base64," in html


def test_cli_reports_missing_column_and_file(tmp_path, capsys):
    write_ppi(tmp_path)
    code = main(
        ["stats", str(tmp_path / "ppi.csv"), "--value", "ppi", "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "ppi.csv" in err and "no column 'ppi'" in err
    code = main(["stats", str(tmp_path / "nope.csv"), "--value", "x"])
    assert code == 2 and "file not found" in capsys.readouterr().err
    code = main(
        [
            "stats",
            str(tmp_path / "ppi.csv"),
            "--groups",
            str(tmp_path / "groups.csv"),
            "--value",
            "ppi_pct",
            "--between",
            "treatment",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "(setting within)" in capsys.readouterr().err


def test_number_formatting_the_way_papers_write_it():
    assert [stars(p) for p in (0.06, 0.04, 0.009, 0.0009, 0.00009)] == [
        "ns",
        "*",
        "**",
        "***",
        "****",
    ]
    assert format_p(0.0042) == "p = 0.004" and format_p(0.0004) == "p < 0.001"
    assert format_stat("F", 5.2149, 3, 36) == "F(3, 36) = 5.21"
    assert format_df(17.346) == "17.35" and format_df(4.0) == "4"


def test_reader_semicolons_bom_excel_and_duplicate_headers(tmp_path):
    from behavior.errors import InputError
    from behavior.stats import read_table

    (tmp_path / "g.csv").write_bytes("\ufeffsubject;dose\nm1; 0\nm2;10\n".encode())
    t = read_table(tmp_path / "g.csv")
    assert list(t.columns) == ["subject", "dose"] and list(t["dose"]) == ["0", "10"]
    pd.DataFrame({"subject": ["m1"], "dose": [3]}).to_excel(tmp_path / "g.xlsx", index=False)
    assert read_table(tmp_path / "g.xlsx")["dose"].tolist() == ["3"]
    (tmp_path / "d.csv").write_text("subject,x,x\nm1,1,2\n")
    with pytest.raises(InputError, match="duplicate column name"):
        read_table(tmp_path / "d.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "e.csv")


def test_dot_figures_carry_one_star_label_per_comparison():
    import warnings

    from behavior.stats import analyze
    from behavior.stats.plots import figures

    rng = np.random.default_rng(9)
    rows = [
        {"subject": f"{g}{s}{i}", "drug": g, "sex": s, "y": rng.normal(10 + 8 * (g == "flx"), 1)}
        for g in ("veh", "flx")
        for s in ("f", "m")
        for i in range(5)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = analyze(pd.DataFrame(rows), value="y", between=["drug", "sex"], control="veh")
        one = analyze(pd.DataFrame(rows), value="y", between="drug", control="veh")
    for result in (two, one):
        (fig,) = figures(result).values()
        labels = [t.get_text() for t in fig.axes[0].texts]
        assert labels == [stars(p) for p in result.posthoc["p_adj"]]
        assert set(labels) == {"****"}


def test_where_reaches_the_analysis(tmp_path, capsys):
    # `--where` was parsed and then never passed on: every pulse level was analysed
    rows = ["subject,group,pulse_db,ppi_pct"]
    for i in range(8):
        group = "veh" if i < 4 else "drug"
        rows += [f"m{i},{group},100,{10 + i}", f"m{i},{group},120,{40 + 3 * i}"]
    table = tmp_path / "ppi.csv"
    table.write_text("\n".join(rows) + "\n")
    argv = ["stats", str(table), "--value", "ppi_pct", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "several rows per subject" in capsys.readouterr().err
    assert main([*argv, "--where", "pulse_db=120"]) == 0
    assert "kept 8 of 16 rows where pulse_db = 120" in capsys.readouterr().err
    d = pd.read_csv(tmp_path / "o" / "descriptives.csv").set_index("group")
    assert d.loc["veh", "mean"] == pytest.approx(40 + 3 * 1.5)
    assert d.loc["drug", "mean"] == pytest.approx(40 + 3 * 5.5)
