"""The background an animal is told from, and the statistics that segment it.

From about :data:`N_SAMPLES` frames sampled over the whole video
(:func:`sample_video`): their per-pixel median (:func:`stack_median`) without
frames unlike the rest, such as a title card (:func:`without_odd_samples`); per
arena, the animal's polarity, contrast and segmentation threshold
(:func:`arena_thresholds`), with an animal that rested in one place taken out of
the median (:func:`fill_ghost`); and the camera's shake (:func:`measure_shake`).
Pure functions of arrays, except :func:`sample_video`, which reads the video.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from behavior import notices
from behavior.fst.arenas import Arena
from behavior.fst.frames import frames_from
from behavior.fst.resting import find_resting_animal
from behavior.io.video import ArrayVideo, Frame, VideoReader
from behavior.notices import Notice
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

#: Number of frames sampled over the video for the background median.
N_SAMPLES = 30


#: Fewer distinct key frames than this: sample the first INIT_S seconds instead.
MIN_KEYFRAMES = 8


#: Length of video sampled when key frames are too few (s): long enough that an
#: animal resting for a while is also seen elsewhere (with 20 s, a 4-cylinder video
#: lost an arena to an animal that rested through them).
INIT_S = 60.0


#: Segmentation cut-off as a fraction of the animal's contrast with the background.
CONTRAST_FRACTION = 0.2


#: Fewest static edge points on which a camera shift is measured.
MIN_EDGE_POINTS = 200


#: Largest camera shift searched for in the sampled frames (px).
SHAKE_SEARCH_PX = 4


#: A sampled frame correlated with the median frame under this is not the test
#: (see :func:`unlike_the_rest`).
UNLIKE_R = 0.3


class Samples(NamedTuple):
    images: list[np.ndarray]
    times_s: list[float]  # in the video's clock
    seekable: bool  # read by seeking to key frames (with real timestamps)


def sample_video(video: VideoReader | ArrayVideo, start_s: float = 0.0, *,
                 n_samples: int = N_SAMPLES, min_keyframes: int = MIN_KEYFRAMES,
                 init_s: float = INIT_S) -> Samples:
    """:func:`sample_frames` with their times, and whether they came from seeking
    to key frames (the file seeks, with real timestamps, to enough places)."""
    duration = video.info.duration_s
    frames: list[Frame] = []
    if math.isfinite(duration) and duration > start_s + 1.0:
        times = list(np.linspace(start_s, duration - 0.5, n_samples))
        frames = video.keyframes_near(times, gray=True)
        frames = [f for f in frames if f.time_s >= start_s - 1e-6]
    if len(frames) >= min_keyframes:
        return Samples([f.image for f in frames], [f.time_s for f in frames], True)
    span = min(init_s, duration - start_s) if math.isfinite(duration) else init_s
    span = max(span, 1.0)
    images: list[np.ndarray] = []
    at: list[float] = []
    next_t = 0.0
    for frame in frames_from(video, start_s):
        if frame.time_s >= next_t:
            images.append(frame.image.copy())
            at.append(start_s + frame.time_s)
            next_t = frame.time_s + span / n_samples
        if frame.time_s >= span:
            break
    return Samples(images, at, False)


def sample_frames(video: VideoReader | ArrayVideo, start_s: float = 0.0) -> list[np.ndarray]:
    """About :data:`N_SAMPLES` grey frames spread over the whole video, for the background.

    Key frames are read at evenly spaced times (one decode each), so the
    background sees the animal in many places even if it rests early on. Files
    that do not seek, or have few key frames, are decoded from the start and
    sampled evenly over their first :data:`INIT_S` seconds (the whole test when it
    is shorter).
    """
    return sample_video(video, start_s).images


def stack_median(stack: np.ndarray) -> np.ndarray:
    """Per-pixel median of a ``(n, h, w)`` uint8 stack, as float32 (equals ``np.median``).

    The lower middle sample is found by a binary search over the 8 bits of the
    grey level, counting the samples below each candidate; for an even ``n`` the
    upper middle one is then the lower one, where enough samples equal it, else
    the smallest sample above it. About five times faster than sorting for the ~30
    samples of a background.
    """
    n = stack.shape[0]
    if n == 0 or n > 255 or stack.dtype != np.uint8:
        return np.median(stack, axis=0).astype(np.float32)
    shape = stack.shape[1:]
    below = np.empty(shape, np.uint8)
    mask = np.empty(shape, np.uint8)
    k = (n - 1) // 2
    lower = np.zeros(shape, np.uint8)
    for bit in (128, 64, 32, 16, 8, 4, 2, 1):
        candidate = lower | np.uint8(bit)
        below.fill(0)
        for image in stack:
            cv2.compare(image, candidate, cv2.CMP_LT, dst=mask)
            np.subtract(below, mask, out=below)  # mask is 255, i.e. -1 (mod 256)
        # the k-th smallest sample is the largest value with at most k samples below it
        np.copyto(lower, candidate, where=below <= k)
    if n % 2:
        return lower.astype(np.float32)
    upper = np.full(shape, 255, np.uint8)
    at_most = np.zeros(shape, np.uint8)
    above = np.empty(shape, np.uint8)
    for image in stack:
        cv2.compare(image, lower, cv2.CMP_LE, dst=mask)
        np.subtract(at_most, mask, out=at_most)
        cv2.max(image, mask, dst=above)  # samples at most the lower middle: 255
        cv2.min(upper, above, dst=upper)
    np.copyto(upper, lower, where=at_most > k + 1)
    return (lower.astype(np.float32) + upper) / 2


def likeness(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each of ``(n, h, w)`` images with ``reference`` over
    their pixels: 1 for the same scene at any brightness or contrast; near 0 for a
    title card, a covered lens, the lights off."""
    x = images.reshape(len(images), -1).astype(np.float32)
    y = reference.ravel().astype(np.float32)
    x -= x.mean(axis=1, keepdims=True)
    y = y - y.mean()
    scale = np.linalg.norm(x, axis=1) * float(np.linalg.norm(y))
    return np.divide(x @ y, scale, out=np.zeros(len(x), np.float32), where=scale > 0)


