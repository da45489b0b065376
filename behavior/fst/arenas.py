"""Arenas (cylinders) in a frame: given as rectangles or found automatically.

Arenas are numbered left to right from 1. A rectangle is ``x, y, w, h`` in pixels
of the decoded frame. They can come from the CLI (``--arena-rects``), from a
sidecar file next to the video (``<video>.arenas.yaml``), or be found from the
motion in the first seconds of the video: each cylinder holds one moving animal,
separated from its neighbours by opaque dividers where nothing moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml

from behavior.errors import InputError


@dataclass(frozen=True)
class Arena:
    """One cylinder: its number (1 = leftmost) and rectangle in frame pixels."""

    number: int
    x: int
    y: int
    w: int
    h: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)

    def as_text(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


def number_arenas(rects: list[tuple[int, int, int, int]]) -> list[Arena]:
    """Sort rectangles left to right (then top to bottom) and number them from 1."""
    ordered = sorted(rects, key=lambda r: (r[0] + r[2] / 2, r[1] + r[3] / 2))
    return [Arena(i + 1, *map(int, r)) for i, r in enumerate(ordered)]


def parse_rects(text: str, source: str = "--arena-rects") -> list[tuple[int, int, int, int]]:
    """Parse ``"x,y,w,h;x,y,w,h"`` into rectangles."""
    rects = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        try:
            values = [int(float(v)) for v in part.split(",")]
        except ValueError:
            raise InputError(source, f"arena rectangle '{part}' is not x,y,w,h numbers") from None
        if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
            raise InputError(source, f"arena rectangle '{part}' must be x,y,w,h with w, h > 0")
        rects.append(tuple(values))
    if not rects:
        raise InputError(source, "no arena rectangle given")
    return rects  # type: ignore[return-value]


def sidecar_path(video: str | Path) -> Path:
    video = Path(video)
    return video.with_name(video.name + ".arenas.yaml")


@dataclass(frozen=True)
class Sidecar:
    """Per-video settings read from ``<video>.arenas.yaml``.

    Example file::

        arenas: [[0, 0, 320, 480], [320, 0, 320, 480]]   # x, y, w, h per cylinder
        start_s: 4.5                                     # test starts 4.5 s into the video
        end_s: 335                                       # ... and ended early, 335 s in
        background: empty_apparatus.png                  # relative to the video's folder

    ``start_s`` may also be one time per arena, left to right (animals put in one
    after the other): ``start_s: [4.5, 12.0]``; so may ``end_s``, where the test
    ended when that was before ``duration_s`` (the animal taken out early).
    """

    rects: list[tuple[int, int, int, int]] | None = None
    start_s: float | tuple[float, ...] | None = None
    background: Path | None = None
    end_s: float | tuple[float, ...] | None = None


def read_sidecar(video: str | Path) -> Sidecar:
    """Settings from ``<video>.arenas.yaml`` next to the video (empty if there is none)."""
    path = sidecar_path(video)
    if not path.is_file():
        return Sidecar()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not set(data) <= {"arenas", "start_s", "end_s",
                                                       "background"}:
        raise InputError(path, "expected the keys 'arenas: [[x, y, w, h], ...]', 'start_s', "
                               "'end_s' and/or 'background'")
    rects = None
    if data.get("arenas") is not None:
        raw = data["arenas"]
        if not isinstance(raw, list) or not all(isinstance(r, list) for r in raw):
            raise InputError(path, "'arenas' must be a list of [x, y, w, h]")
        rects = parse_rects(";".join(",".join(str(v) for v in r) for r in raw), str(path))
    start = _seconds(data, "start_s", path)
    end = _seconds(data, "end_s", path)
    background = data.get("background")
    if background is not None:
        if not isinstance(background, str):
            raise InputError(path, f"'background' must be an image file name, got {background!r}")
        background = (path.parent / background).resolve()
    return Sidecar(rects, start, background, end)


def _seconds(data: dict, key: str, path: Path) -> float | tuple[float, ...] | None:
    """A sidecar time: seconds >= 0, or a list of them (one per arena)."""
    value = data.get(key)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                             and v >= 0 for v in values):
        raise InputError(path, f"'{key}' must be a number of seconds >= 0, or a list of "
                         f"them (one per arena, left to right), got {value!r}")
    return float(value) if not isinstance(value, list) else tuple(map(float, value))


def read_background(path: str | Path) -> np.ndarray:
    """A grey image of the empty apparatus (any format OpenCV reads)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(path, "cannot read the background image (missing or not an image)")
    return image


