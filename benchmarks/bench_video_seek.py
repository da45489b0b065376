"""Frame-accurate seeking for a player, against baselines measured in the same run.

Generates a 6-min 640x480 30-fps H.264 video (camera-like: a moving animal-sized
blob over a textured background with sensor noise, ~2 Mbit/s) twice — with x264's
default GOP (a key frame every 250 frames at most) and with a 2-s GOP, as many
cameras write — in a temporary folder, and measures for each:

1. opening a :class:`VideoReader` (vs ``av.open`` alone);
2. :meth:`VideoReader.frame_times` from the packets (target < 1 s) vs a full
   decoding pass (``frames()``), as a ratio;
3. 200 random frames by index with :meth:`VideoReader.read` (targets: median < 50 ms,
   95th percentile < 150 ms), checked against a sequential decode, vs two naive
   baselines: PyAV seek to the time + decode converting every frame to an array
   until the target (what ``frame_at`` did before), and OpenCV
   ``VideoCapture.set(CAP_PROP_POS_FRAMES)`` + ``read``;
4. stepping forward one frame at a time (``read(i)``, ``read(i + 1)``, ... as a
   player's "next frame" or playback does) vs ``frames()``, per frame.

Each random target is read by every method in turn (so all meet the same machine
load); the CPU time of the whole process is printed too, as it suffers less from
other programs than the wall-clock time.

    python benchmarks/bench_video_seek.py [--minutes 6] [--seeks 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from behavior.io.video import VideoReader, luma
from behavior.io.video_writer import VideoWriter

WIDTH, HEIGHT, FPS = 640, 480, 30


def make_video(path: Path, minutes: float, gop: int | None, seed: int = 0) -> float:
    """Write the test video; returns seconds taken."""
    rng = np.random.default_rng(seed)
    n = int(round(minutes * 60 * FPS))
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    background = (90 + 40 * np.sin(xx / 37.0) * np.cos(yy / 53.0)
                  + rng.normal(0, 6, (HEIGHT, WIDTH))).clip(0, 255).astype(np.uint8)
    noise = rng.integers(-4, 5, (16, HEIGHT, WIDTH), dtype=np.int16)
    t0 = time.perf_counter()
    with VideoWriter(path, codec="h264", fps=FPS, crf=23, preset="veryfast",
                     keyframe_interval=gop) as out:
        x, y = WIDTH / 2, HEIGHT / 2
        for i in range(n):
            # a random walk with rests, like a swimming then floating animal
            if (i // 90) % 3:
                x = float(np.clip(x + rng.normal(0, 3), 60, WIDTH - 60))
                y = float(np.clip(y + rng.normal(0, 3), 60, HEIGHT - 60))
            img = (background.astype(np.int16) + noise[i % 16]).clip(0, 255).astype(np.uint8)
            cv2.ellipse(img, (int(x), int(y)), (38, 22), (i * 2) % 180, 0, 360, 30, -1)
            cv2.putText(img, str(i), (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 250, 2)
            out.write(img)
    return time.perf_counter() - t0


def naive_seek(container: av.container.InputContainer, time_s: float) -> np.ndarray:
    """The frame at ``time_s`` as a plain PyAV loop does it (and ``frame_at`` did):
    seek to the key frame before, decode converting every frame, keep the last ≤ t."""
    stream = container.streams.video[0]
    container.seek(int(time_s / stream.time_base), backward=True, stream=stream)
    shown = None
    for frame in container.decode(stream):
        if frame.time > time_s + 1e-9:
            break
        shown = luma(frame).copy()
    return shown


def stats_ms(values: list[float]) -> tuple[float, float]:
    ms = np.array(values) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 95))


def timed(fn, *args):
    """(result, wall s, CPU s of the whole process: decoder threads included)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - c0


