"""Per-frame mobility -> immobile flags -> bouts -> summary. Pure functions, no I/O.

This is the re-scoring path: it needs only a saved trace (see
:mod:`behavior.fst.traces`), never the video, so thresholds can be changed and a
batch re-scored in seconds.

The threshold (:func:`choose_threshold`) is the protocol's number, or, with
``threshold: auto`` (the default), chosen for each animal from its own trace:

* its **still level** ``F``: the mobility of its quietest stretches (the
  :data:`QUIET_QUANTILE`-th percentile of the medians of :data:`QUIET_WINDOW_S`-s
  windows of the smoothed mobility);
* where its **sustained movement** begins, ``M``: the :data:`MOVING_QUANTILE`-th
  percentile of the frames in stretches of at least :data:`SUSTAINED_S` s above a
  cut (a paddle of a floating animal or the end of a swimming bout is brief;
  swimming, even barely paddling, is sustained). The cut is :data:`SUSTAINED_RISE`
  times ``F``, or, where the animal's mobility has a deep dip between its
  floating and the movement above it (:func:`floating_valley`), that dip: an
  animal that floats most of the time, its floating made restless by a light
  that changes or by compression, otherwise had its restless floating taken for
  where its movement begins;
* threshold ``F (M / F) ** THRESHOLD_WEIGHT``: just below where its movement
  begins, nearer to it the further it lies from the still level.

Both are measured in the scored window, on frames where the animal is of its
usual size.

A frame a little above the threshold (up to :data:`FLICKER_REACH` times it) whose
mobility does not **flicker** (:func:`flicker`) more than the animal's floating does
(:data:`FLICKER_RATIO`) is floating too: a floating body that turns, drifts or settles
after a swim changes smoothly, while strokes, even barely paddling, make the mobility
flicker frame by frame (:func:`smooth_rises`). This holds for a protocol's fixed
threshold too.

An animal whose quietest stretches move more than :data:`MAX_STILL` (it may never
float, or floats so briefly that its gentle swimming sets the still level) is scored
with :data:`MAX_STILL` as its threshold, one with too few frames with
:data:`AUTO_FALLBACK`; the choice says why (and the results warn). The still level
scales with what makes a still animal's silhouette change (its size in pixels,
compression, noise, drift with the water);
where movement begins scales with how vigorously it swims: a fixed threshold
follows neither.

The **separation** ``1 - F / M`` (0-1) says how clearly an animal's mobility
separates into still and moving: near 0.85 for vigorous swimmers, 0.5 when its
sustained movement begins at twice its still level (barely paddling).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from behavior.fst.summary import apply_min_bout, frames_to_bouts, summarize_bouts
from behavior.protocols import FstProtocol

#: ``threshold: auto``: the threshold is chosen per animal (:func:`choose_threshold`).
AUTO = "auto"
#: Windows (s) whose medians give an animal's still level.
QUIET_WINDOW_S = 3.0
#: The still level: this percentile of the windows' medians (its quietest twentieth:
#: with the tenth, an animal floating only a tenth of the time got a still level
#: raised by its swimming).
QUIET_QUANTILE = 5.0
#: Movement is sustained above this many times the still level ... (floating's own
#: small movements reach further above the still level with the patch measure than
#: with the whole silhouette's: at 1.5 an animal floating 95 % of a minute had its
#: restless floating taken for where movement begins, 49 s for 56 s; on the open
#: synthetic sets 1.7 and 1.85 scored alike, 2.0 worse)
SUSTAINED_RISE = 1.7
#: ... for at least this long (s).
SUSTAINED_S = 2.0
#: Where sustained movement begins: this percentile of its frames.
MOVING_QUANTILE = 10.0
#: The threshold's place between the still level (0) and where movement begins (1),
#: on a log scale (chosen on the synthetic tuning set and the first held-out set of
#: benchmarks/bench_fst_accuracy.py).
THRESHOLD_WEIGHT = 0.8
#: An animal with no sustained movement: taken to begin at this many times its still
#: level (the threshold then lies 3 times above it).
NO_MOVEMENT_RATIO = 4.0
#: A still level above this is not floating (the animal may never float, or floats
#: in bouts too short for the still level, which then is its gentle swimming): this
#: is then the threshold (what moves less is floating), with a warning. Synthetic
#: animals floating at least a fifth of the time 0.047-0.116; a real freezing mouse
#: 0.020; gentle swimmers floating 5-7 % of the time, whose paddling sets their still
#: level, 0.20-0.26. (On the open synthetic sets any value from 0.16 to 0.20 scored
#: alike; 0.14 and 0.22 each failed a set.)
MAX_STILL = 0.18
#: A still level is taken to be at least this (a perfectly static picture, such as
#: a title card taken for the animal, measures 0).
MIN_STILL = 0.004
#: The threshold when no still level can be found (too few frames).
AUTO_FALLBACK = 0.18
#: Fewer windows than this: no still level.
MIN_WINDOWS = 5
#: The density of an animal's mobility (:func:`floating_valley`): bins of this many
#: decades of log10 mobility, smoothed by a Gaussian of :data:`DENSITY_SIGMA` decades
#: (0.05: bumps within a restless floating hump merge, so the search for the valley
#: does not stop at one; at 0.03 an animal of bright, clean footage floating 81 % of
#: the time scored 70 s too little; 0.045-0.06 alike on the open sets, 0.04 not).
DENSITY_BIN = 0.01
DENSITY_SIGMA = 0.05
#: A dip after the floating peak is a valley when it falls to at most this share of
#: the peak (a gap, not the shallow dip where floating merges into paddling; with
#: the whole silhouette's measure 0.5 made the first held-out set worse, with the
#: patch measure 0.15-0.5 score alike), and the density
#: rises again, within :data:`VALLEY_RISE_SPAN` decades, to at least
#: :data:`VALLEY_RISE` times the dip (and to a twentieth of the density's highest
#: point: not a few stray frames). The span is wide: the patch measure puts a wide
#: gap between floating and swimming (at 0.3 decades the rise was not reached, and
#: an animal floating 95 % of a minute scored 29 s for 56 s; 0.5-1.0 alike).
VALLEY_DEPTH = 0.25
VALLEY_RISE = 2.0
VALLEY_RISE_SPAN = 0.7
#: The floating peak is looked for within these factors below and above the still
#: level (with the patch measure, synthetic animals' floating peaks at 0.95-1.54 times
#: it; 1.7 and 2.0 alike on the open sets, 2.5 worse).
FLOATING_PEAK = (1.3, 1.7)
#: A frame above the threshold is floating all the same when its mobility flickers
#: (:func:`flicker`) at most this many times as much as the animal's floating does
#: (the median over its frames below the threshold): a floating body that turns,
#: drifts or settles after a swim changes smoothly; strokes, even of an animal
#: barely paddling, make the mobility flicker frame by frame. Chosen on the tuning
#: sets of benchmarks/bench_fst_accuracy.py (1.2 and 1.3 alike there, 1.4 worse on
#: tuning-3, 2.26 -> 2.62 s); the independent generator's floating, more restless,
#: would take 1.5 or more (its draw 1, before brief movements were joined: MAE 17.3 s
#: at 1.3, 14.5 at 1.5).
FLICKER_RATIO = 1.3
#: ... and its mobility is at most this many times the threshold (a vigorous smooth
#: movement, a climb, stays movement; 3 and no limit scored alike on the open sets).
FLICKER_REACH = 3.0
#: ... once the animal has floated (been below the threshold) this long (s) in all:
#: with less, its floating's flicker is not known.
FLICKER_MIN_S = 15.0
#: An animal whose still level is over this many times that of the other animals in
#: its video (the median of theirs: same camera, water and compression, so their
#: floating looks alike) hardly floats: the others' still level is used for it
#: (:func:`choose_threshold`'s ``peer_still``). Synthetic: the still levels of
#: cage-mates that float at least a tenth of the time differ by up to 1.66 times;
#: gentle swimmers floating 5 % of the time, whose paddling set their own, 3.5 times.
#: (At 1.5 an animal of a short test video floating 10 of 35 s got its cage-mate's
#: level, 1.6 times lower, and 13 s too little immobility.)
PEER_RATIO = 2.0


class ThresholdChoice(NamedTuple):
    """The threshold an animal was scored with, and what it was chosen from."""

    threshold: float
    #: ``"fixed"`` (the protocol's number), ``"auto"``, ``"peers"`` (auto, from the
    #: still level of the other animals in its video, :data:`PEER_RATIO`) or
    #: ``"fallback"`` (auto, but no still level was found)
    method: str
    #: the still level F and where sustained movement begins M (NaN if not found)
    still: float
    moving: float
    #: 1 - F / M, 0-1 (NaN when either is not found)
    separation: float
    #: why the automatic threshold fell back, or why separation is empty ("" if neither)
    reason: str = ""


def smooth_mobility(time_s: np.ndarray, mobility: np.ndarray, smoothing_s: float) -> np.ndarray:
    """Centred moving median of the mobility trace over ``smoothing_s`` seconds.

    The width in frames comes from the median frame interval; frames where the
    animal was not found (NaN) stay NaN.
    """
    m = np.asarray(mobility, dtype=float)
    if smoothing_s <= 0 or m.size < 3:
        return m.copy()
    width = smoothing_width(time_s, smoothing_s)
    missing = np.isnan(m)
    filled = np.where(missing, np.nanmedian(m) if (~missing).any() else 0.0, m)
    out = moving_median(filled, width)
    out[missing] = np.nan
    return out


def smoothing_width(time_s: np.ndarray, smoothing_s: float) -> int:
    """``smoothing_s`` in frames (odd, at least 1), from the median frame interval."""
    t = np.asarray(time_s, float)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    # slack so that times read back from a file (rounded) give the same width
    width = max(1, int(np.floor(smoothing_s / dt + 0.5 + 1e-6)))
    return width + 1 if width % 2 == 0 else width


def flicker(time_s: np.ndarray, mobility: np.ndarray, smoothed: np.ndarray,
            smoothing_s: float) -> np.ndarray:
    """How much the mobility flickers, frame by frame: over a centred window of
    ``smoothing_s``, the larger of the mean of ``|mobility - smoothed|`` and half the
    mean change from one frame to the next (a stroke every other frame leaves the
    moving median on each frame's own value; the change between frames sees it).
    Means over the frames where the animal was found; NaN where it was not. Strokes
    make the mobility flicker; a body that turns, drifts or settles changes
    smoothly."""
    m = np.asarray(mobility, float)
    width = smoothing_width(time_s, smoothing_s)
    departure = _window_mean(np.abs(m - np.asarray(smoothed, float)), width)
    steps = _window_mean(0.5 * np.abs(np.diff(m, prepend=m[:1])), width)
    out = np.fmax(departure, steps)
    out[~np.isfinite(m)] = np.nan
    return out


def _window_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Centred mean over ``width`` frames of the finite ``values`` (NaN where none)."""
    found = np.isfinite(values)
    kernel = np.ones(width)
    total = np.convolve(np.where(found, values, 0.0), kernel, mode="same")
    count = np.convolve(found.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def smooth_rises(time_s: np.ndarray, mobility: np.ndarray, smoothed: np.ndarray,
                 below: np.ndarray, threshold: float, smoothing_s: float) -> np.ndarray:
    """Frames above the threshold that are floating all the same (see the module's
    docstring): up to :data:`FLICKER_REACH` times the threshold, with a
    :func:`flicker` of at most :data:`FLICKER_RATIO` times the median flicker of
    the frames ``below`` it (the animal's floating). None without smoothing, with
    less than :data:`FLICKER_MIN_S` s below the threshold (too little floating to
    know how it flickers), or when the floating does not flicker at all."""
    none = np.zeros(below.shape, bool)
    t = np.asarray(time_s, float)
    if smoothing_s <= 0 or t.size < 3:
        return none
    dt = float(np.median(np.diff(t)))
    if below.sum() * dt < FLICKER_MIN_S:
        return none
    flick = flicker(t, mobility, smoothed, smoothing_s)
    floating = below & np.isfinite(flick)
    if floating.sum() * dt < FLICKER_MIN_S:
        return none
    level = float(np.median(flick[floating]))
    if level <= 0:
        return none  # floating that never flickers (a still picture): nothing to go by
    with np.errstate(invalid="ignore"):
        return ((flick <= FLICKER_RATIO * level) & (smoothed > threshold)
                & (smoothed <= FLICKER_REACH * threshold))


def moving_median(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving median over an odd ``width``; the ends repeat the edge values
    (``scipy.ndimage.median_filter(mode="nearest")``, without importing SciPy in
    every scoring process)."""
    if width % 2 == 0:
        raise ValueError(f"moving_median needs an odd width, got {width}")
    half = width // 2
    padded = np.pad(np.asarray(values, dtype=float), half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def still_level(time_s: np.ndarray, smoothed: np.ndarray) -> float:
    """The mobility of an animal's quietest stretches: the :data:`QUIET_QUANTILE`-th
    percentile of the medians of :data:`QUIET_WINDOW_S`-s windows in which it was
    found in at least half the frames (NaN with fewer than :data:`MIN_WINDOWS`)."""
    t = np.asarray(time_s, float)
    m = np.asarray(smoothed, float)
    if t.size == 0:
        return math.nan
    window = np.floor((t - t[0]) / QUIET_WINDOW_S).astype(int)
    found = np.isfinite(m)
    medians = []
    for start, stop in _runs(window):
        part = m[start:stop][found[start:stop]]
        if part.size and part.size >= 0.5 * (stop - start):
            medians.append(float(np.median(part)))
    if len(medians) < MIN_WINDOWS:
        return math.nan
    return float(np.percentile(medians, QUIET_QUANTILE))


def floating_valley(smoothed: np.ndarray, still: float) -> float:
    """The dip in the density of an animal's (smoothed) mobility between its floating
    and the movement above it: NaN when there is no clear one.

    The density is that of log10 mobility (:data:`DENSITY_BIN`, :data:`DENSITY_SIGMA`).
    Its floating peak is its highest point within :data:`FLOATING_PEAK` of the still
    level (none when the density still rises there); the dip is the lowest point
    above that peak before the density rises again (by more than 1 %: a flat top is
    crossed), if the density
    falls there to at most :data:`VALLEY_DEPTH` of the peak and rises again after it
    (:data:`VALLEY_RISE`, :data:`VALLEY_RISE_SPAN`). A density that only falls (an
    animal that hardly moves) or whose floating merges into its movement (barely
    paddling) has none.
    """
    m = np.asarray(smoothed, float)
    m = m[np.isfinite(m) & (m > 0)]
    if m.size < 10 or not (math.isfinite(still) and still > 0):
        return math.nan
    x = np.log10(m)
    lo = math.floor(x.min() / DENSITY_BIN) * DENSITY_BIN - 4 * DENSITY_SIGMA
    hi = math.ceil(x.max() / DENSITY_BIN) * DENSITY_BIN + 4 * DENSITY_SIGMA
    edges = np.arange(lo, hi + DENSITY_BIN, DENSITY_BIN)
    counts, _ = np.histogram(x, bins=edges)
    centres = 0.5 * (edges[:-1] + edges[1:])
    reach = int(round(4 * DENSITY_SIGMA / DENSITY_BIN))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) * DENSITY_BIN / DENSITY_SIGMA) ** 2)
    density = np.convolve(counts, kernel / kernel.sum(), mode="same")
    level = math.log10(still)
    near = np.flatnonzero((centres >= level - math.log10(FLOATING_PEAK[0]))
                          & (centres <= level + math.log10(FLOATING_PEAK[1])))
    if near.size == 0:
        return math.nan
    peak = int(near[np.argmax(density[near])])
    tiny = 1e-9 * float(density.max())
    if peak + 1 < density.size and density[peak + 1] > 1.01 * density[peak] + tiny:
        # still rising where floating should have peaked: the floating is a shoulder
        # of a hump above it (barely paddling), not a hump of its own
        return math.nan
    # down from the peak (over a flat top too) to where the density starts to rise
    low = i = peak
    while i + 1 < density.size and density[i + 1] <= 1.01 * density[low] + tiny:
        i += 1
        if density[i] < density[low]:
            low = i
    if i + 1 >= density.size:
        return math.nan  # falls to the end: nothing above the floating
    after = float(density[low:low + int(round(VALLEY_RISE_SPAN / DENSITY_BIN)) + 1].max())
    if (density[low] <= VALLEY_DEPTH * density[peak] and after >= VALLEY_RISE * density[low]
            and after >= 0.05 * density.max()):
        return float(10 ** centres[low])
    return math.nan


def movement_cut(smoothed: np.ndarray, still: float) -> float:
    """Above what sustained movement is looked for: :data:`SUSTAINED_RISE` times the
    still level, or the valley above the animal's floating where that is higher
    (:func:`floating_valley`)."""
    cut = SUSTAINED_RISE * still
    valley = floating_valley(smoothed, still)
    return max(cut, valley) if math.isfinite(valley) else cut


def moving_level(time_s: np.ndarray, smoothed: np.ndarray, still: float) -> float:
    """Where an animal's sustained movement begins: the :data:`MOVING_QUANTILE`-th
    percentile of the frames in stretches of at least :data:`SUSTAINED_S` s above
    :func:`movement_cut` (NaN when there are none)."""
    t = np.asarray(time_s, float)
    m = np.asarray(smoothed, float)
    cut = movement_cut(m, still)
    with np.errstate(invalid="ignore"):
        above = m > cut
    edges = np.flatnonzero(np.diff(np.r_[0, above.astype(np.int8), 0]))
    kept = [m[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True)
            if t[b - 1] - t[a] >= SUSTAINED_S - 1e-9]
    if not kept:
        return math.nan
    return float(np.percentile(np.concatenate(kept), MOVING_QUANTILE))


def _runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of equal values in a sorted label array."""
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, cuts]
    return list(zip(starts.tolist(), np.r_[cuts, labels.size].tolist(), strict=True))


def choose_threshold(time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol,
                     smoothed: np.ndarray | None = None, area_px: np.ndarray | None = None,
                     peer_still: float = math.nan) -> ThresholdChoice:
    """The threshold one animal is scored with (see the module's docstring): the
    protocol's number, or with ``threshold: auto`` one chosen from its own trace.

    The levels are measured in the scored window (the whole trace when that holds
    too few frames), on the frames where what was found is of about the animal's
    usual size (``area_px``, if given: within :data:`USUAL_AREA` of its median), so
    that a title card or a hand taken for the animal does not set them.
    ``smoothed``: the trace's mobility already smoothed (:func:`smooth_mobility`).
    ``peer_still``: the still level of the other animals in the same video (the
    median of theirs, :func:`behavior.fst.peers.set_peer_levels`); when this
    animal's is over :data:`PEER_RATIO` times it, theirs is used (method ``"peers"``).
    """
    if smoothed is None:
        smoothed = smooth_mobility(time_s, mobility, protocol.smoothing_s)
    t, levels = measured_levels(np.asarray(time_s, float), np.asarray(smoothed, float),
                                protocol, area_px)
    still = still_level(t, levels)
    peers = ""
    if (protocol.threshold == AUTO and math.isfinite(still) and math.isfinite(peer_still)
            and peer_still > 0 and still > PEER_RATIO * peer_still):
        peers = (f"its quietest stretches move {still:.3f}, {still / peer_still:.1f} times "
                 f"those of the other animals in this video ({peer_still:.3f}): it seems to "
                 "float rarely, if at all, so their still level was used")
        still = peer_still
    moving = moving_level(t, levels, still) if math.isfinite(still) else math.nan
    separation = (float(np.clip(1.0 - max(still, MIN_STILL) / moving, 0.0, 1.0))
                  if math.isfinite(moving) and moving > 0 else math.nan)
    reason = ""
    if not math.isfinite(still):
        reason = (f"too few frames with the animal to find its still level (fewer than "
                  f"{MIN_WINDOWS} windows of {QUIET_WINDOW_S:g} s)")
    elif not math.isfinite(moving):
        reason = "no sustained movement to tell its still level from"
    if protocol.threshold != AUTO:
        return ThresholdChoice(float(protocol.threshold), "fixed", still, moving, separation,
                               reason)
    if not math.isfinite(still):
        return ThresholdChoice(AUTO_FALLBACK, "fallback", still, moving, separation, reason)
    if still > MAX_STILL:
        # what moves less than floating can is still taken for floating: brief floats
        # of a gentle swimmer are still found, its paddling is not taken for them
        reason = (f"its quietest stretches move {still:.3f}, more than a floating "
                  f"animal's (at most {MAX_STILL:g}): it may never float, or only briefly")
        return ThresholdChoice(MAX_STILL, "fallback", still, moving, separation, reason)
    still = max(still, MIN_STILL)
    ratio = moving / still if math.isfinite(moving) else NO_MOVEMENT_RATIO
    threshold = still * max(ratio, 1.0) ** THRESHOLD_WEIGHT
    if peers:
        return ThresholdChoice(float(threshold), "peers", still, moving, separation,
                               "; ".join(filter(None, [peers, reason])))
    return ThresholdChoice(float(threshold), "auto", still, moving, separation, reason)


#: Frames where what was found is smaller or larger than its median size by more
#: than this factor do not set an animal's levels (:func:`choose_threshold`).
USUAL_AREA = 2.0


def measured_levels(t: np.ndarray, smoothed: np.ndarray, protocol: FstProtocol,
                    area_px: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The times and smoothed mobility the levels are measured on: the scored
    window's (else all), NaN where the area is unusual."""
    levels = smoothed.copy()
    if area_px is not None:
        area = np.asarray(area_px, float)
        usual = np.nanmedian(area) if np.isfinite(area).any() else math.nan
        with np.errstate(invalid="ignore"):
            odd = ~((area >= usual / USUAL_AREA) & (area <= usual * USUAL_AREA))
        levels[odd] = np.nan
    w0, w1 = protocol.window_s
    inside = (t >= w0) & (t < w1)
    if np.isfinite(levels[inside]).sum() and t[inside].size and \
            t[inside][-1] - t[inside][0] >= MIN_WINDOWS * QUIET_WINDOW_S * 2:
        return t[inside], levels[inside]
    return t, levels


def immobile_flags(time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol,
                   threshold: float | None = None, area_px: np.ndarray | None = None,
                   smoothed: np.ndarray | None = None, threshold_only: bool = False
                   ) -> np.ndarray:
    """Frames whose (smoothed) mobility is at or below the threshold: ``threshold``
    if given, else the protocol's (:func:`choose_threshold`, with ``area_px``); and
    frames a little above it whose mobility rises smoothly, without the flicker of
    strokes (:func:`smooth_rises`).

    Frames with no animal (NaN mobility) are never immobile. The minimum bout
    duration is applied afterwards, on bouts (:func:`immobility_bouts`).
    ``smoothed``: the mobility already smoothed (:func:`smooth_mobility`).
    ``threshold_only``: the frames at or below the threshold alone.
    """
    if smoothed is None:
        smoothed = smooth_mobility(time_s, mobility, protocol.smoothing_s)
    if threshold is None:
        threshold = choose_threshold(time_s, mobility, protocol, smoothed, area_px).threshold
    with np.errstate(invalid="ignore"):
        below = smoothed <= threshold
    if threshold_only:
        return below
    return below | smooth_rises(time_s, mobility, smoothed, below, threshold,
                                protocol.smoothing_s)


def immobility_bouts(
    time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol, end_s: float | None = None,
    threshold: float | None = None, smoothed: np.ndarray | None = None,
    threshold_only: bool = False,
) -> np.ndarray:
    """Immobility bouts ``[start_s, end_s)`` of at least ``protocol.min_bout_s``
    (``threshold``, ``smoothed``: as :func:`immobile_flags`), those less than
    ``protocol.brief_movement_s`` apart joined (:func:`join_brief_movements`).
    ``threshold_only``: from the frames at or below the threshold alone, none joined
    (what the score would be without its two rules for restless floating)."""
    flags = immobile_flags(time_s, mobility, protocol, threshold, smoothed=smoothed,
                           threshold_only=threshold_only)
    bouts = apply_min_bout(frames_to_bouts(time_s, flags, end_s), protocol.min_bout_s)
    if threshold_only:
        return bouts
    return join_brief_movements(bouts, time_s, mobility, protocol.brief_movement_s)


def join_brief_movements(bouts: np.ndarray, time_s: np.ndarray, mobility: np.ndarray,
                         brief_s: float) -> np.ndarray:
    """``bouts`` with each gap shorter than ``brief_s`` between two of them closed (a
    kick or a twitch while floating: one of the movements needed to keep the head
    above water), unless the animal was not found in a frame of the gap (NaN
    ``mobility``): what was not seen is never scored."""
    b = np.asarray(bouts, float).reshape(-1, 2)
    if brief_s <= 0 or len(b) < 2:
        return b
    unseen = np.asarray(time_s, float)[~np.isfinite(np.asarray(mobility, float))]
    merged = [b[0].copy()]
    for start, end in b[1:]:
        gap_start = merged[-1][1]
        lo, hi = np.searchsorted(unseen, [gap_start, start])
        if start - gap_start < brief_s - 1e-9 and hi == lo:
            merged[-1][1] = end
        else:
            merged.append(np.array([start, end]))
    return np.array(merged)


def score_mobility(
    time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol, end_s: float | None = None
) -> dict[str, float]:
    """Summary of one animal from its mobility trace (see :mod:`behavior.fst.summary`).

    Notes
    -----
    Immobility is scored as in DBscorer and EthoVision: a frame is immobile when the
    animal's mobility is at or below a threshold; stretches shorter than a minimum
    bout duration count as mobile. Two additions: a frame a little above the
    threshold whose mobility rises smoothly is immobile too (:func:`smooth_rises`),
    and so is a movement shorter than ``brief_movement_s`` between two bouts
    (:func:`join_brief_movements`). Time comes from frame timestamps, never from
    frame index × nominal frame rate. The threshold is the protocol's, or chosen
    for the animal (``threshold: auto``, :func:`choose_threshold`).
    """
    bouts = immobility_bouts(time_s, mobility, protocol, end_s)
    observed_end = end_s if end_s is not None else (float(time_s[-1]) if len(time_s) else 0.0)
    return summarize_bouts(
        bouts, protocol.window_s, protocol.duration_s, protocol.bin_s, observed_end_s=observed_end
    )
