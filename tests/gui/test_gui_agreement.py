"""The Agreement page shows the core's agreement and calibration, on a real session.

Three coded 4-s clips, window 1–3 s, bins of 0.5 s (4 bins per video, 12 in all).
ann and bob score the same bouts except that bob also calls the bin 1.0–1.5 s of the
first video immobile: they agree on 11 of 12 bins (91.7 %). The auto-scorer's traces
(mobility 0.01–0.05 inside its bouts, 0.2–0.6 elsewhere) say immobile where ann does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gui_helpers import make_gui_session

from behavior.blinding.agreement import agreement
from behavior.blinding.calibrate import calibrate
from behavior.blinding.raters import load_raters
from behavior.blinding.session import ScoringSession
from behavior.fst.traces import Trace, find_traces, read_trace, write_trace
from behavior.protocols import load_fst_protocol

ANN = ([(1.5, 2.5)], [(1.0, 3.0)], [(2.0, 2.5)])  # per video, in the order of the codes


def write_traces(folder, bouts_by_code, end_s=4.0, fps=10.0, seed=0):
    rng = np.random.default_rng(seed)
    for code, bouts in bouts_by_code.items():
        t = np.arange(int(round(end_s * fps))) / fps
        low = np.zeros(t.size, bool)
        for a, b in bouts:
            low |= (t >= a - 1e-9) & (t < b - 1e-9)
        mobility = np.where(low, rng.uniform(0.01, 0.05, t.size), rng.uniform(0.2, 0.6, t.size))
        table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 10.0,
                              "y_px": 10.0, "area_px": 100.0, "mobility": mobility,
                              "immobile": (mobility <= 0.1).astype(int)})
        write_trace(Trace(video=f"/data/{code}.mp4", arena=1, table=table, end_s=end_s), folder)
    return folder


@pytest.fixture
def scored(tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=3)
    codes = sorted(made.codes)
    for observer in ("ann", "bob"):
        with ScoringSession(made.session_dir, observer) as s:
            for code, bouts in zip(codes, ANN, strict=True):
                s.select(code)
                extra = [(1.0, 1.5)] if observer == "bob" and code == codes[0] else []
                for a, b in sorted(bouts + extra):
                    s.add("immobility", a, b)
                s.finish(code)
    traces = tmp_path / "traces"
    traces.mkdir()
    write_traces(traces, dict(zip(codes, ANN, strict=True)))
    return made, traces


@pytest.fixture
def page(qtbot, tmp_path):
    from behavior_gui.agreement_page import AgreementPage
    from behavior_gui.settings import Settings

    p = AgreementPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    return p


def test_agreement_page_equals_the_core(page, scored):
    made, traces = scored
    page.add_input(made.session_dir)
    page.add_input(traces)
    assert page.load()
    assert page.rater_list.count() == 3  # ann, bob, auto
    assert page.compare()
    protocol = load_fst_protocol("mouse_fst")
    core = agreement(load_raters([made.session_dir, traces], protocol), None, 1.0,
                     protocol.window_s)
    assert core.window_s == (1.0, 3.0)  # the session's window
    shown = page.pair_table
    assert shown.rowCount() == len(core.pairs) == 3
    for i, row in core.pairs.iterrows():
        assert (shown.text(i, "rater1"), shown.text(i, "rater2")) == (row["rater1"],
                                                                     row["rater2"])
        for column in ("pearson_r", "icc", "kappa", "pct_agreement", "bias_s"):
            value = row[column]
            text = shown.text(i, column)
            if np.isnan(value):
                assert text == "—"
            else:
                assert float(text) == pytest.approx(value, rel=5e-3, abs=1e-9)
    # hand-computed: bins of 1 s in 1–3 s, 2 per video; in the first video's bin 1–2 s
    # ann is immobile for 0.5 s (not more than half) and bob for all of it: 5 of 6 agree
    ann_bob = page.result.pairs.set_index(["rater1", "rater2"]).loc[("ann", "bob")]
    assert ann_bob["n_videos"] == 3 and ann_bob["n_bins"] == 6
    assert ann_bob["pct_agreement"] == pytest.approx(100 * 5 / 6)
    assert ann_bob["bias_s"] == pytest.approx(0.5 / 3)  # bob: +0.5 s on one of 3 videos
    # three raters: the overall row (ICC, Fleiss' kappa) is shown too
    assert page.overall_table.isVisible()
    assert float(page.overall_table.text(0, "fleiss_kappa")) == pytest.approx(
        core.overall["fleiss_kappa"].iloc[0], rel=5e-3)
    # one Bland–Altman panel per pair, labelled in words
    axes = page.figure.figure.axes
    assert len(axes) == 3 and axes[0].get_xlabel() == "Mean immobility (s)"
    # lanes of the first video: one per rater, their bouts as scored
    page.video_combo.setCurrentIndex(0)
    lanes = page.lanes
    assert lanes.behaviours == ("ann", "bob", "auto")
    by_lane = {n: sorted((b.start_s, b.end_s) for b in lanes.bouts if b.behaviour == n)
               for n in lanes.behaviours}
    assert by_lane["ann"] == [(1.5, 2.5)]
    assert by_lane["bob"] == [(1.0, 2.5)]  # its two touching bouts, as one


def test_half_bins_hand_computed(page, scored):
    """Bins of 0.5 s: bob's extra bout is one whole bin: 11 of 12 bins agree."""
    made, _ = scored
    page.add_input(made.session_dir)
    page.bin_spin.setValue(0.5)
    assert page.load() and page.compare()
    row = page.result.pairs.iloc[0]
    assert (row["rater1"], row["rater2"], row["n_bins"]) == ("ann", "bob", 12)
    assert row["pct_agreement"] == pytest.approx(100 * 11 / 12)
    assert page.pair_table.text(0, "pct_agreement") == "91.7"
    assert not page.overall_table.isVisible()  # two raters: no overall row


