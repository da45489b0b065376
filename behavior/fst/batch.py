"""Scoring a batch of videos: :func:`score_batch`, the one entry point of every front end.

The command line, the desktop GUI and a Dask cluster all call :func:`score_batch`;
none of them carries scoring logic of its own. For each video it resolves the
settings (the job's, else the video's sidecar ``<video>.arenas.yaml``), re-uses
the traces of an earlier run when asked to and when they were made from the same
file with the same tracking settings (:func:`tracking_key`), else prepares and
tracks the video, writes its traces, and scores them. After every finished video
the results table is rewritten (atomically), so an interrupted batch keeps what
was scored; a run log beside it records how the table was made.

Where the videos are scored is the caller's choice (``submit``): here, one after
the other; a :class:`concurrent.futures.Executor`'s ``submit``; the local pool of
:class:`behavior.parallel.LocalPool`; or a Dask ``Client.submit``. The numbers do
not depend on it. A failure of one video is reported in its result and the rest go
on; cancelling (a :class:`~behavior.cancel.CancelToken`) stops between videos, and
between frames of a video scored in this process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import queue
import shlex
import socket
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from behavior import __version__, notices
from behavior.cancel import CancelToken
from behavior.errors import BehaviorError, Cancelled
from behavior.fst.arenas import number_arenas, read_sidecar
from behavior.fst.scoring import (
    AnimalResult,
    coverage_notice,
    rows_to_table,
    score_trace,
    score_traces,
)
from behavior.fst.settings import DEFAULT_SETTINGS, TrackingSettings
from behavior.fst.setup import prepare
from behavior.fst.traces import TRACE_SUFFIX, Trace, read_trace, write_trace
from behavior.fst.tracking import TRACKING_REVISION, _track
from behavior.io.atomic import prepare_folder, write_text
from behavior.io.names import unique_stems
from behavior.io.video import VideoReader
from behavior.notices import Notice
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]


@dataclass
class VideoJob:
    """What to score in one video (what is not given comes from its sidecar file).

    Attributes
    ----------
    path
        The video file, as the user gave it (also what the results table shows).
    arenas
        Arena rectangles ``(x, y, w, h)``; else the sidecar's; else found.
    n_arenas
        How many arenas to find when they are not given; else counted.
    start_s, end_s
        Where the test starts and (when before the protocol's duration) ended, in
        seconds of the video: one time, or one per arena left to right.
    background
        Image of the empty apparatus; else the sidecar's; else the median of frames.
    name
        Start of the trace files' names (default: the video's stem; a batch gives
        videos with the same stem longer ones, :func:`~behavior.io.names.unique_stems`).
    settings
        How tracking works (:class:`~behavior.fst.settings.TrackingSettings`).
    decoder_threads
        Decoder threads (0: FFmpeg's choice; 1 keeps decoding on one core).
    pipelined
        Decode in a thread of its own while tracking (two cores for one video).
    """

    path: str
    arenas: list[Rect] | None = None
    n_arenas: int | None = None
    start_s: float | tuple[float, ...] | None = None
    end_s: float | tuple[float, ...] | None = None
    background: str | None = None
    name: str | None = None
    settings: TrackingSettings = DEFAULT_SETTINGS
    decoder_threads: int = 1
    pipelined: bool = True
    #: the folder a relative ``path`` and ``background`` are opened from, when not the
    #: working directory of the process that scores it (a cluster's worker runs in
    #: another); the results and traces still name ``path`` as given
    folder: str | None = None

    def on_one_core(self) -> VideoJob:
        """The job done on one core: decoding and tracking take turns in one thread."""
        return dataclasses.replace(self, decoder_threads=1, pipelined=False)

    def opened(self, file: str) -> str:
        """Where ``file`` (``path`` or ``background``) is opened: in ``folder`` when
        it is relative and a folder is given."""
        return os.path.join(self.folder, file) if self.folder else file


@dataclass
class VideoResult:
    """What scoring one video gave: its animals' results, or why there are none.

    ``error`` is set when the video could not be scored (the exception itself, its
    type and fields intact, is ``exception``); ``cancelled`` when cancelling stopped
    it; ``reused`` when it was scored from the traces of an earlier run.
    """

    path: str
    animals: list[AnimalResult] = field(default_factory=list)
    #: what the user should know about the video and its arenas (also those of the
    #: animals, each once)
    notices: list[Notice] = field(default_factory=list)
    error: Notice | None = None
    exception: BaseException | None = None
    reused: bool = False
    cancelled: bool = False
    #: where it was scored (host:pid, or a Dask worker's address)
    worker: str = ""
    seconds: float = 0.0
    traces: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled

    def rows(self) -> list[dict[str, object]]:
        """Its rows of the results table: one per animal, or one saying why not scored."""
        if self.error is not None:
            return [{"video": self.path, "note": "not scored",
                     "warnings": f"not scored: {self.error.message}"}]
        return [a.row() for a in self.animals]


# --------------------------------------------------------------------------- the key


def fingerprint(path: str | os.PathLike[str], chunk: int = 1 << 20) -> list[object]:
    """What identifies a file wherever it is mounted: its name, its size and a digest
    of its first and last MiB (not its folder, nor its modification time, which a
    copy to another machine changes)."""
    p = Path(path)
    size = p.stat().st_size
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        digest.update(fh.read(chunk))
        if size > chunk:
            fh.seek(max(chunk, size - chunk))
            digest.update(fh.read(chunk))
    return [p.name, size, digest.hexdigest()[:20]]


#: Protocol keys that change how a trace is scored but not the trace itself.
SCORING_KEYS = frozenset({"name", "species", "window_s", "bin_s", "threshold", "min_bout_s",
                          "brief_movement_s", "smoothing_s", "climb_height", "points"})


def tracking_key(path: str, protocol: FstProtocol, rects, n_arenas: int | None, start_s,
                 background: str | None, end_s=None,
                 settings: TrackingSettings = DEFAULT_SETTINGS) -> str:
    """Digest of everything a video's traces depend on: the file (name, size and a
    content fingerprint, :func:`fingerprint`), the protocol's tracking keys (not
    :data:`SCORING_KEYS`), the arenas asked for (rectangles or a number), the start
    and end, the background image (the same way), the tracking settings, this
    software's version and the tracking's revision (:data:`TRACKING_REVISION`).
    Kept in each trace's header as ``tracking_key``; ``resume`` re-uses traces only
    when it is the same. It does not depend on the folder the data are mounted in,
    so a batch resumed on another machine of a cluster finds its traces."""

    def stamp(file: str | None) -> list[object] | None:
        if not file or not Path(file).is_file():
            return [Path(file).name if file else None]  # a missing file is reported later
        return fingerprint(file)

    protocol_keys = {k: v for k, v in protocol.to_dict().items() if k not in SCORING_KEYS}
    record = {"video": stamp(path), "protocol": protocol_keys,
              "arenas": [list(r) for r in rects] if rects else None, "n_arenas": n_arenas,
              "start_s": list(start_s) if isinstance(start_s, (list, tuple)) else start_s,
              "end_s": list(end_s) if isinstance(end_s, (list, tuple)) else end_s,
              "background": stamp(background), "settings": settings.to_dict(),
              "version": __version__, "tracking": TRACKING_REVISION}
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def own_traces(job: VideoJob, traces_dir: str | Path) -> list[Path]:
    """The trace files in ``traces_dir`` named for this video,
    ``<name>_arena<N>.trace.csv`` (not another video's whose name merely starts the
    same, e.g. ``m1_arena1_arena1.trace.csv`` of a split arena video)."""
    stem = job.name or Path(job.path).stem
    head, tail = f"{stem}_arena", TRACE_SUFFIX
    return sorted(p for p in Path(traces_dir).glob(f"{glob_escape(head)}*{tail}")
                  if p.name[len(head):-len(tail)].isdigit())


def _earlier_traces(job: VideoJob, traces_dir: str | Path, key: str) -> list[Trace] | None:
    """The traces of this video from an earlier run with the same :func:`tracking_key`
    (arenas 1..N, all of them), or None."""
    try:
        traces = sorted((read_trace(p) for p in own_traces(job, traces_dir)),
                        key=lambda t: t.arena)
    except BehaviorError:
        return None
    complete = [t.arena for t in traces] == list(range(1, len(traces) + 1))
    if not traces or not complete or any(t.meta.get("tracking_key") != key for t in traces):
        return None
    for t in traces:  # the video as this batch names it (it may be mounted elsewhere)
        t.video = job.path
        t.notices = [dataclasses.replace(n, video=job.path) for n in t.notices]
    return traces


# --------------------------------------------------------------------------- one video


def worker_name() -> str:
    """Where this code runs: a Dask worker's address, else ``host:pid``."""
    # a Dask worker has imported distributed already; importing it here would cost
    # every video scored without Dask a second
    distributed = sys.modules.get("distributed")
    try:
        return str(distributed.get_worker().address)
    except (ValueError, AttributeError):  # not in a Dask worker (or no Dask at all)
        return f"{socket.gethostname()}:{os.getpid()}"


