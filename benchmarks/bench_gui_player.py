"""The scoring GUI's player: seek latency, playback at 1× and 4×, key press to disk.

Makes (or re-uses, with ``--keep DIR``) a 6-min 640×480 30-fps H.264 forced swim video
(the synthetic renderer of :mod:`behavior.testing`, x264's default key frame interval
of 250 frames, as ffmpeg and OBS write by default) and one with a key frame every
second (as many IP cameras and DVRs write), then measures, in the same run:

1. **Seek**: 100 random frames; from ``Player.seek_index(i)`` to frame ``i`` painted
   by the view (end to end). Baseline: ``VideoReader.read(i)`` alone on the same frames
   (the decoding the seek cannot avoid). Targets: median < 50 ms, 95th percentile
   < 150 ms.
2. **Playback at 1×** for ``--play`` seconds: frames painted / frames due (dropped =
   due but never painted), and the clock's error against the wall clock. Baseline:
   a clock made of a 33-ms QTimer counting ticks (what players that count ticks do),
   run alongside.
3. **Playback at 4×**: the clock's rate against the wall clock (frames may drop).
4. **Key press to disk**: hold-to-score through the real key handler; from the key
   press to the audit row committed (a second connection reads it), and from the
   end of the release's debounce to the event committed. Baseline: one bare SQLite
   insert + commit with the same journal settings.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_player.py [--keep DIR] [--play 20]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_video(path: Path, keyframe_s: float | None) -> Path:
    from behavior.testing import SyntheticSpec, write_video

    if not path.exists():
        t = time.perf_counter()
        write_video(SyntheticSpec(duration_s=360.0, seed=3), path, keyframe_s=keyframe_s)
        print(f"  made {path.name} in {time.perf_counter() - t:.0f} s", flush=True)
    return path


def wait_for(app, done, timeout_s: float = 10.0) -> bool:
    """Run the event loop until ``done()`` (checked on every painted frame / 50 ms)."""
    from PyQt5.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    t0 = time.monotonic()

    def check() -> None:
        if done() or time.monotonic() - t0 > timeout_s:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(50)
    check_hook[0] = check
    if not done():
        loop.exec_()
    timer.stop()
    check_hook[0] = None
    return done()


check_hook: list = [None]


def bench_seek(app, path: Path, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    from behavior_gui.player import Player
    from behavior_gui.video_view import VideoView

    from behavior.io.video import VideoReader

    view = VideoView()
    view.resize(860, 520)
    view.show()
    player = Player(view)
    painted: list[int] = []

    def on_paint(i: int) -> None:
        painted.append(i)
        if check_hook[0] is not None:
            check_hook[0]()

    view.painted.connect(on_paint)
    player.open(path)
    wait_for(app, lambda: player.ready and bool(painted))
    wait_for(app, lambda: False, 0.5)  # the first frame again at the view's size
    targets = rng.integers(0, player.times.size, n)
    gui = []
    for i in targets:
        painted.clear()
        t = time.perf_counter()
        player.seek_index(int(i))
        ok = wait_for(app, lambda i=int(i): i in painted)
        gui.append(time.perf_counter() - t if ok else np.nan)
    player.close()
    view.close()
    raw = []
    with VideoReader(path) as reader:
        reader.frame_times()
        for i in targets:
            t = time.perf_counter()
            reader.read(int(i), gray=False)
            raw.append(time.perf_counter() - t)
    return np.array(gui), np.array(raw)


def bench_play(app, path: Path, seconds: float, speed: float) -> dict[str, float]:
    from behavior_gui.player import Player, index_at
    from behavior_gui.video_view import VideoView
    from PyQt5.QtCore import QTimer

    view = VideoView()
    view.resize(860, 520)
    view.show()
    player = Player(view)
    painted: list[int] = []
    view.painted.connect(painted.append)
    player.open(path, start_s=60.0)
    wait_for(app, lambda: player.ready and bool(painted))
    wait_for(app, lambda: False, 0.5)
    player.set_speed(speed)
    ticks = [0]
    counter = QTimer()
    counter.setInterval(33)
    counter.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    painted.clear()
    c0, w0 = player.time(), time.monotonic()
    player.play()
    counter.start()
    wait_for(app, lambda: False, seconds)
    c1, w1 = player.clock.time(), time.monotonic()
    counter.stop()
    player.pause()
    # frames due in the last 50 ms may not be painted before the pause: not counted
    first, last = index_at(player.times, c0), index_at(player.times, c1 - 0.05 * speed)
    due = set(range(first + 1, last + 1))
    shown = set(painted) & due
    player.close()
    view.close()
    return {"wall_s": w1 - w0, "clock_s": c1 - c0, "due": len(due), "painted": len(shown),
            "tick_clock_s": ticks[0] * 0.033 * speed, "dropped": sorted(due - shown)}


def bench_keys(app, tmp: Path, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from behavior_gui.main_window import MainWindow
    from PyQt5.QtCore import QEvent, Qt
    from PyQt5.QtGui import QKeyEvent

    from behavior.blinding.open_scoring import open_video_scoring
    from behavior.io.video_writer import VideoWriter

    clip = tmp / "keys.mp4"
    if not clip.exists():
        with VideoWriter(clip, codec="h264", fps=30) as out:
            for i in range(30 * 60):
                out.write(np.full((120, 160, 3), i % 255, np.uint8))
    fresh = Path(tempfile.mkdtemp(dir=tmp))  # a new database each run: no old bouts in the way
    dbfile, code = open_video_scoring(clip, fresh / "keys.sqlite")
    window = MainWindow(settings_path=fresh / "settings.ini")
    window.show()
    window.open_video(clip, database=dbfile, observer="bench")
    page = window.score_page
    wait_for(app, lambda: page.player.ready and page.player.shown_index >= 0)
    watcher = sqlite3.connect(str(dbfile))
    press, release, bare = [], [], []
    target = window
    for k in range(n):
        page.player.seek_index(30 * (2 * k + 1))
        wait_for(app, lambda k=k: page.player.shown_index == 30 * (2 * k + 1))
        audits = watcher.execute("SELECT COUNT(*) FROM audit WHERE action='start'").fetchone()[0]
        t = time.perf_counter()
        app.sendEvent(target, QKeyEvent(QEvent.KeyPress, Qt.Key_J, Qt.NoModifier, "j"))
        while watcher.execute("SELECT COUNT(*) FROM audit WHERE action='start'"
                              ).fetchone()[0] == audits:
            pass
        press.append(time.perf_counter() - t)
        page.player.seek_index(30 * (2 * k + 2))
        wait_for(app, lambda k=k: page.player.shown_index == 30 * (2 * k + 2))
        events = watcher.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        t = time.perf_counter()
        app.sendEvent(target, QKeyEvent(QEvent.KeyRelease, Qt.Key_J, Qt.NoModifier, "j"))
        wait_for(app, lambda e=events: watcher.execute("SELECT COUNT(*) FROM events"
                                                       ).fetchone()[0] > e, 2.0)
        release.append(time.perf_counter() - t)
    watcher.close()
    window.close()
    conn = sqlite3.connect(str(tmp / "bare.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (a REAL, b TEXT)")
    for _ in range(n):
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (1.0, "x"))
        conn.execute("COMMIT")
        bare.append(time.perf_counter() - t)
    conn.close()
    return np.array(press), np.array(release), np.array(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="make/re-use the videos here")
    parser.add_argument("--play", type=float, default=20.0, help="seconds of playback at 1×")
    parser.add_argument("--seeks", type=int, default=100)
    args = parser.parse_args()
    from PyQt5.QtCore import QCoreApplication, Qt
    from PyQt5.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
    app = QApplication.instance() or QApplication(sys.argv)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"machine: {os.cpu_count()} cores; Qt platform {app.platformName()}; load "
              f"average {os.getloadavg()[0]:.1f} (other work on the machine slows all of it)")
        videos = {"key frame every 250 frames": make_video(folder / "fst6min_gop250.mp4", None),
                  "key frame every 1 s": make_video(folder / "fst6min_gop30.mp4", 1.0)}
        print("\n1. seek to a random frame, end to end to the painted frame (ms)")
        print(f"   {'video':28s} {'median':>7s} {'p95':>7s} {'max':>7s} | reader alone: "
              f"{'median':>7s} {'p95':>7s} | ratio of medians")
        for name, path in videos.items():
            gui, raw = bench_seek(app, path, args.seeks, rng)
            g, r = gui * 1000, raw * 1000
            print(f"   {name:28s} {np.nanmedian(g):7.1f} {np.nanpercentile(g, 95):7.1f} "
                  f"{np.nanmax(g):7.1f} |               {np.median(r):7.1f} "
                  f"{np.percentile(r, 95):7.1f} | {np.nanmedian(g) / np.median(r):5.2f}"
                  f"  (target: median < 50, p95 < 150; missed: {int(np.isnan(g).sum())})")
        print(f"\n2./3. playback for {args.play:g} s of wall time")
        for speed in (1.0, 4.0):
            r = bench_play(app, videos["key frame every 250 frames"], args.play, speed)
            dropped = r["due"] - r["painted"]
            print(f"   {speed:g}x: clock advanced {r['clock_s']:.4f} s for {r['wall_s']:.4f} s "
                  f"wall x {speed:g} (error {r['clock_s'] - r['wall_s'] * speed:+.4f} s); "
                  f"frames painted {r['painted']} of {r['due']} due, dropped {dropped} "
                  f"({100 * dropped / max(1, r['due']):.1f} %)")
            if speed == 1.0 and dropped:
                print(f"        dropped frames: {r['dropped'][:20]}")
            print(f"        baseline tick-counting clock: {r['tick_clock_s']:.4f} s "
                  f"(error {r['tick_clock_s'] - r['wall_s'] * speed:+.4f} s)")
        print("\n4. key press to disk (ms)")
        press, release, bare = bench_keys(app, folder, 20)
        print(f"   press -> 'start' committed: median {np.median(press) * 1000:.2f}, "
              f"max {press.max() * 1000:.2f}")
        grace = 50.0
        print(f"   release -> event committed: median {np.nanmedian(release) * 1000:.2f}, "
              f"max {np.nanmax(release) * 1000:.2f}, of which the {grace:g}-ms debounce "
              f"(the bout still ends at the release's own time): after it "
              f"{np.nanmedian(release) * 1000 - grace:.2f} (the event loop is polled "
              f"every 50 ms here, so this is an upper bound)")
        print(f"   baseline bare insert + commit: median {np.median(bare) * 1000:.2f}; "
              f"ratio press/bare {np.median(press) / np.median(bare):.2f}  (target < 20 ms)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
