"""Hold-to-score through the real window: key press starts, release ends, at the
player's time; auto-repeat is one hold; a hold is closed when playback pauses, the
video ends or changes."""

from __future__ import annotations

import time

import pytest
from behavior_gui.player import PlaybackClock
from gui_helpers import FakeClock, seek_and_wait, wait_ready
from PyQt5.QtCore import QEvent, Qt
from PyQt5.QtGui import QKeyEvent


def key(window, kind, k=Qt.Key_J, auto_repeat=False):
    """Send a key event as the window system would (to the focused widget, through the
    application's event filters)."""
    from PyQt5.QtWidgets import QApplication

    target = QApplication.focusWidget() or window
    event = QKeyEvent(QEvent.KeyPress if kind == "press" else QEvent.KeyRelease, k,
                      Qt.NoModifier, "", auto_repeat)
    QApplication.sendEvent(target, event)


def open_first(qtbot, window_factory, session_dir, observer="ann", clock=None):
    w = window_factory()
    if clock is not None:
        w.score_page.player.clock = clock
    assert w.open_session(session_dir, observer=observer)
    wait_ready(qtbot, w)
    return w


def test_hold_at_known_frames_gives_their_times(qtbot, window_factory, session_dir):
    w = open_first(qtbot, window_factory, session_dir)
    times = w.score_page.player.times
    seek_and_wait(qtbot, w, 30)
    key(w, "press")
    assert w.doc.held == ("immobility", pytest.approx(times[30]))
    seek_and_wait(qtbot, w, 61)  # stepping while holding: the bout spans the frames
    key(w, "release")
    qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
    (event,) = w.doc.events()
    assert (event.start_s, event.end_s) == (times[30], times[61]) == (1.2, 2.44)
    assert (event.start_frame, event.end_frame) == (30, 61)
    assert w.doc.summary()["immobility_s"] == pytest.approx(2.44 - 1.2)  # window 1-3 s


def test_hold_while_playing_uses_the_clock(qtbot, window_factory, session_dir):
    fake = FakeClock()
    w = open_first(qtbot, window_factory, session_dir, clock=PlaybackClock(now=fake))
    player = w.score_page.player
    player.play()
    fake.advance(0.75)
    key(w, "press")
    fake.advance(1.5)
    key(w, "release")
    fake.advance(0.03)  # the wait for an auto-repeat press does not move the end
    qtbot.waitUntil(lambda: len(w.doc.events()) == 1, timeout=2000)
    (event,) = w.doc.events()
    assert event.start_s == pytest.approx(0.75, abs=1e-9)
    assert event.end_s == pytest.approx(2.25, abs=1e-9)
    player.pause()


@pytest.mark.parametrize("grace_ms, expected", [(50, 1), (0, 11)])
def test_auto_repeat_pairs_are_one_hold(qtbot, window_factory, session_dir, grace_ms, expected):
    """X11 auto-repeat: release/press pairs 30 ms apart, not flagged as auto-repeat.
    With the release grace switched off (0 ms) every pair splits the bout: the
    grace is what makes it one."""
    fake = FakeClock()
    w = open_first(qtbot, window_factory, session_dir, clock=PlaybackClock(now=fake))
    w.score_page.keys.grace_ms = grace_ms
    w.score_page.player.play()
    qtbot.wait(100)
    fake.advance(0.5)
    key(w, "press")
    for _ in range(10):
        fake.advance(0.1)
        key(w, "release")
        # the press comes 30 ms after the release, as X11 sends them (the event loop does
        # not run meanwhile, as it would not between two queued X events: deterministic
        # on a loaded machine; the real X server is in test_gui_xvfb)
        time.sleep(0.03)
        fake.advance(0.03)
        key(w, "press")
    fake.advance(0.2)
    key(w, "release")
    release_t = 0.5 + 10 * 0.13 + 0.2
    fake.advance(0.01)
    qtbot.wait(grace_ms + 120)
    events = w.doc.events()
    w.score_page.player.pause()
    assert len(events) == expected
    if expected == 1:
        assert (events[0].start_s, events[0].end_s) == (pytest.approx(0.5),
                                                        pytest.approx(release_t))


