"""Inspecting one animal: re-scored from its trace without decoding, the table row
follows, the values are the core's; observers' bouts as a second lane."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The 30-s sample clip scored by the core (score_batch) with a 5-30 s window:
    (video, protocol, VideoResult, [Trace], [trace file])."""
    import behavior.fst as fst
    from behavior.protocols import load_fst_protocol

    folder = tmp_path_factory.mktemp("inspect")
    video = folder / "fst_1arena_vfr.mp4"
    shutil.copy(ROOT / "videos" / video.name, video)
    protocol = load_fst_protocol("mouse_fst").with_overrides(duration_s=30, window_s=[5, 30],
                                                             bin_s=5)
    batch = fst.score_batch([str(video)], protocol, out=folder / "results.csv")
    result = batch.results[0]
    assert result.ok and result.traces
    traces = [fst.read_trace(p) for p in result.traces]
    return video, protocol, result, traces, [Path(p) for p in result.traces]


@pytest.fixture
def page(qtbot, tmp_path, scored):
    from behavior_gui.autoscore_page import AutoScorePage
    from behavior_gui.settings import Settings

    video, protocol, result, traces, _ = scored
    p = AutoScorePage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(p)
    p.scored_protocol = protocol
    p.add_result(result, traces)  # what the batch worker hands the page for a video
    yield p
    p.shutdown()


@pytest.fixture
def opened(monkeypatch):
    """Every container opened from now on (PyAV's av.open: the reader's and probe's)."""
    import av

    calls = []
    real = av.open

    def counting(*args, **kwargs):
        calls.append(args[0] if args else kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(av, "open", counting)
    return calls


def open_inspect(qtbot, page):
    view = page.inspect(0)
    assert view is not None
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.player.ready and view.player.shown_index >= 0, timeout=20_000)

    qtbot.waitUntil(lambda: view.view.crop is not None, timeout=20_000)  # the arena's crop
    # the frame made again at the crop's size has come: no frame for 0.5 s
    shown = []
    view.player.frame_shown.connect(lambda *a: shown.append(a))
    for _ in range(40):
        n = len(shown)
        qtbot.wait(500)
        if len(shown) == n:
            break
    return view


def test_threshold_change_rescores_without_decoding(qtbot, page, scored, opened):
    from behavior_gui.autoscore_page import SHOWN

    from behavior.fst import read_trace, score_trace

    video, protocol, result, _, files = scored
    view = open_inspect(qtbot, page)
    assert opened  # the player opened the video
    auto_threshold = view.result.values["threshold"]
    assert view.result.values["immobility_s"] == pytest.approx(
        result.animals[0].values["immobility_s"])
    frames = []
    view.player.frame_shown.connect(lambda *a: frames.append(a))
    opened.clear()

    view.auto.setChecked(False)
    new = round(auto_threshold * 1.5, 4)
    view.threshold.setValue(new)
    view.min_bout.setValue(2.0)
    qtbot.wait(300)  # anything queued would arrive now
    assert opened == [] and frames == []  # no video opened, no frame decoded

    # the core's own re-scoring of the trace file, computed here independently
    expected = score_trace(read_trace(files[0]),
                           protocol.with_overrides(threshold=new, min_bout_s=2.0)).values
    got = view.result.values
    for key in ("immobility_s", "immobility_pct", "latency_s", "bouts", "threshold",
                "min_bout_s", "immobile_s_5_10"):
        a, b = got[key], expected[key]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b), key
    assert got["threshold"] == pytest.approx(new)
    assert expected["immobility_s"] != pytest.approx(result.animals[0].values["immobility_s"])

    # the table row follows
    row = page.rows[0].values
    assert row["immobility_s"] == pytest.approx(expected["immobility_s"])
    col = {key: c for c, (key, _, _) in enumerate(SHOWN)}
    assert page.table_widget.item(0, col["immobility_s"]).text() == \
        f"{expected['immobility_s']:.1f}"
    assert page.table_widget.item(0, col["threshold"]).text() == f"{new:.4f}"
    # the threshold line and the bouts: the core's bouts for that threshold
    from behavior.fst.immobility import immobility_bouts

    trace = read_trace(files[0])
    bouts = immobility_bouts(trace.time_s, trace.mobility,
                             protocol.with_overrides(threshold=new, min_bout_s=2.0),
                             trace.end_s, new)
    assert view.trace_view.threshold == pytest.approx(new)
    lane = [(b.start_s, b.end_s) for b in view.timeline.bouts if b.behaviour == "immobility"]
    offset = float(trace.meta.get("video_start_s", 0))
    assert np.allclose(np.array(lane).reshape(-1, 2), bouts + offset)
    view.close()


