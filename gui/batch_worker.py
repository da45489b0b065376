"""Scoring a batch off the GUI thread: :class:`BatchWorker` runs the core's ``score_batch``.

The worker is a :class:`QThread` that calls :func:`behavior.fst.score_batch` as the
command line does, with each video scored in a worker process (the command line's
``--jobs``; :mod:`behavior_gui.batch_process`), so tracking never holds the window's
GIL. It only passes what the core reports on to the window, as signals; it decides
nothing about scoring. Workers report progress at most every 0.1 s. Each finished
video's traces are read here, in the thread, so the window can re-score them later
without decoding and without reading files on the GUI thread.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PyQt5.QtCore import QThread, pyqtSignal

from behavior.cancel import CancelToken


def preload_scoring() -> threading.Thread:
    """Import the scoring modules (OpenCV, PyAV) in a background thread, ahead of the
    first batch. Their first import holds the interpreter for a tenth of a second or
    more; done by the batch thread at Start, it froze the window for 100-150 ms
    (benchmarks/bench_gui_autoscore.py; 13 ms once they were loaded)."""
    thread = threading.Thread(target=_import_scoring, name="preload-scoring", daemon=True)
    thread.start()
    return thread


def _import_scoring() -> None:
    import behavior.fst.batch  # noqa: F401


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
    """Runs ``score_batch(jobs, protocol, out, traces_dir, submit=..., progress=...,
    cancel=...)``, each video in a worker process (``processes`` of them).

    The thread only waits for the core's batch; the videos are tracked in spawned
    worker processes (:mod:`behavior_gui.batch_process`), so tracking never holds the
    window's GIL. Cancel sets the batch's token (no new video starts, the table and
    run log are written as cancelled) and the workers' shared event (a video being
    tracked stops between two frames).

    Signals
    -------
    planned(seconds)          expected video seconds per job (list, in order)
    step(index, done, time_s) a video being tracked (its index in the jobs) and its
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

    def __init__(self, videos, protocol, out, traces_dir=None, resume: bool = False,
                 processes: int = 1, parent=None):
        super().__init__(parent)
        #: the video files, in order (their jobs are made in the thread: making them
        #: imports the scoring code, which the window should not wait for)
        self.paths = [str(v) for v in videos]
        self.jobs: list = []
        self.protocol = protocol
        self.out = Path(out) if out is not None else None
        self.traces_dir = traces_dir
        self.resume = resume
        self.processes = max(1, min(int(processes), len(self.paths) or 1))
        self.token = CancelToken()
        self._event = None
        self._done = 0
        self._index = {path: i for i, path in enumerate(self.paths)}

    def cancel(self) -> None:
        """Ask the batch to stop (between two frames; finished videos stay)."""
        self.token.cancel()
        if self._event is not None:
            self._event.set()

    def _progress(self, p) -> None:  # called in this thread by score_batch
        if p.result is None:
            return
        from behavior.errors import BehaviorError
        from behavior.fst import read_trace

        self._done = p.done
        paths = list(p.result.traces)
        if not paths and p.result.reused and self._traces_dir() is not None:
            # scored from an earlier run's traces: they are where that run wrote them
            from behavior.fst.batch import own_traces

            job = self.jobs[self._index[p.result.path]]
            paths = [str(x) for x in own_traces(job, self._traces_dir())]
        traces = []
        for path in paths:
            try:
                traces.append(read_trace(path))
            except BehaviorError:
                pass  # the row is shown; inspecting it says the trace is missing
        self.video_done.emit(FinishedVideo(p.result, traces, p.done, p.total))

    def _traces_dir(self) -> Path | None:
        """Where the batch writes the traces (score_batch's default: beside ``out``)."""
        if self.traces_dir is not None:
            return Path(self.traces_dir)
        return self.out.with_name(self.out.stem + "_traces") if self.out else None

    def _read_steps(self, queue, stop: threading.Event) -> None:
        """Progress from the workers (video, time_s), on to the window."""
        import queue as queues

        while not stop.is_set():
            try:
                video, time_s = queue.get(timeout=0.05)
            except queues.Empty:
                continue
            except (OSError, ValueError, EOFError):
                return  # the queue was closed
            self.step.emit(self._index.get(video, 0), self._done, float(time_s))

    def run(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from behavior_gui.batch_process import score_here, start_worker

        from behavior.errors import BehaviorError
        from behavior.fst import make_jobs, score_batch

        self.jobs = make_jobs(self.paths)
        context = multiprocessing.get_context("spawn")  # never fork a threaded process
        queue = context.Queue()
        self._event = context.Event()
        if self.token.cancelled:
            self._event.set()
        pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context,
                                   initializer=start_worker, initargs=(queue, self._event))
        stop = threading.Event()
        reader = threading.Thread(target=self._read_steps, args=(queue, stop), daemon=True)
        reader.start()

        def submit(fn, job, protocol, traces_dir, resume, cancel=None):
            return pool.submit(score_here, job, protocol, traces_dir, resume)

        try:
            self.planned.emit([expected_seconds(j.opened(j.path), self.protocol)
                               for j in self.jobs])
            batch = score_batch(self.jobs, self.protocol, self.out, self.traces_dir,
                                submit=submit, progress=self._progress, cancel=self.token,
                                resume=self.resume, command=["gui", "auto-score"])
        except BehaviorError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # never a traceback in the window
            self.failed.emit(f"scoring stopped: {type(exc).__name__}: {exc}")
            return
        finally:
            if self.token.cancelled:
                self._event.set()
            pool.shutdown(wait=True, cancel_futures=True)
            stop.set()
            reader.join(2)
            queue.close()
        self.batch_done.emit(batch)