def unlike_the_rest(stack: np.ndarray, median: np.ndarray, r: float = UNLIKE_R) -> np.ndarray:
    """Which sampled frames look nothing like the video's median frame: correlated
    with it (every fourth pixel of every fourth row) under ``r`` (:data:`UNLIKE_R`). A
    title card, a covered lens, the lights off; not an animal, a hand, ripples,
    the lights dimmed or a shaken camera (the least correlated sample of each of
    33 synthetic FST videos: 0.70-0.98; of the real recordings: 0.99; a real title
    card: 0.00-0.10)."""
    return likeness(stack[:, ::4, ::4], median[::4, ::4]) < r


def without_odd_samples(stack: np.ndarray, times: Sequence[float] | None = None,
                        r: float = UNLIKE_R) -> tuple[np.ndarray, np.ndarray, Notice | None]:
    """The sampled frames without those unlike the rest (:func:`unlike_the_rest`),
    their median, and a notice naming the frames left out (at ``times``).

    Such frames (a title card, say) would be taken for a huge animal and spoil the
    background, the animal's colour, the thresholds and the arenas. They are left
    out only when they are a third of the samples or fewer.
    """
    median = stack_median(stack)
    odd = unlike_the_rest(stack, median, r)
    if not 0 < odd.sum() <= len(stack) // 3:
        return stack, median, None
    left_out = [] if times is None else [float(t) for t in np.asarray(times)[odd]]
    where = f" at {_times_text(np.asarray(left_out))}" if left_out else ""
    note = notices.warning(
        "title_card", f"the frames sampled{where} look nothing like the rest of the video (a "
        "title card, a covered lens, the lights off?): they were left out of the background, "
        "and frames like them are not scored (the animal counts as not seen there); if the "
        "test starts after them, set start_s", settings=["start_s"], times_s=left_out)
    stack = stack[~odd]
    return stack, stack_median(stack), note


def unlike_spans(times_s: Sequence[float], odd_s: Sequence[float]) -> list[tuple[float, float]]:
    """Where frames unlike the rest may lie: around each sampled frame at ``odd_s``
    (of those sampled at ``times_s``), from the sampled frame before it that was like
    the rest to the one after it (the video's start or end where there is none);
    overlapping spans merged. Each frame inside is checked on its own
    (:class:`UnlikeFrames`)."""
    times = np.sort(np.asarray(times_s, float))
    odd = np.isin(times, np.asarray(odd_s, float))
    spans: list[tuple[float, float]] = []
    for i in np.flatnonzero(odd):
        before = times[:i][~odd[:i]]
        after = times[i + 1:][~odd[i + 1:]]
        a = float(before[-1]) if before.size else -math.inf
        b = float(after[0]) if after.size else math.inf
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


