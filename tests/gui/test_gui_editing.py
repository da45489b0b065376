"""Editing bouts: select on the timeline, drag or nudge edges by frames, delete,
undo and redo (all through ScoringSession)."""

from __future__ import annotations

from gui_helpers import seek_and_wait, wait_ready
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtTest import QTest


def open_and_score(qtbot, window_factory, session_dir, spans):
    w = window_factory()
    assert w.open_session(session_dir, observer="ann")
    wait_ready(qtbot, w)
    for a, b in spans:
        seek_and_wait(qtbot, w, a)
        QTest.keyPress(w, Qt.Key_J)
        seek_and_wait(qtbot, w, b)
        QTest.keyRelease(w, Qt.Key_J)
        qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
    return w


def frames(w):
    return [(e.start_frame, e.end_frame) for e in w.doc.events()]


def trigger(w, command):
    w.actions_by_id[command].trigger()


def test_undo_redo_through_the_menu(qtbot, window_factory, session_dir):
    w = open_and_score(qtbot, window_factory, session_dir, [(10, 20), (40, 55)])
    assert frames(w) == [(10, 20), (40, 55)]
    trigger(w, "undo")
    assert frames(w) == [(10, 20)]
    trigger(w, "redo")
    assert frames(w) == [(10, 20), (40, 55)]
    ids = [e.id for e in w.doc.events()]
    w.score_page.select_bout(ids[0])
    trigger(w, "delete_bout")
    assert frames(w) == [(40, 55)]
    trigger(w, "undo")
    assert frames(w) == [(10, 20), (40, 55)] and [e.id for e in w.doc.events()] == ids
    trigger(w, "redo")
    assert frames(w) == [(40, 55)]
    trigger(w, "undo")
    trigger(w, "undo")  # the second bout's add
    trigger(w, "undo")  # the first's
    assert frames(w) == []
    assert not w.actions_by_id["undo"].isEnabled() and w.actions_by_id["redo"].isEnabled()


def test_nudge_edges_frame_by_frame_and_undo(qtbot, window_factory, session_dir):
    w = open_and_score(qtbot, window_factory, session_dir, [(10, 20), (40, 55)])
    times = w.score_page.player.times
    w.score_page.select_neighbour(1)  # from the playhead (frame 55): wraps to the last
    w.score_page.select_bout(w.doc.events()[0].id)
    for command in ("start_earlier", "start_earlier", "end_later"):
        trigger(w, command)
    (first, second) = w.doc.events()
    assert (first.start_frame, first.end_frame) == (8, 21)
    assert (first.start_s, first.end_s) == (times[8], times[21])
    trigger(w, "end_earlier")
    trigger(w, "end_earlier")
    trigger(w, "start_later")
    assert frames(w)[0] == (9, 19)
    for _ in range(6):
        trigger(w, "undo")
    assert frames(w)[0] == (10, 20)
    # an edge cannot be pushed into the other bout: refused, nothing changes
    w.score_page.select_bout(first.id)
    for _ in range(25):
        trigger(w, "end_later")
    assert frames(w) == [(10, 40), (40, 55)]  # touching is allowed, overlapping is not
    assert "overlaps" in w.statusBar().currentMessage()


def test_timeline_click_selects_and_drag_moves_an_edge(qtbot, window_factory, session_dir):
    w = open_and_score(qtbot, window_factory, session_dir, [(25, 50)])
    tl = w.score_page.timeline
    (bout,) = w.doc.events()
    y = int(tl._row("immobility").center().y())
    middle = QPoint(int(tl.x_of((bout.start_s + bout.end_s) / 2)), y)
    QTest.mouseClick(tl, Qt.LeftButton, Qt.NoModifier, middle)
    assert w.score_page.selected_id == bout.id == tl.selected_id
    times = w.score_page.player.times
    edge = QPoint(int(round(tl.x_of(bout.end_s))), y)
    target = QPoint(int(round(tl.x_of(times[70]))), y)
    QTest.mousePress(tl, Qt.LeftButton, Qt.NoModifier, edge)
    QTest.mouseMove(tl, target)
    QTest.mouseRelease(tl, Qt.LeftButton, Qt.NoModifier, target)
    (moved,) = w.doc.events()
    assert moved.start_frame == 25
    assert abs(moved.end_frame - 70) <= 1  # one pixel is ~0.4 frame here
    assert moved.end_s in set(times)  # dropped onto a frame's time
    # a click off the bouts moves the playhead there
    QTest.mouseClick(tl, Qt.LeftButton, Qt.NoModifier, QPoint(int(tl.x_of(times[90])), y))
    qtbot.waitUntil(lambda: abs(w.score_page.player.shown_index - 90) <= 1, timeout=3000)
