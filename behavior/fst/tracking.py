"""Video -> per-frame animal features for every arena.

For each arena the animal is segmented against a background model, and its
*mobility* is measured in the animal's own frame of reference:

1. **Background**: per-pixel median of key frames sampled over the whole video
   (so an animal that rests early is not part of it), then a slow running
   average (time constant ``protocol.background_s``) updated only where the
   animal is not, so a floating animal is not absorbed. An animal that rested in
   one place in most of the sampled frames is taken out of the median first
   (:func:`fill_ghost`).
2. **Lighting**: each frame's brightness is matched to the background's (a gain
   from the arena's mean grey level) before differencing, so flicker and slow
   lighting changes are not movement.
3. **Segmentation**: ``|frame - background|`` with the animal's polarity (dark on
   light water or light on dark, found automatically), first on a reduced copy of
   the frame to find the animal, then at full resolution in a box around it
   (Gaussian blur ``protocol.blur_px``, threshold from the measured contrast and
   noise); the largest connected component is the animal. The background it is
   compared with is spread by ``protocol.shake_px`` (its darkest value within that
   radius for a dark animal, lightest for a light one), so the edges of the
   cylinder, the water line and the dividers, moved by a knocked camera, are not
   taken for part of the animal. A silhouette that suddenly grows to over
   :data:`GROWTH_LIMIT` times the animal's usual area (a hand's shadow passing
   over it) is cut back to the pixels within 3 px of its core (differences over
   :data:`CORE_FRACTION` of the animal's contrast), which a shadow never reaches.
4. **Mobility**: the silhouette now is compared with the silhouettes
   :data:`LAGS_S` seconds earlier after shifting it so the two centroids (then the
   best ±1 px) coincide. ``change = changed pixels / (area_now + area_then)``:
   EthoVision's ratio, but with the animal's drift with the water removed, and
   measured over fixed time lags rather than one frame so that it does not
   depend on the frame rate. A frame's mobility combines the changes just before
   and just after it (:func:`mobility_around`), so bouts are not shifted by the
   lag. Ripples and reflections outside the animal do not enter; a small paddle
   changes few pixels relative to the body area.

Decoding runs in a background thread while tracking runs in the calling thread,
so the two overlap on a multi-core machine. Memory does not grow with video
length: frames are processed as they stream and only per-frame numbers are kept.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from behavior.errors import InputError, VideoError
from behavior.fst.arenas import (
    Arena,
    clip_to_frame,
    detect_arenas,
    earliest_start,
    per_arena_times,
)
from behavior.fst.immobility import immobile_flags
from behavior.fst.traces import TRACE_COLUMNS, Trace
from behavior.io.video import ArrayVideo, Frame, VideoReader
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

#: Raised whenever a change to tracking changes the traces it writes (2: long tests
#: tracked as two halves; 3: sampled frames unlike the rest, e.g. a title card, left
#: out of the background), so that ``fst score --resume`` tracks again rather than
#: mixing traces of two versions in one table.
TRACKING_REVISION = 3
#: Times between the silhouettes compared by the mobility measure (s). Two lags,
#: because a limb paddling at exactly 1/lag Hz looks the same after one lag.
LAGS_S = (0.1, 0.2)
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
#: Frames between two searches of the whole arena for the animal.
REFIND_FRAMES = 30
#: Smallest animal/background difference (grey levels) taken as an animal.
MIN_CONTRAST = 20.0
#: Margin around the predicted box of the animal in the next frame (px).
BOX_MARGIN_PX = 12
#: Fewest static edge points on which a camera shift is measured.
MIN_EDGE_POINTS = 200
#: Largest camera shift searched for in the sampled frames (px).
SHAKE_SEARCH_PX = 4
#: A silhouette this many times the animal's usual area has merged with something
#: else darker (lighter) than the background, e.g. a shadow: it is cut back to the
#: pixels near the animal's core.
GROWTH_LIMIT = 2.0
#: Two separate pieces each at least this fraction of the largest: two animals?
TWIN_FRACTION = 0.5
#: Seen in more than this share of the segmentations, an arena gets a warning that
#: it may hold two animals (two cylinders taken as one). Synthetic merged arenas: 1.0;
#: single animals with reflections, glints and shadows: under 0.005; a real mouse
#: with a title card and a grid floor: 0.19.
TWIN_SHARE = 0.5
#: Below this frame rate (frames per s) paddling is sampled too sparsely to be seen
#: reliably (a 5-Hz stroke filmed at 10 fps can look still, at 5 fps it always can):
#: a warning says immobility may be overestimated. Synthetic 2-min tests: errors
#: -1 to +10 s at 10 fps, +8 to +23 s at 5 fps; within 1 s at 8, 15 and 30 fps
#: (one -4.5 s at 15 fps).
MIN_FPS = 12.0
#: A sampled frame correlated with the median frame under this is not the test
#: (see :func:`unlike_the_rest`).
UNLIKE_R = 0.3
#: The core: pixels differing from the background by this fraction of the contrast.
CORE_FRACTION = 0.5
#: How often the background is updated (s of video).
BG_UPDATE_S = 2.0
#: Tests at least this long (s) are tracked as two halves, each with a decoder of its
#: own, so that one video keeps two cores busy (see :func:`track_video`).
SPLIT_MIN_S = 120.0
#: The second half starts this much early (s): its trackers find the animal, learn
#: its usual size and fill the mobility measure's lags before its rows count.
WARM_S = 2.0


def prefetch(frames: Iterable[Frame], depth: int = 8) -> Iterator[Frame]:
    """Iterate ``frames`` in a background thread (decoding overlaps the consumer)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        # frames travel in small batches: one queue hand-over per batch, not per frame
        batch: list[Frame] = []
        try:
            for item in frames:
                batch.append(item)
                if len(batch) == 8:
                    if stop.is_set():
                        return
                    q.put(batch)
                    batch = []
        except BaseException as exc:  # re-raised in the consumer
            if batch:
                q.put(batch)
            q.put(exc)
            return
        if batch:
            q.put(batch)
        q.put(done)

    worker = threading.Thread(target=produce, name="decoder", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


class _Silhouette(NamedTuple):
    time_s: float
    mask: np.ndarray  # uint8 0/1, local to its box
    cx: float  # centroid in the mask's local coordinates
    cy: float
    area: int


def aligned_change(a: _Silhouette, b: _Silhouette) -> float:
    """Pixels that differ between two silhouettes once their centroids coincide.

    Starting from the rounded centroid shift, the neighbouring whole-pixel shift
    is also tried on each axis whose fractional part is over 0.2 px, and the
    smaller count kept. Returns ``changed / (area_a + area_b)``.

    The changed pixels are counted as ``area_a + area_b - 2 * overlap``, the
    overlap being taken only where the two boxes meet, so no canvas is built.
    """
    fx, fy = a.cx - b.cx, a.cy - b.cy
    dx, dy = int(round(fx)), int(round(fy))
    total = a.area + b.area
    if not total:
        return math.nan
    best = total - 2 * _overlap(a.mask, b.mask, dx, dy)
    # the rounded centroid shift can be half a pixel off: try the neighbouring
    # shift on each axis where the fraction is not close to a whole pixel
    if abs(fx - dx) > 0.2:
        best = min(best, total - 2 * _overlap(a.mask, b.mask, dx + (1 if fx > dx else -1), dy))
    if abs(fy - dy) > 0.2:
        best = min(best, total - 2 * _overlap(a.mask, b.mask, dx, dy + (1 if fy > dy else -1)))
    return float(best) / total


def _overlap(a: np.ndarray, b: np.ndarray, dx: int, dy: int) -> int:
    """Pixels set in both ``a`` and ``b`` moved by ``(dx, dy)``.

    b's pixel (u, v) lands on a's pixel (u + dx, v + dy).
    """
    ha, wa = a.shape
    hb, wb = b.shape
    x0, x1 = max(0, dx), min(wa, wb + dx)
    y0, y1 = max(0, dy), min(ha, hb + dy)
    if x1 <= x0 or y1 <= y0:
        return 0
    both = cv2.bitwise_and(a[y0:y1, x0:x1], b[y0 - dy:y1 - dy, x0 - dx:x1 - dx])
    return cv2.countNonZero(both)


@dataclass
class ArenaTracker:
    """Segments the animal of one arena frame by frame and measures its mobility."""

    arena: Arena
    scale: int
    bg_full: np.ndarray  # float32, arena crop at full resolution
    polarity: float  # +1: animal darker than background
    threshold: float  # grey levels, full resolution (after blur)
    contrast: float  # the animal's difference from the background (grey levels)
    min_area_px: float
    blur_px: float
    lags_s: tuple[float, ...] = LAGS_S
    present: bool = True
    #: camera shake tolerated (px): radius by which the background is spread
    shake_px: float = 0.0
    #: weight of the current frame in each background update
    alpha: float = 0.025
    #: pixels of the background median cleared of an animal resting there (fill_ghost)
    ghost_px: int = 0
    #: per frame: time, x, y, area, then the change over each lag in ``lags_s``
    rows: list[tuple[float, ...]] = field(default_factory=list)
    _ring: deque = field(default_factory=deque)
    _last_box: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        self._refresh_background()
        self._since_search = 0
        self._step = (0, 0)
        self._gain = 1.0
        self._area_ref: float | None = None
        # 3 px around the core at full resolution; 1 px (about 3-4 px) when reduced
        self._core_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self._core_kernel_low = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._ksize = box_size(self.blur_px)
        self._pairs = 0  # segmentations that found two pieces of about the same size
        self._blobs = 0  # segmentations that found an animal

    def _refresh_background(self) -> None:
        # every 24th row is plenty for the mean grey level used by the gain (whole
        # rows: contiguous memory is much cheaper to read in a freshly decoded frame)
        self.bg_mean = float(self.bg_full[::24].mean())
        self.bg_u8 = cv2.convertScaleAbs(self.bg_full)
        r = int(round(self.shake_px))
        if r > 0:
            # each pixel compared with the darkest (dark animal) or lightest (light
            # animal) background within r px: a static edge moved by a shaken camera
            # then never looks like the animal; the animal, far darker or lighter
            # than anything it passes, loses nothing but a rim near dark structures
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
            spread = cv2.erode if self.polarity > 0 else cv2.dilate
            self.bg_u8 = spread(self.bg_u8, kernel)
        s = self.scale
        self.bg_low = np.ascontiguousarray(self.bg_u8[::s, ::s])

    def _difference(self, image: np.ndarray, background: np.ndarray) -> np.ndarray:
        """How much darker (or lighter, for a light animal) than the background, uint8.

        The image is first brought to the background's brightness (``self._gain``).
        """
        image = cv2.convertScaleAbs(image, alpha=1.0 / self._gain)
        if self.polarity > 0:
            return cv2.subtract(background, image)
        return cv2.subtract(image, background)

    def _blob(self, diff: np.ndarray, threshold: float, min_area: float):
        """Largest blob of ``diff > threshold`` plus pieces of it split off (e.g. by glare).

        Returns ``(mask, x, y, cx, cy)``: the filled blob in its bounding box, the
        box's corner in ``diff`` and the centroid in the box (from the outlines'
        moments), or ``None``.
        """
        _, binary = cv2.threshold(diff, threshold, 255, cv2.THRESH_BINARY)
        return self._binary_blob(binary, min_area)

    def _binary_blob(self, binary: np.ndarray, min_area: float):
        """:meth:`_blob` of an already thresholded image."""
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return None
        if len(contours) == 1:  # the usual case: no sorting out of pieces
            m = cv2.moments(contours[0])
            if m["m00"] < min_area:
                return None
            kept, points, (m00, m10, m01) = contours, contours[0], (m["m00"], m["m10"], m["m01"])
        else:
            moments = [cv2.moments(c) for c in contours]
            areas = [m["m00"] for m in moments]
            biggest = max(areas)
            if biggest < min_area:
                return None
            keep = [i for i, a in enumerate(areas) if a >= 0.15 * biggest]
            # two pieces of about the same size: two animals in one arena, most likely
            self._pairs += sum(a >= TWIN_FRACTION * biggest for a in areas) >= 2
            kept = [contours[i] for i in keep]
            points = np.concatenate(kept) if len(kept) > 1 else kept[0]
            m00, m10, m01 = (sum(moments[i][k] for i in keep) for k in ("m00", "m10", "m01"))
        self._blobs += 1
        x, y, w, h = cv2.boundingRect(points)
        mask = np.zeros((h, w), np.uint8)
        cv2.drawContours(mask, kept, -1, 1, thickness=cv2.FILLED, offset=(-x, -y))
        cx, cy = m10 / m00 - x, m01 / m00 - y
        return mask, x, y, cx, cy

    def _near_core(self, diff: np.ndarray, kernel: np.ndarray, min_area: float):
        """:meth:`_blob` of only the pixels within ``kernel`` of the animal's core
        (differences over :data:`CORE_FRACTION` of its contrast), which a shadow
        or a hand passing over it never reaches."""
        _, weak = cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)
        _, core = cv2.threshold(diff, max(self.threshold, CORE_FRACTION * self.contrast),
                                255, cv2.THRESH_BINARY)
        return self._binary_blob(cv2.bitwise_and(weak, cv2.dilate(core, kernel)), min_area)

    def _search_box(self, full: np.ndarray, gain: float) -> tuple[int, int, int, int] | None:
        """Find the animal anywhere in the arena on a reduced copy; box at full scale."""
        s = self.scale
        low = full[::s, ::s]
        diff = self._difference(low, self.bg_low[: low.shape[0], : low.shape[1]])
        found = self._blob(diff, self.threshold, self.min_area_px / (s * s) / 4)
        if found is None:
            return None
        if (self._area_ref is not None
                and cv2.countNonZero(found[0]) * s * s > GROWTH_LIMIT * self._area_ref):
            found = self._near_core(diff, self._core_kernel_low,
                                    self.min_area_px / (s * s) / 4) or found
        mask, bx, by = found[:3]
        bh, bw = mask.shape
        return bx * s, by * s, bw * s, bh * s

    def update(self, time_s: float, full: np.ndarray) -> None:
        """Process one frame (``full``: this arena's part of the grey frame)."""
        if not self.present:
            self._lost(time_s)
            return
        sample_mean = cv2.mean(full[::24])[0]
        gain = sample_mean / self.bg_mean if self.bg_mean > 0 and sample_mean > 0 else 1.0
        self._gain = gain
        # follow the animal in a box around where it was; search the whole arena
        # when it was lost, touches the box edge, or once a second
        box = self._last_box if self._since_search < REFIND_FRAMES else None
        sil = self._segment(time_s, full, gain, box)
        if sil is None and box is not None:
            sil = self._segment(time_s, full, gain, None)
        if sil is None:
            self._lost(time_s)
            return
        changes = self._changes(sil)
        self._ring.append(sil)
        self.rows.append((time_s, self.arena.x + sil.cx + self._origin[0],
                          self.arena.y + sil.cy + self._origin[1], float(sil.area), *changes))

    def _segment(self, time_s: float, full: np.ndarray, gain: float,
                 box: tuple[int, int, int, int] | None) -> _Silhouette | None:
        if box is None:
            box = self._search_box(full, gain)
            self._since_search = 0
            self._step = (0, 0)
            if box is None:
                return None
            pad = 2 * self.scale + int(3 * self.blur_px) + 2
        else:
            self._since_search += 1
            # the box moves on by the last frame's step; the margin covers twice
            # that step (a sudden start) plus a fixed allowance for a change of shape
            sx, sy = self._step
            box = (box[0] + sx, box[1] + sy, box[2], box[3])
            pad = BOX_MARGIN_PX + 2 * max(abs(sx), abs(sy)) + int(3 * self.blur_px)
        h, w = full.shape
        x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
        x1, y1 = min(w, box[0] + box[2] + pad), min(h, box[1] + box[3] + pad)
        diff = self._difference(full[y0:y1, x0:x1], self.bg_u8[y0:y1, x0:x1])
        if self._ksize > 1:
            # a box filter of the same standard deviation: ~10x faster than a
            # Gaussian on such small crops, and as good against pixel noise
            diff = cv2.blur(diff, (self._ksize, self._ksize))
        found = self._blob(diff, self.threshold, self.min_area_px)
        if found is None:
            return None
        area = cv2.countNonZero(found[0])
        if self._area_ref is not None and area > GROWTH_LIMIT * self._area_ref:
            # far bigger than the animal has been: something darker than the
            # background (a shadow, a hand) has joined it
            core = self._near_core(diff, self._core_kernel, self.min_area_px)
            if core is not None:
                found, area = core, cv2.countNonZero(core[0])
        mask, kx, ky, cx, cy = found
        kh, kw = mask.shape
        touches = (kx == 0 and x0 > 0) or (ky == 0 and y0 > 0) or \
                  (kx + kw == x1 - x0 and x1 < w) or (ky + kh == y1 - y0 and y1 < h)
        if touches and self._since_search > 0:
            return None  # the animal left the box: search again
        if self._last_box is not None and self._since_search > 0:
            self._step = (x0 + kx - self._last_box[0], y0 + ky - self._last_box[1])
        self._last_box = (x0 + kx, y0 + ky, kw, kh)
        self._origin = (x0 + kx, y0 + ky)
        # the usual area follows the animal within about 20 frames, but a lasting
        # growth (an animal first seen partly hidden) only over about 500, so a
        # shadow of a few seconds never becomes the usual
        if self._area_ref is None:
            self._area_ref = float(area)
        else:
            rate = 0.05 if area <= GROWTH_LIMIT * self._area_ref else 0.002
            self._area_ref += rate * (area - self._area_ref)
        return _Silhouette(time_s, mask, cx, cy, area)

    def _changes(self, sil: _Silhouette) -> list[float]:
        """Change against the silhouette one lag ago, for each lag.

        A gap (animal lost) longer than the lag leaves the change unknown (NaN)
        rather than guessed.
        """
        ring = self._ring
        longest = max(self.lags_s)
        while len(ring) > 1 and ring[1].time_s <= sil.time_s - longest + 1e-9:
            ring.popleft()
        changes = []
        for lag in self.lags_s:
            target = sil.time_s - lag
            # the newest silhouette at or before the target time
            past = None
            for old in ring:
                if old.time_s > target + 1e-9:
                    break
                past = old
            usable = past is not None and past.time_s >= target - lag
            changes.append(aligned_change(sil, past) if usable else math.nan)
        return changes

    def _lost(self, time_s: float) -> None:
        self._last_box = None
        self.rows.append((time_s, math.nan, math.nan, math.nan, *([math.nan] * len(self.lags_s))))

    def update_background(self, full: np.ndarray) -> None:
        """Blend the current frame into the background away from the animal."""
        if not self.present:
            return
        gain = self._gain or 1.0
        mask = np.full(full.shape, 255, np.uint8)
        if self._last_box is not None:
            x, y, w, h = self._last_box
            pad = max(w, h) // 2 + 4
            mask[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad] = 0
        # the frame is brought to the background's brightness before blending
        cv2.accumulateWeighted(cv2.convertScaleAbs(full, alpha=1.0 / gain), self.bg_full,
                               self.alpha, mask)
        self._refresh_background()


