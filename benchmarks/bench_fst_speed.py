"""Speed and memory of forced-swim scoring, against baselines measured in the same run.

Generates a 6-min 640x480 30-fps H.264 synthetic FST video, then measures:

1. decode only, with the fastest PyAV set-up found (luma plane; slice, frame or
   automatic threading) — the ceiling for any scorer that decodes the file;
2. whole scoring (decode + tracking + scoring, as ``behavior fst score`` does with
   one video: a worker process tracks the second half of the test while this one
   tracks the first), and the same on one core (as ``--jobs 1`` and each video of
   ``--jobs N`` does), with CPU per frame;
3. a plain OpenCV frame-differencing baseline (VideoCapture.read, cvtColor to grey,
   Gaussian blur, absdiff with the previous frame, count pixels over a cut-off);
4. peak RSS of whole scoring of the 6-min video and of a 2-min cut of it (streaming:
   the peak should not grow with the length);
5. ``behavior fst score --jobs 2`` against ``--jobs 1`` on two such videos (``--jobs
   N`` keeps N cores busy, so the floor is 1 / N plus start-up).

Each timing is the best of ``--repeat`` runs (machines are noisy). Prints ratios.
The video is encoded by default so that it decodes as cheaply as H.264 can (x264
'ultrafast': no CABAC, no deblocking, no B-frames), which gives tracking its largest
share; ``--encoding camera`` encodes it as cameras and recorders do (x264 'medium').

    python benchmarks/bench_fst_speed.py [--repeat 3] [--keep DIR] [--encoding camera]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from behavior.io.video import luma
from behavior.testing import SyntheticSpec, write_video


def decode_only(path: Path, thread_type: str, threads: int) -> tuple[float, float, int]:
    """(wall s, CPU s, frames) of decoding the file to luma planes."""
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = thread_type
        s.thread_count = threads
        for frame in c.decode(s):
            luma(frame)
            n += 1
    return time.perf_counter() - t0, time.process_time() - c0, n


def opencv_baseline(path: Path, cutoff: int = 20) -> tuple[float, int]:
    t0 = time.perf_counter()
    cap = cv2.VideoCapture(str(path))
    prev = None
    n = 0
    counts = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        grey = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (0, 0), 1.5)
        if prev is not None:
            counts.append(int(np.count_nonzero(cv2.absdiff(grey, prev) > cutoff)))
        prev = grey
        n += 1
    cap.release()
    return time.perf_counter() - t0, n


def whole_scoring(path: Path, one_core: bool = False) -> dict:
    """Score in a fresh process (so its peak RSS is its own): time, CPU time and RSS.

    As ``behavior fst score VIDEO`` does: on two cores a worker process is started
    first thing (its imports overlap this process's own, as in the command line) and
    tracks the second half of the test while this process tracks the first; the
    clock runs from the call that scores the video to its results. The CPU time is
    this process's and the worker's. ``one_core``: as ``--jobs 1`` and each video of
    ``--jobs N`` does (one thread, both halves one after the other).
    """
    code = (
        "import json, resource, sys, time\n"
        "from behavior.parallel import start_workers\n"
        f"pool = None if {one_core} else start_workers(1, 'behavior.fst.batch')\n"
        "import cv2\n"
        "from behavior.fst.batch import VideoJob, score_video\n"
        "from behavior.protocols import load_fst_protocol\n"
        f"if {one_core}: cv2.setNumThreads(1)\n"
        "def cpu():\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    return own.ru_utime + own.ru_stime\n"
        "def worker_cpu():\n"
        "    if pool is None: return 0.0\n"
        "    return pool.submit(time.process_time).result()\n"
        "w0 = worker_cpu()\n"
        "t0, c0 = time.perf_counter(), cpu()\n"
        f"job = VideoJob({str(path)!r})\n"
        f"if {one_core}: job = job.on_one_core()\n"
        "o = score_video(job, load_fst_protocol('mouse_fst'), helper=pool)\n"
        "dt, c = time.perf_counter() - t0, cpu() - c0 + worker_cpu() - w0\n"
        "assert o.error is None, o.error\n"
        "worker_rss = 0.0 if pool is None else pool.submit(resource.getrusage,\n"
        "    resource.RUSAGE_SELF).result().ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': dt, 'cpu': c, 'frames': o.rows()[0]['frames'],\n"
        "  'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,\n"
        "  'worker_rss_mb': worker_rss,\n"
        "  'immobility_s': o.rows()[0]['immobility_s']}))\n"
        "if pool is not None: pool.shutdown()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_batch(videos: list[Path], jobs: int, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "behavior", "fst", "score", *map(str, videos),
                    "--jobs", str(jobs), "--out", str(out), "--no-progress"],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def cut(path: Path, seconds: float, out: Path) -> Path:
    """Copy the first ``seconds`` of a video without re-encoding."""
    with av.open(str(path)) as src, av.open(str(out), "w") as dst:
        s_in = src.streams.video[0]
        s_out = dst.add_stream_from_template(s_in)
        for packet in src.demux(s_in):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * packet.time_base > seconds:
                break
            packet.stream = s_out
            dst.mux(packet)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="folder to keep the generated videos in")
    ap.add_argument("--encoding", choices=("fast-decode", "camera"), default="fast-decode",
                    help="fast-decode (default): x264 'ultrafast', no CABAC, no deblocking, no "
                         "B-frames, the cheapest H.264 to decode, so tracking's share is the "
                         "largest; camera: x264 'medium' (CABAC, deblocking, B-frames), as "
                         "cameras and recorders write")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_fst_"))
    work.mkdir(parents=True, exist_ok=True)
    spec = SyntheticSpec(duration_s=360, fps=30, width=640, height=480, n_arenas=1, seed=11,
                         immobility_fraction=0.5)
    camera = args.encoding == "camera"
    video = work / f"fst_6min_640x480_30fps{'_camera' if camera else ''}.mp4"
    if not video.exists():
        t0 = time.perf_counter()
        write_video(spec, video, codec="h264", preset="medium" if camera else "ultrafast")
        print(f"generated {video.name} in {time.perf_counter() - t0:.0f} s")
    print(f"encoding: {args.encoding}")
    duration = 360.0

    best: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def keep(name: str, wall: float, cpu_s: float) -> None:
        if wall < best.get(name, 1e9):
            best[name], cpu[name] = wall, cpu_s

    frames = 0
    rss_long = rss_worker = 0.0
    paired: list[float] = []  # per run: that run's fastest decode / its whole scoring
    for _ in range(args.repeat):
        fastest_now = math.inf
        for tt, n in (("SLICE", 1), ("FRAME", 2), ("AUTO", 0)):
            dt, c, frames = decode_only(video, tt, n)
            keep(f"decode {tt.lower()} x{n}", dt, c)
            fastest_now = min(fastest_now, dt)
        dt, _ = opencv_baseline(video)
        keep("opencv baseline", dt, math.nan)
        r = whole_scoring(video)
        if r["seconds"] < best.get("whole scoring", 1e9):
            rss_long, rss_worker = r["rss_mb"], r["worker_rss_mb"]
        keep("whole scoring", r["seconds"], r["cpu"])
        paired.append(fastest_now / r["seconds"])
        r = whole_scoring(video, one_core=True)
        keep("whole, one core", r["seconds"], r["cpu"])
    fastest = min((k for k in best if k.startswith("decode")), key=best.get)
    print(f"\n{frames} frames, {duration:.0f} s of video; best of {args.repeat} runs")
    print(f"  {'':<22} {'wall':>7}    {'fps':>7}  {'x real time':>11}  {'CPU/frame':>9}")
    for k, v in best.items():
        per = f"{cpu[k] / frames * 1e6:6.0f} us" if math.isfinite(cpu[k]) else ""
        print(f"  {k:<22} {v:7.2f} s  {frames / v:7.0f}  {duration / v:11.1f}  {per:>9}")
    print(f"\nwhole scoring / fastest decode-only ({fastest}) throughput: "
          f"{best[fastest] / best['whole scoring']:.2f}  (target >= 0.85)")
    # a slow spell of the machine during one kind of run only skews the ratio of the
    # bests; the ratio within each run, measured a few seconds apart, less so
    print(f"  the same ratio within each run: {', '.join(f'{x:.2f}' for x in paired)}; "
          f"median {float(np.median(paired)):.2f}")
    print(f"whole scoring / OpenCV frame-differencing throughput: "
          f"{best['opencv baseline'] / best['whole scoring']:.2f}  (target >= 1.5)")
    print(f"whole scoring speed: {duration / best['whole scoring']:.1f} x real time")
    # The CPU budget: what no placement of the work over this machine's cores can
    # beat. Tracking's CPU per frame is one-core scoring's minus single-thread
    # decoding's; decoding with the fastest set-up costs its own CPU per frame.
    cores = os.cpu_count() or 1
    per = {k: cpu[k] / frames * 1e6 for k in ("decode slice x1", fastest, "whole, one core")}
    tracking_us = per["whole, one core"] - per["decode slice x1"]
    ceilings = {
        # what scoring does: the two halves of the test on two cores, each decoded in
        # one thread (the cheapest decoding per frame) and tracked in the same thread
        "halves, one core each": min(cores, 2) * 1e6 / per["whole, one core"],
        # the fastest decoder + tracking, every core busy all the time
        f"{fastest} + tracking": cores * 1e6 / (per[fastest] + tracking_us),
    }
    print(f"CPU budget: tracking {tracking_us:.0f} us per frame on top of decoding; "
          f"upper bounds of whole scoring / fastest decode on {cores} cores (start-up "
          "not counted):")
    for k, fps in ceilings.items():
        print(f"  {k:<32} <= {fps:6.0f} fps = {fps * best[fastest] / frames:.2f}")

    short = cut(video, 120.0, work / "fst_2min.mp4")
    r_short = whole_scoring(short)
    rss_short = r_short["rss_mb"]
    print(f"\npeak RSS: 6-min video {rss_long:.0f} MB, 2-min video {rss_short:.0f} MB "
          f"(ratio {rss_long / rss_short:.2f}; target < 400 MB and independent of length)")
    print(f"  the worker tracking the second half: {rss_worker:.0f} MB (6 min), "
          f"{r_short['worker_rss_mb']:.0f} MB (2 min)")

    second = work / "fst_6min_copy.mp4"
    shutil.copy(video, second)
    # interleaved, so a slow spell of the machine hits both alike
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeat):
        for jobs in (1, 2):
            runs[jobs].append(cli_batch([video, second], jobs, work / f"r{jobs}.csv"))
    t1, t2 = min(runs[1]), min(runs[2])
    print(f"\nbatch runs (s): --jobs 1 {', '.join(f'{t:.2f}' for t in runs[1])}; "
          f"--jobs 2 {', '.join(f'{t:.2f}' for t in runs[2])}")
    cores = os.cpu_count() or 1
    med = float(np.median(runs[2]) / np.median(runs[1]))
    print(f"batch of 2 videos: --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s, "
          f"ratio {t2 / t1:.2f} (target <= 0.6; of the medians {med:.2f}) on {cores} cores")
    print(f"  at the --jobs 2 pace this machine scores about {2 * 3600 / t2:.0f} "
          f"{duration / 60:.0f}-min videos an hour")
    # --jobs N keeps N cores busy: --jobs 1 decodes and tracks in one thread, so
    # two videos on two cores can at best halve its time; what is above 0.5 is the
    # worker process's start-up and the two scorers sharing memory bandwidth.
    print(f"  floor: 1 / {cores} cores = {1 / cores:.2f}; a single video with the default "
          f"--jobs (its two halves at once) runs "
          f"{best['whole, one core'] / best['whole scoring']:.2f} x as fast as on one core")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
