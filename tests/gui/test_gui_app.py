"""Launching: ``behavior gui`` with a session, with --video, alone; bad arguments."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
from behavior_gui.app import check_arguments
from gui_helpers import wait_ready, write_clip
from PyQt5.QtCore import Qt

from behavior.blinding.session import ScoringSession
from behavior.errors import BehaviorError, InputError


def args(**kw):
    base = {"session": None, "video": None, "db": None, "observer": None}
    return argparse.Namespace(**{**base, **kw})


def test_bad_arguments_fail_before_a_window(tmp_path):
    with pytest.raises(InputError, match="no scoring database here"):
        check_arguments(args(session=str(tmp_path)))
    with pytest.raises(InputError, match="no such video"):
        check_arguments(args(video=str(tmp_path / "missing.mp4")))
    with pytest.raises(BehaviorError, match="--db goes with --video"):
        check_arguments(args(session=str(tmp_path), db="x.sqlite"))


def test_cli_prints_one_line_for_a_bad_session(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "behavior.cli", "gui", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"behavior: error: {tmp_path / 'session.sqlite'}: no scoring database here "
        "(expected session.sqlite in the session folder)"]


def test_high_dpi_attributes_are_set_before_the_application():
    code = ("from behavior_gui.app import make_app\n"
            "from PyQt5.QtCore import QCoreApplication, Qt\n"
            "app = make_app()\n"
            "print(QCoreApplication.testAttribute(Qt.AA_EnableHighDpiScaling), "
            "QCoreApplication.testAttribute(Qt.AA_UseHighDpiPixmaps), app.applicationName())")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.stdout.split() == ["True", "True", "behavior"]


def test_open_video_scoring_makes_a_database_beside_it(qtbot, window_factory, tmp_path):
    video = tmp_path / "m03 vehicle.mp4"
    times = write_clip(video, seconds=3.0, fps=25)
    w = window_factory()
    w.ask_protocol = lambda: "rat_modified_fst"
    assert w.open_video(video, observer="ann")
    wait_ready(qtbot, w)
    assert not w.doc.blinded
    assert w.windowTitle() == "m03 vehicle.mp4 — open scoring — ann — behavior"
    assert w.doc.behaviours == ("immobility", "swimming", "climbing")
    assert len(w.hold_actions) == 3
    assert w.settings.recent("videos") == [str(video)]
    w.score_page.keys.press(Qt.Key_K)
    w.score_page.player.seek_index(40)
    wait_ready(qtbot, w, 40)
    w.score_page.keys.release(Qt.Key_K)
    qtbot.waitUntil(lambda: w.doc.held is None, timeout=2000)
    w.close()
    with ScoringSession(tmp_path / "m03 vehicle.scores.sqlite", "ann") as s:
        assert [(e.behaviour, e.start_s, e.end_s) for e in s.events()] == [
            ("swimming", 0.0, pytest.approx(times[40]))]
    # again, into the same database: no protocol asked, the bout is there
    w2 = window_factory()
    w2.ask_protocol = lambda: pytest.fail("the database exists")
    assert w2.open_video(video, observer="ann")
    assert len(w2.doc.events()) == 1


def test_start_page_when_nothing_is_given(qtbot, window_factory, session_dir):
    w = window_factory()
    assert w.stack.currentWidget() is w.start_page
    assert not w.actions_by_id["play"].isEnabled()
    assert w.open_session(session_dir, observer="ann")
    w.close_document()
    assert w.stack.currentWidget() is w.start_page
    assert w.start_page.sessions.count() == 1
    assert w.start_page.sessions.item(0).data(Qt.UserRole) == str(session_dir)


def test_window_is_usable_at_1280x800(qtbot, window_factory, session_dir):
    w = window_factory()
    assert w.open_session(session_dir, observer="ann")
    wait_ready(qtbot, w)
    w.resize(1280, 800)
    qtbot.wait(50)
    assert (w.width(), w.height()) == (1280, 800)
    page = w.score_page
    assert page.view.width() >= 640 and page.view.height() >= 400
    assert page.timeline.isVisible() and page.timeline.width() >= 1100
    assert w.minimumSizeHint().width() <= 1280 and w.minimumSizeHint().height() <= 800


def test_help_overlay_lists_the_keys(qtbot, window_factory, session_dir):
    w = window_factory()
    assert w.open_session(session_dir, observer="ann")
    w.actions_by_id["help"].trigger()
    text = w.help.label.text()
    assert w.help.isVisible()
    for expected in ("J</b> (hold)", "immobility", "Space", "Play / Pause", "Ctrl+Z", "Undo",
                     "Home", "Go to Window Start"):
        assert expected in text
    assert [s.toString() for s in w.actions_by_id["help"].shortcuts()] == ["F1", "?"]


def test_settings_change_the_hold_key(qtbot, window_factory, session_dir):
    from behavior_gui.settings import SettingsDialog

    w = window_factory()
    assert w.open_session(session_dir, observer="ann")
    wait_ready(qtbot, w)
    dialog = SettingsDialog(w.settings, w.doc.behaviours, w)
    dialog.hold_buttons["immobility"].key = "Space"
    dialog.accept()
    assert "Space is used for both immobility and Play / Pause" in dialog.problem.text()
    dialog.hold_buttons["immobility"].key = "I"
    dialog.accept()
    assert dialog.result() == dialog.Accepted
    w.score_page.rebind_keys()
    assert w.score_page.keys.bindings == {Qt.Key_I: "immobility"}
    from behavior_gui.settings import Settings

    assert Settings(w.settings.q.fileName()).hold_key("immobility") == "I"  # stored