def clip_to_frame(arenas: list[Arena], width: int, height: int, source: str,
                  strict: bool = False) -> list[Arena]:
    """The arenas cut to the frame. ``strict`` (rectangles a person gave): one that
    reaches more than 2 px beyond the frame is an error, not quietly cut."""
    out = []
    for a in arenas:
        if strict and (a.x < -2 or a.y < -2 or a.x + a.w > width + 2
                       or a.y + a.h > height + 2):
            raise InputError(source, f"arena {a.number} ({a.as_text()}, x,y,w,h) reaches "
                             f"beyond the {width}x{height} frame (arena_rects)")
        x0, y0 = max(0, a.x), max(0, a.y)
        x1, y1 = min(width, a.x + a.w), min(height, a.y + a.h)
        if x1 - x0 < 8 or y1 - y0 < 8:
            raise InputError(source, f"arena {a.number} ({a.as_text()}) lies outside the "
                             f"{width}x{height} frame")
        out.append(Arena(a.number, x0, y0, x1 - x0, y1 - y0))
    return out


#: A divider: where nothing moves between two arenas. The temporal standard deviation
#: of the column there (averaged over the rows) is at most this fraction of the
#: usual (75th percentile) of the columns on either side. Synthetic cylinders: 0.21-
#: 0.38, 0.54 beside a cylinder whose animal floats still throughout; a real
#: one-chamber video, at the best place for a cut: 0.59 (but no edge there); one
#: cylinder, its animal on one side or not: 0.97-1.0.
DIVIDER_RATIO = 0.6
#: ... and a vertical edge in the background within 3 px of it: the median over the
#: rows of its horizontal step is at least this many grey levels per px (synthetic
#: dividers: 20-106; quiet water between an animal's places, or JPEG block edges in a
#: dim MJPEG video: 0-5.5; a real chamber's posts: up to 25, where things move on
#: one side only).
DIVIDER_EDGE = 10.0
#: Two animals seen at once, each in its own strip, in fewer than half the samples (one
#: of them rests where the median has absorbed it, so it is unseen in the others) is
#: still strong evidence when nothing at all moves between the strips: at each cut a
#: column as quiet as this (same ratio as :data:`DIVIDER_RATIO`; side-by-side
#: cylinders without dividers: 0.06-0.16 on the independent generator's footage, up
#: to 0.42 on ours; one chamber or cylinder at its quietest middle column: 0.37-1.4,
#: the real chamber 0.43) ...
QUIET_GAP_RATIO = 0.3
#: ... and the animals seen at once in at least this share of the samples (one chamber
#: or cylinder, a swimmer and its reflection or ghost: up to 0.30; two cylinders whose
#: left animal rests half the test: 0.50).
AT_ONCE_SHARE = 0.25
#: A quieter middle column than this (same ratio) hints at two arenas, not enough to
#: split: one arena, with a notice.
WEAK_DIVIDER_RATIO = 0.75
#: ... with a vertical edge of at least this (grey levels per px, as
#: :data:`DIVIDER_EDGE`) within 3 px of that column: without one, the quiet column is
#: the water beside an animal that keeps to one side, and nothing hints at two.
WEAK_DIVIDER_EDGE = 5.0


#: A blob this many times longer than wide (its bounding box) is a line, not an
#: animal: the edge of a wall or a divider, or the water's surface, moved by a shaken
#: camera (a synthetic video bumped half-way through: dividers 1-3 px wide over the
#: picture's whole height, 36-107 times; a swimming mouse about 3 times, a hanging
#: one 4).
LINE_RATIO = 8.0
#: Dividers of a rig of equal tanks, where the quietest columns are not at them (a
#: tank's corner that nothing visits is quieter): cuts equally spaced, the spacing
#: this fraction of the width over the arenas (tanks filling the picture: 1; with
#: margins beside the rig: less) ...
RIG_PITCH = (0.7, 1.0)
#: ... and the strips at the picture's sides this many spacings wide (a tank plus
#: a margin). The independent generator's four tanks: spacing 1.0, sides 0.97-1.03
#: (seeds 100012 and 200030, counted 2 and 3 without this); two tanks of unequal
#: width whose walls lie near a third and two thirds of the picture (seed 100018):
#: no such cuts, two arenas.
RIG_MARGIN = (0.85, 1.4)


