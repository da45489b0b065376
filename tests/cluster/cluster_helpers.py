"""Helpers of the cluster tests: videos, and a real Dask scheduler and workers on
loopback started as separate processes.

Every process is started in a session of its own and torn down by its own id (its
process group: a nanny and the worker it spawned) when the test ends, pass or fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from behavior.testing import SyntheticSpec, write_video

#: Seconds to wait for a process of the cluster to come up (CI has 2 busy cores).
STARTUP_S = 120


def make_videos(folder: Path, n: int, duration_s: float = 12, first_seed: int = 1) -> list[Path]:
    """``n`` two-arena videos ``m1.mp4``... (192x144, 15 fps, H.264), seeds from
    ``first_seed``: arena 1 ~30 % immobile, arena 2 ~70 %."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"m{i + 1}.mp4"
        spec = SyntheticSpec(duration_s=duration_s, fps=15, width=192, height=144, n_arenas=2,
                             seed=first_seed + i, immobility_fraction=(0.3, 0.7))
        write_video(spec, path, codec="h264")
        paths.append(path)
    return paths


@dataclass
class DaskProcesses:
    """A scheduler and workers this test started, and how to reach them."""

    scheduler_file: Path
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def client(self):
        import distributed

        return distributed.Client(self.address, timeout="60s")

    def pids(self) -> set[int]:
        return {p.pid for p in self.workers}

    def output(self) -> str:
        """What the processes wrote (for a failing test's message)."""
        if self.logs is None:
            return ""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.logs.glob("*.log")))


def _start(command: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """End a process we started, with the process group it leads (a nanny's worker)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # what is left of the group
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)


def worker_command(scheduler_file: Path, *, nanny: bool = True, nthreads: int = 1) -> list[str]:
    return [sys.executable, "-m", "dask", "worker", "--scheduler-file", str(scheduler_file),
            "--nworkers", "1", "--nthreads", str(nthreads), "--host", "127.0.0.1",
            "--no-dashboard", "--death-timeout", "60", "--memory-limit", "0",
            "--nanny" if nanny else "--no-nanny"]


@contextlib.contextmanager
def dask_processes(folder: Path, n_workers: int = 2, *, nanny: bool = True,
                   wrap: list[str] | None = None, worker_cwd: Path | None = None):
    """Start ``dask scheduler --port 0`` and ``n_workers`` ``dask worker`` processes
    (one thread each) on 127.0.0.1; wait until all workers have joined; stop them all
    at the end. ``wrap`` goes before each worker's command (e.g. ``unshare``);
    workers run in ``worker_cwd`` (default: a folder of their own, not the tests')."""
    pytest.importorskip("distributed")
    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    worker_cwd = worker_cwd or folder / "worker_cwd"
    worker_cwd.mkdir(exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    scheduler = _start([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                        "--port", "0", "--no-dashboard", "--scheduler-file",
                        str(scheduler_file)], logs / "scheduler.log", folder)
    running = DaskProcesses(scheduler_file, "", scheduler, [], logs)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not running.address:
            if scheduler.poll() is not None:
                pytest.fail(f"the scheduler exited ({scheduler.returncode}):\n"
                            + running.output())
            if time.monotonic() > deadline:
                pytest.fail("the scheduler did not start:\n" + running.output())
            with contextlib.suppress(OSError, ValueError, KeyError):
                running.address = json.loads(scheduler_file.read_text())["address"]
            time.sleep(0.1)
        for i in range(n_workers):
            running.workers.append(_start([*(wrap or []), *worker_command(
                scheduler_file, nanny=nanny)], logs / f"worker{i}.log", worker_cwd))
        with running.client() as client:
            try:
                client.wait_for_workers(n_workers, timeout=STARTUP_S)
            except TimeoutError:
                pytest.fail("the workers did not join:\n" + running.output())
        yield running
    finally:
        for process in [*running.workers, scheduler]:
            _stop(process)


@contextlib.contextmanager
def working_directory(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)


def score_cli(args: list[str], cwd: Path) -> int:
    """``behavior fst score ARGS`` in this process, run from ``cwd``."""
    from behavior.cli import main

    with working_directory(cwd):
        return main(["fst", "score", *args])


#: The options of every scoring run here: the videos are 12 s long.
OPTIONS = ["--window-s", "0", "12", "--no-progress"]


def same_files(a: Path, b: Path) -> None:
    """Two traces folders hold the same files, byte for byte."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