def test_calibrate_from_the_page_equals_the_core(qtbot, page, scored, tmp_path):
    made, traces = scored
    page.add_input(made.session_dir)
    page.add_input(traces)
    page.window_edit.setText("1 3")
    assert page.load()
    task = page.calibrate()
    assert task is not None
    # the thread may end before a signal wait would be connected (a quick
    # failure): wait for the thread itself
    qtbot.waitUntil(task.isFinished, timeout=60000)
    qtbot.waitUntil(lambda: page.calibration is not None, timeout=5000)
    protocol = load_fst_protocol("mouse_fst")
    manual = [r for r in load_raters([made.session_dir], protocol) if r.kind == "manual"]
    core = calibrate(manual, [read_trace(p) for p in find_traces(traces)], protocol,
                     window_s=(1.0, 3.0), bin_s=1.0)
    result = page.calibration[0]
    assert (result.threshold, result.min_bout_s) == (core.threshold, core.min_bout_s)
    pd.testing.assert_frame_equal(result.curve, core.curve)
    assert f"threshold {core.threshold:g}" in page.calibration_label.text()
    # and how the videos scored with threshold: auto agree with the observers
    assert result.automatic_agreement == pytest.approx(core.automatic_agreement, nan_ok=True)
    assert core.automatic_scores
    assert core.automatic_scores[1:] in page.calibration_label.text()
    saved = page.save_protocol(str(tmp_path / "calibrated.yaml"))
    again = load_fst_protocol(saved)
    assert again.threshold == pytest.approx(core.threshold)
    assert again.min_bout_s == pytest.approx(core.min_bout_s)
    assert saved.read_text().startswith("# Calibrated by `behavior fst calibrate`")


def test_calibrate_needs_traces(page, scored):
    made, _ = scored
    page.add_input(made.session_dir)
    assert page.load()
    assert page.calibrate() is None
    assert "traces folder" in page.calibration_label.text()


def test_bad_input_is_one_line(page, tmp_path):
    bad = tmp_path / "scores.csv"
    bad.write_text("hello,world\n1,2\n")
    page.add_input(bad)
    assert not page.load()
    text = page.notes_label.text()
    assert str(bad) in text and "Traceback" not in text


def test_choices_are_remembered_and_unticked_raters_left_out(qtbot, page, scored, tmp_path):
    from behavior_gui.agreement_page import AgreementPage
    from behavior_gui.settings import Settings

    made, traces = scored
    page.add_input(made.session_dir)
    page.add_input(traces)
    page.bin_spin.setValue(0.5)
    assert page.load()
    page.rater_list.item(1).setCheckState(0)  # untick bob
    assert page.compare()
    assert list(page.result.pairs[["rater1", "rater2"]].itertuples(index=False, name=None)) \
        == [("ann", "auto")]
    page.settings.sync()
    again = AgreementPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    assert again.inputs() == [str(made.session_dir), str(traces)]
    assert again.bin_spin.value() == 0.5
