"""What a worker process of the Auto-score page runs (no Qt here: imported in the worker).

The page scores videos in worker processes, not in a thread of the window's process:
tracking holds Python's GIL for long stretches (seconds, measured by
``benchmarks/bench_gui_autoscore.py``), which would freeze the window. The batch
itself is still the core's ``score_batch``; its ``submit`` sends each video here,
where :func:`score_here` calls the core's ``score_video`` with two things a
``CancelToken`` cannot carry across processes: per-frame progress (put on a queue
the window reads) and cancelling (a ``CancelToken`` over a shared event the window
sets, checked between two frames).
"""

from __future__ import annotations

import time

from behavior.cancel import CancelToken

#: how often a worker reports progress (s)
REPORT_EVERY_S = 0.1

_queue = None
_event = None


def start_worker(queue, event) -> None:
    """The pool's initializer: keep the window's queue and event; one OpenCV thread
    (each worker process scores one video on one core)."""
    global _queue, _event
    _queue, _event = queue, event
    import cv2

    import behavior.fst.batch  # noqa: F401  (imported now, while the window sets up)

    cv2.setNumThreads(1)


def score_here(job, protocol, traces_dir=None, resume=False, cancel=None):
    """The core's ``score_video`` for one job, reporting progress to the window and
    stopping when the window cancels (``cancel``, the batch's own token, is a fresh
    copy here and is not used)."""
    from behavior.fst.batch import score_video

    last = [0.0]

    def progress(time_s: float) -> None:
        now = time.monotonic()
        if _queue is not None and now - last[0] >= REPORT_EVERY_S:
            last[0] = now
            _queue.put((job.path, float(time_s)))

    token = CancelToken(_event) if _event is not None else None
    return score_video(job, protocol, traces_dir, resume, progress=progress, cancel=token)
