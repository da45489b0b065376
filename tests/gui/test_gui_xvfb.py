"""A real window on a real X server: hold J for 3 s with xdotool, auto-repeat on.

X11 sends a held key as release/press pairs a few ms apart (auto-repeat); the
database must still hold one bout of 3 s (± 0.2 s) at 1× playback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from gui_helpers import XDOTOOL, XVFB, Xvfb, make_gui_session

from behavior.blinding.session import ScoringSession

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.access(XVFB, os.X_OK) and os.access(XDOTOOL, os.X_OK)),
                       reason=f"needs {XVFB} and {XDOTOOL} (apt-get install xvfb xdotool)"),
]


@pytest.fixture
def xserver():
    server = Xvfb()
    yield server
    server.close()


@pytest.mark.slow
def test_hold_j_for_3_s_with_auto_repeat_is_one_3_s_bout(tmp_path, xserver):
    assert xserver.auto_repeat, "could not switch the X server's key auto-repeat on"
    made, _, _ = make_gui_session(tmp_path, n=1, seconds=12.0, window=(1.0, 11.0))
    keylog = tmp_path / "keys.log"
    env = dict(xserver.env, BEHAVIOR_GUI_SETTINGS=str(tmp_path / "settings.ini"),
               BEHAVIOR_GUI_KEYLOG=str(keylog))
    gui = subprocess.Popen([sys.executable, "-m", "behavior.cli", "gui",
                            str(made.session_dir), "--observer", "ann"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = xserver.xdotool("search", "--sync", "--onlyvisible", "--name",
                                 "blinded session", timeout=30).split()[0]
        xserver.xdotool("windowfocus", "--sync", window)
        time.sleep(1.5)  # the video opens (decoder thread) and shows its first frame
        xserver.xdotool("key", "space")  # play at 1×
        time.sleep(0.5)
        xserver.xdotool("keydown", "j")
        time.sleep(3.0)
        xserver.xdotool("keyup", "j")
        time.sleep(0.5)
        xserver.xdotool("key", "ctrl+q")
        gui.wait(20)
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.wait(10)
    assert gui.returncode == 0, gui.stderr.read()
    raw = keylog.read_text().split("\n")
    presses = [line for line in raw if " press 74 " in line]  # Qt.Key_J
    releases = [line for line in raw if " release 74 " in line]
    # auto-repeat really happened: many presses (and, on X11, releases) arrived
    assert len(presses) >= 10 and len(releases) >= 10, raw[:5]
    with ScoringSession(made.session_dir, "ann") as s:
        events = s.events()
    print(f"X11 delivered {len(presses)} presses and {len(releases)} releases of J "
          f"({sum(line.endswith(' 1') for line in presses)} presses flagged auto-repeat by Qt); "
          f"stored bouts: {[(round(e.start_s, 3), round(e.end_s, 3)) for e in events]}")
    assert len(events) == 1, events
    duration = events[0].end_s - events[0].start_s
    assert duration == pytest.approx(3.0, abs=0.2)
    assert events[0].start_s == pytest.approx(0.5, abs=0.4)  # played from 0 for ~0.5 s
