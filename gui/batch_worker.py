"""Scoring a batch off the GUI thread: :class:`BatchWorker` runs the core's ``score_batch``.

The worker is a :class:`QThread` that calls :func:`behavior.fst.score_batch` exactly as
the command line does (one video after the other in this process, so there is
per-frame progress and Cancel stops between two frames). It only passes what the core
reports on to the window, as signals; it decides nothing about scoring.

Progress is sent at most every :data:`PROGRESS_EVERY_S` so a fast decoder cannot flood
the event loop. Each finished video's traces are read here, in the worker, so the
window can re-score them later without decoding and without reading files on the
GUI thread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from PyQt5.QtCore import QThread, pyqtSignal

from behavior.cancel import CancelToken

#: how often progress is sent to the window (s)
PROGRESS_EVERY_S = 0.1


@dataclass
class FinishedVideo:
    """A finished video as the window gets it: the core's result and its traces."""

    result: object  # behavior.fst.VideoResult
    traces: list = field(default_factory=list)  # [behavior.fst.Trace], arena 1 first
    done: int = 0
    total: int = 0


def expected_seconds(path: str, protocol) -> float:
    """How much video time tracking a video should take: the protocol's duration, or
    the video's when shorter (from its header; the duration when it cannot be read)."""
    from behavior.errors import BehaviorError
    from behavior.io.video import probe

    try:
        d = probe(path).duration_s
    except BehaviorError:
        return float(protocol.duration_s)
    return float(min(protocol.duration_s, d)) if math.isfinite(d) and d > 0 else \
        float(protocol.duration_s)


class BatchWorker(QThread):
    """Runs ``score_batch(jobs, protocol, out, traces_dir, progress=..., cancel=...)``.

    Signals
    -------
    planned(seconds)          expected video seconds per job (list, in order)
    step(index, done, time_s) the video being tracked (its index in the jobs) and its
                              frames' time so far (s)
    video_done(FinishedVideo) a video finished (scored, failed, or from earlier traces)
    batch_done(BatchResult)   the batch returned (finished or cancelled)
    failed(message)           the batch could not start (e.g. a folder not writable)
    """

    planned = pyqtSignal(object)
    step = pyqtSignal(int, int, float)
    video_done = pyqtSignal(object)
    batch_done = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, jobs, protocol, out, traces_dir=None, resume: bool = False,
                 parent=None):
        super().__init__(parent)
        self.jobs = list(jobs)
        self.protocol = protocol
        self.out = Path(out) if out is not None else None
        self.traces_dir = traces_dir
        self.resume = resume
        self.token = CancelToken()
        self._last = 0.0
        self._index = {job.path: i for i, job in enumerate(self.jobs)}

    def cancel(self) -> None:
        """Ask the batch to stop (between two frames; finished videos stay)."""
        self.token.cancel()

    def _progress(self, p) -> None:  # called in this thread by score_batch
        if p.result is not None:
            from behavior.errors import BehaviorError
            from behavior.fst import read_trace

            traces = []
            for path in p.result.traces:
                try:
                    traces.append(read_trace(path))
                except BehaviorError:
                    pass  # the row is shown; inspecting it says the trace is missing
            self.video_done.emit(FinishedVideo(p.result, traces, p.done, p.total))
            return
        now = time.monotonic()
        if p.time_s is not None and now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.step.emit(self._index.get(p.video, p.done), p.done, float(p.time_s))

    def run(self) -> None:
        from behavior.errors import BehaviorError
        from behavior.fst import score_batch

        self.planned.emit([expected_seconds(j.opened(j.path), self.protocol)
                           for j in self.jobs])
        try:
            batch = score_batch(self.jobs, self.protocol, self.out, self.traces_dir,
                                progress=self._progress, cancel=self.token,
                                resume=self.resume, command=["gui", "auto-score"])
        except BehaviorError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # never a traceback in the window
            self.failed.emit(f"scoring stopped: {type(exc).__name__}: {exc}")
            return
        self.batch_done.emit(batch)