def test_rescore_all_from_traces_is_the_core_rescore(page, scored, opened):
    from behavior.fst import rescore_traces

    _, protocol, _, _, files = scored
    new = protocol.with_overrides(threshold=0.03, min_bout_s=0.5)
    assert page.rescore_all(new) == 1
    assert opened == []
    table, errors, _ = rescore_traces(files, new)
    assert not errors
    got = page.table()
    for column in ("immobility_s", "bouts", "latency_s", "threshold", "min_bout_s"):
        assert np.allclose(pd.to_numeric(got[column]).to_numpy(float),
                           pd.to_numeric(table[column]).to_numpy(float), equal_nan=True)


def test_observer_bouts_are_a_second_lane(qtbot, page, scored):
    from behavior.blinding.open_scoring import open_video_scoring
    from behavior.blinding.session import ScoringSession

    video, protocol, *_ = scored
    database, code = open_video_scoring(video, protocol=protocol)
    try:
        with ScoringSession(database, "ann") as session:
            session.add("immobility", 6.0, 9.5, video=code)
            session.add("immobility", 14.0, 20.0, video=code)
        view = open_inspect(qtbot, page)
        assert view.timeline.behaviours == ("immobility", "ann")
        ann = sorted((b.start_s, b.end_s) for b in view.timeline.bouts if b.behaviour == "ann")
        assert ann == [(6.0, 9.5), (14.0, 20.0)]
        assert "ann (2 bouts)" in view.manual_label.text()
        view.close()
    finally:
        Path(database).unlink(missing_ok=True)


def test_dragging_the_threshold_line_rescores(qtbot, page, scored, opened):
    from PyQt5.QtCore import QPoint, Qt
    from PyQt5.QtWidgets import QApplication

    from behavior.fst import read_trace, score_trace

    _, protocol, _, _, files = scored
    view = open_inspect(qtbot, page)
    opened.clear()
    tv = view.trace_view
    x = int(tv._plot().center().x())
    y0 = int(round(tv.y_of(tv.threshold)))
    qtbot.mousePress(tv, Qt.LeftButton, pos=QPoint(x, y0))
    QApplication.sendEvent(tv, _move(QPoint(x, y0 - 20)))  # QTest's move has no button
    qtbot.mouseRelease(tv, Qt.LeftButton, pos=QPoint(x, y0 - 20))
    new = round(tv.value_of(y0 - 20), 4)
    assert not view.auto.isChecked() and view.threshold.value() == pytest.approx(new)
    expected = score_trace(read_trace(files[0]), protocol.with_overrides(threshold=new))
    assert view.result.values["immobility_s"] == pytest.approx(
        expected.values["immobility_s"])
    assert page.rows[0].values["threshold"] == pytest.approx(new)
    assert opened == []
    view.close()


def _move(pos):
    from PyQt5.QtCore import QEvent, QPointF, Qt
    from PyQt5.QtGui import QMouseEvent

    return QMouseEvent(QEvent.MouseMove, QPointF(pos), Qt.NoButton, Qt.LeftButton,
                       Qt.NoModifier)
