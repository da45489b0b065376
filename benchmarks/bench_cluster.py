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
cluster's start-up is paid once per batch, not per video. The three take turns,
``--repeat`` rounds, and each timing is the best of its runs; every run's table must
be the same, byte for byte, or the script stops. Prints

- two workers / one worker (target <= 0.6 with two free cores);
- (one worker - here) / videos: Dask's cost per video (target < 0.3 s), and the
  same within the runs on one worker: their wall time less the tasks' own time;
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


def score(videos: list[Path], out: Path, submit=None, log_extra=None):
    """Score the batch into ``out`` (a fresh folder each time): (wall s, CPU s of this
    process, the tasks' own seconds added up, the table's bytes)."""
    from behavior.fst import load_protocol
    from behavior.fst.batch import make_jobs, score_batch

    protocol = load_protocol("mouse_fst")
    jobs = [job.on_one_core() for job in make_jobs([str(v) for v in videos])]
    t0, c0 = time.perf_counter(), time.process_time()
    batch = score_batch(jobs, protocol, out, submit=submit, log_extra=log_extra)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if batch.exit_status != 0:
        raise SystemExit(f"the batch failed: {[r.error for r in batch.failed]}")
    return seconds, cpu, sum(r.seconds for r in batch.results), out.read_bytes()


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
    runs: dict[str, list[tuple[float, float, float]]] = {"here": [], "dask1": [], "dask2": []}
    tables: set[bytes] = set()
    try:
        clusters = {}
        for n in (1, 2):
            t0 = time.perf_counter()
            local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                 preload=["behavior.cluster"], dashboard_address=":0")
            client = Client(local)
            client.wait_for_workers(n)
            clusters[f"dask{n}"] = Cluster(client, local, "local")
            print(f"Dask LocalCluster of {n} worker{'s' if n > 1 else ''} started in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        # the three set-ups take turns, so that the machine's other load, which comes
        # and goes, falls on each alike; each figure is the best of its runs
        for i in range(args.repeat):
            for tag, runs_of in runs.items():
                out = work / f"{tag}_{i}" / "results.csv"
                out.parent.mkdir(parents=True)
                cluster = clusters.get(tag)
                wall, cpu, tasks, table = score(
                    videos, out, submit=cluster.submit if cluster else None,
                    log_extra=cluster.log_extra() if cluster else None)
                runs_of.append((wall, cpu, tasks))
                tables.add(table)
                print(f"  round {i + 1} {tag}: {wall:.2f} s (CPU here {cpu:.2f} s, the "
                      f"tasks' own {tasks:.2f} s; load {os.getloadavg()[0]:.1f})", flush=True)
                if len(tables) > 1:
                    raise SystemExit(f"{tag}: the table differs from the first run's ({out})")
        for cluster in clusters.values():
            cluster.close()
        # the client's part in a large batch: the table and log rewritten as results come
        cost = work / "cost"
        cost.mkdir()
        from behavior.fst import load_protocol
        from behavior.fst.batch import make_jobs, score_batch

        score_batch(make_jobs([str(videos[0])]), load_protocol("mouse_fst"), None, cost / "t")
        rewrites = {k: rewrite_cost(videos[0], k, cost) for k in (1000, 10000)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = len(videos)
    best = {tag: min(r[0] for r in rs) for tag, rs in runs.items()}
    print(f"\nper video (best of {args.repeat}): here {best['here'] / n:.2f} s; 1 worker "
          f"{best['dask1'] / n:.2f} s; 2 workers {best['dask2'] / n:.2f} s")
    print(f"2 workers / 1 worker: {best['dask2'] / best['dask1']:.2f} (target <= 0.6)")
    print(f"Dask's cost per video, (1 worker - here) / videos: "
          f"{(best['dask1'] - best['here']) / n:+.3f} s (target < 0.3 s)")
    # the same within each run on one worker: its wall time less its tasks' own time
    within = min((wall - tasks) / n for wall, _, tasks in runs["dask1"])
    print(f"Dask's cost per video within a run on 1 worker, (wall - the tasks' own "
          f"seconds) / videos: {within:+.3f} s")
    cpu = min(r[1] for r in runs["here"]) / n
    print(f"CPU per video here (the cost of a video on one core, less sensitive to the "
          f"machine's other load than wall time): {cpu:.2f} s; "
          f"{sum(sizes) / n:.1f} MB per video")
    print("rewriting the results table and run log once, as the client does after each "
          "result (or each group of results that came in together): "
          + ", ".join(f"{k} videos {v:.2f} s" for k, v in rewrites.items()))
    print(f"every table the same, byte for byte: {sum(len(r) for r in runs.values())} runs")


if __name__ == "__main__":
    main()
