"""Video -> per-frame animal features for every arena: :func:`track`.

For each arena the animal is segmented against a background model, and its
*mobility* is measured in the animal's own frame of reference:

1. **Background** (:mod:`behavior.fst.background`): per-pixel median of key frames
   sampled over the whole video (so an animal that rests early is not part of it),
   then a slow running average (time constant ``protocol.background_s``) updated
   only where the animal is not, so a floating animal is not absorbed. An animal
   that rested in one place in most of the sampled frames is taken out of the
   median first (:func:`~behavior.fst.background.fill_ghost`).
2. **Lighting**: each frame's brightness is matched to the background's (a gain
   from the arena's mean grey level) before differencing, so flicker and slow
   lighting changes are not movement.
3. **Segmentation** (:class:`~behavior.fst.tracker.ArenaTracker`): ``|frame -
   background|`` with the animal's polarity (dark on light water or light on dark,
   found automatically), first on a reduced copy of the frame to find the animal,
   then at full resolution in a box around it (blur ``protocol.blur_px``, threshold
   from the measured contrast and noise); the largest connected component is the
   animal. The background is spread by ``protocol.shake_px`` (its darkest value
   within that radius for a dark animal), so edges moved by a knocked camera are
   not taken for the animal. A silhouette that suddenly grows to over
   ``growth_limit`` times the animal's usual area (a hand's shadow) is cut back to
   the pixels near its core, which a shadow never reaches.
4. **Mobility**: the silhouette now is compared with the silhouettes ``lags_s``
   seconds earlier after shifting them so the centroids coincide (the animal's
   drift with the water removed); the change is how much the most-changed square
   patch of the silhouette changed, a patch about a third of the animal's side
   (:func:`~behavior.fst.tracker.aligned_change`). Fixed time lags rather than
   one frame, so that it does not depend on the frame rate. A frame's mobility
   combines the changes just before and just after it
   (:func:`~behavior.fst.tracker.mobility_around`), so bouts are not shifted by
   the lag.

Decisions made before the first frame (arenas, backgrounds, thresholds) are made
by :func:`behavior.fst.setup.prepare`; :func:`track` follows the animals through
the frames. A long test is tracked as two halves, each from its own decoder
(:mod:`behavior.fst.halves`). Memory does not grow with video length: frames are
processed as they stream and only per-frame numbers are kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from behavior import notices
from behavior.cancel import CancelToken
from behavior.errors import InputError
from behavior.fst.arenas import Arena
from behavior.fst.frames import frames_from, prefetch
from behavior.fst.halves import follow, track_in_halves
from behavior.fst.peers import label_immobile, set_peer_levels
from behavior.fst.settings import TrackingSettings
from behavior.fst.setup import Setup, prepare
from behavior.fst.traces import MOBILITY_MEASURE, TRACE_COLUMNS, Trace
from behavior.fst.tracker import ArenaTracker, mobility_around
from behavior.io.video import ArrayVideo, Frame, VideoReader
from behavior.notices import Notice
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

#: Raised whenever a change to tracking changes the traces it writes (2: long tests
#: tracked as two halves; 3: sampled frames unlike the rest, e.g. a title card, left
#: out of the background; 4: soft silhouettes, an animal resting in the background
#: found, arenas split only on strong evidence; 5: mobility from the most-changed
#: patch of the silhouette; 6: no resting animal far larger than the animal seen
#: moving; 7: two animals seen at once in some samples, nothing moving between them,
#: are two arenas; 8: lines, such as a divider's edge moved by a shaken camera, are
#: not counted as animals; 9: three or four equal tanks side by side cut at their
#: dividers or walls, also where a corner of a tank is quieter than they are; 10:
#: frames like the sampled ones unlike the rest, e.g. a title card, not scored), so
#: that ``fst score --resume`` tracks again rather than mixing traces of two versions in
#: one table.
TRACKING_REVISION = 10
#: A recording whose frames end this long or more before the end its header declares
#: (and before the test's end) breaks off: an error notice says where.
BREAK_TOLERANCE_S = 1.0


@dataclass
class TrackingResult:
    """Traces of every arena of one video, plus what was noticed on the way."""

    video: str
    arenas: list[Arena]
    traces: list[Trace]
    truncated: bool = False
    notices: list[Notice] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """The warnings and errors among the notices as lines of text (``video: arena N:
        message``); information (:data:`~behavior.notices.INFO`) is left out."""
        return [n.text() for n in self.notices if n.severity != notices.INFO]


def track(
    setup: Setup,
    *,
    video: VideoReader | ArrayVideo | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    helper: Executor | None = None,
    pipelined: bool = True,
) -> list[Trace]:
    """Track every arena of a prepared video: one :class:`Trace` per arena.

    Parameters
    ----------
    setup
        From :func:`behavior.fst.setup.prepare`.
    video
        The video, already open (else the file ``setup.video`` is opened here, with
        one decoder thread).
    progress
        Called with each tracked frame's time (s from the first test start).
    cancel
        A :class:`~behavior.cancel.CancelToken`; when set, tracking stops between two
        frames with :class:`~behavior.errors.Cancelled`.
    helper
        Where the second half of a long test is tracked (``settings.split_min_s``):
        a worker process or thread pool (one core for each half). ``None``: a thread
        of its own when ``pipelined``, else this thread after the first half. The
        numbers are the same wherever it runs.
    pipelined
        Decode in a background thread while tracking (two cores for one video);
        ``False`` does both in the calling thread (when videos run in parallel
        processes, each should keep to one core).

    Returns
    -------
    list of Trace
        Arena 1 first. Each trace's ``notices`` hold the video's notices and its
        arena's (kept with the trace, so a re-scored table shows them too).

    Notes
    -----
    A test of ``settings.split_min_s`` or more in a file that seeks is always
    tracked as two halves, each from its own decoder: the second half starts
    ``settings.warm_s`` early (its trackers settle on the animal there) and keeps
    its rows from the middle on. Both halves start from the same background and
    thresholds.
    """
    source = video if video is not None else setup.source
    if source is not None:
        return _track(setup, source, progress, cancel, helper, pipelined).traces
    with VideoReader(setup.video, threads=1) as reader:
        return _track(setup, reader, progress, cancel, helper, pipelined).traces


def track_video(
    video: VideoReader | ArrayVideo,
    protocol: FstProtocol,
    arenas: list[Arena] | None = None,
    n_arenas: int | None = None,
    on_frame: Callable[[float], None] | None = None,
    start_s: float | Sequence[float] = 0.0,
    pipelined: bool = True,
    background: np.ndarray | None = None,
    end_s: float | Sequence[float] | None = None,
    helper: Executor | None = None,
    settings: TrackingSettings | None = None,
    cancel: CancelToken | None = None,
) -> TrackingResult:
    """:func:`~behavior.fst.setup.prepare` and :func:`track` an open video in one call,
    with everything noticed on the way (no sidecar file is read).

    The parameters are those of the two; ``on_frame`` is ``track``'s ``progress``.
    """
    setup = prepare(video, protocol, arenas=arenas, n_arenas=n_arenas, start_s=start_s,
                    end_s=end_s, background=background, settings=settings, sidecar=False)
    return _track(setup, video, on_frame, cancel, helper, pipelined)


def _track(setup: Setup, video: VideoReader | ArrayVideo,
           on_frame: Callable[[float], None] | None, cancel: CancelToken | None,
           helper: Executor | None, pipelined: bool) -> TrackingResult:
    name, protocol, settings = setup.video, setup.protocol, setup.settings
    trackers = setup.trackers()
    first_start = setup.first_start_s
    video_notes = list(setup.notices)
    arena_notes = {a.number: list(a.notices) for a in setup.arenas}
    # frames are timed from the first start; each arena's times from its own
    offsets = [a.start_s - first_start for a in setup.arenas]
    # the test is over in every arena: later frames (the animal taken out, the next
    # one put in) are not decoded
    test_end = max(off + a.length_s for a, off in zip(setup.arenas, offsets, strict=True))
    span = test_end
    # frames like the sampled ones that looked nothing like the rest are not scored
    unlike = setup.unlike_frames(first_start)
    declared = video.info.duration_s
    if math.isfinite(declared):
        span = min(span, declared - first_start)
    if setup.seekable and span >= settings.split_min_s:
        # the middle, such that both halves decode as much (the second half's
        # warm-up included)
        n_frames, truncated, (more_damaged, more_broke) = track_in_halves(
            video, trackers, offsets, first_start, (span + settings.warm_s) / 2, test_end,
            span, on_frame, helper, pipelined, warm_s=settings.warm_s,
            bg_update_s=settings.bg_update_s, cancel=cancel, unlike=unlike)
    else:
        frames_iter: Iterator[Frame] = frames_from(video, first_start)
        if pipelined:
            frames_iter = prefetch(frames_iter)
        try:
            n_frames = follow(frames_iter, trackers, offsets, test_end, on_frame,
                              bg_update_s=settings.bg_update_s, cancel=cancel, unlike=unlike)
        finally:
            # the decoding thread stops now, not when the generator is collected:
            # an error here (Ctrl-C) would otherwise leave it decoding a file that is
            # being closed, which crashes the interpreter
            close = getattr(frames_iter, "close", None)
            if close is not None:
                close()
        truncated = bool(getattr(video, "truncated", False))
        more_damaged, more_broke = [], ""
    if n_frames == 0:
        raise InputError(name, "no frame could be decoded")

    times = np.array([row[0] for row in trackers[0].rows]) if trackers else np.empty(0)
    if times.size > 2:
        fps = 1.0 / float(np.median(np.diff(times)))
        if fps < settings.min_fps:
            video_notes.append(notices.warning(
                "low_frame_rate", f"{fps:.1f} frames per s: paddling faster than "
                f"{fps / 2:.1f} Hz is not seen reliably, so immobility may be "
                f"overestimated; record at {settings.min_fps:g} fps or more", fps=fps))
    damaged = [*getattr(video, "damaged", []), *more_damaged]
    words = getattr(video, "broke_off", "") or more_broke
    broken = _broken_off(times, first_start, test_end, _declared_end(video.info), truncated,
                         words)
    if broken is not None:
        video_notes.append(broken)
    if damaged:
        _, at, why = damaged[0]
        video_notes.append(notices.warning(
            "damaged_packets", f"{len(damaged)} damaged piece{'s' if len(damaged) > 1 else ''} "
            f"of the file could not be decoded and {'were' if len(damaged) > 1 else 'was'} "
            f"skipped (the first after {at:.1f} s: {why}); the frames around "
            f"{'them' if len(damaged) > 1 else 'it'} were scored", count=len(damaged),
            first_s=round(at, 3), reason=why))
    traces = [to_trace(name, tr, protocol, a.start_s, a.length_s)
              for tr, a in zip(trackers, setup.arenas, strict=True)]
    # the animals of the video share their still level (behavior.fst.peers), then each
    # trace's immobile column follows the threshold chosen with it
    set_peer_levels(traces, protocol)
    for trace in traces:
        label_immobile(trace, protocol)
    for tr, trace in zip(trackers, traces, strict=True):
        number = tr.arena.number
        twins = tr._pairs / tr._blobs if tr._blobs else 0.0
        if twins > settings.twin_share:
            arena_notes[number].append(notices.warning(
                "two_animals", f"two animals of about the same size in {100 * twins:.0f}% "
                "of frames: two cylinders taken as one arena? Set n_arenas or arena_rects, "
                "and check the arenas with a preview", arena=number,
                settings=["n_arenas", "arena_rects"], share=round(twins, 3)))
        found = np.isfinite(trace.table["area_px"]).mean() if len(trace.table) else 0.0
        if tr.present and found < 0.5:
            arena_notes[number].append(notices.warning(
                "rarely_found", f"animal found in only {100 * found:.0f}% of frames",
                arena=number, found_pct=round(100 * found, 1)))
        # kept with the trace, so the results table shows them, also when re-scored
        trace.notices = [n.at(name) for n in video_notes + arena_notes[number]]
        if tr.ghost_px:
            log.info("%s: arena %d: an animal resting in one place was taken out of "
                     "the background (%d px)", name, number, tr.ghost_px)
    every = [n.at(name) for n in video_notes]
    every += [n.at(name) for a in setup.arenas for n in arena_notes[a.number]]
    return TrackingResult(name, [t.arena for t in trackers], traces, truncated, every)


def _declared_end(info) -> float:
    """Where the file says it ends (s): its duration, or its frame count at its frame
    rate when that is later (an AVI cut short keeps the count in its header while its
    duration is estimated from what is left)."""
    ends = [info.duration_s] if math.isfinite(info.duration_s) else []
    if info.n_frames and info.fps and math.isfinite(info.fps) and info.fps > 0:
        ends.append(info.n_frames / info.fps)
    return max(ends) if ends else math.nan


def _broken_off(times: np.ndarray, first_start: float, test_end: float, declared: float,
                truncated: bool, words: str = "") -> Notice | None:
    """An error notice when the frames end well before both the test's end and the
    end the file's header declares (a file cut short or damaged), or when decoding
    stopped on an error."""
    if not times.size:
        return None
    step = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    last = float(times[-1] + step)  # where the last frame ends, on the frames' clock
    ended_early = last < test_end - BREAK_TOLERANCE_S
    header_end = declared - first_start if math.isfinite(declared) else math.nan
    if truncated or (ended_early and header_end > last + BREAK_TOLERANCE_S):
        at = first_start + last
        told = f" of the {declared:.1f} s its header declares" if math.isfinite(declared) else ""
        why = f": {words}" if words else ""
        return notices.error(
            "broken_off", f"the recording breaks off at {at:.1f} s{told} (cut short or "
            f"damaged{why}); only the part before it was scored", at_s=round(at, 3),
            declared_s=round(declared, 3) if math.isfinite(declared) else None)
    return None


def to_trace(name: str, tracker: ArenaTracker, protocol: FstProtocol, start_s: float,
             length_s: float | None = None) -> Trace:
    """The arena's trace: frames from its start for ``length_s`` (default the
    protocol's duration), timed from its start."""
    length = protocol.duration_s if length_s is None else length_s
    rows = np.array(tracker.rows, dtype=float).reshape(-1, 4 + len(tracker.lags_s))
    time_s = rows[:, 0]
    mobility = mobility_around(time_s, rows[:, 4:], tracker.lags_s)
    table = pd.DataFrame({
        "frame": np.arange(len(rows)),
        "time_s": time_s,
        "x_px": rows[:, 1],
        "y_px": rows[:, 2],
        "area_px": rows[:, 3],
        "mobility": mobility,
    })
    in_test = (time_s >= -1e-9) & (time_s < length - 1e-9)
    if not in_test.all():
        # an arena whose test starts after another's: its frames before that were
        # tracked (so the mobility at its start has a past) but are not its test;
        # nor are those after its test ends while another arena's goes on
        table = table.loc[in_test].reset_index(drop=True)
        time_s = table["time_s"].to_numpy()
    table["immobile"] = np.zeros(len(table), np.int8)  # set by label_immobile
    step = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 0.0
    meta = {
        "arena_rect_px": tracker.arena.as_text(),
        "protocol": protocol.name,
        "threshold": (protocol.threshold if isinstance(protocol.threshold, str)
                      else f"{protocol.threshold:g}"),
        "smoothing_s": f"{protocol.smoothing_s:g}",
        "min_bout_s": f"{protocol.min_bout_s:g}",
        "polarity": "dark" if tracker.polarity > 0 else "light",
        "segmentation_threshold": f"{tracker.threshold:.2f}",
        "shake_px": f"{tracker.shake_px:g}",
        "resting_animal_cleared_px": str(tracker.ghost_px),
        "silhouettes": "soft" if tracker.soft else "binary",
        "lags_s": ",".join(f"{lag:g}" for lag in tracker.lags_s),
        "mobility_measure": MOBILITY_MEASURE,
        "animal_found": str(tracker.present).lower(),
        "video_start_s": f"{start_s:g}",
    }
    return Trace(video=name, arena=tracker.arena.number, table=table.loc[:, list(TRACE_COLUMNS)],
                 end_s=min(float(time_s[-1] + step), length) if len(time_s) else 0.0,
                 meta=meta)
