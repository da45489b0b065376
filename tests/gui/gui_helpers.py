"""Builders for the GUI tests: small real videos, real blinded sessions, the real window.

Clips are written with the project's own encoder (H.264, per-frame timestamps); every
frame differs from its neighbours (a bar moves and a block shows the frame number in
grey levels), so a wrong frame on screen is seen in its pixels.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from behavior.io.video_writer import VideoWriter

GROUPS = ("vehicle", "fluoxetine")


def frame_image(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """Frame ``i``: dark noise-free background, a bright bar at ``4 i`` px, and the
    frame number written as 8 grey blocks (its bits)."""
    img = np.full((height, width, 3), 30, np.uint8)
    x = (4 * i) % (width - 12)
    img[20:height - 20, x:x + 12] = (220, 200, 180)
    for bit in range(8):
        level = 235 if (i >> bit) & 1 else 60
        img[height - 14:height - 2, 4 + bit * 14:16 + bit * 14] = level
    return img


def write_clip(path: Path, seconds: float = 4.0, fps: float = 25.0, vfr: bool = False,
               seed: int = 0, size: tuple[int, int] = (160, 120),
               keyframe_interval: int | None = 50) -> np.ndarray:
    """Write a clip; returns the frame times written (s). VFR: intervals jittered ±40 %."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * fps))
    if vfr:
        dt = (1.0 / fps) * rng.uniform(0.6, 1.4, n)
        times = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    else:
        times = np.arange(n) / fps
    with VideoWriter(path, codec="h264", fps=fps, keyframe_interval=keyframe_interval,
                     bframes=2) as out:
        for i, t in enumerate(times):
            out.write(frame_image(i, *size), float(t))
        written = out.times_s.copy()
    return written


def make_gui_session(tmp_path: Path, n: int = 3, seconds: float = 4.0, fps: float = 25.0,
                     observers=("ann", "bob"), window=(1.0, 3.0), bin_s=0.5,
                     behaviours=("immobility",), points=()):
    """A blinded session over ``n`` clips named after their group, in a folder called
    ``secret_originals``; returns (CreatedSession, original paths, groups table)."""
    from behavior.blinding.create import create_session
    from behavior.blinding.tables import match_groups, read_groups
    from behavior.protocols import load_fst_protocol

    raw = tmp_path / "secret_originals"
    raw.mkdir()
    videos, lines = [], ["video,subject,group"]
    for i in range(n):
        group = GROUPS[i % 2]
        v = raw / f"{group}_mouse{i + 1}.mp4"
        write_clip(v, seconds, fps, seed=i)
        videos.append(v)
        lines.append(f"{v.name},subj{i + 1:02d},{group}")
    table_path = tmp_path / "groups.csv"
    table_path.write_text("\n".join(lines) + "\n")
    table = match_groups(videos, read_groups(table_path), table_path)
    protocol = load_fst_protocol("mouse_fst").with_overrides(
        duration_s=seconds, window_s=window, bin_s=bin_s)
    made = create_session(videos, table, tmp_path / "session", tmp_path / "key.json", protocol,
                          observers=observers, behaviours=behaviours, points=points)
    return made, videos, table


def wait_ready(qtbot, window, index: int | None = None, timeout: int = 10000) -> None:
    """Wait until the player has a video open (and shows frame ``index`` if given)."""
    player = window.score_page.player

    def check():
        assert player.ready and player.shown_index >= 0 and window.score_page._opening is None
        if index is not None:
            assert player.shown_index == index and player.shown_exact

    qtbot.waitUntil(check, timeout=timeout)


def seek_and_wait(qtbot, window, index: int) -> None:
    window.score_page.player.seek_index(index)
    wait_ready(qtbot, window, index)


class FakeClock:
    """A wall clock the test moves by hand (for :class:`PlaybackClock`)."""

    def __init__(self) -> None:
        self.t = time.monotonic()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


