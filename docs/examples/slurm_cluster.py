"""Score a batch of forced-swim videos on a SLURM cluster.

dask-jobqueue asks SLURM for worker jobs (one Dask worker per core, one thread each);
the Dask scheduler runs in this process, on the login node, and ``behavior fst score
... --scheduler ADDRESS`` sends it one task per video. Everything after ``--`` is
passed to ``behavior fst score``::

    python slurm_cluster.py --jobs 4 --cores 16 --memory 32GB --walltime 02:00:00 \\
        --account mylab -- /shared/fst/2026-11/*.mp4 --out /shared/fst/results.csv

Run it again with ``--resume`` after the words ``--`` if the allocation ended before
the batch did: what was tracked is not decoded again. ``--print-script`` shows the
job script SLURM would get, and submits nothing.

The videos, the results and the traces folder must be on a file system that the
login node and every compute node see at the same path (e.g. /shared or /scratch).
The worker jobs must run the same environment (same version of behavior): set
``--activate`` to the line that loads it.
"""

from __future__ import annotations

import argparse
import sys


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2, help="SLURM jobs (nodes) of workers")
    p.add_argument("--cores", type=int, default=16, help="cores per job: as many workers")
    p.add_argument("--memory", default="32GB", help="memory per job (shared by its workers)")
    p.add_argument("--walltime", default="02:00:00")
    p.add_argument("--queue", help="SLURM partition")
    p.add_argument("--account", help="SLURM account")
    p.add_argument("--activate", default="source ~/venvs/behavior/bin/activate",
                   help="shell line that puts behavior on the PATH in a worker job")
    p.add_argument("--dashboard", default=":8787", help="where the Dask dashboard listens")
    p.add_argument("--host", help="the login node's address the workers reach the "
                                  "scheduler at (default: its name's address)")
    p.add_argument("--print-script", action="store_true",
                   help="print the job script and exit (nothing is submitted)")
    cut = argv.index("--") if "--" in argv else len(argv)
    return p.parse_args(argv[:cut]), argv[cut + 1:]


def main(argv: list[str]) -> int:
    args, score = parse(argv)
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        cores=args.cores,
        processes=args.cores,  # one worker process per core, one thread each
        memory=args.memory,
        walltime=args.walltime,
        queue=args.queue,
        account=args.account,
        job_script_prologue=[args.activate],
        # import the scoring code when a worker starts, and size OpenCV to one thread
        worker_extra_args=["--preload", "behavior.cluster"],
        scheduler_options={"dashboard_address": args.dashboard,
                           **({"host": args.host} if args.host else {})},
    )
    try:
        if args.print_script:
            print(cluster.job_script())
            return 0
        if not score:
            print("nothing to score: give the videos and options after --", file=sys.stderr)
            return 2
        cluster.scale(jobs=args.jobs)
        print(f"dashboard: {cluster.dashboard_link}", file=sys.stderr)
        from behavior.cli import main as behavior

        return behavior(["fst", "score", *score, "--scheduler", cluster.scheduler_address])
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