@dataclass
class UnlikeFrames:
    """Tells the frames that look nothing like the rest of the video (a title card,
    a covered lens, the lights off) inside ``spans`` (on the frames' clock): such a
    frame correlates with the background under ``r`` (:func:`unlike_the_rest`, every
    fourth pixel of every fourth row). Tracked, a title card is a huge still
    "animal", immobile from the first second; it is not scored."""

    spans: list[tuple[float, float]]
    reference: np.ndarray  # the whole frame's background, every fourth pixel and row
    r: float = UNLIKE_R

    def __call__(self, time_s: float, image: np.ndarray) -> bool:
        if not any(a < time_s < b for a, b in self.spans):
            return False
        return bool(likeness(image[None, ::4, ::4], self.reference)[0] < self.r)


def _times_text(times: np.ndarray) -> str:
    """``0.0-6.5 s`` for sampled times, or a list when they are not one stretch."""
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"{times.min():.1f}-{times.max():.1f} s ({len(times)} frames)"


class ArenaStats(NamedTuple):
    polarity: float  # +1: animal darker than the background, -1: lighter
    threshold: float  # segmentation cut-off (grey levels)
    contrast: float  # the animal's difference from the background
    noise: float  # robust SD of the differences
    other: float  # the largest difference of the other sign (a ghost or a glare)


