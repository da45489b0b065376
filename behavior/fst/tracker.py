"""Following one animal in one arena, frame by frame, and measuring its mobility.

:class:`ArenaTracker` segments the animal against the arena's background (after
matching the frame's brightness to it), follows it in a box around where it was,
and compares its silhouette with those :data:`LAGS_S` seconds earlier once their
centroids coincide (:func:`aligned_change`: how much the most-changed patch of the
silhouette changed, the animal's drift removed). :func:`mobility_around` turns those
changes into one mobility value per frame that is local to the frame (not shifted
by the lag).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from behavior.fst.arenas import Arena

#: Times between the silhouettes compared by the mobility measure (s). Two lags,
#: because a limb paddling at exactly 1/lag Hz looks the same after one lag.
LAGS_S = (0.1, 0.2)


#: Frames between two searches of the whole arena for the animal.
REFIND_FRAMES = 30


#: Margin around the predicted box of the animal in the next frame (px).
BOX_MARGIN_PX = 12


#: A silhouette this many times the animal's usual area has merged with something
#: else darker (lighter) than the background, e.g. a shadow: it is cut back to the
#: pixels near the animal's core.
GROWTH_LIMIT = 2.0


#: Two separate pieces each at least this fraction of the largest: two animals?
TWIN_FRACTION = 0.5


#: The core: pixels differing from the background by this fraction of the contrast.
CORE_FRACTION = 0.5


#: Soft silhouettes: a pixel's membership rises linearly from 0 at SOFT_LOW times the
#: segmentation threshold to 1 at SOFT_HIGH times the animal's contrast (at least
#: twice the threshold); see :meth:`ArenaTracker._soft`.
SOFT_LOW = 0.5
SOFT_HIGH = 0.5


#: A soft silhouette's full membership (uint8).
SOFT_ONE = 255
#: Soft silhouettes for animals smaller than this (px). A larger animal's binary
#: silhouette had as low a mobility floor (with the earlier whole-silhouette measure,
#: 640x480, about 2100 px: 0.027 either way; 500 px: 0.040 binary, 0.029 soft) and
#: costs less to compare.
SOFT_BELOW_PX = 1500.0


#: The mobility measure's patch (:func:`aligned_change`): this fraction of the side
#: of a square of the animal's area (about a limb's length; at 1/2 and 1/4 the
#: synthetic sets scored about as well), and at least :data:`MIN_PATCH_PX`.
PATCH_FRACTION = 1 / 3
MIN_PATCH_PX = 3


class _Silhouette(NamedTuple):
    time_s: float
    mask: np.ndarray  # uint8: 0/1, or 0-SOFT_ONE (soft); local to its box
    cx: float  # centroid in the mask's local coordinates
    cy: float
    area: int
    mass: float = 0.0  # a soft mask's sum over SOFT_ONE (its area in whole pixels)
    soft: bool = False


def aligned_change(a: _Silhouette, b: _Silhouette) -> float:
    """How much the most-changed patch of two silhouettes changed once their centroids
    coincide: the mobility measure (0-1).

    b is moved onto a by the centroid difference (sub-pixel, bilinear, for soft
    silhouettes; the nearest whole pixel for binary ones). The absolute difference
    of the two is averaged over every square patch of side :func:`patch_side` (the
    outside counting as unchanged); the measure is the largest such average, in
    units of full membership.

    Why a patch, not the whole silhouette (EthoVision's changed-pixels ratio): a
    paddling limb changes a small part of the silhouette completely, while
    compression, camera noise and the water change all of it a little. Over the
    whole silhouette the two add up alike, and a gentle swimmer's paddling, at 40
    px long in a heavily compressed video, barely rises above its floating; over
    the most-changed patch the limb stands out. (On the synthetic sets of
    benchmarks/bench_fst_accuracy.py the range of single cut-offs that score an
    animal within 2 s became 2-5 times wider.)
    """
    return aligned_changes(a, (b,))[0]


def aligned_changes(a: _Silhouette, pasts: Sequence[_Silhouette | None]) -> list[float]:
    """:func:`aligned_change` of ``a`` with each of ``pasts`` (NaN for ``None``).

    All are compared on one canvas, the box holding ``a`` and every past silhouette
    moved onto it, so ``a`` is framed once per frame, not once per lag. (A larger
    canvas only adds patches that reach past the changed pixels; as differences are
    never negative, no such patch changed more than one inside, and the values are
    those of comparing each pair on its own.)
    """
    out = [math.nan] * len(pasts)
    ha, wa = a.mask.shape
    x0, y0, x1, y1 = 0, 0, wa, ha
    placed = []
    for i, b in enumerate(pasts):
        if b is None:
            continue
        soft = a.soft and b.soft
        total = (a.mass + b.mass) if soft else float(a.area + b.area)
        if total <= 0:
            continue
        dx, dy = a.cx - b.cx, a.cy - b.cy  # b's (u, v) lands on a's (u + dx, v + dy)
        hb, wb = b.mask.shape
        if soft:  # sub-pixel: bilinear, one pixel more where the shift is fractional
            x0, y0 = min(x0, math.floor(dx)), min(y0, math.floor(dy))
            x1, y1 = max(x1, math.ceil(wb + dx) + 1), max(y1, math.ceil(hb + dy) + 1)
        else:  # whole pixels: b only framed, not resampled
            dx, dy = round(dx), round(dy)
            x0, y0 = min(x0, dx), min(y0, dy)
            x1, y1 = max(x1, wb + dx), max(y1, hb + dy)
        placed.append((i, b, soft, total, dx, dy))
    if not placed:
        return out
    if x0 == 0 and y0 == 0 and x1 == wa and y1 == ha:
        canvas = a.mask
    else:
        canvas = cv2.copyMakeBorder(a.mask, -y0, y1 - ha, -x0, x1 - wa,
                                    cv2.BORDER_CONSTANT, value=0)
    for i, b, soft, total, dx, dy in placed:
        if soft:
            moved = cv2.warpAffine(b.mask, np.float32([[1, 0, dx - x0], [0, 1, dy - y0]]),
                                   (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
        else:
            hb, wb = b.mask.shape
            moved = cv2.copyMakeBorder(b.mask, dy - y0, y1 - hb - dy, dx - x0,
                                       x1 - wb - dx, cv2.BORDER_CONSTANT, value=0)
        k = patch_side(0.5 * total)
        sums = cv2.boxFilter(cv2.absdiff(canvas, moved), cv2.CV_32F, (k, k),
                             normalize=False, borderType=cv2.BORDER_CONSTANT)
        out[i] = min(1.0, cv2.minMaxLoc(sums)[1] / (k * k * (SOFT_ONE if soft else 1)))
    return out


def patch_side(area_px: float) -> int:
    """Side (px) of the patches over which :func:`aligned_change` looks for change:
    :data:`PATCH_FRACTION` of the side of a square of the animal's area, at least
    :data:`MIN_PATCH_PX`."""
    return max(MIN_PATCH_PX, int(round(PATCH_FRACTION * math.sqrt(max(area_px, 0.0)))))


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
    #: a silhouette this many times the usual area is cut back to the core (a shadow)
    growth_limit: float = GROWTH_LIMIT
    present: bool = True
    #: camera shake tolerated (px): radius by which the background is spread
    shake_px: float = 0.0
    #: weight of the current frame in each background update
    alpha: float = 0.025
    #: pixels of the background median cleared of an animal resting there (fill_ghost)
    ghost_px: int = 0
    #: measure the change between soft silhouettes (else binary ones)
    soft: bool = True
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
        self._near_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        # a difference's soft membership, (d - low) / (high - low) clipped to 0-1
        low = SOFT_LOW * self.threshold
        high = max(2.0 * self.threshold, SOFT_HIGH * self.contrast)
        levels = (np.arange(256, dtype=np.float64) - low) / (high - low)
        self._soft_lut = np.rint(SOFT_ONE * np.clip(levels, 0.0, 1.0)).astype(np.uint8)
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
                and cv2.countNonZero(found[0]) * s * s > self.growth_limit * self._area_ref):
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
        if self._area_ref is not None and area > self.growth_limit * self._area_ref:
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
            rate = 0.05 if area <= self.growth_limit * self._area_ref else 0.002
            self._area_ref += rate * (area - self._area_ref)
        if self.soft:
            soft = self._soft(diff, mask, kx, ky)
            if soft is not None:
                return soft._replace(time_s=time_s, area=area)
        return _Silhouette(time_s, mask, cx, cy, area, float(area), False)

    def _soft(self, diff: np.ndarray, mask: np.ndarray, kx: int, ky: int
              ) -> _Silhouette | None:
        """The soft silhouette around the binary blob ``mask`` (at ``kx, ky`` in ``diff``).

        Each pixel's membership rises linearly with its difference from the
        background (:data:`SOFT_LOW`, :data:`SOFT_HIGH`), within 2 px of the blob.
        A binary mask turns camera noise at the outline and the animal's sub-pixel
        drift into whole changed pixels (about a quarter of the outline between any
        two frames); a soft one changes there only by as much as the grey levels do,
        so the mobility of a still animal drops to near zero and slight paddling
        stands out. Sets the origin to the soft box's corner.
        """
        kh, kw = mask.shape
        h, w = diff.shape
        sx0, sy0 = max(0, kx - 2), max(0, ky - 2)
        sx1, sy1 = min(w, kx + kw + 2), min(h, ky + kh + 2)
        near = cv2.copyMakeBorder(mask, ky - sy0, sy1 - ky - kh, kx - sx0, sx1 - kx - kw,
                                  cv2.BORDER_CONSTANT, value=0)
        near = cv2.dilate(near, self._near_kernel)
        soft = cv2.multiply(cv2.LUT(diff[sy0:sy1, sx0:sx1], self._soft_lut), near)
        m = cv2.moments(soft)
        if m["m00"] <= 0:
            return None
        self._origin = (self._origin[0] - (kx - sx0), self._origin[1] - (ky - sy0))
        return _Silhouette(0.0, soft, m["m10"] / m["m00"], m["m01"] / m["m00"], 0,
                           m["m00"] / SOFT_ONE, True)

    def _changes(self, sil: _Silhouette) -> list[float]:
        """Change against the silhouette one lag ago, for each lag.

        A gap (animal lost) longer than the lag leaves the change unknown (NaN)
        rather than guessed.
        """
        ring = self._ring
        longest = max(self.lags_s)
        while len(ring) > 1 and ring[1].time_s <= sil.time_s - longest + 1e-9:
            ring.popleft()
        pasts = []
        for lag in self.lags_s:
            target = sil.time_s - lag
            # the newest silhouette at or before the target time
            past = None
            for old in ring:
                if old.time_s > target + 1e-9:
                    break
                past = old
            usable = past is not None and past.time_s >= target - lag
            pasts.append(past if usable else None)
        return aligned_changes(sil, pasts)

    def not_seen(self, time_s: float) -> None:
        """A frame in which the animal cannot be seen (a title card): an empty row."""
        self._lost(time_s)

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


def box_size(sigma_px: float) -> int:
    """Odd width of the box filter whose standard deviation is closest to ``sigma_px``."""
    if sigma_px <= 0:
        return 1
    k = int(round(math.sqrt(12 * sigma_px**2 + 1)))
    return k if k % 2 else k + 1 if (k + 1 - math.sqrt(12 * sigma_px**2 + 1)) < 0.5 else k - 1


def reduction_factor(width: int) -> int:
    """Factor by which frames are reduced to find the animal (1–4)."""
    return max(1, min(4, width // 160))


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
