"""Score videos and traces into result tables: the batch layer over tracking.

Results table (one row per video × arena, and one per video that could not be
scored: only ``video`` and ``warnings``), columns :data:`RESULT_COLUMNS`, then
``immobile_s_<start>_<end>`` bins, then ``warnings`` (see
:mod:`behavior.fst.summary` for the definitions):

``video``            the video file as given
``arena``            arena number, 1 = leftmost
``window_start_s``, ``window_end_s``  scored window from the test start (s)
``scored_s``         part of the window covered by the recording (s)
``immobility_s``     immobile time in the window (s)
``immobility_pct``   immobility_s / scored_s × 100
``latency_s``        test start → first immobility bout ≥ min_bout_s (s; empty if none)
``bouts``            immobility bouts overlapping the window
``mean_bout_s``, ``longest_bout_s``   of those bouts, clipped to the window (s)
``immobile_bins``, ``scored_bins``   whole bins in the window where immobility
                     predominated, of those scored (the rat modified FST's count)
``swimming_s``, ``climbing_s``   seconds of the window in which the mobile animal
                     swam (at about its floating level) or climbed (well above
                     it; :mod:`behavior.fst.states`); empty for tail suspension
``swimming_bins``, ``climbing_bins``   whole bins where that predominated
``tracked_pct``      frames in the window where the animal was found (%)
``threshold_sensitivity_s``   immobility_s with the threshold 20 % higher minus
                     with it 20 % lower: large (a warning over 5 % of the window)
                     when the animal's movement lies near the threshold
``frames``           frames decoded and tracked
``threshold``, ``min_bout_s``  the scoring parameters used
``warnings``         what the user should know about this video and arena, e.g. the
                     camera moves, the animal was found in few frames, the file
                     breaks off, the recording ends before the window (`` | ``
                     between them; empty when none)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path

import numpy as np
import pandas as pd

from behavior.errors import BehaviorError
from behavior.fst.arenas import Arena, number_arenas, read_background, read_sidecar
from behavior.fst.immobility import immobile_flags, immobility_bouts
from behavior.fst.states import active_bouts
from behavior.fst.summary import SUMMARY_COLUMNS, bin_columns, overlap_s, summarize_bouts
from behavior.fst.traces import TRACE_SUFFIX, Trace, find_traces, read_trace, write_trace
from behavior.fst.tracking import TRACKING_REVISION, TrackingResult, track_video
from behavior.io.video import VideoReader
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

RESULT_COLUMNS = ("video", "arena", *SUMMARY_COLUMNS, "swimming_s", "climbing_s",
                  "swimming_bins", "climbing_bins", "tracked_pct", "threshold_sensitivity_s",
                  "frames", "threshold", "min_bout_s")


def result_columns(protocol: FstProtocol) -> list[str]:
    return [*RESULT_COLUMNS, *bin_columns(protocol.duration_s, protocol.bin_s), "warnings"]


def coverage_note(end_s: float, protocol: FstProtocol) -> str | None:
    """A note when the recording ends before the scored window does."""
    if end_s < protocol.window_s[1] - 1e-6:
        return (f"the recording covers {end_s:.1f} s of the test, less than the window end "
                f"{protocol.window_s[1]:g} s; percentages are of the part covered")
    return None


#: The threshold is moved by this fraction either way to measure how much the
#: immobility depends on it (:func:`threshold_sensitivity`).
SENSITIVITY_STEP = 0.2
#: A change of immobility over this fraction of the scored window (and at least
#: SENSITIVITY_MIN_S) when the threshold moves by SENSITIVITY_STEP gets a warning.
SENSITIVITY_WARN = 0.05
SENSITIVITY_MIN_S = 3.0


def threshold_sensitivity(trace: Trace, protocol: FstProtocol, scored_s: float
                          ) -> tuple[float, str | None]:
    """Immobility in the window with the threshold raised by :data:`SENSITIVITY_STEP`
    minus with it lowered by as much (s), and a warning when that is large.

    A floating animal's mobility lies far below the threshold and a swimming one's
    far above, so the score barely moves (about 1-2 s per 240 s on the synthetic
    sets). Movement near the threshold — weak, slow swimming — makes the score
    depend on the threshold itself: the warning says to look at the video or to
    calibrate on manual scores (``behavior fst calibrate``).
    """
    w0, w1 = protocol.window_s
    end = min(w1, trace.end_s)
    seconds = []
    for factor in (1 - SENSITIVITY_STEP, 1 + SENSITIVITY_STEP):
        moved = protocol.with_overrides(threshold=protocol.threshold * factor)
        seconds.append(overlap_s(immobility_bouts(trace.time_s, trace.mobility, moved,
                                                  trace.end_s), w0, end))
    spread = seconds[1] - seconds[0]
    if scored_s > 0 and spread > max(SENSITIVITY_MIN_S, SENSITIVITY_WARN * scored_s):
        low, high = (protocol.threshold * f for f in (1 - SENSITIVITY_STEP,
                                                       1 + SENSITIVITY_STEP))
        return spread, (f"immobility changes by {spread:.1f} s between thresholds {low:.3g} "
                        f"and {high:.3g}: much of this animal's movement is close to the "
                        "threshold (weak or slow swimming?); look at the video or calibrate "
                        "the threshold on manual scores")
    return spread, None


#: The animal unseen for this long (s) before the scored part of the window ends: a
#: warning (taken out early, or lost by the tracker).
GONE_AT_END_S = 5.0


def gone_before_the_end(trace: Trace, protocol: FstProtocol) -> str | None:
    """A warning when the animal is not seen in the last :data:`GONE_AT_END_S` or more
    of the scored window, e.g. taken out of the water before the test ended: those
    frames count as mobile."""
    t = trace.time_s
    found = np.isfinite(trace.table["area_px"].to_numpy(float))
    w0, w1 = protocol.window_s
    end = min(w1, trace.end_s)
    inside = (t >= w0) & (t < end)
    if not found[inside].any():
        return None  # never seen in the window: "animal found in only 0% of frames" says so
    last = float(t[inside & found][-1])
    gap = end - last
    if gap < GONE_AT_END_S:
        return None
    return (f"the animal is not seen after {last:.1f} s, the last {gap:.0f} s of the window "
            "(taken out early?); those frames count as mobile: set end_s in the video's "
            ".arenas.yaml (or --end-s) to where the test ended")


def score_trace(trace: Trace, protocol: FstProtocol) -> dict[str, object]:
    """One results row from one trace (no video needed)."""
    t = trace.time_s
    bouts = immobility_bouts(t, trace.mobility, protocol, trace.end_s)
    others, state_note = {}, None
    if protocol.test != "tst":  # a hanging animal neither swims nor climbs
        others, state_note = active_bouts(t, trace.table["y_px"].to_numpy(float),
                                          trace.table["area_px"].to_numpy(float), bouts,
                                          protocol, trace.end_s)
    summary = summarize_bouts(bouts, protocol.window_s, protocol.duration_s, protocol.bin_s,
                              observed_end_s=trace.end_s, others=others)
    w0, w1 = protocol.window_s
    in_window = (t >= w0) & (t < w1)
    found = np.isfinite(trace.table["area_px"].to_numpy(float))[in_window]
    row: dict[str, object] = {"video": trace.video, "arena": trace.arena, **summary}
    row["tracked_pct"] = 100.0 * found.mean() if found.size else math.nan
    spread, spread_note = threshold_sensitivity(trace, protocol, float(summary["scored_s"]))
    gone_note = gone_before_the_end(trace, protocol)
    row["threshold_sensitivity_s"] = spread
    row["frames"] = len(t)
    row["threshold"] = protocol.threshold
    row["min_bout_s"] = protocol.min_bout_s
    notes = [n for n in trace.meta.get("warnings", "").split(" | ") if n]
    coverage = coverage_note(trace.end_s, protocol)
    notes += [n for n in (state_note, spread_note, gone_note, coverage) if n]
    row["warnings"] = " | ".join(notes)
    return row


#: Whole-number columns, kept whole (not 1.0) when a not-scored row leaves them empty.
_COUNT_COLUMNS = ("arena", "bouts", "immobile_bins", "scored_bins", "swimming_bins",
                  "climbing_bins", "frames")


def rows_to_table(rows: Iterable[dict[str, object]], protocol: FstProtocol) -> pd.DataFrame:
    table = pd.DataFrame(list(rows))
    columns = result_columns(protocol)
    if table.empty:
        return pd.DataFrame(columns=columns)
    table = table.reindex(columns=columns)
    for column in _COUNT_COLUMNS:
        table[column] = pd.to_numeric(table[column]).round().astype("Int64")
    return table


def outcome_rows(outcomes: Iterable[VideoOutcome]) -> list[dict[str, object]]:
    """Results rows of scored videos, and one row per video that could not be scored
    (no arena, no numbers, ``warnings`` saying why), so that a batch's failures
    are in the table too."""
    rows: list[dict[str, object]] = []
    for o in outcomes:
        rows.extend(o.rows)
        if o.error:
            rows.append({"video": o.path, "warnings": f"not scored: {o.error}"})
    return rows


@dataclass
class VideoJob:
    """What to score in one video."""

    path: str
    protocol: FstProtocol
    arenas: list[tuple[int, int, int, int]] | None = None
    n_arenas: int | None = None
    start_s: float | None = None
    traces_dir: str | None = None
    #: decoder threads (0: FFmpeg's choice). One decoder thread plus the tracking
    #: thread keep two cores busy; more decoder threads only compete with tracking.
    decoder_threads: int = 1
    #: decode in a background thread while tracking (off when videos run in parallel)
    pipelined: bool = True
    #: image of the empty apparatus (else the sidecar's, else the median of samples)
    background: str | None = None
    #: start of the trace files' names (default the video's stem; a batch with two
    #: videos of the same stem gives them longer ones, see :func:`unique_stems`)
    name: str | None = None
    #: score from the traces already in ``traces_dir`` when they were made from this
    #: very file with the same tracking settings (:func:`tracking_key`)
    resume: bool = False
    #: where the test ended in the video when before the protocol's duration (s; one,
    #: or one per arena); else the sidecar's ``end_s``
    end_s: float | tuple[float, ...] | None = None


@dataclass
class VideoOutcome:
    path: str
    rows: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    #: scored from the traces of an earlier run (``VideoJob.resume``), not tracked
    reused: bool = False


#: Protocol keys that change how a trace is scored but not the trace itself.
SCORING_KEYS = frozenset({"name", "species", "window_s", "bin_s", "threshold", "min_bout_s",
                          "smoothing_s", "climb_height"})


def tracking_key(path: str, protocol: FstProtocol, rects, n_arenas: int | None, start_s,
                 background: str | None, end_s=None) -> str:
    """Digest of everything a video's traces depend on: the file (size and
    modification time), the protocol's tracking keys (not :data:`SCORING_KEYS`),
    the arenas asked for (rectangles or a number), the start and end, the background
    image (and its modification time), this software's version and the tracking's
    revision (:data:`TRACKING_REVISION`). Kept in each trace's header as
    ``tracking_key``; ``--resume`` re-uses traces only when it is the same."""
    import hashlib
    import json

    from behavior import __version__

    def stamp(file: str | None) -> list[object] | None:
        if not file or not Path(file).is_file():
            return [file]  # a missing background is reported where it is read
        st = Path(file).stat()
        return [os.path.abspath(file), st.st_size, st.st_mtime_ns]

    settings = {k: v for k, v in protocol.to_dict().items() if k not in SCORING_KEYS}
    record = {"video": stamp(path), "protocol": settings,
              "arenas": [list(r) for r in rects] if rects else None, "n_arenas": n_arenas,
              "start_s": list(start_s) if isinstance(start_s, (list, tuple)) else start_s,
              "end_s": list(end_s) if isinstance(end_s, (list, tuple)) else end_s,
              "background": stamp(background), "version": __version__,
              "tracking": TRACKING_REVISION}
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _own_traces(job: VideoJob) -> list[Path]:
    """The trace files in ``job.traces_dir`` named for this video,
    ``<name>_arena<N>.trace.csv`` (not another video's whose name merely starts the
    same, e.g. ``m1_arena1_arena1.trace.csv`` of a split arena video)."""
    stem = job.name or Path(job.path).stem
    folder = Path(job.traces_dir or ".")
    head, tail = f"{stem}_arena", TRACE_SUFFIX
    return sorted(p for p in folder.glob(f"{glob_escape(head)}*{tail}")
                  if p.name[len(head):-len(tail)].isdigit())


def _earlier_traces(job: VideoJob, key: str) -> list[Trace] | None:
    """The traces of this video from an earlier run with the same :func:`tracking_key`
    (arenas 1..N, all of them), or None."""
    try:
        traces = sorted((read_trace(p) for p in _own_traces(job)), key=lambda t: t.arena)
    except BehaviorError:
        return None
    complete = [t.arena for t in traces] == list(range(1, len(traces) + 1))
    if not traces or not complete or any(t.meta.get("tracking_key") != key or
                                         t.video != job.path for t in traces):
        return None
    return traces


def _remove_stale_traces(job: VideoJob, written: list[Path]) -> None:
    """Delete this video's traces left by an earlier run for arenas it no longer has."""
    for p in _own_traces(job):
        if p not in written:
            p.unlink(missing_ok=True)