def bench(path: Path, n_seeks: int, seed: int, repeat: int) -> dict[str, float]:
    r: dict[str, float] = {}
    opens, bare = [], []
    for _ in range(10):  # interleaved: both see the same load
        t0 = time.perf_counter()
        with av.open(str(path)):
            pass
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with VideoReader(path):
            pass
        opens.append(time.perf_counter() - t0)
    r["open_ms"], r["av_open_ms"] = statistics.median(opens) * 1e3, statistics.median(bare) * 1e3

    scans, passes = [], []
    for _ in range(repeat):
        with VideoReader(path) as video:
            t0 = time.perf_counter()
            times = video.frame_times()
            scans.append(time.perf_counter() - t0)
            r["from_packets"] = float(video.frame_times_source == "packets")
        t0 = time.perf_counter()
        with VideoReader(path) as video:
            decoded = np.array([f.time_s for f in video.frames()])
        passes.append(time.perf_counter() - t0)
        assert np.array_equal(decoded, times), "frame_times differs from decoding"
    r["frame_times_s"], r["decode_pass_s"] = min(scans), min(passes)
    r["n_frames"] = times.size

    rng = np.random.default_rng(seed)
    targets = [int(i) for i in rng.choice(times.size, n_seeks, replace=False)]
    # the truth for every target, from one sequential pass
    wanted = set(targets)
    truth: dict[int, np.ndarray] = {}
    with VideoReader(path) as video:
        for f in video.frames():
            if f.index in wanted:
                truth[f.index] = f.image.copy()

    # each target read by every method in turn, so that all meet the same load
    ours, ours1 = VideoReader(path), VideoReader(path, threads=1)
    ours.frame_times(), ours1.frame_times()
    naive = av.open(str(path))
    naive.streams.video[0].thread_type = "AUTO"
    cap = cv2.VideoCapture(str(path))

    def cv_read(i: int) -> np.ndarray | None:
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, image = cap.read()
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if ok else None

    walls: dict[str, list[float]] = {k: [] for k in ("read", "read1", "naive", "cv")}
    cpus: dict[str, list[float]] = {k: [] for k in walls}
    wrong = dict.fromkeys(walls, 0)
    try:
        for i in targets:
            runs = {"read": (lambda i=i: ours.read(i).image),
                    "read1": (lambda i=i: ours1.read(i).image),
                    "naive": (lambda i=i: naive_seek(naive, float(times[i]))),
                    "cv": (lambda i=i: cv_read(i))}
            for key, fn in runs.items():
                image, wall, cpu = timed(fn)
                walls[key].append(wall)
                cpus[key].append(cpu)
                if key == "cv":  # OpenCV goes through BGR: compare loosely
                    wrong[key] += image is None or np.abs(image.astype(int)
                                                          - truth[i]).mean() > 3
                else:
                    wrong[key] += image is None or not np.array_equal(image, truth[i])
    finally:
        ours.close(), ours1.close(), naive.close(), cap.release()
    for key in walls:
        r[f"{key}_median_ms"], r[f"{key}_p95_ms"] = stats_ms(walls[key])
        r[f"{key}_cpu_ms"] = float(np.median(cpus[key]) * 1e3)
        r[f"{key}_wrong"] = wrong[key]

    n_steps = min(300, times.size - 1)
    start = times.size // 3
    steps, iters = [], []
    for _ in range(repeat):
        with VideoReader(path) as video:
            video.frame_times()
            video.read(start)
            t0 = time.perf_counter()
            for i in range(start + 1, start + 1 + n_steps):
                video.read(i)
            steps.append((time.perf_counter() - t0) / n_steps * 1e3)
            it = video.frames(start_s=float(times[start]))
            next(it)
            t0 = time.perf_counter()
            for _ in range(n_steps):
                next(it)
            iters.append((time.perf_counter() - t0) / n_steps * 1e3)
    r["step_ms"], r["frames_ms"] = min(steps), min(iters)
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for the passes")
    parser.add_argument("--keep", type=Path, help="keep the videos in this folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_seek_")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        for label, gop in (("x264 default GOP", None), ("2-s GOP", 2 * FPS)):
            path = folder / f"seek_{'default' if gop is None else gop}.mp4"
            if not path.exists():
                took = make_video(path, args.minutes, gop)
                print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB in {took:.0f} s",
                      file=sys.stderr)
            with av.open(str(path)) as c:
                keys = sum(p.is_keyframe for p in c.demux(video=0) if p.size)
            r = bench(path, args.seeks, args.seed, args.repeat)
            r["keys"] = keys
            results[label] = r
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(f"\n{args.minutes:g}-min {WIDTH}x{HEIGHT} {FPS}-fps H.264, {args.seeks} random frames "
          f"(load average {load:.1f} on {os.cpu_count()} cores)\n")
    rows = [
        ("key frames", "keys", "{:.0f}"),
        ("open VideoReader (ms)", "open_ms", "{:.1f}"),
        ("  av.open alone (ms)", "av_open_ms", "{:.1f}"),
        ("frame_times (s)", "frame_times_s", "{:.3f}"),
        ("  from the packets", "from_packets", "{:.0f}"),
        ("  full decode pass (s)", "decode_pass_s", "{:.2f}"),
        ("  ratio", None, None),
        ("read(i) median (ms)", "read_median_ms", "{:.1f}"),
        ("read(i) p95 (ms)", "read_p95_ms", "{:.1f}"),
        ("  CPU median (ms)", "read_cpu_ms", "{:.1f}"),
        ("  wrong frames", "read_wrong", "{:.0f}"),
        ("read(i), threads=1, median (ms)", "read1_median_ms", "{:.1f}"),
        ("read(i), threads=1, p95 (ms)", "read1_p95_ms", "{:.1f}"),
        ("  wrong frames", "read1_wrong", "{:.0f}"),
        ("naive PyAV median (ms)", "naive_median_ms", "{:.1f}"),
        ("naive PyAV p95 (ms)", "naive_p95_ms", "{:.1f}"),
        ("  CPU median (ms)", "naive_cpu_ms", "{:.1f}"),
        ("  wrong frames", "naive_wrong", "{:.0f}"),
        ("OpenCV POS_FRAMES median (ms)", "cv_median_ms", "{:.1f}"),
        ("OpenCV POS_FRAMES p95 (ms)", "cv_p95_ms", "{:.1f}"),
        ("  differing frames", "cv_wrong", "{:.0f}"),
        ("read(i) median speed-up vs naive", None, None),
        ("step read(i+1) (ms/frame)", "step_ms", "{:.2f}"),
        ("  frames() (ms/frame)", "frames_ms", "{:.2f}"),
    ]
    labels = list(results)
    print(f"{'':40s}" + "".join(f"{lab:>20s}" for lab in labels))
    for name, key, fmt in rows:
        cells = []
        for lab in labels:
            r = results[lab]
            if name.strip() == "ratio":
                cells.append(f"{r['frame_times_s'] / r['decode_pass_s']:.3f}")
            elif "speed-up" in name:
                cells.append(f"{r['naive_median_ms'] / r['read_median_ms']:.1f}x")
            else:
                cells.append(fmt.format(r[key]))
        print(f"{name:40s}" + "".join(f"{c:>20s}" for c in cells))


if __name__ == "__main__":
    main()