def animal_blobs(diff: np.ndarray, cut: float, min_area: float) -> list[tuple[float, float]]:
    """``(area, x centroid)`` of the blobs of ``diff > cut`` (after a 3x3 closing) of at
    least ``min_area`` and 30 % of the largest, largest first; lines
    (:data:`LINE_RATIO`) left out."""
    import cv2

    binary = cv2.morphologyEx((diff > cut).astype(np.uint8), cv2.MORPH_CLOSE,
                              np.ones((3, 3), np.uint8))
    count, _, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    sides = np.sort(stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]], axis=1)
    blobs = sorted(((float(stats[i, cv2.CC_STAT_AREA]), float(centroids[i, 0]))
                    for i in range(1, count) if sides[i, 1] < LINE_RATIO * sides[i, 0]),
                   reverse=True)
    if not blobs or blobs[0][0] < min_area:
        return []
    return [b for b in blobs if b[0] >= max(min_area, 0.3 * blobs[0][0])]


class SeenBlobs(NamedTuple):
    """The blobs that differ from the background in each sample, per sign (1: darker
    than the background, -1: lighter), and the smallest an animal is taken to be."""

    blobs: dict[float, list[list[tuple[float, float]]]]
    smallest: float


def seen_blobs(samples: np.ndarray, background: np.ndarray, min_area: float = 4.0
               ) -> SeenBlobs:
    """The blobs :func:`count_animals` counts, found once for any number of counts
    (with or without strips)."""
    frames = samples.astype(np.float32)
    bg = background.astype(np.float32)
    gains = frames.mean(axis=(1, 2), keepdims=True) / max(float(bg.mean()), 1e-3)
    darker = bg[None] * gains - frames
    # one cut for both signs, from the largest differences either way (the animals')
    cut = max(8.0, 0.35 * float(np.percentile(np.abs(darker), 99.9)))
    blobs = {sign: [animal_blobs(sign * diff, cut, min_area) for diff in darker]
             for sign in (1.0, -1.0)}
    # an animal's size: the usual largest blob of either sign (pieces of a glare
    # flickering on a wall are far smaller)
    sizes = [max([b[0][0] for b in (blobs[1.0][i], blobs[-1.0][i]) if b] or [0.0])
             for i in range(len(darker))]
    return SeenBlobs(blobs, 0.3 * float(np.median(sizes)) if sizes else 0.0)


def strip_counts(seen: SeenBlobs, sign: float, bounds: Sequence[int] | None = None
                 ) -> list[int]:
    """Per sample, the blobs of ``sign`` of at least an animal's size, or with ``bounds``
    (column edges of strips) the strips they are in."""
    counts = []
    for found in seen.blobs[sign]:
        found = [b for b in found if b[0] >= seen.smallest]
        if bounds is None:
            counts.append(len(found))
        else:
            counts.append(len({int(np.searchsorted(bounds, x, side="right"))
                               for _, x in found}))
    return counts


def at_once_share(seen: SeenBlobs, bounds: Sequence[int]) -> float:
    """The share of the samples in which an animal-sized blob of one sign is seen in
    each of the strips between ``bounds`` (the inner column edges) at once."""
    return max(float(np.mean(np.asarray(strip_counts(seen, sign, bounds)) > len(bounds)))
               if seen.blobs[sign] else 0.0 for sign in (1.0, -1.0))


def count_animals(samples: np.ndarray | SeenBlobs, background: np.ndarray | None = None,
                  min_area: float = 4.0, bounds: Sequence[int] | None = None) -> int:
    """Number of animals seen at once: the median over samples of the blobs that
    differ from the background, all darker or all lighter (an animal that rested in
    the background leaves a blob of the other sign where it rested), and are at
    least 30 % of the largest blob's size; with ``bounds`` (column edges of strips),
    the strips those blobs are in (pieces of one animal are not two). Blobs under 30 %
    of the usual largest blob of either sign (an animal's size) are not counted.

    ``samples`` may be the :func:`seen_blobs` of the samples (then no background is
    needed), so that several counts look for the blobs once."""
    seen = samples if isinstance(samples, SeenBlobs) else seen_blobs(samples, background,
                                                                       min_area)
    best = 0
    for sign in (1.0, -1.0):
        counts = strip_counts(seen, sign, bounds)
        best = max(best, int(np.median(counts)) if counts else 0)
    return max(1, best)