def score_video(job: VideoJob, on_frame: Callable[[float], None] | None = None,
                helper: Executor | None = None) -> VideoOutcome:
    """Track and score one video; errors are returned, not raised (batch use).

    ``helper``: a worker (process pool) that tracks the second half of a long test
    while this thread tracks the first (:func:`track_video`); same numbers as without.
    """
    outcome = VideoOutcome(job.path)
    try:
        sidecar = read_sidecar(job.path)
        rects = job.arenas or sidecar.rects
        start_s = job.start_s if job.start_s is not None else (sidecar.start_s or 0.0)
        arenas: list[Arena] | None = number_arenas(rects) if rects else None
        background_file = job.background or sidecar.background
        end_s = job.end_s if job.end_s is not None else sidecar.end_s
        key = tracking_key(job.path, job.protocol, rects, job.n_arenas, start_s,
                           background_file, end_s) if Path(job.path).is_file() else ""
        earlier = _earlier_traces(job, key) if job.resume and key else None
        if earlier is not None:
            outcome.reused = True
            outcome.rows = [score_trace(t, job.protocol) for t in earlier]
            notes = dict.fromkeys(n for t in earlier
                                  for n in t.meta.get("warnings", "").split(" | ") if n)
            outcome.warnings = [f"{job.path}: {n}" for n in notes]
            return outcome
        background = read_background(background_file) if background_file else None
        with VideoReader(job.path, threads=job.decoder_threads) as video:
            result: TrackingResult = track_video(
                video, job.protocol, arenas=arenas, n_arenas=job.n_arenas,
                on_frame=on_frame, start_s=start_s, pipelined=job.pipelined,
                background=background, end_s=end_s, helper=helper,
            )
        written = []
        for trace in result.traces:
            trace.video = job.path
            trace.meta["tracking_key"] = key
            if job.traces_dir:
                written.append(write_trace(trace, job.traces_dir, stem=job.name))
            outcome.rows.append(score_trace(trace, job.protocol))
        if job.traces_dir:
            _remove_stale_traces(job, written)
        outcome.warnings.extend(result.warnings)
        coverage = coverage_note(result.traces[0].end_s if result.traces else 0.0, job.protocol)
        if coverage:
            outcome.warnings.append(f"{job.path}: {coverage}")
    except BehaviorError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # a batch must survive any one bad file
        log.debug("unexpected error", exc_info=True)
        outcome.error = f"{job.path}: unexpected error: {type(exc).__name__}: {exc}"
    return outcome