def score_video(
    job: VideoJob,
    protocol: FstProtocol,
    traces_dir: str | None = None,
    resume: bool = False,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    helper: Executor | None = None,
) -> VideoResult:
    """Score one video; every failure is returned in the result, never raised.

    This is the task a batch sends wherever it scores videos (it pickles with its
    arguments). ``progress`` is called with each tracked frame's time; ``cancel``
    stops it between frames (the result is then marked cancelled); ``helper``
    tracks the second half of a long test (see :func:`behavior.fst.tracking.track`).
    """
    began = time.perf_counter()
    result = VideoResult(job.path, worker=worker_name())
    try:
        _score_video(job, protocol, traces_dir, resume, progress, cancel, helper, result)
    except Cancelled:
        result.cancelled = True
        result.animals = []
    except BehaviorError as exc:
        result.error = Notice.from_exception(exc, job.path)
        result.exception = exc
    except Exception as exc:  # a batch must survive any one bad file
        log.debug("unexpected error", exc_info=True)
        result.error = notices.error(type(exc).__name__, f"unexpected error: "
                                     f"{type(exc).__name__}: {exc}", video=job.path)
        result.exception = exc
    result.seconds = time.perf_counter() - began
    return result


def _score_video(job, protocol, traces_dir, resume, progress, cancel, helper, result) -> None:
    source = job.opened(job.path)
    side = read_sidecar(source)
    rects = job.arenas or side.rects
    start_s = job.start_s if job.start_s is not None else (side.start_s or 0.0)
    end_s = job.end_s if job.end_s is not None else side.end_s
    background = (job.opened(job.background) if job.background else
                  str(side.background) if side.background else None)
    key = (tracking_key(source, protocol, rects, job.n_arenas, start_s, background, end_s,
                        job.settings) if Path(source).is_file() else "")
    earlier = (_earlier_traces(job, traces_dir, key)
               if resume and key and traces_dir else None)
    if earlier is not None:
        result.reused = True
        _score_traces(earlier, protocol, result)
        return
    if cancel is not None:
        cancel.check()
    with VideoReader(source, threads=job.decoder_threads) as video:
        setup = prepare(video, protocol, arenas=number_arenas(list(rects)) if rects else None,
                        n_arenas=job.n_arenas, start_s=start_s, end_s=end_s,
                        background=background, settings=job.settings, sidecar=False)
        tracked = _track(setup, video, progress, cancel, helper, job.pipelined)
    for trace in tracked.traces:
        trace.video = job.path
        trace.meta["tracking_key"] = key
        if source != job.path:  # the video as the batch names it, not where it was opened
            trace.notices = [dataclasses.replace(n, video=job.path) if n.video == source
                             else n for n in trace.notices]
    if traces_dir:
        written = [write_trace(t, traces_dir, stem=job.name) for t in tracked.traces]
        for stale in set(own_traces(job, traces_dir)) - set(written):
            stale.unlink(missing_ok=True)  # arenas an earlier run had and this one has not
        result.traces = [str(p) for p in written]
    # tracking set each trace's peer still level with this protocol already
    _score_traces(tracked.traces, protocol, result, peers_set=True)
    if not tracked.traces:
        coverage = coverage_notice(0.0, protocol)
        result.notices.extend([coverage.at(job.path)] if coverage else [])