# -- a real X server --------------------------------------------------------------------------
XVFB, XDOTOOL = "/usr/bin/Xvfb", "/usr/bin/xdotool"


class Xvfb:
    """An Xvfb server on a free display, keyboard auto-repeat on (as ``xset r on``)."""

    def __init__(self, size: str = "1280x800x24"):
        import os
        import subprocess

        for n in range(91, 200):
            if not Path(f"/tmp/.X{n}-lock").exists() and \
                    not Path(f"/tmp/.X11-unix/X{n}").exists():
                break
        self.display = f":{n}"
        self.proc = subprocess.Popen([XVFB, self.display, "-screen", "0", size, "-nolisten",
                                      "tcp"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        socket = Path(f"/tmp/.X11-unix/X{n}")
        for _ in range(100):
            if socket.exists():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"Xvfb {self.display} exited ({self.proc.returncode})")
            time.sleep(0.05)
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("QT_QPA_PLATFORM", None)
        self.auto_repeat = self._auto_repeat_on()

    def _auto_repeat_on(self) -> bool:
        """Switch the server's key auto-repeat on (libX11's XAutoRepeatOn) and read it back."""
        import ctypes
        import ctypes.util

        lib = ctypes.util.find_library("X11")
        if lib is None:
            return False
        x11 = ctypes.CDLL(lib)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for name in ("XAutoRepeatOn", "XFlush", "XCloseDisplay"):
            getattr(x11, name).argtypes = [ctypes.c_void_p]

        class KeyboardState(ctypes.Structure):
            _fields_ = [("key_click_percent", ctypes.c_int), ("bell_percent", ctypes.c_int),
                        ("bell_pitch", ctypes.c_uint), ("bell_duration", ctypes.c_uint),
                        ("led_mask", ctypes.c_ulong), ("global_auto_repeat", ctypes.c_int),
                        ("auto_repeats", ctypes.c_char * 32)]

        x11.XGetKeyboardControl.argtypes = [ctypes.c_void_p, ctypes.POINTER(KeyboardState)]
        dpy = x11.XOpenDisplay(self.display.encode())
        if not dpy:
            return False
        x11.XAutoRepeatOn(dpy)
        x11.XFlush(dpy)
        state = KeyboardState()
        x11.XGetKeyboardControl(dpy, ctypes.byref(state))
        x11.XCloseDisplay(dpy)
        return state.global_auto_repeat == 1

    def xdotool(self, *args: str, timeout: float = 20) -> str:
        import subprocess

        out = subprocess.run([XDOTOOL, *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        return out.stdout.strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- screenshot scripts (tests/gui/make_screenshots*.py) ----------------------------------
def screenshot_main(script: str, keep_name: str, shoot) -> None:
    """A screenshot script's command line: ``[--keep DIR] [--out DIR]``; run again
    inside a fresh Xvfb, where ``shoot(keep, out)`` grabs the window."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / keep_name)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[2] / "docs" / "screenshots")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.inside:
        run_inside_xvfb(script, args.keep, args.out)
        return
    shoot(args.keep, args.out)


def run_inside_xvfb(script: str, keep: Path, out: Path) -> None:
    """Run ``script --keep KEEP --out OUT --inside`` again under a fresh Xvfb."""
    import subprocess
    import sys

    server = Xvfb("1400x900x24")
    try:
        subprocess.run([sys.executable, script, "--keep", str(keep), "--out", str(out),
                        "--inside"], env=server.env, check=True)
    finally:
        server.close()


def spin(seconds: float) -> None:
    """Let the event loop run for ``seconds``."""
    from PyQt5.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()


def shot_saver(out: Path, wait_s: float = 0.5):
    """``grab(widget, name)``: wait ``wait_s``, then save the widget as ``out/name``."""
    def grab(widget, name: str) -> None:
        spin(wait_s)
        widget.grab().save(str(out / name))
        print("wrote", out / name)
    return grab
