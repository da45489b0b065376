"""Worker processes, and the local pool that keeps every core of this machine busy.

Kept free of heavy imports: the command line starts the workers first, so the
few hundred milliseconds each spends importing NumPy, OpenCV, PyAV and pandas
overlap the parent's own imports instead of following them.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask, e.g. a batch-system
    allocation, rather than every core of the machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _one_thread_worker(preload: str) -> None:
    """Each worker process has one core: OpenCV's own thread pool stays at one."""
    module = importlib.import_module(preload)
    del module
    import cv2

    cv2.setNumThreads(1)


def start_workers(n: int, preload: str) -> ProcessPoolExecutor:
    """``n`` worker processes, started now, each importing module ``preload``.

    Processes are spawned (never forked: the caller may already run threads, and a
    forked copy of a threaded process can deadlock). Each keeps OpenCV to one thread.
    """
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_one_thread_worker, initargs=(preload,))
    for _ in range(n):
        # the executor starts a process per waiting task, up to n: start them all now
        pool.submit(int)
    return pool


class LocalPool:
    """``n`` cores of this machine: a thread of this process plus ``n - 1`` worker
    processes, each taking the next task when it finishes one.

    This process already has everything imported, so its thread starts at once;
    the workers (started by :func:`start_workers`, possibly long before) take the
    rest. :meth:`submit` has the signature of :meth:`Executor.submit`, so a batch
    (:func:`behavior.fst.score_batch`) can use it like any executor. Tasks run in
    this process get their keyword arguments as given (a cancel token works there);
    the others get pickled copies.
    """

    def __init__(self, n: int, preload: str = "behavior.fst.batch",
                 processes: ProcessPoolExecutor | None = None):
        if n < 1:
            raise ValueError(f"a pool needs at least one core, got {n}")
        self.n = n
        self._local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score")
        self._own = processes is None and n > 1
        self._processes = processes if processes is not None else (
            start_workers(n - 1, preload) if n > 1 else None)
        self._free = {"local": 1, "process": n - 1}
        self._queue: deque[tuple[Future, Callable, tuple, dict]] = deque()
        self._lock = threading.Lock()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        outer: Future = Future()
        with self._lock:
            self._queue.append((outer, fn, args, kwargs))
        self._dispatch()
        return outer

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                place = ("local" if self._free["local"] else
                         "process" if self._free["process"] and self._processes else None)
                if place is None:
                    return
                outer, fn, args, kwargs = self._queue.popleft()
                if not outer.set_running_or_notify_cancel():
                    continue  # cancelled while it waited
                self._free[place] -= 1
            executor = self._local if place == "local" else self._processes
            try:
                inner = executor.submit(fn, *args, **kwargs)
            except Exception as exc:  # a broken pool: the task fails, the rest go on
                with self._lock:
                    self._free[place] += 1
                outer.set_exception(exc)
                continue
            inner.add_done_callback(lambda f, o=outer, p=place: self._finished(f, o, p))

    def _finished(self, inner: Future, outer: Future, place: str) -> None:
        with self._lock:
            self._free[place] += 1
        if inner.cancelled():
            outer.cancel()
        elif inner.exception() is not None:
            outer.set_exception(inner.exception())
        else:
            outer.set_result(inner.result())
        self._dispatch()

    def shutdown(self, wait: bool = True, cancel_futures: bool = True) -> None:
        with self._lock:
            waiting = list(self._queue)
            self._queue.clear()
        for outer, *_ in waiting:
            if cancel_futures:
                outer.cancel()
        self._local.shutdown(wait=wait, cancel_futures=cancel_futures)
        if self._own and self._processes is not None:
            self._processes.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