def _score_traces(traces: list[Trace], protocol: FstProtocol, result: VideoResult,
                  peers_set: bool = False) -> None:
    result.animals = ([score_trace(t, protocol) for t in traces] if peers_set
                      else score_traces(traces, protocol))
    seen: list[Notice] = []
    for animal in result.animals:
        for n in animal.notices:
            if n not in seen:
                seen.append(n)
    result.notices = seen


# --------------------------------------------------------------------------- a batch


@dataclass(frozen=True)
class BatchProgress:
    """One step of a batch, for a progress bar or a GUI.

    ``time_s`` is set while a video is tracked in this process (its frames' time);
    ``result`` when a video is finished.
    """

    video: str
    done: int
    total: int
    time_s: float | None = None
    result: VideoResult | None = None


@dataclass
class BatchResult:
    """A finished (or cancelled) batch: one result per job that finished, in order."""

    results: list[VideoResult]
    out: Path | None
    log: Path | None
    traces_dir: Path | None
    cancelled: bool = False
    #: jobs not finished (cancelled before or while they ran)
    unfinished: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[VideoResult]:
        return [r for r in self.results if r.error is not None]

    @property
    def notices(self) -> list[Notice]:
        return [n for r in self.results for n in r.notices]

    @property
    def n_animals(self) -> int:
        """How many animals were scored."""
        return sum(len(r.animals) for r in self.results)

    @property
    def n_warned(self) -> int:
        """How many of the animals' rows have warnings (what to check before trusting
        them)."""
        return sum(bool(a.row()["warnings"]) for r in self.results for a in r.animals)

    @property
    def exit_status(self) -> int:
        """0 when every video was scored without an error notice, else 1."""
        bad = self.failed or self.cancelled or any(
            n.severity == notices.ERROR for n in self.notices)
        return 1 if bad else 0

    def table(self, protocol: FstProtocol):
        """The results table of the finished videos, in the batch's order."""
        return rows_to_table([row for r in self.results for row in r.rows()], protocol)