def test_qt_flagged_auto_repeat_is_ignored(qtbot, window_factory, session_dir):
    w = open_first(qtbot, window_factory, session_dir)
    seek_and_wait(qtbot, w, 10)
    key(w, "press")
    for _ in range(5):
        key(w, "release", auto_repeat=True)
        key(w, "press", auto_repeat=True)
    seek_and_wait(qtbot, w, 20)
    key(w, "release")
    qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
    assert [(e.start_frame, e.end_frame) for e in w.doc.events()] == [(10, 20)]


def test_pause_end_and_change_close_the_hold(qtbot, window_factory, session_dir):
    fake = FakeClock()
    w = open_first(qtbot, window_factory, session_dir, clock=PlaybackClock(now=fake))
    page, player = w.score_page, w.score_page.player
    player.play()
    fake.advance(0.4)
    key(w, "press")
    fake.advance(0.6)
    player.pause()  # closed at the pause
    assert w.doc.held is None
    assert [(e.start_s, e.end_s) for e in w.doc.events()] == [(pytest.approx(0.4),
                                                                pytest.approx(1.0))]
    # the key is still down: its auto-repeat presses must not start a new hold
    key(w, "press")
    assert w.doc.held is None
    key(w, "release")
    qtbot.wait(100)
    # to the end of the video: closed at the video's duration
    seek_and_wait(qtbot, w, 90)
    player.play()
    key(w, "press")
    start = player.time()
    fake.advance(5.0)
    qtbot.waitUntil(lambda: not player.playing, timeout=3000)
    ends = [(e.start_s, e.end_s) for e in w.doc.events()]
    assert ends[-1] == (pytest.approx(start), pytest.approx(w.doc.duration()))
    key(w, "release")
    qtbot.wait(100)
    # changing video closes it at the time it was changed
    seek_and_wait(qtbot, w, 40)
    key(w, "press")
    seek_and_wait(qtbot, w, 45)
    first = w.doc.current
    page.go_video(1)
    assert w.doc.current != first and w.doc.held is None
    spans = [(e.start_frame, e.end_frame) for e in w.doc.session.events(first)]
    assert (40, 45) in spans
    assert len(spans) == 3


def test_window_losing_the_keyboard_ends_the_hold(qtbot, window_factory, session_dir):
    w = open_first(qtbot, window_factory, session_dir)
    seek_and_wait(qtbot, w, 10)
    key(w, "press")
    seek_and_wait(qtbot, w, 25)
    w.score_page.keys.release_all()  # what a deactivated window does
    assert [(e.start_frame, e.end_frame) for e in w.doc.events()] == [(10, 25)]


def test_hold_keys_do_nothing_while_typing_or_in_help(qtbot, window_factory, session_dir):
    w = open_first(qtbot, window_factory, session_dir)
    w.toggle_help()
    assert w.help.isVisible()
    key(w, "press")
    key(w, "release")
    assert w.doc.held is None and w.doc.events() == []
    w.toggle_help()
    key(w, "press")
    assert w.doc.held is not None


def test_rat_protocol_keys_k_and_l(qtbot, window_factory, tmp_path):
    from gui_helpers import make_gui_session

    made, _, _ = make_gui_session(tmp_path, n=1, behaviours=("immobility", "swimming",
                                                             "climbing"))
    w = open_first(qtbot, window_factory, made.session_dir)
    for k, frame in ((Qt.Key_K, 5), (Qt.Key_J, 15), (Qt.Key_L, 25)):
        seek_and_wait(qtbot, w, frame)
        key(w, "press", k)  # pressing the next state's key ends the one held
    seek_and_wait(qtbot, w, 35)
    key(w, "release", Qt.Key_L)
    for k in (Qt.Key_K, Qt.Key_J):
        key(w, "release", k)
    qtbot.wait(120)
    got = [(e.behaviour, e.start_frame, e.end_frame) for e in
           sorted(w.doc.events(), key=lambda e: e.start_s)]
    assert got == [("swimming", 5, 15), ("immobility", 15, 25), ("climbing", 25, 35)]
    labels = [a.text() for a in w.hold_actions]
    assert labels == ["Hold to Score Immobility\tHold J", "Hold to Score Swimming\tHold K",
                      "Hold to Score Climbing\tHold L"]
