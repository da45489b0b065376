"""Everything decided about a video before its first frame is tracked: :func:`prepare`.

Where the arenas are, where each arena's test starts and ends, the background each
animal is told from, the animal's polarity and segmentation threshold, whether the
camera shakes, and what the user should know about all that (notices). Scoring,
``fst preview``, ``fst split`` and the desktop GUI's arena editor all start here,
so they agree on arenas, backgrounds and warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from behavior import notices
from behavior.errors import InputError
from behavior.fst.arenas import (
    Arena,
    clip_to_frame,
    count_arenas,
    detect_arenas,
    earliest_start,
    number_arenas,
    per_arena_times,
    read_background,
    read_sidecar,
)
from behavior.fst.background import (
    ArenaStats,
    UnlikeFrames,
    arena_background,
    largest_blobs,
    measure_shake,
    sample_video,
    unlike_spans,
    without_odd_samples,
)
from behavior.fst.settings import DEFAULT_SETTINGS, TrackingSettings
from behavior.fst.tracker import SOFT_BELOW_PX, ArenaTracker, reduction_factor
from behavior.io.video import ArrayVideo, VideoInfo, VideoReader
from behavior.notices import Notice
from behavior.protocols import FstProtocol

Rect = tuple[int, int, int, int]


@dataclass
class ArenaSetup:
    """One arena, ready to be tracked."""

    #: the arena as tracked (its crop a multiple of the reduction factor)
    arena: Arena
    #: this arena's part of the background (float32), an animal resting in one place
    #: taken out of it
    background: np.ndarray
    stats: ArenaStats
    #: an animal stands out of this background (else "no animal found")
    present: bool
    #: where this arena's test starts in the video (s) and how long it lasts (s)
    start_s: float
    length_s: float
    #: background pixels cleared of an animal resting in one place
    ghost_px: int = 0
    notices: list[Notice] = field(default_factory=list)
    #: where the test ended in the video when that was given (s), else infinity
    end_s: float = math.inf
    #: the animal's usual area in the sampled frames (px; NaN if not seen)
    area_px: float = math.nan

    @property
    def soft(self) -> bool:
        """Whether its mobility is measured on soft silhouettes: for an animal under
        :data:`~behavior.fst.tracker.SOFT_BELOW_PX` (or of unknown size)."""
        return not self.area_px >= SOFT_BELOW_PX

    @property
    def number(self) -> int:
        return self.arena.number


@dataclass
class Setup:
    """What :func:`prepare` decided about one video; :func:`behavior.fst.track` tracks it.

    Attributes
    ----------
    video
        The video as given (a path; ``"<array>"`` for frames in memory).
    info
        The container's header (size, rate, duration).
    protocol, settings
        What is scored, and how tracking works.
    arenas
        One :class:`ArenaSetup` per arena, numbered left to right from 1.
    background
        The whole frame's background (float32): the image given, or the median of
        the sampled frames; each arena's own crop (``arenas[i].background``) may
        differ where an animal resting in one place was taken out of it.
    first_start_s
        The earliest arena's test start (s into the video): frames before it are
        never decoded.
    seekable
        The file seeks to key frames with real timestamps (a long test is then
        tracked as two halves).
    shake_px
        Camera shake tolerated (px).
    notices
        What the user should know about the whole video (title card, camera shake,
        tail suspension without an empty-apparatus image).
    """

    video: str
    info: VideoInfo
    protocol: FstProtocol
    settings: TrackingSettings
    arenas: list[ArenaSetup]
    background: np.ndarray
    first_start_s: float
    seekable: bool
    shake_px: float
    scale: int
    notices: list[Notice] = field(default_factory=list)
    #: the frames sampled for the background: times in the video (s)
    sample_times_s: list[float] = field(default_factory=list)
    #: an in-memory video is kept here (a file is opened again by whoever tracks)
    source: ArrayVideo | None = field(default=None, repr=False)
    #: the sampled frames that looked nothing like the rest (a title card): times in
    #: the video (s); the frames around them are checked one by one, and those that
    #: look nothing like the rest either are not scored (:meth:`unlike_frames`)
    unlike_times_s: list[float] = field(default_factory=list)

    def unlike_frames(self, origin_s: float = 0.0) -> UnlikeFrames | None:
        """The check of single frames near the sampled frames unlike the rest (None
        when there were none), on a clock starting at ``origin_s`` in the video."""
        if not self.unlike_times_s:
            return None
        spans = [(a - origin_s, b - origin_s)
                 for a, b in unlike_spans(self.sample_times_s, self.unlike_times_s)]
        reference = np.ascontiguousarray(self.background[::4, ::4], dtype=np.float32)
        return UnlikeFrames(spans, reference, self.settings.unlike_r)

    @property
    def rects(self) -> list[Rect]:
        """The arenas as ``(x, y, w, h)`` rectangles, arena 1 first."""
        return [(a.arena.x, a.arena.y, a.arena.w, a.arena.h) for a in self.arenas]

    def all_notices(self) -> list[Notice]:
        """The video's notices, then each arena's."""
        return [*self.notices, *(n for a in self.arenas for n in a.notices)]

    def trackers(self) -> list[ArenaTracker]:
        """Fresh trackers for every arena (each call gives new ones)."""
        alpha = min(1.0, self.settings.bg_update_s / self.protocol.background_s)
        return [ArenaTracker(a.arena, self.scale, a.background.copy(), a.stats.polarity,
                             a.stats.threshold, a.stats.contrast, self.protocol.min_area_px,
                             self.protocol.blur_px, lags_s=tuple(self.settings.lags_s),
                             growth_limit=self.settings.growth_limit, present=a.present,
                             alpha=alpha, shake_px=float(self.shake_px), ghost_px=a.ghost_px,
                             soft=self.settings.soft_silhouettes and a.soft)
                for a in self.arenas]


def prepare(
    video: str | Path | VideoReader | ArrayVideo,
    protocol: FstProtocol,
    *,
    arenas: Sequence[Rect | Arena] | None = None,
    n_arenas: int | None = None,
    start_s: float | Sequence[float] | None = None,
    end_s: float | Sequence[float] | None = None,
    background: np.ndarray | str | Path | None = None,
    settings: TrackingSettings | None = None,
    sidecar: bool = True,
) -> Setup:
    """Sample a video and decide how each of its arenas will be tracked.

    Parameters
    ----------
    video
        A video file, or an open reader (file or in-memory frames).
    protocol
        Scoring parameters (polarity, minimum area, blur, test duration...).
    arenas
        Arena rectangles ``(x, y, w, h)`` in pixels of the upright picture; else
        the sidecar's; else found from the animals (``n_arenas`` of them if given,
        else counted).
    start_s, end_s
        Where the test starts (frames before it are left out) and, when it ended
        before the protocol's duration, where it ended, in seconds of the video:
        one time, or one per arena from left to right. Else the sidecar's; the
        start defaults to 0.
    background
        An image (array, or a file) of the empty apparatus; else the sidecar's;
        else the median of frames sampled over the video.
    settings
        How tracking works (:class:`~behavior.fst.settings.TrackingSettings`).
    sidecar
        Read ``<video>.arenas.yaml`` for what is not given (a file only).

    Returns
    -------
    Setup

    Raises
    ------
    InputError
        When nothing decodes, the test starts after the video ends, an arena lies
        outside the frame, or the background image does not fit the video.
    """
    settings = settings or DEFAULT_SETTINGS
    if isinstance(video, (VideoReader, ArrayVideo)):
        return _prepare(video, protocol, arenas, n_arenas, start_s, end_s, background,
                        settings, sidecar)
    with VideoReader(video, threads=1) as reader:
        return _prepare(reader, protocol, arenas, n_arenas, start_s, end_s, background,
                        settings, sidecar)


def _prepare(video, protocol, arenas, n_arenas, start_s, end_s, background, settings,
             sidecar) -> Setup:
    name = str(video.path)
    if sidecar and isinstance(video, VideoReader):
        side = read_sidecar(video.path)
        arenas = arenas if arenas else side.rects
        start_s = start_s if start_s is not None else side.start_s
        end_s = end_s if end_s is not None else side.end_s
        background = background if background is not None else side.background
    if isinstance(background, (str, Path)):
        background = read_background(background)
    video_notes: list[Notice] = []
    first_start = earliest_start(start_s)
    duration = video.info.duration_s
    if math.isfinite(duration) and first_start >= duration:
        raise InputError(name, f"the test starts at {first_start:g} s (start_s), after the "
                         f"end of the video ({duration:.1f} s)")
    samples = sample_video(video, first_start, n_samples=settings.n_samples,
                           min_keyframes=settings.min_keyframes, init_s=settings.init_s)
    if not samples.images:
        raise InputError(name, "no frame could be decoded")
    height, width = samples.images[0].shape
    scale = reduction_factor(width)
    stack, median, note = without_odd_samples(np.stack(samples.images), samples.times_s,
                                              settings.unlike_r)
    video_notes.extend([note] if note else [])
    # the sampled frames left out: the frames around them are checked one by one
    unlike = [float(t) for t in note.data.get("times_s", [])] if note else []
    own_background = background is None
    if background is None:
        background = median
        if protocol.test == "tst":
            video_notes.append(notices.warning(
                "tst_without_background", "tail suspension scored without an image of the "
                "empty apparatus: an animal hanging in one place is part of the median of "
                "the video's frames and may be lost; give one as background",
                settings=["background"]))
    else:
        background = np.asarray(background, dtype=np.float32)
        if background.shape != (height, width):
            raise InputError(name, f"background image is {background.shape[1]}x"
                             f"{background.shape[0]}, the video {width}x{height}")

    if arenas:
        given = [a if isinstance(a, Arena) else None for a in arenas]
        found = (number_arenas([tuple(r) for r in arenas]) if not all(given)
                 else list(given))
        found = clip_to_frame(found, width, height, name, strict=True)
    elif n_arenas:
        found = locate_arenas(stack, n_arenas, name, median)
    else:
        found, note = counted_arenas(stack, median, name)
        video_notes.extend([note] if note else [])
    starts = per_arena_times(start_s, len(found), name)
    ends = per_arena_times(end_s, len(found), name, default=math.inf, what="test end")
    numbers = sorted(a.number for a in found)
    start_of = dict(zip(numbers, starts, strict=True))
    end_of = dict(zip(numbers, ends, strict=True))

    shake, note = measure_shake(stack, background, protocol)
    video_notes.extend([note] if note else [])
    prepared = []
    for arena in found:
        number = arena.number
        if end_of[number] <= start_of[number]:
            raise InputError(name, f"arena {number}: the test ends ({end_of[number]:g} s) "
                             f"before it starts ({start_of[number]:g} s)")
        # arena crops a multiple of the reduction factor
        arena = Arena(number, arena.x, arena.y, (arena.w // scale) * scale,
                      (arena.h // scale) * scale)
        clear = own_background and not shake and settings.clear_resting_animal
        bg, stats, ghost_px, note, areas = arena_background(background, stack, arena, protocol,
                                                            clear)
        arena_notes = [note] if note else []
        # an animal stands out well above the camera noise and the ripples
        present = stats.contrast >= max(settings.min_contrast, 8.0 * stats.noise)
        if not present:
            arena_notes.append(notices.warning(
                "no_animal", f"no animal found in arena {number} (largest difference from "
                f"the background {stats.contrast:.0f} grey levels)", arena=number,
                contrast=round(float(stats.contrast), 1)))
        length = min(protocol.duration_s, end_of[number] - start_of[number])
        prepared.append(ArenaSetup(arena, bg, stats, present, start_of[number], length,
                                   ghost_px, arena_notes, end_of[number],
                                   animal_area(bg, stack[:, arena.slices[0], arena.slices[1]],
                                               stats, areas) if present else math.nan))
    return Setup(name, video.info, protocol, settings, prepared, background, first_start,
                 samples.seekable, shake, scale, video_notes, list(samples.times_s),
                 video if isinstance(video, ArrayVideo) else None, unlike)


def animal_area(bg: np.ndarray, samples: np.ndarray, stats: ArenaStats,
                areas: np.ndarray | None = None) -> float:
    """The animal's usual area (px): the median of the largest blob in the sampled
    frames where one is seen (NaN if none). ``areas``: :func:`largest_blobs` of these
    samples against ``bg`` and ``stats``, if already counted."""
    if areas is None:
        areas = largest_blobs(bg, samples, stats.polarity, stats.threshold)
    seen = areas[areas > 0]
    return float(np.median(seen)) if seen.size else math.nan


def locate_arenas(stack: np.ndarray, n_arenas: int | None, name: str,
                  background: np.ndarray | None = None) -> list[Arena]:
    """Arenas found from the animals in ``(n, h, w)`` sampled grey frames, numbered
    left to right (``n_arenas`` of them if given, else counted). ``background``:
    the frames' per-pixel median, if already known (else the median of the frames
    not unlike the rest, :func:`~behavior.fst.background.without_odd_samples`)."""
    height, width = stack.shape[1:]
    scale = reduction_factor(width)
    if background is None:  # from the samples, less any title card and the like
        stack, background, _ = without_odd_samples(stack)
    median = background[::scale, ::scale]
    arenas = detect_arenas(stack[:, ::scale, ::scale], n=n_arenas, scale=scale,
                           background=median)
    return clip_to_frame(arenas, width, height, name)


def counted_arenas(stack: np.ndarray, median: np.ndarray, name: str
                   ) -> tuple[list[Arena], Notice | None]:
    """Arenas counted and found (:func:`~behavior.fst.arenas.count_arenas`), and, when
    one arena was kept, a notice saying so: information only (the run log, the
    results' ``note``) when nothing hinted at more, a warning when something did."""
    height, width = stack.shape[1:]
    scale = reduction_factor(width)
    low, low_median = stack[:, ::scale, ::scale], median[::scale, ::scale]
    n, evidence = count_arenas(low, low_median)
    arenas = clip_to_frame(detect_arenas(low, n=n, scale=scale, background=low_median),
                           width, height, name)
    if n != 1:
        return arenas, None
    settings = ["n_arenas", "arena_rects"]
    hint = ONE_ARENA_HINTS.get(evidence)
    if hint is None:
        return arenas, notices.info(
            "one_arena", "one arena counted (no dividers, one animal at a time)",
            evidence="none")
    return arenas, notices.warning(
        "one_arena", f"one arena kept, although {hint}; if the picture holds several "
        "chambers, set n_arenas or arena_rects", settings=settings, evidence=evidence)


#: The weaker hints of more than one arena (:func:`~behavior.fst.arenas.count_arenas`),
#: in words: one arena is kept with a warning.
ONE_ARENA_HINTS = {
    "quiet middle": "a column in the middle of the picture moves much less than either side",
    "two blobs": "two blobs of about an animal's size were seen at once at times",
}