def _score_in_worker(job: VideoJob) -> VideoOutcome:
    import cv2

    # one core per video: the cores are shared out between videos, not within one
    cv2.setNumThreads(1)
    return score_video(_one_core(job))


def score_videos(
    jobs: list[VideoJob],
    n_jobs: int = 1,
    progress: Callable[[str, float | None], None] | None = None,
    on_outcome: Callable[[list[VideoOutcome]], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[VideoOutcome]:
    """Score many videos on ``n_jobs`` CPU cores; one outcome per video, in order.

    ``n_jobs`` is the number of cores to keep busy: 1 decodes and tracks in this
    thread, one video after the other; more, with several videos, scores that many
    at a time, one core each (this process and ``n_jobs - 1`` worker processes);
    more, with one video, tracks the two halves of a long test at once, the second
    in a worker of ``pool`` (or, without one, in a thread), and a short test with
    decoding in a background thread (:func:`track_video`). The numbers are the
    same in every case: only the work's placement differs.

    ``progress(path, time_s)`` is called with the time of each tracked frame
    (single process) or once per finished video (``time_s=None``, several processes).
    ``on_outcome(done)`` is called with the outcomes so far each time a video is
    finished, e.g. to save the results as they come (a crash or Ctrl-C late in a
    long batch then loses nothing already scored). ``pool``: ``n_jobs - 1`` worker
    processes started beforehand (:func:`behavior.parallel.start_workers`); the
    caller shuts it down.
    """
    if n_jobs <= 1 or len(jobs) <= 1:
        outcomes = []
        for job in jobs:
            if n_jobs <= 1:
                job = _one_core(job)
            cb = (lambda t, p=job.path: progress(p, t)) if progress else None
            # one video on several cores: a worker process, if there is one, tracks
            # the second half of a long test (else a thread of this process does)
            outcomes.append(score_video(job, on_frame=cb, helper=pool if n_jobs > 1 else None))
            if progress:
                progress(job.path, None)
            if on_outcome:
                on_outcome(outcomes)
        return outcomes
    return _score_in_parallel(jobs, min(n_jobs, len(jobs)), progress, on_outcome, pool)


def _one_core(job: VideoJob) -> VideoJob:
    """The job done on one core: decoding and tracking take turns in one thread."""
    return dataclasses.replace(job, decoder_threads=1, pipelined=False)


class _Cancelled(BaseException):
    """Stops the video being scored in this process when the batch is abandoned."""


def _score_in_parallel(
    jobs: list[VideoJob],
    n_jobs: int,
    progress: Callable[[str, float | None], None] | None,
    on_outcome: Callable[[list[VideoOutcome]], None] | None,
    pool: ProcessPoolExecutor | None = None,
) -> list[VideoOutcome]:
    """:func:`score_videos` on ``n_jobs`` cores: this process scores videos in a
    thread (it has everything imported already) and ``n_jobs - 1`` worker processes
    score the others; each takes the next video when it finishes one."""
    import threading
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from behavior.parallel import start_workers

    todo = deque(range(len(jobs)))
    results: dict[int, VideoOutcome] = {}
    running: dict[Future, tuple[int, object]] = {}
    abandon = threading.Event()

    def check(_t: float) -> None:
        if abandon.is_set():
            raise _Cancelled

    def here(job: VideoJob) -> VideoOutcome:
        return score_video(_one_core(job), on_frame=check)

    def start(executor, run) -> None:
        if todo:
            i = todo.popleft()
            running[executor.submit(run, jobs[i])] = (i, (executor, run))

    own_pool = pool is None
    if pool is None:
        pool = start_workers(n_jobs - 1, __name__)
    local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score")
    try:
        start(local, here)
        for _ in range(n_jobs - 1):
            start(pool, _score_in_worker)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i, (executor, run) = running.pop(fut)
                try:
                    results[i] = fut.result()
                except Exception as exc:  # a worker that died
                    results[i] = VideoOutcome(jobs[i].path,
                                              error=f"{jobs[i].path}: worker failed: {exc}")
                start(executor, run)
                if progress:
                    progress(jobs[i].path, None)
                if on_outcome:
                    on_outcome([results[k] for k in sorted(results)])
    finally:
        abandon.set()  # an interrupted batch stops this process's video too
        local.shutdown(wait=True, cancel_futures=True)
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(jobs))]