def motion_profile(samples: np.ndarray) -> np.ndarray:
    """Per column, the temporal standard deviation of the brightness-matched samples,
    averaged over the rows."""
    frames = samples.astype(np.float32)
    # remove global lighting changes before measuring motion
    frames *= (frames.mean() / np.maximum(frames.mean(axis=(1, 2), keepdims=True), 1e-3))
    return frames.std(axis=0).mean(axis=0)


def strip_bounds(profile: np.ndarray, n: int) -> list[int]:
    """Column edges of ``n`` strips: 0, the quietest column near each of the ``n - 1``
    equal-spacing positions, and the width."""
    w = profile.size
    cuts = []
    for i in range(1, n):
        centre = i * w / n
        lo, hi = int(centre - w / (4 * n)), int(centre + w / (4 * n)) + 1
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    return [0, *cuts, w]


def edge_profile(background: np.ndarray) -> np.ndarray:
    """Per column, the median over the rows of the background's absolute horizontal
    step to the next column (grey levels per px): high where a vertical edge runs
    the whole height (a divider, a wall), low at edges of a few rows (compression
    blocks, an animal resting in the median)."""
    steps = np.median(np.abs(np.diff(np.asarray(background, np.float32), axis=1)), axis=0)
    return np.r_[steps, steps[-1:]]


def edge_near(edges: np.ndarray, column: int) -> float:
    """The strongest vertical edge (:func:`edge_profile`) within 3 px of ``column``."""
    return float(edges[max(0, column - 3):column + 4].max())


def dividers_for(profile: np.ndarray, n: int, edges: np.ndarray) -> bool:
    """Whether there are ``n - 1`` dividers (:func:`divider_bounds`)."""
    return divider_bounds(profile, n, edges) is not None


def divider_bounds(profile: np.ndarray, n: int, edges: np.ndarray) -> list[int] | None:
    """The column edges of ``n`` strips separated by ``n - 1`` dividers, or None.

    At each cut (:func:`strip_bounds`) a column where nothing moves between columns
    that do (:data:`DIVIDER_RATIO`), and a vertical edge in the background within 3 px
    of it (:data:`DIVIDER_EDGE`; the quiet water between two places an animal
    happened to be, in few samples, has none). Failing that, for three or more
    strips, the cuts of a rig of equal tanks (:func:`rig_bounds`), if they are as
    quiet: a tank's corner that nothing visits can be quieter than the divider
    beside it.
    """
    bounds = strip_bounds(profile, n)
    if _dividers_at(profile, bounds, edges):
        return bounds
    rig = rig_bounds(profile, n, edges) if n >= 3 else None
    return rig if rig is not None and _dividers_at(profile, rig, edges) else None


def rig_bounds(profile: np.ndarray, n: int, edges: np.ndarray) -> list[int] | None:
    """The column edges of ``n`` strips cut as regularly as a rig of equal tanks
    (:data:`RIG_PITCH`, :data:`RIG_MARGIN`), each cut within 3 px of a vertical edge
    in the background (:data:`DIVIDER_EDGE`: a divider, or the walls of two tanks
    side by side): of such sets the one whose busiest cut moves least; None if there
    is none."""
    w = profile.size
    near_edge = [edge_near(edges, c) >= DIVIDER_EDGE for c in range(w)]
    best, quietest = None, np.inf
    for first in range(max(1, int(w / n - w / (4 * n))), int(w / n + w / (4 * n)) + 1):
        for pitch in range(int(RIG_PITCH[0] * w / n), int(RIG_PITCH[1] * w / n) + 1):
            cuts = [first + k * pitch for k in range(n - 1)]
            ends = (first, w - cuts[-1])
            if (cuts[-1] >= w - 1 or not all(near_edge[c] for c in cuts)
                    or not RIG_MARGIN[0] * pitch <= min(ends) <= max(ends)
                    <= RIG_MARGIN[1] * pitch):
                continue
            motion = max(profile[c] for c in cuts)
            if motion < quietest:
                best, quietest = [0, *cuts, w], motion
    return best


