"""Point events in the window: a key pressed once marks the instant (a held key marks
once), a held state goes on, the timeline shows a tick that can be dragged, and the
summary counts the marks in the window."""

from __future__ import annotations

import pytest
from gui_helpers import make_gui_session, seek_and_wait, wait_ready
from PyQt5.QtCore import QPoint, Qt
from test_gui_hold_keys import key


@pytest.fixture
def window(qtbot, window_factory, tmp_path):
    made, _, _ = make_gui_session(tmp_path, points=("head_shake", "dive"))
    w = window_factory()
    assert w.open_session(made.session_dir, observer="ann")
    wait_ready(qtbot, w)
    return w


def test_one_press_marks_the_frame_on_screen_and_a_hold_goes_on(qtbot, window):
    w = window
    times = w.score_page.player.times
    seek_and_wait(qtbot, w, 30)
    key(w, "press")                     # J: immobility held from frame 30
    seek_and_wait(qtbot, w, 40)
    key(w, "press", Qt.Key_1)           # 1: head shake at frame 40
    for _ in range(5):                  # X11 auto-repeat of a key held down: one mark
        key(w, "release", Qt.Key_1, auto_repeat=True)
        key(w, "press", Qt.Key_1, auto_repeat=True)
    key(w, "release", Qt.Key_1)
    assert w.doc.held == ("immobility", pytest.approx(times[30]))
    seek_and_wait(qtbot, w, 50)
    key(w, "press", Qt.Key_2)           # 2: a dive at frame 50
    key(w, "release", Qt.Key_2)
    seek_and_wait(qtbot, w, 61)
    key(w, "release")
    qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
    events = {e.behaviour: e for e in w.doc.events()}
    assert (events["head_shake"].start_s, events["head_shake"].start_frame) == (times[40], 40)
    assert events["dive"].start_s == times[50]
    assert (events["immobility"].start_s, events["immobility"].end_s) == (times[30], times[61])
    summary = w.doc.summary()
    assert (summary["head_shake_n"], summary["dive_n"]) == (1, 1)
    labels = w.score_page.summary_labels
    assert labels["head_shake_n"].text() == "1" and labels["dive_n"].text() == "1"
    assert "Press once" in w.score_page.keys_label.text()


def test_a_mark_on_the_timeline_is_dragged_whole(qtbot, window):
    w = window
    seek_and_wait(qtbot, w, 40)
    key(w, "press", Qt.Key_2)
    key(w, "release", Qt.Key_2)
    (mark,) = w.doc.events()
    tl = w.score_page.timeline
    assert tl.rows == ("immobility", "head_shake", "dive")
    y = int(tl._row("dive").center().y())
    x0, x1 = int(round(tl.x_of(mark.start_s))), int(round(tl.x_of(3.0)))
    qtbot.mousePress(tl, Qt.LeftButton, pos=QPoint(x0, y))
    qtbot.mouseMove(tl, QPoint(x1, y))
    qtbot.mouseRelease(tl, Qt.LeftButton, pos=QPoint(x1, y))
    (moved,) = w.doc.events()
    assert moved.id == mark.id and moved.start_s == moved.end_s
    times = w.score_page.player.times  # dropped onto the nearest frame's time
    assert moved.start_s == times[abs(times - tl.t_of(x1)).argmin()] == 3.0
    assert moved.end_frame == moved.start_frame + 1