def rescore_traces(paths: Iterable[Path], protocol: FstProtocol
                   ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Results table from saved traces with a (new) protocol; no video is decoded.

    Returns the table, the errors of traces that could not be read, and warnings.
    Two traces of the same video and arena (files of two runs that named them
    differently) are scored once, from the newer file, with a warning.
    """
    errors, warnings = [], []
    # (video, arena) -> (modification time, file, trace), in the order first seen
    kept: dict[tuple[str, int], tuple[float, Path, Trace]] = {}
    for path in map(Path, paths):
        try:
            trace = read_trace(path)
        except BehaviorError as exc:
            errors.append(str(exc))
            continue
        key, this = (trace.video, trace.arena), (path.stat().st_mtime, path, trace)
        if key in kept:
            newer, older = (this, kept[key]) if this[0] >= kept[key][0] else (kept[key], this)
            warnings.append(f"{older[1]}: another trace of {trace.video} arena {trace.arena} "
                            f"({newer[1].name}) is newer; only that one is scored")
            this = newer
        kept[key] = this
    rows = [score_trace(trace, protocol) for _, _, trace in kept.values()]
    return rows_to_table(rows, protocol), errors, warnings


def rescore_dir(directory: str | Path, protocol: FstProtocol
                ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """:func:`rescore_traces` over every ``*.trace.csv`` in a folder."""
    return rescore_traces(find_traces(directory), protocol)


def relabel_immobile(trace: Trace, protocol: FstProtocol) -> Trace:
    """A copy of the trace whose ``immobile`` column follows ``protocol``."""
    table = trace.table.copy()
    table["immobile"] = immobile_flags(trace.time_s, trace.mobility, protocol).astype(np.int8)
    return Trace(trace.video, trace.arena, table, trace.end_s, dict(trace.meta))


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the results as CSV, or as an Excel workbook when the name ends in .xlsx.

    Written to a temporary file first, then renamed: a crash never leaves half a
    results file, and an older file is replaced only by a complete one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".xlsx":
        table.round(4).to_excel(tmp, index=False, sheet_name="immobility", engine="openpyxl")
    else:
        table.to_csv(tmp, index=False, float_format="%.4f")
    tmp.replace(path)
    return path
