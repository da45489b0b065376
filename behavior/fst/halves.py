"""A long test tracked as two halves, each from its own decoder, so that one video
keeps two cores busy.

The first half is tracked in the calling thread; the second, from its own decoder,
in a helper (a worker process, a thread, or this thread afterwards). The second
half's trackers start :data:`WARM_S` early, to find the animal, learn its usual
size and fill the mobility measure's lags; its rows count from the middle on.
Both halves start from the same background and thresholds, so the numbers do not
depend on where the second half runs.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import cv2

from behavior.cancel import CancelToken
from behavior.errors import Cancelled, VideoError
from behavior.fst.background import UnlikeFrames
from behavior.fst.frames import frames_from
from behavior.fst.tracker import ArenaTracker
from behavior.io.video import ArrayVideo, Frame, VideoReader

log = logging.getLogger(__name__)

#: How often the background is updated (s of video).
BG_UPDATE_S = 2.0


#: The second half starts this much early (s): its trackers find the animal, learn
#: its usual size and fill the mobility measure's lags before its rows count.
WARM_S = 2.0


def follow(frames: Iterable[Frame], trackers: list[ArenaTracker], offsets: list[float],
           stop_s: float, on_frame: Callable[[float], None] | None,
           keep_s: float = -math.inf, *, bg_update_s: float = BG_UPDATE_S,
           cancel: CancelToken | None = None, unlike: UnlikeFrames | None = None) -> int:
    """Track ``frames`` (timed from the first start) up to ``stop_s``, every arena.

    Rows of frames before ``keep_s`` (a half's warm-up) are dropped at the end, and
    what they added to the twin counts taken off again. Returns the frames kept.
    ``cancel``, when set, stops it between two frames (:class:`~behavior.errors.Cancelled`).
    A frame that ``unlike`` tells from the rest (a title card) is not tracked: every
    arena's animal counts as not seen in it.
    """
    next_bg_t: float | None = None
    kept = 0
    counts: list[tuple[int, int]] | None = None
    for frame in frames:
        t = frame.time_s
        if t >= stop_s - 1e-9:
            break
        if cancel is not None and cancel.cancelled:
            raise Cancelled(f"cancelled at {t:.1f} s")
        if next_bg_t is None:
            next_bg_t = t + bg_update_s
        if counts is None and t >= keep_s - 1e-9:
            counts = [(tr._pairs, tr._blobs) for tr in trackers]
        image = frame.image
        if unlike is not None and unlike(t, image):
            for tr, offset in zip(trackers, offsets, strict=True):
                tr.not_seen(t - offset)
        else:
            update_bg = t >= next_bg_t
            for tr, offset in zip(trackers, offsets, strict=True):
                a = tr.arena
                full = image[a.y:a.y + a.h, a.x:a.x + a.w]
                tr.update(t - offset, full)
                if update_bg:
                    tr.update_background(full)
            if update_bg:
                next_bg_t = t + bg_update_s
        if counts is not None:
            kept += 1
            if on_frame is not None:
                on_frame(t)
    if keep_s > -math.inf:
        for i, (tr, offset) in enumerate(zip(trackers, offsets, strict=True)):
            tr.rows = [row for row in tr.rows if row[0] + offset >= keep_s - 1e-9]
            pairs, blobs = counts[i] if counts is not None else (tr._pairs, tr._blobs)
            tr._pairs -= pairs
            tr._blobs -= blobs
    return kept


@dataclass
class _Half:
    """The second half of a long test, with everything needed to track it anywhere
    (it pickles: a worker process opens the file itself)."""

    path: str
    origin_s: float  # video time at which the frames' clock starts (the first start)
    from_s: float  # first frame decoded (frames' clock): the warm-up starts
    keep_s: float  # first frame whose rows count: the middle of the test
    stop_s: float  # the end of the test
    trackers: list[ArenaTracker]
    offsets: list[float]
    warm_s: float = WARM_S
    bg_update_s: float = BG_UPDATE_S
    unlike: UnlikeFrames | None = None


class _HalfRows(NamedTuple):
    rows: list[list[tuple[float, ...]]]  # per arena
    pairs: list[int]
    blobs: list[int]
    frames: int
    truncated: bool
    #: the reader's damaged packets and why decoding stopped (see VideoReader)
    damaged: list = []
    broke_off: str = ""


def run_half(half: _Half, video: VideoReader | ArrayVideo | None = None,
             on_frame: Callable[[float], None] | None = None,
             cancel: CancelToken | None = None) -> _HalfRows:
    """Track the second half: in ``video`` (after the first half, this thread) or,
    when ``None``, in a decoder of its own (a helper thread or process)."""
    reader = VideoReader(half.path, threads=1) if video is None else video
    try:
        frames = frames_from(reader, half.origin_s + half.from_s, half.origin_s)
        try:
            first = next(frames, None)
        except VideoError:
            # a decoder of its own found nothing from there on: the file ends (is
            # cut off) before the second half, as the first half's decoder finds
            first = None
        if first is not None and first.time_s > half.from_s + half.warm_s / 2:
            # the seek landed late (a broken index): decode from the start instead
            log.info("%s: seeking to %.1f s landed at %.1f s; decoding from the start",
                     half.path, half.origin_s + half.from_s, half.origin_s + first.time_s)
            frames = (f for f in frames_from(reader, 0.0, half.origin_s)
                      if f.time_s >= half.from_s - 1e-9)
        elif first is not None:
            frames = itertools.chain([first], frames)
        n = follow(frames, half.trackers, half.offsets, half.stop_s, on_frame, half.keep_s,
                   bg_update_s=half.bg_update_s, cancel=cancel, unlike=half.unlike)
        return _HalfRows([tr.rows for tr in half.trackers], [tr._pairs for tr in half.trackers],
                         [tr._blobs for tr in half.trackers], n,
                         bool(getattr(reader, "truncated", False)),
                         list(getattr(reader, "damaged", [])) if video is None else [],
                         getattr(reader, "broke_off", "") if video is None else "")
    finally:
        if video is None:
            reader.close()


class _Stopped(Exception):
    """Stops a helper thread's second half when the call it works for has ended."""


def _run_half_in_worker(half: _Half) -> _HalfRows:
    cv2.setNumThreads(1)  # the worker has one core: the other is tracking the first half
    return run_half(half)


def track_in_halves(video: VideoReader | ArrayVideo, trackers: list[ArenaTracker],
                    offsets: list[float], origin_s: float, mid_s: float, stop_s: float,
                    span_s: float, on_frame: Callable[[float], None] | None,
                    helper: Executor | None, pipelined: bool, *, warm_s: float = WARM_S,
                    bg_update_s: float = BG_UPDATE_S, cancel: CancelToken | None = None,
                    unlike: UnlikeFrames | None = None) -> tuple[int, bool, tuple[list, str]]:
    """Track the first half here and the second in ``helper`` (see
    :func:`behavior.fst.tracking.track`); the second half's rows are added to
    ``trackers``. Returns (frames, truncated, problems): ``problems`` is the second
    half's decoder's (damaged packets, why it stopped) when it had one of its own."""
    half = _Half(str(video.path), origin_s, mid_s - warm_s, mid_s, stop_s,
                 copy.deepcopy(trackers), list(offsets), warm_s, bg_update_s, unlike)
    own_pool = None
    future = None
    stop = threading.Event()  # set when this call ends: a helper thread stops there
    if isinstance(video, VideoReader):
        if helper is None and pipelined:
            helper = own_pool = ThreadPoolExecutor(1, thread_name_prefix="second-half")
        try:
            if isinstance(helper, ProcessPoolExecutor):
                future = helper.submit(_run_half_in_worker, half)  # a pickled copy
            elif helper is not None:
                def check(_t: float) -> None:
                    if stop.is_set():
                        raise _Stopped

                # its own copy: if it fails half-way, the second half is tracked
                # again here from where it started
                future = helper.submit(run_half, copy.deepcopy(half), None, check)
        except Exception as exc:  # a broken or shut-down pool: tracked here instead
            log.debug("the second half could not be handed over (%s)", exc)
            future = None
    try:
        progress = on_frame
        if future is not None and on_frame is not None:
            # the halves go at about the same pace: the first one's time stretched
            # to the whole video's (``span_s``)
            def progress(t: float) -> None:
                on_frame(t * span_s / mid_s)
        n = follow(frames_from(video, origin_s), trackers, offsets, mid_s, progress,
                   bg_update_s=bg_update_s, cancel=cancel, unlike=unlike)
        if getattr(video, "truncated", False):
            # the file breaks off in the first half: nothing after that counts
            if future is not None:
                future.cancel()
            return n, True, ([], "")
        second = None
        if future is not None:
            try:
                second = future.result()
            except Exception as exc:  # tracked again here, where an error is reported
                log.debug("second half failed in the helper (%s); tracking it here", exc)
        if second is None:
            second = run_half(half, video, on_frame, cancel)
        for i, tr in enumerate(trackers):
            tr.rows.extend(second.rows[i])
            tr._pairs += second.pairs[i]
            tr._blobs += second.blobs[i]
        return n + second.frames, second.truncated, (second.damaged, second.broke_off)
    finally:
        stop.set()
        if own_pool is not None:
            own_pool.shutdown(wait=False, cancel_futures=True)