def _dividers_at(profile: np.ndarray, bounds: Sequence[int], edges: np.ndarray) -> bool:
    """Whether each inner bound is a divider: quiet (:data:`DIVIDER_RATIO`) and within
    3 px of a vertical edge (:data:`DIVIDER_EDGE`)."""
    return all(ratio <= DIVIDER_RATIO and edge_near(edges, cut) >= DIVIDER_EDGE
               for cut, ratio in zip(bounds[1:-1], _cut_ratios(profile, bounds), strict=True))


def gap_ratios(profile: np.ndarray, n: int) -> tuple[list[int], list[float]]:
    """The column edges of ``n`` strips (:func:`strip_bounds`) and, at each cut, its
    motion as a fraction of the usual (75th percentile) of the strip on either side,
    whichever is less."""
    bounds = strip_bounds(profile, n)
    return bounds, _cut_ratios(profile, bounds)


def _cut_ratios(profile: np.ndarray, bounds: Sequence[int]) -> list[float]:
    levels = [np.percentile(profile[bounds[i]:bounds[i + 1]], 75)
              for i in range(len(bounds) - 1)]
    return [float(profile[bounds[i]] / max(min(levels[i - 1], levels[i]), 1e-9))
            for i in range(1, len(bounds) - 1)]


def count_arenas(samples: np.ndarray, background: np.ndarray, most: int = 4
                 ) -> tuple[int, str]:
    """How many side-by-side arenas, and the evidence: ``"dividers"`` (columns where
    nothing moves between columns that do, :func:`dividers_for`), ``"animals"`` (that
    many animals seen at once, in as many strips, in most samples,
    :func:`count_animals`; or in some, :data:`AT_ONCE_SHARE`, with nothing moving
    between the strips, :data:`QUIET_GAP_RATIO`: an animal resting where the median
    has absorbed it is unseen in the other samples; for three or four, the strips
    may also be those of a rig of equal tanks, :func:`rig_bounds`), or, for one
    arena, ``""`` (nothing hinted at more) or a weaker hint of two that was not
    enough to split: ``"two blobs"`` (two blobs at once) or ``"quiet middle"`` (a
    column in the middle moving less than :data:`WEAK_DIVIDER_RATIO` of either side,
    with at least a faint vertical edge there, :data:`WEAK_DIVIDER_EDGE`; without one
    it is the still water beside an animal that keeps to one side).
    A picture is split only on strong evidence: one chamber whose animal keeps to one
    side, or rests in the background, stays one arena."""
    raw = motion_profile(samples)
    edges = edge_profile(background)
    n_div = next((n for n in range(most, 1, -1) if dividers_for(raw, n, edges)), 1)
    smooth = moving_mean(raw, max(3, raw.size // 40))
    seen = seen_blobs(samples, background)
    n_anim = 1
    for n in range(most, 1, -1):
        bounds = strip_bounds(smooth, n)[1:-1]
        if count_animals(seen, bounds=bounds) >= n or (
                max(gap_ratios(raw, n)[1]) <= QUIET_GAP_RATIO
                and at_once_share(seen, bounds) >= AT_ONCE_SHARE):
            n_anim = n
            break
        # the quietest columns can lie in a tank's corner that nothing visits, the
        # strips then cutting through a tank: a rig of equal tanks is cut at its walls
        rig = rig_bounds(raw, n, edges) if n >= 3 else None
        if rig is not None and count_animals(seen, bounds=rig[1:-1]) >= n:
            n_anim = n
            break
    if n_div == 1 and n_anim == 1:
        # weaker hints of more: a quiet column in the middle, or two blobs at once
        if count_animals(seen) >= 2:
            return 1, "two blobs"
        bounds, (ratio,) = gap_ratios(raw, 2)
        if ratio <= WEAK_DIVIDER_RATIO:
            # with no edge there, it is the water between the places of an animal
            # that keeps to one side (nothing to doubt); with a faint one, it may be
            # a divider the picture shows poorly
            return 1, "quiet middle" if edge_near(edges, bounds[1]) >= WEAK_DIVIDER_EDGE else ""
        return 1, ""
    return (n_div, "dividers") if n_div >= n_anim else (n_anim, "animals")


def detect_arenas(samples: np.ndarray, n: int | None = None, scale: int = 1,
                  background: np.ndarray | None = None) -> list[Arena]:
    """Find side-by-side arenas from sampled grey frames.

    Parameters
    ----------
    samples
        ``(k, h, w)`` grey frames sampled over the video (any resolution).
    n
        Number of arenas if known; otherwise counted (:func:`count_arenas`).
    scale
        Factor from the samples' pixels to frame pixels.
    background
        The per-pixel median of ``samples``, if already known.

    Notes
    -----
    The column profile of the temporal standard deviation shows one hump per
    animal and a trough at each divider, where nothing moves. The frame is cut at
    the deepest trough near each of the ``n - 1`` equal-spacing positions.
    """
    k, h, w = samples.shape
    if n is None:
        median = np.median(samples, axis=0) if background is None else background
        n, _ = count_arenas(samples, median)
    raw = motion_profile(samples)
    profile = moving_mean(raw, max(3, w // 40))
    bounds = strip_bounds(profile, n)
    if n >= 3 and background is not None:
        # no dividers at the quietest columns: cut where a rig of equal tanks has its
        # dividers or walls, if the picture shows one
        edges = edge_profile(background)
        if not _dividers_at(raw, strip_bounds(raw, n), edges):
            bounds = rig_bounds(raw, n, edges) or bounds
    rects = [(bounds[i] * scale, 0, (bounds[i + 1] - bounds[i]) * scale, h * scale)
             for i in range(n)]
    return number_arenas(rects)


def moving_mean(values: np.ndarray, size: int) -> np.ndarray:
    """Moving mean over ``size`` samples, mirrored at the ends
    (``scipy.ndimage.uniform_filter1d``'s default, without importing SciPy in every
    scoring process)."""
    left = size // 2
    padded = np.pad(np.asarray(values, dtype=float), (left, size - 1 - left), mode="symmetric")
    sums = np.concatenate(([0.0], np.cumsum(padded)))
    return (sums[size:] - sums[:-size]) / size


def per_arena_times(times: float | Sequence[float] | None, n: int, name: str,
                    default: float = 0.0, what: str = "test start") -> list[float]:
    """One time per arena (s into the video, e.g. the test's start or end): one time
    for all, or one each (``default`` when none is given; ``what`` names the times
    in errors).

    Raises
    ------
    InputError
        When the number of times is neither 1 nor the number of arenas.
    """
    if times is None:
        return [default] * n
    if isinstance(times, (int, float)):
        return [float(times)] * n
    starts = [float(v) for v in times]
    if len(starts) == 1:
        return starts * n
    if len(starts) != n:
        raise InputError(name, f"{len(starts)} {what} times for {n} arenas; give one "
                         "time for all, or one per arena from left to right")
    return starts


def earliest_start(start_s: float | Sequence[float] | None) -> float:
    """The first test start of a video (s): the time, or the earliest arena's."""
    if isinstance(start_s, Sequence):
        return float(min(start_s)) if len(start_s) else 0.0
    return float(start_s or 0.0)


def write_sidecar(video: str | Path, sidecar: Sidecar) -> Path:
    """Write ``<video>.arenas.yaml`` (the file :func:`read_sidecar` reads), atomically.

    Values left None are not written; a background image inside the video's folder
    is written relative to it.
    """
    from behavior.io.atomic import write_text

    path = sidecar_path(video)
    data: dict[str, object] = {}
    if sidecar.rects:
        data["arenas"] = [[int(v) for v in r] for r in sidecar.rects]
    for key in ("start_s", "end_s"):
        value = getattr(sidecar, key)
        if value is not None:
            data[key] = list(map(float, value)) if isinstance(value, tuple) else float(value)
    if sidecar.background is not None:
        bg = Path(sidecar.background)
        try:
            bg = bg.resolve().relative_to(path.parent.resolve())
        except ValueError:
            pass
        data["background"] = str(bg)
    text = ("# arenas (x, y, w, h in pixels, left to right), test start/end (s), background\n"
            + yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
    return write_text(path, text)