def arena_thresholds(bg: np.ndarray, samples: np.ndarray, animal: str) -> ArenaStats:
    """Polarity, threshold, contrast and noise of one arena from background and samples."""
    # every third pixel of every third row of every sample is plenty for these
    # statistics (an animal still covers hundreds of them in each sample)
    samples = samples[:, ::3, ::3]
    bg = bg[::3, ::3]
    gains = samples.reshape(len(samples), -1).mean(1) / max(float(bg.mean()), 1e-3)
    diffs = (bg[None] * gains.astype(np.float32)[:, None, None] - samples).ravel()
    # the median, and the 99.95th percentiles of the darker and of the lighter
    # differences, counted in bins of 1/64 grey level (within 0.01 of the exact
    # order statistics, at a quarter of the cost of sorting)
    n = diffs.size
    k = int(round(0.9995 * (n - 1)))
    lowest, counted = _binned(diffs)
    med = (_kth(counted, lowest, (n - 1) // 2) + _kth(counted, lowest, n // 2)) / 2
    spread_lowest, spread = _binned(np.abs(diffs - np.float32(med)))
    mad = (_kth(spread, spread_lowest, (n - 1) // 2) + _kth(spread, spread_lowest, n // 2)) / 2
    noise = 1.4826 * mad + 0.5
    dark = _kth(counted, lowest, k)
    light = -_kth(counted, lowest, n - 1 - k)
    if animal == "dark" or (animal == "auto" and dark >= light):
        polarity, contrast, other = 1.0, dark, light
    else:
        polarity, contrast, other = -1.0, light, dark
    threshold = max(5.0 * noise, CONTRAST_FRACTION * contrast, 8.0)
    return ArenaStats(polarity, threshold, contrast, noise, other)


#: Bins per grey level in which :func:`arena_thresholds` counts the differences.
_BINS_PER_LEVEL = 64


def _binned(values: np.ndarray) -> tuple[int, np.ndarray]:
    """The lowest bin and the cumulative counts of ``values`` in bins of
    1 / :data:`_BINS_PER_LEVEL` grey level (centred on multiples of it)."""
    q = np.rint(values * np.float32(_BINS_PER_LEVEL)).astype(np.int32)
    lowest = int(q.min())
    return lowest, np.cumsum(np.bincount(q - lowest))


def _kth(cumulative: np.ndarray, lowest: int, k: int) -> float:
    """The ``k``-th smallest value (from 0), to within half a bin, from :func:`_binned`."""
    return (int(np.searchsorted(cumulative, k + 1)) + lowest) / _BINS_PER_LEVEL


def largest_blobs(bg: np.ndarray, samples: np.ndarray, polarity: float,
                  threshold: float) -> np.ndarray:
    """Area (px) of the largest blob differing from ``bg`` by over ``threshold`` in
    the direction ``polarity``, in each sampled frame (counted on every second
    pixel, after a small opening against specks)."""
    bg = bg[::2, ::2]
    bg_mean = max(float(bg.mean()), 1e-3)
    kernel = np.ones((2, 2), np.uint8)
    areas = np.zeros(len(samples))
    for i, image in enumerate(samples[:, ::2, ::2]):
        gain = float(image.mean()) / bg_mean or 1.0
        diff = polarity * (bg * gain - image)
        binary = cv2.morphologyEx((diff > threshold).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        if count > 1:
            areas[i] = 4.0 * stats[1:, cv2.CC_STAT_AREA].max()
    return areas


def presence(bg: np.ndarray, samples: np.ndarray, polarity: float, threshold: float,
             min_area: float) -> float:
    """Fraction of the sampled frames in which an animal-sized blob differs from
    ``bg`` by over ``threshold`` in the direction ``polarity``."""
    return share_seen(largest_blobs(bg, samples, polarity, threshold), min_area)


def share_seen(areas: np.ndarray, min_area: float) -> float:
    """Fraction of :func:`largest_blobs`' areas that are animal-sized."""
    return float(np.mean(areas >= min_area)) if len(areas) else 0.0


def without_resting_animal(
    bg: np.ndarray, samples: np.ndarray, animal: str, min_area: float
) -> tuple[np.ndarray, ArenaStats, int, str | None, np.ndarray | None]:
    """The arena's background and statistics, with an animal that rested in one
    place taken out of the median (:func:`fill_ghost`); also the pixels replaced,
    a note for the user when the animal's colour had to be decided this way, and
    :func:`largest_blobs` of the samples against that background and statistics
    (None when not computed), so that the animal's usual area need not count them
    again.

    Such a ghost also looks like an animal of the other polarity (the floor, seen
    when the animal is away, differs from the ghost the other way), so with
    ``animal: auto`` and differences of both signs of similar size, the polarity
    chosen is the one under which an animal is seen in more of the samples; a
    real animal is somewhere in every frame, the floor under a ghost only now
    and then. When a ghost was cleared, the animal is seen in few samples, or its
    colour is still unclear, an animal resting in one place nearly all the time is
    looked for and taken out too (:func:`_without_still_animal`).
    """
    stats = arena_thresholds(bg, samples, animal)
    filled, n_px = fill_ghost(bg, samples, stats.polarity, stats.threshold, min_area)
    if n_px:
        stats = arena_thresholds(filled, samples, _colour(stats.polarity))
    note = None
    if animal == "auto" and stats.other >= 0.5 * stats.contrast:
        flipped, n_flip = fill_ghost(bg, samples, -stats.polarity, stats.threshold, min_area)
        if n_flip:
            flip_stats = arena_thresholds(flipped, samples, _colour(-stats.polarity))
            seen = presence(filled, samples, stats.polarity, stats.threshold, min_area)
            seen_flip = presence(flipped, samples, flip_stats.polarity, flip_stats.threshold,
                                 min_area)
            if seen_flip > seen + 0.2:
                colour, other = _colour(flip_stats.polarity), _colour(stats.polarity)
                note = (f"the animal's colour was not clear from the background alone: taken "
                        f"as {colour} (seen in {100 * seen_flip:.0f}% of the sampled frames, "
                        f"{100 * seen:.0f}% as {other}); if wrong, set animal: {other}")
                filled, stats, n_px = flipped, flip_stats, n_flip
    ambiguous = animal == "auto" and stats.other >= 0.5 * stats.contrast
    return _without_still_animal(bg, filled, samples, animal, min_area, stats, n_px, note,
                                 ambiguous)


#: An animal seen against the background in fewer of the sampled frames than this
#: may be resting in it: :func:`behavior.fst.resting.find_resting_animal` looks.
RESTING_PRESENCE = 0.8


#: A resting animal's region (:func:`~behavior.fst.resting.find_resting_animal`) is
#: at most this many times the area of the animal seen moving in most samples.
#: (Found: a cylinder wall's wandering reflection joined to a faint ghost, a region
#: 38 times the animal's area, taken for a light animal resting; see
#: :func:`_larger_than_the_animal`.)
REST_REGION_LIMIT = 6.0


def _larger_than_the_animal(region: np.ndarray, median: np.ndarray, samples: np.ndarray,
                            thresholds: dict[float, float], min_area: float) -> bool:
    """Whether a resting animal's ``region`` is far larger (:data:`REST_REGION_LIMIT`)
    than the animal seen against the samples' ``median`` in most of them (at least
    :data:`RESTING_PRESENCE`; the median of its largest blobs, in either colour of
    ``thresholds``). Such a region holds more than an animal: the edges of a
    reflection that wanders on a wall, the surface line, the paths of an animal that
    swims. An animal resting nearly all the time is not seen in most samples, and is
    never refused this way."""
    size = 0.0
    for polarity, threshold in thresholds.items():
        areas = largest_blobs(median, samples, polarity, threshold)
        if share_seen(areas, min_area) >= RESTING_PRESENCE:
            size = max(size, float(np.median(areas)))
    if size <= 0 or region.sum() <= REST_REGION_LIMIT * size:
        return False
    log.info("a resting animal's region of %d px was not taken: the animal seen in most "
             "samples is about %.0f px", int(region.sum()), size)
    return True


def _colour(polarity: float) -> str:
    return "dark" if polarity > 0 else "light"


def _without_still_animal(median: np.ndarray, bg: np.ndarray, samples: np.ndarray,
                          animal: str, min_area: float, stats: ArenaStats, n_px: int,
                          note: str | None, ambiguous: bool
                          ) -> tuple[np.ndarray, ArenaStats, int, str | None, np.ndarray | None]:
    """``bg`` (the samples' ``median`` with ghosts cleared, :func:`fill_ghost`), or,
    when the animal is seen in few of the samples or its colour is unclear, the
    median with an animal that rested in one place nearly all the time taken out
    (:func:`~behavior.fst.resting.find_resting_animal`), if one is found there and
    the animal is then seen in most samples."""
    areas = largest_blobs(bg, samples, stats.polarity, stats.threshold)
    seen = share_seen(areas, min_area)
    if seen >= RESTING_PRESENCE and not ambiguous and not n_px:
        return bg, stats, n_px, note, areas
    colours = ("dark", "light") if animal == "auto" else (animal,)
    thresholds = {}
    for colour in colours:
        own = arena_thresholds(median, samples, colour)
        thresholds[own.polarity] = own.threshold
    # a ghost cleared (fill_ghost) may leave the animal's core, never uncovered, behind
    start = bg if n_px and not ambiguous else None
    rest = find_resting_animal(median, samples, thresholds, min_area, start)
    if rest is None or _larger_than_the_animal(rest.region, median, samples, thresholds,
                                               min_area):
        return bg, stats, n_px, note, areas
    rest_stats = arena_thresholds(rest.background, samples, _colour(rest.polarity))
    rest_areas = largest_blobs(rest.background, samples, rest.polarity, rest_stats.threshold)
    seen_rest = share_seen(rest_areas, min_area)
    if seen_rest < RESTING_PRESENCE and seen_rest < seen + 0.25:
        return bg, stats, n_px, note, areas
    if animal == "auto" and rest.polarity != stats.polarity:
        note = (f"the animal rests in one place in most of the video; taken as "
                f"{_colour(rest.polarity)} (it differs from its surroundings that way by "
                f"{rest.unlike:.0f} grey levels there); if wrong, set animal: "
                f"{_colour(-rest.polarity)}")
    # rest_stats were measured for rest.polarity's colour, so rest_areas count them
    return rest.background, rest_stats, max(n_px, int(rest.region.sum())), note, rest_areas


def fill_ghost(bg: np.ndarray, samples: np.ndarray, polarity: float, threshold: float,
               min_area: float) -> tuple[np.ndarray, int]:
    """The background with an animal that rested in one place removed from it.

    An animal that sits still for more than half of the sampled frames is part of
    their median (a *ghost*), and would then be lost whenever it sits there. At a
    ghost the samples are mostly the animal and, now and then, the floor without
    it: more than a tenth of the samples are lighter (for a dark animal) than the
    median by over ``threshold``, while at most a tenth are darker by as much.
    Ripples, noise and flicker spread both ways instead. Where blobs of at
    least ``min_area`` such pixels are found, the background takes the
    lightest-tenth value (darkest for a light animal); blobs under a quarter of the
    animal's size (a glint that comes and goes) are left alone. Samples are
    brightness-matched first. An animal that leaves its place in fewer samples is
    looked for by :func:`behavior.fst.resting.find_resting_animal` instead.

    Returns the new background and the number of pixels replaced.
    """
    n = len(samples)
    if n < 10:
        return bg, 0
    k = n // 10
    bg_mean = max(float(bg.mean()), 1e-3)
    gains = samples.reshape(n, -1).mean(1) / bg_mean
    gains[gains <= 0] = 1.0
    # a look at every second pixel first: most videos have no ghost at all
    if _ghost_pixels(bg[::2, ::2], samples[:, ::2, ::2], gains, polarity, threshold,
                     k).sum() < min_area / 4:
        return bg, 0
    ghost = _ghost_pixels(bg, samples, gains, polarity, threshold, k).astype(np.uint8)
    # thin lines (an edge the camera moved now and then) are not an animal
    ghost = cv2.morphologyEx(ghost, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ghost, connectivity=8)
    if count <= 1:
        return bg, 0
    # nor is anything much smaller than the animal (a glint on the water that comes
    # and goes in the same place): its size, from the frames where it is away from
    # the ghost, is about the largest blob in the largest tenth of the samples
    animal_area = float(np.percentile(largest_blobs(bg, samples, polarity, threshold), 90))
    smallest = max(min_area, 0.25 * animal_area)
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= smallest]
    if not keep:
        return bg, 0
    mask = np.isin(labels, keep)
    # and the rim around it, where the blur mixes animal and floor
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # the floor's value: the lightest tenth (darkest, for a light animal) there
    matched = samples[:, mask].astype(np.float32) / gains.astype(np.float32)[:, None]
    ordered = np.partition(matched, (k, n - 1 - k), axis=0)
    fill = ordered[n - 1 - k] if polarity > 0 else ordered[k]
    toward_floor = polarity * (fill - bg[mask]) > 0
    out = bg.copy()
    idx = np.flatnonzero(mask)[toward_floor]
    out.flat[idx] = fill[toward_floor]
    return out, int(toward_floor.sum())


def _ghost_pixels(bg: np.ndarray, samples: np.ndarray, gains: np.ndarray, polarity: float,
                  threshold: float, k: int) -> np.ndarray:
    """:func:`fill_ghost`'s test, by counting rather than sorting: more than ``k``
    samples differ from the background (at their brightness) by over the threshold
    towards the floor's side, at most ``k`` by as much the animal's way."""
    lighter = np.zeros(bg.shape, np.uint8)
    darker = np.zeros(bg.shape, np.uint8)
    hit = np.empty(bg.shape, bool)
    matched = np.empty(bg.shape, np.float32)
    over = (bg + threshold).astype(np.float32)
    under = (bg - threshold).astype(np.float32)
    for image, gain in zip(samples, gains, strict=True):
        # the sample at the background's brightness, against background +- threshold
        np.multiply(image, np.float32(1.0 / gain), out=matched)
        np.greater(matched, over, out=hit)
        lighter += hit
        np.less(matched, under, out=hit)
        darker += hit
    away, toward = (lighter, darker) if polarity > 0 else (darker, lighter)
    return (away > k) & (toward <= k)


def camera_shifts(samples: np.ndarray, background: np.ndarray, n_points: int = 1000,
                  reach: int = SHAKE_SEARCH_PX) -> np.ndarray:
    """Whole-pixel shift ``(dx, dy)`` of each sampled frame against the background.

    The background's strongest static edges (top 2 % of the gradient, at least 8
    grey levels per pixel; up to ``n_points`` of them, at least
    :data:`MIN_EDGE_POINTS`, else no shift is measured) are compared with each
    frame moved by every shift within ``reach`` px; the shift with the smallest
    median brightness-matched difference wins, if it halves the difference
    of no shift. Medians ignore the animal, which covers only a few of the
    edge points in any one frame. A steady camera gives zeros.
    """
    bg = np.asarray(background, np.float32)
    h, w = bg.shape
    if h <= 2 * reach + 2 or w <= 2 * reach + 2 or len(samples) == 0:
        return np.zeros((len(samples), 2), int)
    grad = cv2.magnitude(cv2.Sobel(bg, cv2.CV_32F, 1, 0, ksize=3),
                         cv2.Sobel(bg, cv2.CV_32F, 0, 1, ksize=3)) / 8
    m = reach + 1
    grad[:m], grad[-m:], grad[:, :m], grad[:, -m:] = 0, 0, 0, 0
    cut = max(8.0, float(np.percentile(grad[::2, ::2], 98)))
    ys, xs = np.nonzero(grad >= cut)
    if len(ys) < MIN_EDGE_POINTS:  # a featureless scene: nothing to measure a shift on
        return np.zeros((len(samples), 2), int)
    if len(ys) > n_points:
        pick = np.linspace(0, len(ys) - 1, n_points).astype(int)
        ys, xs = ys[pick], xs[pick]
    steps = np.arange(-reach, reach + 1)
    dy, dx = (a.ravel() for a in np.meshgrid(steps, steps, indexing="ij"))
    # each edge point moved by each shift, as indices into the flattened image
    flat = (ys[None] + dy[:, None]) * w + (xs[None] + dx[:, None])
    ref = bg[ys, xs][None]
    bg_mean = max(float(bg.mean()), 1e-3)
    out = np.zeros((len(samples), 2), int)
    n = flat.shape[1]
    middle = sorted({(n - 1) // 2, n // 2})
    for i, image in enumerate(samples):
        gain = cv2.mean(image)[0] / bg_mean or 1.0
        moved = np.take(np.ascontiguousarray(image).ravel(), flat)
        diffs = np.abs(moved * np.float32(1.0 / gain) - ref)
        # the median of each row (shift), from one partial sort
        cost = np.partition(diffs, middle, axis=1)[:, middle].mean(axis=1)
        j = int(np.argmin(cost))
        # a shift must explain the edges clearly better than no shift at all
        if cost[j] < 0.5 * cost[len(cost) // 2]:
            out[i] = dx[j], dy[j]
    return out


def shake_radius(shifts: np.ndarray) -> int:
    """Spread of the background (px) for the camera shifts of the sampled frames.

    The 90th percentile of each frame's larger shift, rounded up: 0 for a steady
    camera; a knock seen in only one or two samples does not count.
    """
    if len(shifts) == 0:
        return 0
    return int(np.ceil(np.percentile(np.abs(shifts).max(axis=1), 90)))


def measure_shake(stack: np.ndarray, background: np.ndarray,
                  protocol: FstProtocol) -> tuple[float, Notice | None]:
    """The protocol's ``shake_px``, measured from the samples when ``auto``, and a
    notice for the user when the camera moves."""
    if protocol.shake_px != "auto":
        return float(protocol.shake_px), None
    shifts = camera_shifts(stack, background)
    shake = shake_radius(shifts)
    if not shake:
        return 0.0, None
    most = int(np.abs(shifts).max())
    return float(shake), notices.warning(
        "camera_shake", f"the camera moves (up to {most} px between sampled frames); edges "
        f"that move up to {shake} px are not taken for the animal (shake_px: auto)",
        settings=["shake_px"], shift_px=most, shake_px=shake)


def arena_background(background: np.ndarray, stack: np.ndarray, arena: Arena,
                     protocol: FstProtocol, clear_ghost: bool
                     ) -> tuple[np.ndarray, ArenaStats, int, Notice | None, np.ndarray | None]:
    """One arena's background crop and statistics, as tracking uses them.

    With ``clear_ghost`` (a background made from the video, a steady camera) an
    animal resting in one place is taken out of it (:func:`without_resting_animal`).
    Returns the background, the statistics, the pixels cleared, a notice, and the
    samples' :func:`largest_blobs` against them when already counted (else None).
    """
    ys, xs = slice(arena.y, arena.y + arena.h), slice(arena.x, arena.x + arena.w)
    bg, crop = background[ys, xs].copy(), stack[:, ys, xs]
    if clear_ghost:
        bg, stats, n_px, note, areas = without_resting_animal(bg, crop, protocol.animal,
                                                              protocol.min_area_px)
        if note is not None:
            note = notices.warning("colour_unclear", note, arena=arena.number,
                                   settings=["animal"])
        return bg, stats, n_px, note, areas
    return bg, arena_thresholds(bg, crop, protocol.animal), 0, None, None