@dataclass
class TrackingResult:
    """Traces of every arena of one video, plus what was noticed on the way."""

    video: str
    arenas: list[Arena]
    traces: list[Trace]
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)


def box_size(sigma_px: float) -> int:
    """Odd width of the box filter whose standard deviation is closest to ``sigma_px``."""
    if sigma_px <= 0:
        return 1
    k = int(round(math.sqrt(12 * sigma_px**2 + 1)))
    return k if k % 2 else k + 1 if (k + 1 - math.sqrt(12 * sigma_px**2 + 1)) < 0.5 else k - 1


def reduction_factor(width: int) -> int:
    """Factor by which frames are reduced to find the animal (1–4)."""
    return max(1, min(4, width // 160))


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
    areas = largest_blobs(bg, samples, polarity, threshold)
    return float(np.mean(areas >= min_area)) if len(areas) else 0.0


def without_resting_animal(
    bg: np.ndarray, samples: np.ndarray, animal: str, min_area: float
) -> tuple[np.ndarray, ArenaStats, int, str | None]:
    """The arena's background and statistics, with an animal that rested in one
    place taken out of the median (:func:`fill_ghost`); also the pixels replaced,
    and a note for the user when the animal's colour had to be decided this way.

    Such a ghost also looks like an animal of the other polarity (the floor, seen
    when the animal is away, differs from the ghost the other way), so with
    ``animal: auto`` and differences of both signs of similar size, the polarity
    chosen is the one under which an animal is seen in more of the samples; a
    real animal is somewhere in every frame, the floor under a ghost only now
    and then.
    """
    stats = arena_thresholds(bg, samples, animal)
    filled, n_px = fill_ghost(bg, samples, stats.polarity, stats.threshold, min_area)
    if n_px:
        stats = arena_thresholds(filled, samples, "dark" if stats.polarity > 0 else "light")
    if animal != "auto" or stats.other < 0.5 * stats.contrast:
        return filled, stats, n_px, None
    flipped, n_flip = fill_ghost(bg, samples, -stats.polarity, stats.threshold, min_area)
    if not n_flip:
        return filled, stats, n_px, None
    flip_stats = arena_thresholds(flipped, samples, "dark" if stats.polarity < 0 else "light")
    seen = presence(filled, samples, stats.polarity, stats.threshold, min_area)
    seen_flip = presence(flipped, samples, flip_stats.polarity, flip_stats.threshold, min_area)
    if seen_flip > seen + 0.2:
        colour = "dark" if flip_stats.polarity > 0 else "light"
        other = "light" if colour == "dark" else "dark"
        note = (f"the animal's colour was not clear from the background alone: taken as "
                f"{colour} (seen in {100 * seen_flip:.0f}% of the sampled frames, "
                f"{100 * seen:.0f}% as {other}); if wrong, set animal: {other}")
        return flipped, flip_stats, n_flip, note
    return filled, stats, n_px, None


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
    brightness-matched first. An animal that never leaves its place in nine tenths
    of the samples stays in the background: give an image of the empty apparatus.

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
) -> TrackingResult:
    """Track every arena of a video and return one :class:`Trace` per arena.

    Parameters
    ----------
    video
        An open video (file or in-memory).
    protocol
        Scoring parameters (blur, background time constant, polarity, minimum
        area, threshold for the ``immobile`` column of the traces).
    arenas
        Arena rectangles; found from the motion when ``None``.
    n_arenas
        Number of arenas to find (when ``arenas`` is ``None``); counted if ``None``.
    on_frame
        Called with each frame's time (for progress bars).
    start_s
        Where the test starts in the video (s), e.g. after a title card; frames
        before it are skipped and trace times are measured from it. One time per
        arena (left to right) when the animals were put in one after the other.
    pipelined
        Decode in a background thread while tracking (two cores for one video);
        ``False`` does both in the calling thread (when videos run in parallel
        processes, each should keep to one core).
    background
        A grey image of the empty apparatus, used instead of the median of the
        sampled frames — needed when the animal stays in one place for most of
        the test (e.g. tail suspension), where the median would contain it.
    end_s
        Where the test ended in the video (s, the clock of ``start_s``) when that
        was before ``protocol.duration_s`` (the animal taken out early): later
        frames are not part of the test. One time, or one per arena.
    helper
        Where the second half of a long test is tracked (:data:`SPLIT_MIN_S`): a
        worker process or thread pool (one core for each half). ``None``: a thread
        of its own when ``pipelined``, else this thread after the first half. The
        numbers are the same wherever it runs.

    Notes
    -----
    A test of :data:`SPLIT_MIN_S` or more in a file that seeks is always tracked as
    two halves, each from its own decoder: the second half starts :data:`WARM_S`
    early (its trackers settle on the animal there) and keeps its rows from the
    middle on. Both halves start from the same background and thresholds.
    """
    name = str(video.path)
    # what the user should know: about the whole video, and about one arena
    notes: list[str] = []
    arena_notes: dict[int, list[str]] = {}
    first_start = earliest_start(start_s)
    samples, sample_times, seekable = sample_video(video, first_start)
    if not samples:
        raise InputError(name, "no frame could be decoded")
    height, width = samples[0].shape
    scale = reduction_factor(width)
    stack, median, note = without_odd_samples(np.stack(samples), sample_times)
    notes.extend([note] if note else [])
    own_background = background is None
    if background is None:
        background = median
        if protocol.test == "tst":
            notes.append("tail suspension scored without an image of the empty apparatus: "
                         "an animal hanging in one place is part of the median of the "
                         "video's frames and may be lost; give one with --background")
    else:
        background = np.asarray(background, dtype=np.float32)
        if background.shape != (height, width):
            raise InputError(name, f"background image is {background.shape[1]}x"
                             f"{background.shape[0]}, the video {width}x{height}")

    if arenas is None:
        arenas = locate_arenas(stack, n_arenas, name, median)
    arenas = clip_to_frame(arenas, width, height, name)
    starts = per_arena_times(start_s, len(arenas), name)
    # arenas are numbered left to right, and their start times follow that order
    start_of = dict(zip(sorted(a.number for a in arenas), starts, strict=True))
    ends = per_arena_times(end_s, len(arenas), name, default=math.inf, what="test end")
    # each arena's test length: the protocol's, or less where the test ended early
    length_of = {}
    for number, end in zip(sorted(a.number for a in arenas), ends, strict=True):
        if end <= start_of[number]:
            raise InputError(name, f"arena {number}: the test ends ({end:g} s) before it "
                             f"starts ({start_of[number]:g} s)")
        length_of[number] = min(protocol.duration_s, end - start_of[number])

    alpha = min(1.0, BG_UPDATE_S / protocol.background_s)
    shake, note = measure_shake(stack, background, protocol)
    notes.extend([note] if note else [])
    trackers = []
    for arena in arenas:
        # keep arena crops a multiple of the reduction factor
        h = (arena.h // scale) * scale
        w = (arena.w // scale) * scale
        arena = Arena(arena.number, arena.x, arena.y, w, h)
        arena_notes[arena.number] = []
        bg, stats, ghost_px, note = arena_background(background, stack, arena, protocol,
                                                     own_background and not shake)
        if note:
            arena_notes[arena.number].append(f"arena {arena.number}: {note}")
        if ghost_px:
            log.info("%s: arena %d: an animal resting in one place was taken out of "
                     "the background (%d px)", name, arena.number, ghost_px)
        polarity, threshold, contrast, noise = stats[:4]
        # an animal stands out well above the camera noise and the ripples
        present = contrast >= max(MIN_CONTRAST, 8.0 * noise)
        if not present:
            arena_notes[arena.number].append(
                f"no animal found in arena {arena.number} (largest difference from the "
                f"background {contrast:.0f} grey levels)")
        trackers.append(ArenaTracker(arena, scale, bg, polarity, threshold, contrast,
                                     protocol.min_area_px,
                                     protocol.blur_px, present=present, alpha=alpha,
                                     shake_px=float(shake), ghost_px=ghost_px))
    del stack, samples

    # frames are timed from the first start; each arena's times from its own
    offsets = [start_of[tr.arena.number] - first_start for tr in trackers]
    # the test is over in every arena: later frames (the animal taken out, the next
    # one put in) are not decoded
    test_end = max(off + length_of[tr.arena.number] for tr, off in zip(trackers, offsets,
                                                                        strict=True))
    span = test_end
    if math.isfinite(video.info.duration_s):
        span = min(span, video.info.duration_s - first_start)
    if seekable and span >= SPLIT_MIN_S:
        # the middle, such that both halves decode as much (the second half's
        # warm-up included)
        n_frames, truncated = _track_in_halves(video, trackers, offsets, first_start,
                                               (span + WARM_S) / 2, test_end, span,
                                               on_frame, helper, pipelined)
    else:
        frames_iter: Iterator[Frame] = _frames_from(video, first_start)
        if pipelined:
            frames_iter = prefetch(frames_iter)
        try:
            n_frames = _follow(frames_iter, trackers, offsets, test_end, on_frame)
        finally:
            # the decoding thread stops now, not when the generator is collected:
            # an error here (Ctrl-C) would otherwise leave it decoding a file that is
            # being closed, which crashes the interpreter
            close = getattr(frames_iter, "close", None)
            if close is not None:
                close()
        truncated = bool(getattr(video, "truncated", False))
    if n_frames == 0:
        raise InputError(name, "no frame could be decoded")

    times = np.array([row[0] for row in trackers[0].rows]) if trackers else np.empty(0)
    if times.size > 2:
        fps = 1.0 / float(np.median(np.diff(times)))
        if fps < MIN_FPS:
            notes.append(f"{fps:.1f} frames per s: paddling faster than {fps / 2:.1f} Hz is "
                         "not seen reliably, so immobility may be overestimated; record at "
                         f"{MIN_FPS:g} fps or more")
    if truncated:
        notes.append(f"the file breaks off after {trackers[0].rows[-1][0]:.2f} s; "
                     "the part that decoded was scored")
    traces = [_to_trace(name, tr, protocol, start_of[tr.arena.number],
                        length_of[tr.arena.number]) for tr in trackers]
    for tr, trace in zip(trackers, traces, strict=True):
        twins = tr._pairs / tr._blobs if tr._blobs else 0.0
        if twins > TWIN_SHARE:
            arena_notes[tr.arena.number].append(
                f"arena {tr.arena.number}: two animals of about the same size in "
                f"{100 * twins:.0f}% of frames — two cylinders taken as one arena? Give "
                "--arenas N or --arena-rects, and check with fst preview")
        found = np.isfinite(trace.table["area_px"]).mean()
        if tr.present and found < 0.5:
            arena_notes[tr.arena.number].append(
                f"arena {tr.arena.number}: animal found in only {100 * found:.0f}% of frames")
        # kept with the trace, so the results table shows them, also when re-scored
        trace.meta["warnings"] = " | ".join(notes + arena_notes[tr.arena.number])
    warnings = [f"{name}: {w}" for w in notes]
    warnings += [f"{name}: {w}" for tr in trackers for w in arena_notes[tr.arena.number]]
    return TrackingResult(name, [t.arena for t in trackers], traces, truncated, warnings)


def measure_shake(stack: np.ndarray, background: np.ndarray,
                  protocol: FstProtocol) -> tuple[float, str | None]:
    """The protocol's ``shake_px``, measured from the samples when ``auto``, and a
    note for the user when the camera moves."""
    if protocol.shake_px != "auto":
        return float(protocol.shake_px), None
    shifts = camera_shifts(stack, background)
    shake = shake_radius(shifts)
    if not shake:
        return 0.0, None
    return float(shake), (f"the camera moves (up to {int(np.abs(shifts).max())} px between "
                          f"sampled frames); edges that move up to {shake} px are not taken "
                          "for the animal (protocol shake_px: auto)")


def arena_background(background: np.ndarray, stack: np.ndarray, arena: Arena,
                     protocol: FstProtocol, clear_ghost: bool
                     ) -> tuple[np.ndarray, ArenaStats, int, str | None]:
    """One arena's background crop and statistics, as tracking uses them.

    With ``clear_ghost`` (a background made from the video, a steady camera) an
    animal resting in one place is taken out of it (:func:`without_resting_animal`).
    Returns the background, the statistics, the pixels cleared and a note.
    """
    ys, xs = slice(arena.y, arena.y + arena.h), slice(arena.x, arena.x + arena.w)
    bg, crop = background[ys, xs].copy(), stack[:, ys, xs]
    if clear_ghost:
        return without_resting_animal(bg, crop, protocol.animal, protocol.min_area_px)
    return bg, arena_thresholds(bg, crop, protocol.animal), 0, None


def _frames_from(video: VideoReader | ArrayVideo, start_s: float,
                 origin_s: float | None = None) -> Iterator[Frame]:
    """Grey frames from ``start_s`` on, timed from ``origin_s`` (default ``start_s``)."""
    frames = video.frames(gray=True, start_s=start_s if start_s > 0 else None)
    origin = start_s if origin_s is None else origin_s
    if origin == 0:
        return frames
    return (Frame(f.index, f.time_s - origin, f.image) for f in frames)


def _follow(frames: Iterable[Frame], trackers: list[ArenaTracker], offsets: list[float],
            stop_s: float, on_frame: Callable[[float], None] | None,
            keep_s: float = -math.inf) -> int:
    """Track ``frames`` (timed from the first start) up to ``stop_s``, every arena.

    Rows of frames before ``keep_s`` (a half's warm-up) are dropped at the end, and
    what they added to the twin counts taken off again. Returns the frames kept.
    """
    next_bg_t: float | None = None
    kept = 0
    counts: list[tuple[int, int]] | None = None
    for frame in frames:
        t = frame.time_s
        if t >= stop_s - 1e-9:
            break
        if next_bg_t is None:
            next_bg_t = t + BG_UPDATE_S
        if counts is None and t >= keep_s - 1e-9:
            counts = [(tr._pairs, tr._blobs) for tr in trackers]
        image = frame.image
        update_bg = t >= next_bg_t
        for tr, offset in zip(trackers, offsets, strict=True):
            a = tr.arena
            full = image[a.y:a.y + a.h, a.x:a.x + a.w]
            tr.update(t - offset, full)
            if update_bg:
                tr.update_background(full)
        if update_bg:
            next_bg_t = t + BG_UPDATE_S
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


class _HalfRows(NamedTuple):
    rows: list[list[tuple[float, ...]]]  # per arena
    pairs: list[int]
    blobs: list[int]
    frames: int
    truncated: bool


def _run_half(half: _Half, video: VideoReader | ArrayVideo | None = None,
              on_frame: Callable[[float], None] | None = None) -> _HalfRows:
    """Track the second half: in ``video`` (after the first half, this thread) or,
    when ``None``, in a decoder of its own (a helper thread or process)."""
    reader = VideoReader(half.path, threads=1) if video is None else video
    try:
        frames = _frames_from(reader, half.origin_s + half.from_s, half.origin_s)
        try:
            first = next(frames, None)
        except VideoError:
            # a decoder of its own found nothing from there on: the file ends (is
            # cut off) before the second half, as the first half's decoder finds
            first = None
        if first is not None and first.time_s > half.from_s + WARM_S / 2:
            # the seek landed late (a broken index): decode from the start instead
            log.info("%s: seeking to %.1f s landed at %.1f s; decoding from the start",
                     half.path, half.origin_s + half.from_s, half.origin_s + first.time_s)
            frames = (f for f in _frames_from(reader, 0.0, half.origin_s)
                      if f.time_s >= half.from_s - 1e-9)
        elif first is not None:
            frames = itertools.chain([first], frames)
        n = _follow(frames, half.trackers, half.offsets, half.stop_s, on_frame, half.keep_s)
        return _HalfRows([tr.rows for tr in half.trackers], [tr._pairs for tr in half.trackers],
                         [tr._blobs for tr in half.trackers], n,
                         bool(getattr(reader, "truncated", False)))
    finally:
        if video is None:
            reader.close()


class _Stopped(Exception):
    """Stops a helper thread's second half when the call it works for has ended."""


def _run_half_in_worker(half: _Half) -> _HalfRows:
    cv2.setNumThreads(1)  # the worker has one core: the other is tracking the first half
    return _run_half(half)


def _track_in_halves(video: VideoReader | ArrayVideo, trackers: list[ArenaTracker],
                     offsets: list[float], origin_s: float, mid_s: float, stop_s: float,
                     span_s: float, on_frame: Callable[[float], None] | None,
                     helper: Executor | None, pipelined: bool) -> tuple[int, bool]:
    """Track the first half here and the second in ``helper`` (see :func:`track_video`);
    the second half's rows are added to ``trackers``. Returns (frames, truncated)."""
    half = _Half(str(video.path), origin_s, mid_s - WARM_S, mid_s, stop_s,
                 copy.deepcopy(trackers), list(offsets))
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
                future = helper.submit(_run_half, copy.deepcopy(half), None, check)
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
        n = _follow(_frames_from(video, origin_s), trackers, offsets, mid_s, progress)
        if getattr(video, "truncated", False):
            # the file breaks off in the first half: nothing after that counts
            if future is not None:
                future.cancel()
            return n, True
        second = None
        if future is not None:
            try:
                second = future.result()
            except Exception as exc:  # tracked again here, where an error is reported
                log.debug("second half failed in the helper (%s); tracking it here", exc)
        if second is None:
            second = _run_half(half, video, on_frame)
        for i, tr in enumerate(trackers):
            tr.rows.extend(second.rows[i])
            tr._pairs += second.pairs[i]
            tr._blobs += second.blobs[i]
        return n + second.frames, second.truncated
    finally:
        stop.set()
        if own_pool is not None:
            own_pool.shutdown(wait=False, cancel_futures=True)


def locate_arenas(stack: np.ndarray, n_arenas: int | None, name: str,
                  background: np.ndarray | None = None) -> list[Arena]:
    """Arenas found from the animals in ``(n, h, w)`` sampled grey frames, numbered
    left to right (``n_arenas`` of them if given, else counted). ``background``:
    the frames' per-pixel median, if already known (else the median of the frames
    not unlike the rest, :func:`without_odd_samples`)."""
    height, width = stack.shape[1:]
    scale = reduction_factor(width)
    if background is None:  # from the samples, less any title card and the like
        stack, background, _ = without_odd_samples(stack)
    median = background[::scale, ::scale]
    arenas = detect_arenas(stack[:, ::scale, ::scale], n=n_arenas, scale=scale,
                           background=median)
    return clip_to_frame(arenas, width, height, name)


def sample_frames(video: VideoReader | ArrayVideo, start_s: float = 0.0) -> list[np.ndarray]:
    """About :data:`N_SAMPLES` grey frames spread over the whole video, for the background.

    Key frames are read at evenly spaced times (one decode each), so the
    background sees the animal in many places even if it rests early on. Files
    that do not seek, or have few key frames, are decoded from the start and
    sampled evenly over their first :data:`INIT_S` seconds (the whole test when it
    is shorter).
    """
    return sample_video(video, start_s).images


def without_odd_samples(stack: np.ndarray, times: Sequence[float] | None = None
                        ) -> tuple[np.ndarray, np.ndarray, str | None]:
    """The sampled frames without those unlike the rest (:func:`unlike_the_rest`),
    their median, and a note naming the frames left out (at ``times``).

    Such frames (a title card, say) would be taken for a huge animal and spoil the
    background, the animal's colour, the thresholds and the arenas. They are left
    out only when they are a third of the samples or fewer.
    """
    median = stack_median(stack)
    odd = unlike_the_rest(stack, median)
    if not 0 < odd.sum() <= len(stack) // 3:
        return stack, median, None
    where = "" if times is None else f" at {_times_text(np.asarray(times)[odd])}"
    note = (f"the frames sampled{where} look nothing like the rest of the video (a title "
            "card, a covered lens, the lights off?): they were left out of the background; "
            "if the test starts after them, set start_s in the video's .arenas.yaml (or "
            "--start-s)")
    stack = stack[~odd]
    return stack, stack_median(stack), note


def _times_text(times: np.ndarray) -> str:
    """``0.0-6.5 s`` for sampled times, or a list when they are not one stretch."""
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"{times.min():.1f}-{times.max():.1f} s ({len(times)} frames)"


class Samples(NamedTuple):
    images: list[np.ndarray]
    times_s: list[float]  # in the video's clock
    seekable: bool  # read by seeking to key frames (with real timestamps)


def sample_video(video: VideoReader | ArrayVideo, start_s: float = 0.0) -> Samples:
    """:func:`sample_frames` with their times, and whether they came from seeking
    to key frames (the file seeks, with real timestamps, to enough places)."""
    duration = video.info.duration_s
    frames: list[Frame] = []
    if math.isfinite(duration) and duration > start_s + 1.0:
        times = list(np.linspace(start_s, duration - 0.5, N_SAMPLES))
        frames = video.keyframes_near(times, gray=True)
        frames = [f for f in frames if f.time_s >= start_s - 1e-6]
    if len(frames) >= MIN_KEYFRAMES:
        return Samples([f.image for f in frames], [f.time_s for f in frames], True)
    span = min(INIT_S, duration - start_s) if math.isfinite(duration) else INIT_S
    span = max(span, 1.0)
    images: list[np.ndarray] = []
    at: list[float] = []
    next_t = 0.0
    for frame in _frames_from(video, start_s):
        if frame.time_s >= next_t:
            images.append(frame.image.copy())
            at.append(start_s + frame.time_s)
            next_t = frame.time_s + span / N_SAMPLES
        if frame.time_s >= span:
            break
    return Samples(images, at, False)


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


def unlike_the_rest(stack: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Which sampled frames look nothing like the video's median frame: correlated
    with it (every fourth pixel of every fourth row) under :data:`UNLIKE_R`. A
    title card, a covered lens, the lights off; not an animal, a hand, ripples,
    the lights dimmed or a shaken camera (the least correlated sample of each of
    33 synthetic FST videos: 0.70-0.98; of the real recordings: 0.99; a real title
    card: 0.00-0.10)."""
    return likeness(stack[:, ::4, ::4], median[::4, ::4]) < UNLIKE_R


def mobility_around(
    time_s: np.ndarray, changes: np.ndarray, lags_s: tuple[float, ...]
) -> np.ndarray:
    """Mobility of each frame from the silhouette changes over several lags.

    ``changes[i, k]`` is the change from ``lags_s[k]`` before frame ``i`` up to it
    (the *backward* change). The change from frame ``i`` to ``lags_s[k]`` after it
    (the *forward* change) is the backward change of the first frame at least
    ``lags_s[k]`` later. Mobility = min(max over lags of the backward changes,
    max over lags of the forward changes).

    Notes
    -----
    The maximum over lags stops a limb rhythm whose period equals one lag from
    looking still. The minimum of backward and forward makes the measure local to
    the frame: when the animal stops moving at ``s``, the backward change stays high
    until ``s + lag`` but the forward change is already low, so the bout starts at
    ``s``; when it starts moving at ``e``, the forward change rises at ``e - lag``
    while the backward change stays low until ``e``. Bouts are therefore not
    shifted by the lag, and a single brief paddle inside a bout is counted only
    around its own moment.
    """
    backward = _nanmax_rows(changes)
    forward_parts = []
    for k, lag in enumerate(lags_s):
        j = np.searchsorted(time_s, time_s + lag - 1e-9)
        part = np.full(time_s.size, np.nan)
        inside = j < time_s.size
        part[inside] = changes[j[inside], k]
        forward_parts.append(part)
    forward = _nanmax_rows(np.column_stack(forward_parts)) if forward_parts else backward
    return np.fmin(backward, forward)


def _nanmax_rows(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape[0], np.nan)
    some = ~np.isnan(values).all(axis=1)
    out[some] = np.nanmax(values[some], axis=1)
    return out


def _to_trace(name: str, tracker: ArenaTracker, protocol: FstProtocol, start_s: float,
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
    flags = immobile_flags(time_s, table["mobility"].to_numpy(), protocol)
    table["immobile"] = flags.astype(np.int8)
    step = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 0.0
    meta = {
        "arena_rect_px": tracker.arena.as_text(),
        "protocol": protocol.name,
        "threshold": f"{protocol.threshold:g}",
        "smoothing_s": f"{protocol.smoothing_s:g}",
        "min_bout_s": f"{protocol.min_bout_s:g}",
        "polarity": "dark" if tracker.polarity > 0 else "light",
        "segmentation_threshold": f"{tracker.threshold:.2f}",
        "shake_px": f"{tracker.shake_px:g}",
        "resting_animal_cleared_px": str(tracker.ghost_px),
        "lags_s": ",".join(f"{lag:g}" for lag in tracker.lags_s),
        "animal_found": str(tracker.present).lower(),
        "video_start_s": f"{start_s:g}",
    }
    return Trace(video=name, arena=tracker.arena.number, table=table.loc[:, list(TRACE_COLUMNS)],
                 end_s=min(float(time_s[-1] + step), length) if len(time_s) else 0.0,
                 meta=meta)