def make_jobs(videos: Sequence[str | os.PathLike[str]], **common: Any) -> list[VideoJob]:
    """One :class:`VideoJob` per video, with names unique in the batch (two videos
    with the same stem get longer ones) and ``common`` settings for all."""
    paths = [str(v) for v in videos]
    return [VideoJob(path, name=name, **common)
            for path, name in zip(paths, unique_stems(paths), strict=True)]


def score_batch(
    jobs: Sequence[VideoJob | str | os.PathLike[str]],
    protocol: FstProtocol,
    out: str | os.PathLike[str] | None = None,
    traces_dir: str | os.PathLike[str] | None = None,
    *,
    submit: Callable[..., Future] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: CancelToken | None = None,
    resume: bool = False,
    helper: Executor | None = None,
    command: Sequence[str] | None = None,
    log_extra: dict[str, Any] | None = None,
) -> BatchResult:
    """Score a batch of videos and write the results table, the traces and a run log.

    Parameters
    ----------
    jobs
        :class:`VideoJob` s, or video files (made into jobs by :func:`make_jobs`).
    protocol
        What is scored.
    out
        The results table (``.csv``, or ``.xlsx`` for Excel), rewritten after every
        finished video; ``<out>.log`` beside it is the run log. None: nothing
        written but the traces.
    traces_dir
        Folder for the per-frame traces (default: ``<out>_traces`` beside ``out``).
    submit
        Where each video is scored: ``None`` here, one after the other (with
        per-frame progress and cancelling); else a callable like
        :meth:`concurrent.futures.Executor.submit` or a Dask ``Client.submit``,
        called as ``submit(score_video, job, protocol, traces_dir, resume,
        cancel=token)`` for each video.
    progress
        Called with a :class:`BatchProgress` as frames are tracked (here) and as
        videos finish.
    cancel
        Set it to stop: no new video is started, a video scored here stops between
        two frames, and the batch returns with what finished (each finished video
        is already in the table). Videos running elsewhere are abandoned.
    resume
        Score from the traces already in ``traces_dir`` where they were made from
        the same file with the same tracking settings (:func:`tracking_key`).
    helper
        With ``submit=None``: where the second half of a long test is tracked
        (a process pool gives one video two cores).
    command
        The command line, for the run log.
    log_extra
        More entries for the run log (e.g. the cluster's scheduler).

    Returns
    -------
    BatchResult

    Raises
    ------
    FileSystemError
        Before any video is decoded, when the results or traces folder cannot be
        written.
    """
    if all(isinstance(j, VideoJob) for j in jobs):
        batch = list(jobs)
    elif not any(isinstance(j, VideoJob) for j in jobs):
        batch = make_jobs(jobs)
    else:
        raise TypeError("jobs must be all VideoJob or all video files")
    run = _Run(batch, protocol, out, traces_dir, progress, cancel or CancelToken(), command,
               log_extra)
    run.begin()
    try:
        if submit is None:
            run.here(resume, helper)
        else:
            run.elsewhere(submit, resume)
    finally:
        run.end()
    return run.outcome()


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_run_log(out: Path, protocol: FstProtocol, state: str, started: str,
                  finished: str | None, command: Sequence[str] | None,
                  counts: dict[str, int], errors: Sequence[Notice],
                  found: Sequence[Notice], extra: dict[str, Any] | None = None) -> Path:
    """``<out>.log`` beside a results table (YAML): the command, the version, the state
    (``running``, ``finished``, ``cancelled``, ``interrupted``), the whole protocol as
    used, and every error and notice, one per entry, so a results file can always be
    traced to how it was made. Written atomically; a batch writes it at its start,
    after every video and at its end."""
    import yaml

    record = {
        "command": " ".join(shlex.quote(a) for a in ["behavior", *command])
        if command is not None else None,
        "behavior_version": __version__,
        "state": state,
        "started": started,
        "finished": finished,
        "results": str(out),
        **counts,
        **(extra or {}),
        "protocol": {"source": str(protocol.source or protocol.name), **protocol.to_dict()},
        "errors": [e.to_dict() for e in errors],
        "notices": [n.to_dict() for n in found],
    }
    path = Path(out).with_suffix(".log")
    # libyaml's dumper writes the same text several times faster (a cluster's batch of
    # thousands of videos rewrites a log of thousands of notices after each video)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    write_text(path, f"# behavior: how {Path(out).name} was made\n"
               + yaml.dump(record, Dumper=dumper, sort_keys=False, allow_unicode=True,
                           width=100))
    return path


