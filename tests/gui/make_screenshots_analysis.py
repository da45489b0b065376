"""Screenshots of the analysis pages (Agreement, Statistics, Sessions) with real data.

    python tests/gui/make_screenshots_analysis.py [--keep DIR] [--out docs/screenshots]
                                                  [--data-only]

The data are made by the core, as a lab would make them (kept in DIR for later runs):

1. six 6-min synthetic forced swim videos (behavior.testing; three "vehicle" mice
   immobile ~60 % of the time, three "fluoxetine" ~35 %), and their groups table;
2. a blinded session of them (behavior.blinding.create) with observers ann and bob;
3. the auto-scorer run on the session's coded videos (behavior.fst.score_batch),
   keeping its traces;
4. ann and bob's scores: the true immobile bouts as a person records them — each
   press late by 0.2–0.8 s and each release by 0.1–0.5 s, half of the bouts shorter
   than 1 s missed (bob presses a little later than ann) — written through
   ScoringSession, every video marked finished;
5. a PPI experiment (behavior.testing.startle: 2 × 8 rats, SR-LAB files) in which the
   "mk801" rats keep 30 % more of the startle after each prepulse, analysed by
   behavior.startle into a %PPI table.

Then the real window, on Xvfb, shows each page and Qt grabs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
GROUPS = ("vehicle", "vehicle", "vehicle", "fluoxetine", "fluoxetine", "fluoxetine")
IMMOBILE = (0.62, 0.58, 0.66, 0.38, 0.33, 0.41)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path,
                        default=Path(tempfile.gettempdir()) / "shots_analysis")
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "docs" / "screenshots")
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = make_data(args.keep)
    if args.data_only:
        return
    if not args.inside:  # run again inside a fresh Xvfb
        from gui_helpers import run_inside_xvfb

        run_inside_xvfb(__file__, args.keep, args.out)
        return
    shoot(data, args.out)


# -- the data -----------------------------------------------------------------------------
def make_data(keep: Path) -> dict:
    import numpy as np

    from behavior.blinding.create import create_session
    from behavior.blinding.session import ScoringSession
    from behavior.blinding.tables import match_groups, read_groups
    from behavior.protocols import load_fst_protocol
    from behavior.testing import SyntheticSpec, ground_truth, write_video

    keep.mkdir(parents=True, exist_ok=True)
    raw = keep / "raw"
    raw.mkdir(exist_ok=True)
    videos, specs, lines = [], [], ["video,subject,group,dose_mg_kg"]
    for i, (group, fraction) in enumerate(zip(GROUPS, IMMOBILE, strict=True)):
        spec = SyntheticSpec(duration_s=360, fps=25, width=480, height=360, seed=40 + i,
                             immobility_fraction=fraction, early_mobile=True)
        v = raw / f"{group}_m{i + 1}.mp4"
        if not v.exists():
            print("rendering", v, flush=True)
            write_video(spec, v, keyframe_s=2.0)
        videos.append(v)
        specs.append(spec)
        lines.append(f"{v.name},m{i + 1},{group},{0 if group == 'vehicle' else 10}")
    groups = keep / "groups.csv"
    groups.write_text("\n".join(lines) + "\n")

    session, key = keep / "fst_cohort3", keep / "keys" / "fst_cohort3.json"
    if not session.exists():
        key.parent.mkdir(exist_ok=True)
        create_session(videos, match_groups(videos, read_groups(groups), groups), session, key,
                       load_fst_protocol("mouse_fst"), observers=["ann", "bob"])
    codes = {Path(r["video"]).name: r["code"]
             for r in json.loads(key.read_text())["videos"]}

    traces, results = keep / "auto_traces", keep / "auto_results.csv"
    if not results.exists():
        import behavior.fst as fst

        protocol = fst.load_protocol("mouse_fst")
        coded = sorted((session / "videos").glob("*.mp4"))
        print("auto-scoring", len(coded), "coded videos", flush=True)
        batch = fst.score_batch([str(p) for p in coded], protocol, out=results,
                                traces_dir=traces)
        assert batch.exit_status == 0, [r.error for r in batch.results]

    with ScoringSession(session, "ann") as s:
        scored = bool(s.events())
    if not scored:
        for observer, seed, late in (("ann", 1, 0.0), ("bob", 2, 0.25)):
            rng = np.random.default_rng(seed)
            with ScoringSession(session, observer) as s:
                for v, spec in zip(videos, specs, strict=True):
                    code = codes[v.name]
                    s.select(code)
                    last = 0.0
                    for a, b in ground_truth(spec).bouts(1):
                        if b - a < 1.0 and rng.random() < 0.5:
                            continue  # a short bout missed
                        a2 = max(a + late + rng.uniform(0.2, 0.8), last + 0.05)
                        b2 = min(b + late + rng.uniform(0.1, 0.5), 359.9)
                        if b2 - a2 > 0.1:
                            s.add("immobility", float(a2), float(b2))
                            last = b2
                    s.finish(code)

    ppi = keep / "ppi.csv"
    if not ppi.exists():
        make_ppi(keep, ppi)
    return {"videos": videos, "groups": groups, "session": session, "key": key,
            "traces": traces, "results": results, "ppi": ppi,
            "ppi_groups": keep / "ppi_groups.csv", "keep": keep}


def make_ppi(keep: Path, out: Path) -> None:
    """Two groups of 8 rats; the mk801 rats keep 30 % more of the startle after each
    prepulse (less PPI). SR-LAB files → behavior.startle → the %PPI table."""
    import numpy as np

    from behavior.io.startle_registry import read_startle_file
    from behavior.startle.pipeline import analyze_recordings
    from behavior.startle.protocol import load_startle_protocol
    from behavior.testing.startle import simulate_trials, write_srlab

    truth = simulate_trials(16, seed=5)
    drug = truth["subject"].isin([f"M{i:03d}" for i in range(9, 17)])
    prepulse = truth["kind"].map(lambda k: isinstance(k, float))
    rng = np.random.default_rng(6)
    truth.loc[drug & prepulse, "amplitude"] *= 1.3 + 0.1 * rng.standard_normal(
        int((drug & prepulse).sum()))
    folder = keep / "ppi_files"
    folder.mkdir(exist_ok=True)
    path = write_srlab(folder / "ppi_day1.txt", truth)
    result = analyze_recordings([read_startle_file(path)], load_startle_protocol("ppi_srlab"))
    result.summary.to_csv(out, index=False)
    (keep / "ppi_groups.csv").write_text("subject,treatment\n" + "".join(
        f"M{i:03d},{'vehicle' if i <= 8 else 'mk801'}\n" for i in range(1, 17)))


# -- the pictures -------------------------------------------------------------------------
def shoot(data: dict, out: Path) -> None:
    from behavior_gui.analysis_tabs import show_page
    from behavior_gui.app import make_app

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shots-", dir=data["keep"]))
    os.environ["BEHAVIOR_GUI_SETTINGS"] = str(work / "settings.ini")
    app = make_app()  # noqa: F841 (the widgets need it)
    from behavior_gui.main_window import MainWindow
    from gui_helpers import shot_saver, spin

    grab = shot_saver(out, 0.5)

    w = MainWindow()
    w.resize(1280, 800)
    w.show()
    pages = w.analysis

    # Agreement: ann, bob and the auto-scorer on the six coded videos
    ag = pages.agreement
    ag.add_input(data["session"])
    ag.add_input(data["traces"])
    show_page(w, ag)
    assert ag.load() and ag.compare(), ag.notes_label.text()
    ag.video_combo.setCurrentIndex(1)
    grab(w, "agreement_page.png")
    task = ag.calibrate()
    while task.isRunning():
        spin(0.2)
    spin(0.3)
    grab(ag.calibration_label.parentWidget(), "agreement_calibrate.png")

    # Sessions: a new session being made from the same videos; the scored one's progress
    se = pages.sessions
    show_page(w, se)
    for v in data["videos"]:
        se.video_list.addItem(str(v))
    se.groups_edit.setText(str(data["groups"]))
    se.session_edit.setText(str(work / "fst_cohort4"))
    se.key_edit.setText(str(work / "fst_cohort4_key.json"))
    se.observers_edit.setText("ann, bob, chris")
    task = se.create()
    while task.isRunning():
        spin(0.2)
    spin(0.3)
    # the scored session: copy it, so that locking does not change the kept one
    import shutil

    scored = work / "fst_cohort3"
    shutil.copytree(data["session"], scored)
    se.status_edit.setText(str(scored))
    se.refresh()
    grab(w, "sessions_page.png")
    se.lock()
    se.unblind_key_edit.setText(str(data["key"]))
    se.scores_edit.setText(str(work / "fst_cohort3_scores.csv"))
    se.unblind()  # the Statistics page takes the unblinded table
    grab(w, "sessions_unblinded.png")

    # Statistics: the unblinded scores (Welch's t-test), then PPI (mixed ANOVA)
    st = pages.stats
    show_page(w, st)
    st.value_combo.setCurrentText("immobility_s")
    st.factor1.setCurrentText("group")
    st.control_combo.setCurrentText("vehicle")
    assert st.analyze(), st.summary.toPlainText()
    grab(w, "stats_fst.png")
    st.results_edit.setText(str(data["ppi"]))
    st.groups_edit.setText(str(data["ppi_groups"]))
    assert st.load()
    st.value_combo.setCurrentText("ppi_pct")
    st.factor1.setCurrentText("treatment")
    st.factor2.setCurrentText("(none)")
    st.within_combo.setCurrentText("prepulse_db")
    st.control_combo.setCurrentText("vehicle")
    assert st.analyze(), st.summary.toPlainText()
    grab(w, "stats_ppi.png")
    st.tabs.setCurrentWidget(st.posthoc_table)
    grab(w, "stats_ppi_posthoc.png")
    w.close()


if __name__ == "__main__":
    main()
