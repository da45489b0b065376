"""Worker processes that start while the caller is still getting ready.

Kept free of heavy imports: the command line starts the workers first, so the
few hundred milliseconds each spends importing NumPy, OpenCV, PyAV and pandas
overlap the parent's own imports instead of following them.
"""

from __future__ import annotations

import importlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def start_workers(n: int, preload: str) -> ProcessPoolExecutor:
    """``n`` worker processes, started now, each importing module ``preload``.

    Processes are spawned (never forked: the caller may already run threads, and a
    forked copy of a threaded process can deadlock).
    """
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=importlib.import_module, initargs=(preload,))
    for _ in range(n):
        # the executor starts a process per waiting task, up to n: start them all now
        pool.submit(int)
    return pool