class _Run:
    """One batch as it runs: its jobs, what has finished, and the files it writes."""

    def __init__(self, jobs, protocol, out, traces_dir, progress, cancel, command, extra):
        self.jobs: list[VideoJob] = jobs
        self.protocol = protocol
        self.out = Path(out) if out is not None else None
        if traces_dir is None and self.out is not None:
            traces_dir = self.out.with_name(self.out.stem + "_traces")
        self.traces_dir = Path(traces_dir) if traces_dir is not None else None
        self.progress = progress
        self.cancel = cancel
        self.command = list(command) if command is not None else None
        self.extra = dict(extra or {})
        self.results: dict[int, VideoResult] = {}
        self.started = now_utc()
        self.finished: str | None = None
        self.interrupted = False

    # -- files ----------------------------------------------------------------------
    def begin(self) -> None:
        """Check that every output folder can be written (before any decoding) and write
        the run log's first version."""
        for folder in (self.out.parent if self.out else None, self.traces_dir):
            if folder is not None:
                prepare_folder(folder)
        self._save()

    @property
    def log_path(self) -> Path | None:
        return self.out.with_suffix(".log") if self.out is not None else None

    def _save(self) -> None:
        if self.out is None:
            return
        from behavior.fst.scoring import write_table

        done = [self.results[i] for i in sorted(self.results)]
        write_table(rows_to_table([row for r in done for row in r.rows()], self.protocol),
                    self.out)
        self._write_log(done)

    def _write_log(self, done: list[VideoResult]) -> None:
        state = ("cancelled" if self.cancel.cancelled else "interrupted" if self.interrupted
                 else "finished" if self.finished else "running")
        counts = {"videos": len(self.jobs),
                  "videos_scored": sum(r.ok for r in done),
                  "videos_from_earlier_traces": sum(r.reused for r in done),
                  "videos_failed": sum(r.error is not None for r in done)}
        extra = {**self.extra,
                 "traces": str(self.traces_dir) if self.traces_dir else None,
                 "tracking_settings": self.jobs[0].settings.to_dict() if self.jobs else None,
                 "scored_by": {r.path: r.worker for r in done if r.worker}}
        write_run_log(self.out, self.protocol, state, self.started, self.finished,
                      self.command, counts, [r.error for r in done if r.error is not None],
                      [n for r in done for n in r.notices], extra)

    def end(self) -> None:
        if self.finished is None:
            self.interrupted = not self.cancel.cancelled and len(self.results) < len(self.jobs)
            self.finished = now_utc()
        self._save()

    # -- running --------------------------------------------------------------------
    def _done(self, i: int, result: VideoResult) -> None:
        self._take([(i, result)])

    def _take(self, finished: list[tuple[int, VideoResult]]) -> None:
        """Results into the table (one write for all of them), then their progress."""
        for i, result in finished:
            self.results[i] = result
        self._save()
        if self.progress is not None:
            before = len(self.results) - len(finished)
            for k, (_, result) in enumerate(finished, start=1):
                self.progress(BatchProgress(result.path, before + k, len(self.jobs), None,
                                            result))

    def here(self, resume: bool, helper: Executor | None) -> None:
        """Each video in this thread, one after the other."""
        for i, job in enumerate(self.jobs):
            if self.cancel.cancelled:
                return
            on_frame = None
            if self.progress is not None:
                so_far = len(self.results)

                def on_frame(t: float, path=job.path, done=so_far) -> None:
                    self.progress(BatchProgress(path, done, len(self.jobs), t))
            result = score_video(job, self.protocol,
                                 str(self.traces_dir) if self.traces_dir else None, resume,
                                 progress=on_frame, cancel=self.cancel, helper=helper)
            if result.cancelled:
                return
            self._done(i, result)

    def elsewhere(self, submit: Callable[..., Future], resume: bool) -> None:
        """Each video through ``submit``; results are taken as they finish."""
        finished: queue.Queue = queue.Queue()
        futures: dict[Any, int] = {}
        traces = str(self.traces_dir) if self.traces_dir else None
        for i, job in enumerate(self.jobs):
            if self.cancel.cancelled:
                break
            future = submit(score_video, job, self.protocol, traces, resume,
                            cancel=self.cancel)
            futures[future] = i
            future.add_done_callback(finished.put)
        pending = set(futures)
        try:
            while pending and not self.cancel.cancelled:
                try:
                    arrived = [finished.get(timeout=0.1)]
                except queue.Empty:
                    continue
                # every result already in is written with this one: with many workers,
                # videos finish faster than a long table can be rewritten for each
                while True:
                    try:
                        arrived.append(finished.get_nowait())
                    except queue.Empty:
                        break
                taken = []
                for future in arrived:
                    if future not in pending:
                        continue
                    pending.discard(future)
                    i = futures[future]
                    result = self._result_of(future, self.jobs[i])
                    if not result.cancelled:
                        taken.append((i, result))
                if taken:
                    self._take(taken)
        finally:
            for future in pending:  # cancelled, or interrupted: nothing more is taken
                future.cancel()

    @staticmethod
    def _result_of(future: Any, job: VideoJob) -> VideoResult:
        try:
            if future.cancelled():
                return VideoResult(job.path, cancelled=True)
            return future.result()
        except Exception as exc:  # the worker itself failed (died, lost)
            return VideoResult(job.path, error=notices.error(
                type(exc).__name__, f"the worker scoring it failed: {exc}", video=job.path),
                exception=exc)

    def outcome(self) -> BatchResult:
        results = [self.results[i] for i in sorted(self.results)]
        unfinished = [j.path for i, j in enumerate(self.jobs) if i not in self.results]
        return BatchResult(results, self.out, self.log_path, self.traces_dir,
                           self.cancel.cancelled, unfinished)
