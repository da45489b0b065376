"""Blinded mode: only codes, in the observer's order; progress, finishing, reopening,
and a locked session read-only."""

from __future__ import annotations

import json

import pytest
from gui_helpers import make_gui_session, seek_and_wait, wait_ready
from PyQt5.QtCore import Qt
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import QAbstractButton, QApplication, QComboBox, QLabel, QListWidget

from behavior.blinding.lock import lock_session
from behavior.blinding.session import ScoringSession


def every_text(window) -> list[str]:
    """Everything the window could show: every widget's text, title, tool tip, status
    tip and accessible name, list and combo items, every menu entry (recent included),
    the status bar and the help overlay."""
    out = [window.windowTitle(), window.statusBar().currentMessage()]
    window._fill_recent()
    for w in QApplication.allWidgets():
        out += [w.windowTitle(), w.toolTip(), w.statusTip(), w.whatsThis(), w.accessibleName()]
        if isinstance(w, (QLabel, QAbstractButton)):
            out.append(w.text())
        if isinstance(w, QListWidget):
            for i in range(w.count()):
                out += [w.item(i).text(), w.item(i).toolTip(), str(w.item(i).data(Qt.UserRole))]
        if isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
    menus = [a.menu() for a in window.menuBar().actions()] + [window.recent_menu]
    for menu in menus:
        for a in menu.actions():
            out += [a.text(), a.toolTip(), a.statusTip()]
    return [t for t in out if t]


def forbidden(originals, table) -> set[str]:
    words = {p.name for p in originals} | {p.stem for p in originals}
    words |= {str(p) for p in originals} | {str(p.parent) for p in originals}
    words |= {p.parent.name for p in originals}
    words |= set(table["group"]) | set(table["subject"])
    return words


def test_blinded_window_never_shows_a_path_name_or_group(qtbot, window_factory, tmp_path):
    made, originals, table = make_gui_session(tmp_path, n=3)
    w = window_factory()
    # this observer once scored an original openly: it is in their recent videos
    w.settings.add_recent("videos", originals[0])
    assert w.open_session(made.session_dir, observer="ann")
    wait_ready(qtbot, w)
    bad = forbidden(originals, table)
    seen = []
    for _ in range(3):  # every video, a bout, the help overlay, a refused action
        seek_and_wait(qtbot, w, 10)
        QTest.keyPress(w, Qt.Key_J)
        seek_and_wait(qtbot, w, 20)
        QTest.keyRelease(w, Qt.Key_J)
        qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
        w.score_page.select_bout(w.doc.events()[0].id)
        w.toggle_help()
        seen += every_text(w)
        w.toggle_help()
        w.doc.session.add("immobility", 0.1, 0.2)  # make the next one clash: an error shown
        w.score_page.doc.move_edge(w.doc.events()[0].id, "end", 0.5)
        seen += every_text(w)
        w.score_page.finish()
        wait_ready(qtbot, w)
    box, _, _ = w.interrupted_box(w.doc.title(w.doc.current), "immobility", 1.0)
    seen += [box.text(), box.informativeText(), box.windowTitle()]
    assert box.text().startswith("When scoring stopped unexpectedly, an immobility bout was "
                                 f"being held on video {w.doc.current}, from 1.00 s.")
    text = "\n".join(seen)
    leaks = sorted(word for word in bad if word in text)
    assert leaks == [], f"the blinded window shows {leaks}"
    for code in made.codes:  # codes are what it shows
        assert code in text
    assert "overlaps" in text  # (the refused action's message was among the texts)


def test_order_progress_finish_and_reopen(qtbot, window_factory, tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=3)
    with ScoringSession(made.session_dir, "ann") as s:
        order = [v.code for v in s.videos]
    w = window_factory()
    assert w.open_session(made.session_dir, observer="ann")
    wait_ready(qtbot, w)
    page = w.score_page
    items = [page.video_list.item(i).data(Qt.UserRole) for i in range(page.video_list.count())]
    assert items == order and w.doc.current == order[0]
    assert page.progress.text() == "0 of 3 videos finished"
    page.finish()
    assert w.doc.current == order[1]
    assert page.progress.text() == w.progress_label.text() == "1 of 3 videos finished"
    page.open_code(order[0])  # a finished video can be reopened and scored
    wait_ready(qtbot, w)
    seek_and_wait(qtbot, w, 5)
    QTest.keyPress(w, Qt.Key_J)
    seek_and_wait(qtbot, w, 15)
    QTest.keyRelease(w, Qt.Key_J)
    qtbot.waitUntil(lambda: len(w.doc.events()) == 1, timeout=2000)
    page.finish()  # the next unfinished after order[0] is order[1]
    assert w.doc.current == order[1]
    page.finish()
    page.finish()
    assert page.progress.text() == "3 of 3 videos finished"
    assert order[0] in w.windowTitle() or w.doc.current in w.windowTitle()


def test_locked_session_opens_read_only(qtbot, window_factory, tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    with ScoringSession(made.session_dir, "ann") as s:
        s.select(s.videos[0].code)
        s.add("immobility", 1.0, 2.0)
    lock_session(made.session_dir, allow_incomplete=True)
    w = window_factory()
    assert w.open_session(made.session_dir, observer="ann")
    wait_ready(qtbot, w)
    assert w.doc.read_only and "read-only" in w.windowTitle()
    assert not w.actions_by_id["undo"].isEnabled() and not w.actions_by_id["finish"].isEnabled()
    QTest.keyPress(w, Qt.Key_J)
    seek_and_wait(qtbot, w, 20)
    QTest.keyRelease(w, Qt.Key_J)
    qtbot.wait(100)
    assert w.doc.held is None
    assert "locked" in w.statusBar().currentMessage()
    with ScoringSession(made.session_dir, "ann") as s:
        assert len(s.events()) == 1 and s.finished() == set()


def test_observer_must_be_known_unless_confirmed(qtbot, window_factory, tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    w = window_factory()
    asked = []
    w.ask_observer = lambda observers, suggested: asked.append(observers) or "carol"
    w.confirm_new_observer = lambda name, observers: False
    assert not w.open_session(made.session_dir)  # declined: nothing opened, nobody added
    assert asked == [["ann", "bob"]]
    with ScoringSession(made.session_dir, "ann") as s:
        assert [r[0] for r in s._conn.execute("SELECT name FROM observers")] == ["ann", "bob"]
    w.confirm_new_observer = lambda name, observers: True
    assert w.open_session(made.session_dir)
    wait_ready(qtbot, w)
    assert w.doc.observer == "carol" and len(w.doc.codes) == 2
    audit = [json.loads(r[0]) for r in w.doc.session._conn.execute(
        "SELECT detail FROM audit WHERE action = 'add observer'")]
    assert audit[-1] == {"videos": 2}


def test_locked_session_takes_no_new_observer(qtbot, window_factory, tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    lock_session(made.session_dir, allow_incomplete=True)
    w = window_factory()
    errors = []
    w.show_error = errors.append
    w.confirm_new_observer = lambda *a: pytest.fail("must not ask")
    assert not w.open_session(made.session_dir, observer="dave")
    assert "locked" in errors[0]
