"""Nothing scored is lost: every bout is on disk when made; closing the window or
killing the process keeps it; reopening resumes where the observer was and offers
back a bout that was being held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gui_helpers import seek_and_wait, wait_ready
from PyQt5.QtCore import Qt
from PyQt5.QtTest import QTest

from behavior.blinding.session import ScoringSession

CHILD = textwrap.dedent("""
    import sys, time
    from PyQt5.QtCore import QEventLoop, QTimer, Qt
    from PyQt5.QtTest import QTest
    from behavior_gui.app import make_app
    app = make_app()
    from behavior_gui.main_window import MainWindow

    def spin(s):
        loop = QEventLoop(); QTimer.singleShot(int(s * 1000), loop.quit); loop.exec_()

    def show(i):
        p.seek_index(i)
        while p.shown_index != i:
            spin(0.02)

    w = MainWindow(settings_path=sys.argv[2])
    w.show()
    assert w.open_session(sys.argv[1], observer="ann")
    p = w.score_page.player
    while not (p.ready and p.shown_index >= 0):
        spin(0.05)
    code = w.doc.current
    show(10); QTest.keyPress(w, Qt.Key_J); show(30); QTest.keyRelease(w, Qt.Key_J)
    spin(0.3)                      # the release's grace is over: the bout is on disk
    show(60); QTest.keyPress(w, Qt.Key_J)   # held when the process dies
    spin(1.5)                      # the position is saved a second after a seek
    print("HELD", code, p.times[10], p.times[30], p.times[60], flush=True)
    time.sleep(60)
""")


@pytest.mark.slow
def test_bouts_survive_sigkill_and_the_held_one_is_offered_back(qtbot, window_factory,
                                                                  session_dir, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(session_dir),
                              str(tmp_path / "child.ini")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = child.stdout.readline()
        assert line.startswith("HELD"), child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    _, code, t10, t30, t60 = line.split()
    t10, t30, t60 = float(t10), float(t30), float(t60)
    with ScoringSession(session_dir, "ann") as s:
        assert [(e.code, e.start_s, e.end_s) for e in s.events()] == [(code, t10, t30)]
        assert s.interrupted_hold() == (code, "immobility", t60)

    offers = []
    w = window_factory()
    w.offer_interrupted = lambda video, behaviour, start: offers.append(
        (video, behaviour, start)) or "go"
    assert w.open_session(session_dir, observer="ann")
    assert offers == [(code, "immobility", pytest.approx(t60))]
    wait_ready(qtbot, w, 60)  # gone back to where the bout began
    assert w.doc.current == code
    assert w.doc.interrupted_hold() is None  # offered once
    assert [(e.start_s, e.end_s) for e in w.doc.events()] == [(t10, t30)]


def test_closing_the_window_keeps_everything_and_reopens_there(qtbot, window_factory,
                                                                session_dir):
    w = window_factory()
    assert w.open_session(session_dir, observer="bob")
    wait_ready(qtbot, w)
    w.score_page.go_video(1)
    wait_ready(qtbot, w)
    second = w.doc.current
    times = w.score_page.player.times
    seek_and_wait(qtbot, w, 20)
    QTest.keyPress(w, Qt.Key_J)
    seek_and_wait(qtbot, w, 42)
    w.close()  # the held bout is closed at the time the window closes
    with ScoringSession(session_dir, "bob") as s:
        assert [(e.code, e.start_frame, e.end_frame) for e in s.events()] == [(second, 20, 42)]
        assert s.interrupted_hold() is None
        assert s.last_position() == (second, pytest.approx(times[42]))
    w2 = window_factory()
    w2.offer_interrupted = lambda *a: pytest.fail("nothing was interrupted")
    assert w2.open_session(session_dir, observer="bob")
    wait_ready(qtbot, w2, 42)
    assert w2.doc.current == second


def test_every_bout_is_committed_when_made(qtbot, window_factory, session_dir):
    """A second connection (another process would see the same) reads the bout as
    soon as the release's grace is over."""
    import sqlite3

    w = window_factory()
    assert w.open_session(session_dir, observer="ann")
    wait_ready(qtbot, w)
    watcher = sqlite3.connect(str(Path(session_dir) / "session.sqlite"))
    seek_and_wait(qtbot, w, 5)
    QTest.keyPress(w, Qt.Key_J)
    assert watcher.execute("SELECT COUNT(*) FROM audit WHERE action='start'").fetchone()[0] == 1
    seek_and_wait(qtbot, w, 9)
    QTest.keyRelease(w, Qt.Key_J)
    qtbot.waitUntil(lambda: watcher.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1,
                    timeout=2000)
    watcher.close()
