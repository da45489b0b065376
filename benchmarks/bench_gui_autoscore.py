"""The Auto-score page: is the window responsive during a batch, and how fast is re-scoring?

Makes (or re-uses, with ``--keep DIR``) ``--videos`` synthetic forced swim videos
(:mod:`behavior.testing`; 640×480, 30 fps, two arenas, ``--seconds`` long each, 6 min
by default), then
measures in the same run:

1. **The event loop during a batch.** The page scores the videos (its worker thread
   calls the core's ``score_batch``) while a 10-ms ``QTimer`` on the GUI thread
   records when it fires: the largest gap between two ticks is the longest the
   window was unresponsive. Baseline: the same timer for 3 s with nothing running;
   also the first second after the page opens (it loads the scoring modules in the
   background then, so that Start does not). Target: never more than 100 ms. Also:
   the batch's wall time against the core's ``score_batch`` alone on the same videos
   (what the GUI costs).
2. **Re-scoring 40 animals from traces** after a threshold change (``Re-score all``:
   ``AutoScorePage.rescore_all``, the table filled again). The 40 traces are 6-min
   traces made from the real traces of step 1 (each repeated to 360 s; the scoring's
   cost depends on the number of frames). Baseline: the core's own loop,
   ``[score_trace(t, p) for t in traces]``. Target: < 1 s.
3. **One animal in the inspect view**: a threshold change, re-scored and repainted.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_autoscore.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_videos(folder: Path, n: int, seconds: float) -> list[Path]:
    from behavior.testing import SyntheticSpec, write_video

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"bench_{seconds:g}s_{i + 1}.mp4"
        if not path.exists():
            t = time.perf_counter()
            write_video(SyntheticSpec(duration_s=seconds, n_arenas=2, seed=40 + i), path,
                        keyframe_s=2.0)
            print(f"  made {path.name} in {time.perf_counter() - t:.0f} s", flush=True)
        out.append(path)
    return out


class Ticks:
    """A 10-ms timer on the GUI thread recording when it fires."""

    def __init__(self):
        from PyQt5.QtCore import Qt, QTimer

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self):
        self.times = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.diff(np.array(self.times)) * 1000  # ms


def spin(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def gaps_line(name: str, gaps: np.ndarray) -> str:
    return (f"  {name:<34} ticks {gaps.size:5d}  median {np.median(gaps):6.1f} ms  "
            f"p99 {np.percentile(gaps, 99):6.1f} ms  max {gaps.max():6.1f} ms  "
            f"> 100 ms: {(gaps > 100).sum()}")


def six_minutes(trace, name: str):
    """The trace repeated to 360 s (a 6-min test), under another video's name."""
    import pandas as pd

    from behavior.fst import Trace

    t = trace.table
    step = float(np.median(np.diff(t["time_s"])))
    span = float(t["time_s"].iloc[-1]) + step
    reps = int(np.ceil(360.0 / span))
    parts = []
    for k in range(reps):
        part = t.copy()
        part["time_s"] = part["time_s"] + k * span
        part["frame"] = part["frame"] + k * len(t)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table = table[table["time_s"] < 360.0].reset_index(drop=True)
    return Trace(name, trace.arena, table, 360.0, dict(trace.meta), list(trace.notices))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "bench_auto")
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=360.0)
    args = parser.parse_args()

    from behavior_gui.app import make_app

    app = make_app()
    from behavior_gui.autoscore_page import AutoScorePage, Row
    from behavior_gui.settings import Settings

    import behavior.fst as fst
    from behavior.protocols import load_fst_protocol

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    videos = make_videos(args.keep / "videos", args.videos, args.seconds)
    protocol = load_fst_protocol("mouse_fst").with_overrides(
        duration_s=args.seconds, window_s=[args.seconds / 3, args.seconds], bin_s=10)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.keep))

    # 1. the event loop during a batch --------------------------------------------------
    print("1. the event loop during a batch")
    ticks = Ticks()
    ticks.start()
    spin(app, 3.0)
    idle = ticks.stop()
    print(gaps_line("idle (baseline)", idle))

    ticks.start()
    page = AutoScorePage(Settings(work / "settings.ini"))
    page.resize(1300, 800)
    page.show()
    page.set_protocol(protocol, remember=False)
    page.add_videos([str(v) for v in videos], remember=False)
    page.out_edit.setText(str(work / "gui" / "results.csv"))
    # a user takes longer than this to choose the videos and the results file; the
    # page loads the scoring modules meanwhile (behavior_gui.batch_worker.preload_scoring)
    spin(app, 1.0)
    print(gaps_line("opening the page (1 s)", ticks.stop()))
    done = []
    page.batch_finished.connect(done.append)
    ticks.start()
    t0 = time.perf_counter()
    page.start()
    while not done:
        app.processEvents()
        time.sleep(0.001)
    gui_s = time.perf_counter() - t0
    busy = ticks.stop()
    while page.worker is not None:
        app.processEvents()
    print(gaps_line("during the batch (GUI)", busy))
    worst = int(np.argmax(busy))
    print(f"  the largest gap began {(ticks.times[worst] - ticks.times[0]):.2f} s after Start")
    t0 = time.perf_counter()
    core = fst.score_batch([str(v) for v in videos], protocol, out=work / "core" / "r.csv")
    core_s = time.perf_counter() - t0
    print(f"  batch of {len(videos)} × {args.seconds:g}-s videos: GUI {gui_s:.1f} s, core "
          f"score_batch alone {core_s:.1f} s (ratio {gui_s / core_s:.2f})")
    same = np.allclose(page.table()["immobility_s"].astype(float),
                       core.table(protocol)["immobility_s"].astype(float), equal_nan=True)
    print(f"  same immobility as the core: {same}")
    target = "met" if busy.max() <= 100 else "MISSED"
    print(f"  largest gap {busy.max():.1f} ms (target <= 100 ms: {target})")

    # 2. re-scoring 40 animals ----------------------------------------------------------
    print("2. re-scoring 40 animals from their traces after a threshold change")
    real = [r.trace for r in page.rows if r.trace is not None]
    traces = [six_minutes(real[i % len(real)], f"animal{i + 1:02d}.mp4") for i in range(40)]
    six = load_fst_protocol("mouse_fst")
    page.rows = [Row(t.video, t.arena, {}, [], t) for t in traces]
    page.scored_protocol = six
    page.rescore_all(six)  # the table as scored
    new = six.with_overrides(threshold=0.04)
    t0 = time.perf_counter()
    baseline = [fst.score_trace(t, new) for t in traces]
    core_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    page.rescore_all(new)
    app.processEvents()  # the table painted
    gui_s = time.perf_counter() - t0
    same = all(np.isclose(float(r.values["immobility_s"]), float(b.values["immobility_s"]),
                          equal_nan=True) for r, b in zip(page.rows, baseline, strict=True))
    print(f"  40 traces of {len(traces[0].table)} frames: Re-score all {gui_s:.3f} s; core "
          f"loop alone {core_s:.3f} s (ratio {gui_s / core_s:.2f}); same values: {same}")
    print(f"  target < 1 s: {'met' if gui_s < 1 else 'MISSED'}")

    # 3. one animal in the inspect view -------------------------------------------------
    print("3. one animal in the inspect view")
    from behavior_gui.inspect_view import InspectView

    view = InspectView(dataclasses.replace(traces[0], video=str(videos[0])), six)
    view.show()
    spin(app, 1.0)
    view.auto.setChecked(False)
    times = []
    for k in range(10):
        t0 = time.perf_counter()
        view.threshold.setValue(0.02 + 0.004 * k)
        view.repaint()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in range(10):
        fst.score_trace(traces[0], six.with_overrides(threshold=0.02 + 0.004 * k))
    base = (time.perf_counter() - t0) / 10
    print(f"  threshold change -> re-scored and repainted: median {np.median(times) * 1000:.0f}"
          f" ms; score_trace alone {base * 1000:.0f} ms")
    view.close()
    page.shutdown()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
