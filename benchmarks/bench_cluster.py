"""A batch on a Dask cluster against the same batch on one machine, in the same run.

Generates ``--videos`` six-minute synthetic FST videos (two cylinders, 320x240, 15
fps, H.264; kept in ``--keep``, default a folder in the temp directory, and re-used),
then scores the batch

1. here, one video after the other on one core (``score_batch`` with
   ``submit=None``, as ``fst score --jobs 1``): the baseline;
2. on a Dask LocalCluster of one worker process (one thread): the same work, plus
   what Dask adds per video (sending the job, the scheduler, fetching the result);
3. on a LocalCluster of two worker processes (one thread each).

The clusters are started before timing (their start-up is printed on its own): a
cluster's start-up is paid once per batch, not per video. Each timing is the best
of ``--repeat`` runs; every run's table must be the same, byte for byte, or the
script stops. Prints

- two workers / one worker (target <= 0.6 with two free cores);
- (one worker - here) / videos: Dask's cost per video (target < 0.3 s);
- the per-video cost and the file sizes, for estimating a large batch (docs/cluster.md).

    python benchmarks/bench_cluster.py [--videos 8] [--repeat 2] [--keep DIR]
                                      [--size 320x240] [--fps 15]

The machine's other load makes every figure noisy: run it on an idle machine and
more than once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def make(args: tuple) -> Path:
    """(folder, seed, width, height, fps) -> a six-minute video, made once."""
    from behavior.testing import SyntheticSpec, write_video

    folder, seed, width, height, fps = args
    path = Path(folder) / f"fst_{width}x{height}_{fps:g}fps_{seed}.mp4"
    if not path.exists():
        spec = SyntheticSpec(duration_s=360, fps=fps, width=width, height=height,
                             n_arenas=2, seed=seed, immobility_fraction=(0.3, 0.6))
        part = path.with_suffix(".part.mp4")
        write_video(spec, part, codec="h264")
        part.replace(path)
    return path


def score(videos: list[Path], out: Path, submit=None, log_extra=None) -> float:
    """Wall seconds to score the batch into ``out`` (a fresh folder each time)."""
    from behavior.fst import load_protocol
    from behavior.fst.batch import make_jobs, score_batch

    protocol = load_protocol("mouse_fst")
    jobs = [job.on_one_core() for job in make_jobs([str(v) for v in videos])]
    t0, c0 = time.perf_counter(), time.process_time()
    batch = score_batch(jobs, protocol, out, submit=submit, log_extra=log_extra)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if batch.exit_status != 0:
        raise SystemExit(f"the batch failed: {[r.error for r in batch.failed]}")
    CPU_S.append(cpu)
    return seconds


#: CPU seconds of this process in each batch (for "here": the work itself; for a
#: cluster: the client's share, taking results and writing the table)
CPU_S: list[float] = []


def rewrite_cost(example: Path, n: int, folder: Path) -> float:
    """Seconds to rewrite the results table and the run log of a batch of ``n``
    videos once (what the client does as results come in), from copies of the
    results of ``example``'s batch."""
    import copy

    from behavior.fst import load_protocol
    from behavior.fst.batch import make_jobs, score_batch, write_run_log
    from behavior.fst.scoring import rows_to_table, write_table

    protocol = load_protocol("mouse_fst")
    (one,) = score_batch(make_jobs([str(example)]), protocol, None, folder / "t",
                         resume=True).results  # from the traces written above
    results = []
    for i in range(n):
        r = copy.copy(one)
        r.path, r.worker = f"/shared/fst/video{i:05d}.mp4", "tcp://10.0.0.1:40000"
        results.append(r)
    out = folder / f"table{n}.csv"
    t0 = time.perf_counter()
    write_table(rows_to_table([row for r in results for row in r.rows()], protocol), out)
    write_run_log(out, protocol, "running", "", None, ["fst", "score"], {"videos": n},
                  [], [x for r in results for x in r.notices],
                  {"scored_by": {r.path: r.worker for r in results}})
    return time.perf_counter() - t0


def best_of(repeat: int, videos: list[Path], work: Path, tag: str, reference: list[bytes],
            **kwargs) -> float:
    """Best wall time of ``repeat`` runs; each run's table must equal the first's."""
    times = []
    for i in range(repeat):
        out = work / f"{tag}{i}" / "results.csv"
        out.parent.mkdir(parents=True)
        times.append(score(videos, out, **kwargs))
        table = out.read_bytes()
        if reference and table != reference[0]:
            raise SystemExit(f"{tag}: the table differs from the first run's ({out})")
        reference.append(table)
        print(f"  {tag} run {i + 1}: {times[-1]:.2f} s ({CPU_S[-1]:.2f} CPU s here)",
              flush=True)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path,
                        default=Path(tempfile.gettempdir()) / "behavior-bench-cluster")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=float, default=15)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    import cv2

    cv2.setNumThreads(1)  # "here" is one core, as each worker is
    args.keep.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as pool:
        videos = list(pool.map(make, [(args.keep, seed, width, height, args.fps)
                                      for seed in range(1, args.videos + 1)]))
    sizes = [v.stat().st_size / 1e6 for v in videos]
    print(f"{len(videos)} videos of 6 min, {width}x{height} {args.fps:g} fps, "
          f"{min(sizes):.1f}-{max(sizes):.1f} MB each ({time.perf_counter() - t0:.0f} s to "
          f"make or find in {args.keep}); {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}", flush=True)

    from distributed import Client, LocalCluster

    from behavior.cluster import Cluster

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    reference: list[bytes] = []
    try:
        print("here, one core:", flush=True)
        here = best_of(args.repeat, videos, work, "here", reference)
        here_cpu = min(CPU_S)
        timings = {}
        for n in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              preload=["behavior.cluster"], dashboard_address=None) as local, \
                    Client(local) as client:
                client.wait_for_workers(n)
                print(f"Dask, {n} worker{'s' if n > 1 else ''} (started in "
                      f"{time.perf_counter() - t0:.1f} s):", flush=True)
                cluster = Cluster(client, local, "local")
                timings[n] = best_of(args.repeat, videos, work, f"dask{n}_", reference,
                                     submit=cluster.submit, log_extra=cluster.log_extra())
        # the client's part in a large batch: the table and log rewritten as results come
        score_batch_dir = work / "cost"
        score_batch_dir.mkdir()
        from behavior.fst import load_protocol
        from behavior.fst.batch import make_jobs, score_batch

        score_batch(make_jobs([str(videos[0])]), load_protocol("mouse_fst"), None,
                    score_batch_dir / "t")
        rewrites = {k: rewrite_cost(videos[0], k, score_batch_dir) for k in (1000, 10000)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = len(videos)
    print(f"\nper video here: {here / n:.2f} s; 1 worker {timings[1] / n:.2f} s; "
          f"2 workers {timings[2] / n:.2f} s (best of {args.repeat})")
    print(f"2 workers / 1 worker: {timings[2] / timings[1]:.2f} (target <= 0.6)")
    print(f"Dask's cost per video, (1 worker - here) / videos: "
          f"{(timings[1] - here) / n:+.3f} s (target < 0.3 s)")
    print(f"CPU per video here (the cost of a video on one core, less sensitive to the "
          f"machine's other load than wall time): {here_cpu / n:.2f} s; "
          f"{sum(sizes) / n:.1f} MB per video")
    print("rewriting the results table and run log once, as the client does after each "
          "result (or each group of results that came in together): "
          + ", ".join(f"{k} videos {v:.2f} s" for k, v in rewrites.items()))
    print(f"every table the same, byte for byte: {len(reference)} runs")


if __name__ == "__main__":
    main()
