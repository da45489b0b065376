"""Scoring a batch on a Dask cluster: one task per video, the results written here.

:func:`connect` opens a cluster (a running scheduler's address, a scheduler file, or
``"local"`` for a :class:`distributed.LocalCluster` of this machine) and gives a
:class:`Cluster` whose :meth:`Cluster.submit` is what
:func:`behavior.fst.batch.score_batch` takes as ``submit``::

    with connect("tcp://10.0.0.5:8786") as cluster:
        batch = score_batch(jobs, protocol, "results.csv", submit=cluster.submit,
                            log_extra=cluster.log_extra())

Nothing changes in how a video is scored: each task is
:func:`behavior.fst.batch.score_video` on a worker, fitted to the cores the worker
has (:func:`run_on_worker`). The client (the process that calls ``score_batch``)
writes the results table and the run log as tasks finish; the workers read the
videos and write the traces, so they must see the same files at the same paths (a
shared file system). A relative path is read from the folder the batch was sent
from (``VideoJob.folder``) and still shown as given, so the table and the traces are
the same as those of a run on one machine.

A worker that dies while scoring is replaced by Dask: its task runs again on another
worker (up to ``distributed.scheduler.allowed-failures`` times, default 3), and the
batch takes each video's result once. Dask is imported only here, and only when a
cluster is asked for.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from behavior import __version__
from behavior.errors import BehaviorError

#: What to install for a cluster, said in every message about a missing Dask.
INSTALL_HINT = ('pip install "behavior[cluster]" (in a source checkout: '
                'pip install ".[cluster]")')

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 20


def require_distributed():
    """Import :mod:`distributed`, or raise :class:`BehaviorError` saying what to install."""
    try:
        import distributed
    except ImportError as exc:
        raise BehaviorError(f"scoring on a Dask cluster needs the 'distributed' package "
                            f"({exc}); install it with {INSTALL_HINT}") from None
    return distributed


class Cluster:
    """A Dask client and, for ``"local"``, the cluster it started.

    Use :func:`connect` to make one. ``submit`` sends one video's scoring to the
    cluster; ``log_extra()`` is what the run log records about the cluster.
    """

    def __init__(self, client, local=None, asked: str = ""):
        self.client = client
        self.local = local
        self.asked = asked
        self._batch = uuid.uuid4().hex[:12]
        self._count = 0

    @property
    def scheduler(self) -> str:
        """The scheduler's address."""
        return str(self.client.scheduler.address)

    @property
    def dashboard(self) -> str | None:
        """The Dask dashboard's URL (task stream, progress, each worker's load)."""
        try:
            return self.client.dashboard_link
        except (KeyError, AttributeError):
            return None

    def workers(self) -> dict[str, int]:
        """The workers now connected: address -> threads."""
        info = self.client.scheduler_info(n_workers=-1)
        return {addr: int(w.get("nthreads", 1)) for addr, w in info["workers"].items()}

    def log_extra(self) -> dict[str, Any]:
        """For the run log: the scheduler, the dashboard and the workers at the start
        (``scored_by`` in the log says which worker scored each video)."""
        workers = self.workers()
        return {"scheduler": self.scheduler if self.local is None
                else f"local ({self.scheduler})",
                "dashboard": self.dashboard,
                "client": socket.gethostname(),
                "workers_at_start": len(workers),
                "worker_threads_at_start": sum(workers.values())}

    def submit(self, fn: Callable, job, protocol, traces_dir: str | None, resume: bool,
               **kwargs: Any):
        """Send ``fn(job, protocol, traces_dir, resume, **kwargs)`` (a video's
        :func:`~behavior.fst.batch.score_video`) to the cluster as one task; returns
        its Dask future.

        Relative paths are made to point where this process sees them (the job's
        ``folder``, an absolute traces folder); a cancel token is not sent (a copy
        on a worker could never be set: the batch cancels the future instead).
        """
        kwargs.pop("cancel", None)
        here = os.getcwd()
        if not Path(job.path).is_absolute() or (job.background
                                                and not Path(job.background).is_absolute()):
            job = dataclasses.replace(job, folder=job.folder or here)
        traces = os.path.abspath(traces_dir) if traces_dir else None
        self._count += 1
        # one task group "score_video" on the dashboard, one key per video of this batch
        key = (f"score_video-{self._batch}", self._count)
        return self.client.submit(run_on_worker, fn, job, protocol, traces, resume,
                                  __version__, key=key, pure=False, **kwargs)

    def close(self) -> None:
        """Close the client, and the local cluster if this started one."""
        try:
            self.client.close()
        finally:
            if self.local is not None:
                self.local.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(address: str, n_workers: int = 1, *,
            timeout_s: float = CONNECT_TIMEOUT_S) -> Cluster:
    """Connect to a Dask scheduler, or start one on this machine.

    Parameters
    ----------
    address
        ``"local"``: a :class:`distributed.LocalCluster` of ``n_workers`` processes
        with one thread each; a scheduler's address (``tcp://host:8786``, or
        ``host:8786``); or a scheduler file (``dask scheduler --scheduler-file``)
        on a shared file system.
    n_workers
        Worker processes for ``"local"``.
    timeout_s
        How long to wait for the scheduler to answer.

    Raises
    ------
    BehaviorError
        When Dask's ``distributed`` is not installed (saying what to install), or the
        scheduler cannot be reached (naming the address).
    """
    distributed = require_distributed()
    if address == "local":
        # processes, one thread each: a video's decoding and tracking hold the GIL
        # in places, and one process per core keeps OpenCV's pools from overlapping
        local = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                         processes=True, preload=["behavior.cluster"])
        return Cluster(distributed.Client(local), local, address)
    options: dict[str, Any]
    if address.endswith(".json"):
        if not Path(address).is_file():
            raise BehaviorError(f"{address}: scheduler file not found (written by "
                                f"'dask scheduler --scheduler-file {address}')")
        options = {"scheduler_file": address}
    else:
        options = {"address": address}
    try:
        client = distributed.Client(**options, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BehaviorError(f"cannot reach the Dask scheduler at {address}: {exc}; start "
                            f"one with 'dask scheduler' and give its address "
                            f"(tcp://HOST:PORT)") from None
    return Cluster(client, None, address)


# --------------------------------------------------------------------------- on a worker


def dask_setup(worker) -> None:
    """Run by a worker started with ``--preload behavior.cluster``: import the scoring
    code before the first task comes (the first video does not wait for it) and
    size OpenCV's thread pool to the worker's threads. Tasks do the same themselves,
    so a worker started without it is right too, only slower to start."""
    import cv2

    import behavior.fst.batch  # noqa: F401  # imported now, not by the first task

    state = getattr(worker, "state", worker)
    cv2.setNumThreads(max(1, int(getattr(state, "nthreads", 1))))


def worker_threads() -> int:
    """Threads the Dask worker running this code has (1 outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return 1
    state = getattr(worker, "state", worker)  # WorkerState since distributed 2022.8
    return max(1, int(getattr(state, "nthreads", 1)))


def run_on_worker(fn: Callable, job, protocol, traces_dir, resume, version: str,
                  **kwargs: Any):
    """A video's task on a worker: check that the worker runs the same version of
    behavior as the client, score it on one core, and say in an error which worker
    failed and, for a file it cannot see, where it looked.

    Dask runs one task per thread of a worker at a time, so a task has one core:
    decoding and tracking take turns in one thread with one decoder thread
    (:meth:`~behavior.fst.batch.VideoJob.on_one_core`). OpenCV's thread pool belongs
    to the process and is shared by its tasks, so it is sized to the worker's
    threads, never more.
    """
    from behavior import notices
    from behavior.fst.batch import VideoResult, worker_name

    if version != __version__:
        name = worker_name()
        return VideoResult(job.path, worker=name, error=notices.error(
            "VersionMismatch", f"worker {name} runs behavior {__version__}, the batch was "
            f"sent by behavior {version}: install the same version on every worker",
            video=job.path, worker=name))
    threads = worker_threads()
    import cv2

    if cv2.getNumThreads() != threads:
        cv2.setNumThreads(threads)
    result = fn(job.on_one_core(), protocol, traces_dir, resume, **kwargs)
    if result.error is not None:
        result.error = _with_worker(result.error, job, result.worker)
    return result


def _with_worker(error, job, worker: str):
    """The error with the worker in its data; when the worker cannot see the video
    (or the traces folder), a message that says so, with the path it tried."""
    data = {**error.data, "worker": worker}
    source = job.opened(job.path)
    if not os.path.exists(source):
        message = (f"not found on worker {worker} (host {socket.gethostname()}), which "
                   f"looked for it at {os.path.abspath(source)}: the workers must see the "
                   f"videos at the same path as the computer that sent the batch (a shared "
                   f"file system)")
        return dataclasses.replace(error, message=message, data=data)
    if not os.access(source, os.R_OK):
        message = (f"worker {worker} (host {socket.gethostname()}) may not read "
                   f"{os.path.abspath(source)}: {error.message}")
        return dataclasses.replace(error, message=message, data=data)
    return dataclasses.replace(error, data=data)
