"""Video -> per-frame animal features for every arena.

For each arena the animal is segmented against a background model, and its
*mobility* is measured in the animal's own frame of reference:

1. **Background**: per-pixel median of key frames sampled over the whole video
   (so an animal that rests early is not part of it), then a slow running average (time constant ``protocol.background_s``) updated
   only where the animal is not, so a floating animal is not absorbed.
2. **Lighting**: each frame's brightness is matched to the background's (a gain
   from the arena's mean grey level) before differencing, so flicker and slow
   lighting changes are not movement.
3. **Segmentation**: ``|frame - background|`` with the animal's polarity (dark on
   light water or light on dark, found automatically), first on a reduced copy of
   the frame to find the animal, then at full resolution in a box around it
   (Gaussian blur ``protocol.blur_px``, threshold from the measured contrast and
   noise); the largest connected component is the animal.
4. **Mobility**: the silhouette now is compared with the silhouette
   :data:`LAG_S` seconds earlier after shifting it so the two centroids (then the
   best ±1 px) coincide. ``mobility = changed pixels / (area_now + area_then)``:
   EthoVision's ratio, but with the animal's drift with the water removed, and
   measured over a fixed time lag rather than one frame so that it does not
   depend on the frame rate. Ripples and reflections outside the animal do not
   enter; a small paddle changes few pixels relative to the body area.

Decoding runs in a background thread while tracking runs in the calling thread,
so the two overlap on a multi-core machine. Memory does not grow with video
length: frames are processed as they stream and only per-frame numbers are kept.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.fst.arenas import Arena, clip_to_frame, detect_arenas
from behavior.fst.immobility import immobile_flags
from behavior.fst.traces import TRACE_COLUMNS, Trace
from behavior.io.video import ArrayVideo, Frame, VideoReader
from behavior.protocols import FstProtocol

log = logging.getLogger(__name__)

#: Time between the two silhouettes compared by the mobility measure (s).
LAG_S = 0.2
#: Number of frames sampled over the video for the background median.
N_SAMPLES = 30
#: Fewer distinct key frames than this: sample the first INIT_S seconds instead.
MIN_KEYFRAMES = 8
#: Length of video sampled when key frames are too few (s).
INIT_S = 20.0
#: Smallest animal/background difference (grey levels) taken as an animal.
MIN_CONTRAST = 20.0
#: How often the background is updated (s of video).
BG_UPDATE_S = 0.5


def prefetch(frames: Iterable[Frame], depth: int = 48) -> Iterator[Frame]:
    """Iterate ``frames`` in a background thread (decoding overlaps the consumer)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in frames:
                if stop.is_set():
                    return
                q.put(item)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)
            return
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
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


class _Silhouette(NamedTuple):
    time_s: float
    mask: np.ndarray  # bool, local to its box
    cx: float  # centroid in the mask's local coordinates
    cy: float
    area: int


def aligned_change(a: _Silhouette, b: _Silhouette) -> float:
    """Pixels that differ between two silhouettes once their centroids coincide.

    The shift is refined over ±1 px to the best match; returns
    ``changed / (area_a + area_b)``.
    """
    dx = int(round(a.cx - b.cx))
    dy = int(round(a.cy - b.cy))
    ha, wa = a.mask.shape
    hb, wb = b.mask.shape
    # canvas holding a at (1 + max(0,-dx), ...) and b shifted by (dx, dy)
    ox_a, oy_a = 1 + max(0, -dx), 1 + max(0, -dy)
    ox_b, oy_b = ox_a + dx, oy_a + dy
    w = max(ox_a + wa, ox_b + wb) + 1
    h = max(oy_a + ha, oy_b + hb) + 1
    ca = np.zeros((h, w), bool)
    ca[oy_a:oy_a + ha, ox_a:ox_a + wa] = a.mask
    best = None
    for sy in (-1, 0, 1):
        for sx in (-1, 0, 1):
            cb = np.zeros((h, w), bool)
            y0, x0 = oy_b + sy, ox_b + sx
            if y0 < 0 or x0 < 0 or y0 + hb > h or x0 + wb > w:
                continue
            cb[y0:y0 + hb, x0:x0 + wb] = b.mask
            changed = int(np.count_nonzero(ca ^ cb))
            best = changed if best is None else min(best, changed)
    total = a.area + b.area
    return float(best) / total if total else math.nan


@dataclass
class ArenaTracker:
    """Segments the animal of one arena frame by frame and measures its mobility."""

    arena: Arena
    scale: int
    bg_full: np.ndarray  # float32, arena crop at full resolution
    polarity: float  # +1: animal darker than background
    threshold: float  # grey levels, full resolution (after blur)
    min_area_px: float
    blur_px: float
    lag_s: float = LAG_S
    present: bool = True
    rows: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    _ring: deque = field(default_factory=deque)
    _last_box: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        self._refresh_low()

    def _refresh_low(self) -> None:
        h, w = self.bg_full.shape
        s = self.scale
        self.bg_low = cv2.resize(self.bg_full, (w // s, h // s), interpolation=cv2.INTER_AREA)
        self.bg_low_mean = float(self.bg_low.mean())

    def update(self, time_s: float, full: np.ndarray, low: np.ndarray) -> None:
        """Process one frame (``full``: arena crop; ``low``: reduced arena crop)."""
        if not self.present:
            self.rows.append((time_s, math.nan, math.nan, math.nan, math.nan))
            return
        mean_now = float(cv2.mean(low)[0])
        gain = mean_now / self.bg_low_mean if self.bg_low_mean > 0 else 1.0
        self._gain = gain
        diff_low = (self.bg_low * gain - low.astype(np.float32)) * self.polarity
        # a reduced copy blurs thin features: a lower cut-off finds the animal
        _, mask_low = cv2.threshold(diff_low, 0.6 * self.threshold, 255, cv2.THRESH_BINARY)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask_low.astype(np.uint8), connectivity=8)
        min_low = self.min_area_px / (self.scale * self.scale) / 2
        best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else 0
        if best == 0 or stats[best, cv2.CC_STAT_AREA] < min_low:
            self._lost(time_s)
            return
        s = self.scale
        bx, by, bw, bh = (int(v) for v in stats[best, :4])
        margin = 2 * s + int(3 * self.blur_px) + 2
        h, w = full.shape
        x0, y0 = max(0, bx * s - margin), max(0, by * s - margin)
        x1, y1 = min(w, (bx + bw) * s + margin), min(h, (by + bh) * s + margin)
        crop = full[y0:y1, x0:x1].astype(np.float32)
        diff = (self.bg_full[y0:y1, x0:x1] * gain - crop) * self.polarity
        if self.blur_px > 0:
            diff = cv2.GaussianBlur(diff, (0, 0), self.blur_px)
        _, mask = cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)
        n, labels, stats, cents = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        if n <= 1:
            self._lost(time_s)
            return
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = int(stats[k, cv2.CC_STAT_AREA])
        if area < self.min_area_px:
            self._lost(time_s)
            return
        kx, ky, kw, kh = (int(v) for v in stats[k, :4])
        sil = _Silhouette(time_s, labels[ky:ky + kh, kx:kx + kw] == k,
                          float(cents[k, 0]) - kx, float(cents[k, 1]) - ky, area)
        self._last_box = (x0 + kx, y0 + ky, kw, kh)
        ring = self._ring
        target = time_s - self.lag_s
        while len(ring) > 1 and ring[1].time_s <= target + 1e-9:
            ring.popleft()
        # compare with the silhouette LAG_S ago; a gap (animal lost) of more than
        # twice the lag leaves the mobility unknown rather than guessed
        usable = ring and target - 2 * self.lag_s <= ring[0].time_s <= target + 1e-9
        mobility = aligned_change(sil, ring[0]) if usable else math.nan
        ring.append(sil)
        cx = self.arena.x + x0 + kx + sil.cx
        cy = self.arena.y + y0 + ky + sil.cy
        self.rows.append((time_s, cx, cy, float(area), mobility))

    def _lost(self, time_s: float) -> None:
        self._last_box = None
        self.rows.append((time_s, math.nan, math.nan, math.nan, math.nan))

    def update_background(self, full: np.ndarray) -> None:
        """Blend the current frame into the background away from the animal."""
        if not self.present:
            return
        gain = getattr(self, "_gain", 1.0) or 1.0
        mask = np.full(full.shape, 255, np.uint8)
        if self._last_box is not None:
            x, y, w, h = self._last_box
            pad = max(w, h) // 2 + 4
            mask[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad] = 0
        # the frame is brought to the background's brightness before blending
        cv2.accumulateWeighted(full.astype(np.float32) / gain, self.bg_full, self.alpha, mask)
        self._refresh_low()

    alpha: float = 0.025


@dataclass
class TrackingResult:
    """Traces of every arena of one video, plus what was noticed on the way."""

    video: str
    arenas: list[Arena]
    traces: list[Trace]
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)


def reduction_factor(width: int) -> int:
    """Factor by which frames are reduced to find the animal (1–4)."""
    return max(1, min(4, width // 160))


def _arena_thresholds(
    bg: np.ndarray, samples: np.ndarray, animal: str
) -> tuple[float, float, float, float]:
    """(polarity, threshold, contrast, noise) of one arena from background and samples."""
    gains = samples.reshape(len(samples), -1).mean(1) / max(float(bg.mean()), 1e-3)
    diffs = bg[None] * gains[:, None, None] - samples.astype(np.float32)
    med = float(np.median(diffs))
    noise = 1.4826 * float(np.median(np.abs(diffs - med))) + 0.5
    dark = float(np.percentile(diffs, 99.95))
    light = float(np.percentile(-diffs, 99.95))
    if animal == "dark" or (animal == "auto" and dark >= light):
        polarity, contrast = 1.0, dark
    else:
        polarity, contrast = -1.0, light
    threshold = max(5.0 * noise, 0.35 * contrast, 8.0)
    return polarity, threshold, contrast, noise


def _sample_indices(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def track_video(
    video: VideoReader | ArrayVideo,
    protocol: FstProtocol,
    arenas: list[Arena] | None = None,
    n_arenas: int | None = None,
    on_frame: Callable[[float], None] | None = None,
    start_s: float = 0.0,
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
        before it are skipped and trace times are measured from it.
    """
    name = str(video.path)
    warnings: list[str] = []
    samples = sample_frames(video, start_s)
    if not samples:
        raise InputError(name, "no frame could be decoded")
    height, width = samples[0].shape
    scale = reduction_factor(width)
    stack = np.stack(samples)
    background = np.median(stack, axis=0).astype(np.float32)

    if arenas is None:
        low = stack[:, ::scale, ::scale]
        arenas = detect_arenas(low, n=n_arenas, scale=scale)
    arenas = clip_to_frame(arenas, width, height, name)

    alpha = min(1.0, BG_UPDATE_S / protocol.background_s)
    trackers = []
    for arena in arenas:
        ys, xs = arena.slices
        # keep arena crops a multiple of the reduction factor
        h = (arena.h // scale) * scale
        w = (arena.w // scale) * scale
        arena = Arena(arena.number, arena.x, arena.y, w, h)
        bg = background[arena.y:arena.y + h, arena.x:arena.x + w].copy()
        polarity, threshold, contrast, noise = _arena_thresholds(
            bg, stack[:, arena.y:arena.y + h, arena.x:arena.x + w], protocol.animal)
        # an animal stands out well above the camera noise and the ripples
        present = contrast >= max(MIN_CONTRAST, 8.0 * noise)
        if not present:
            warnings.append(f"{name}: no animal found in arena {arena.number} "
                            f"(largest difference from the background {contrast:.0f} grey levels)")
        tracker = ArenaTracker(arena, scale, bg, polarity, threshold, protocol.min_area_px,
                               protocol.blur_px, present=present)
        tracker.alpha = alpha
        trackers.append(tracker)
    del stack, samples

    frames_iter = prefetch(_frames_from(video, start_s))
    low_size = (width // scale, height // scale)
    next_bg_t = BG_UPDATE_S
    n_frames = 0
    for frame in frames_iter:
        image = frame.image
        low = cv2.resize(image, low_size, interpolation=cv2.INTER_AREA)
        update_bg = frame.time_s >= next_bg_t
        for tr in trackers:
            a = tr.arena
            full = image[a.y:a.y + a.h, a.x:a.x + a.w]
            lo = low[a.y // scale:(a.y + a.h) // scale, a.x // scale:(a.x + a.w) // scale]
            if lo.shape != tr.bg_low.shape:
                lo = np.ascontiguousarray(lo[: tr.bg_low.shape[0], : tr.bg_low.shape[1]])
            tr.update(frame.time_s, full, lo)
            if update_bg:
                tr.update_background(full)
        if update_bg:
            next_bg_t = frame.time_s + BG_UPDATE_S
        n_frames += 1
        if on_frame is not None:
            on_frame(frame.time_s)
    if n_frames == 0:
        raise InputError(name, "no frame could be decoded")

    truncated = bool(getattr(video, "truncated", False))
    if truncated:
        warnings.append(f"{name}: the file breaks off after {trackers[0].rows[-1][0]:.2f} s; "
                        "the part that decoded was scored")
    traces = [_to_trace(name, tr, protocol, start_s) for tr in trackers]
    for tr, trace in zip(trackers, traces, strict=True):
        found = np.isfinite(trace.table["area_px"]).mean()
        if tr.present and found < 0.5:
            warnings.append(f"{name}: arena {tr.arena.number}: animal found in only "
                            f"{100 * found:.0f}% of frames")
    return TrackingResult(name, [t.arena for t in trackers], traces, truncated, warnings)


def _frames_from(video: VideoReader | ArrayVideo, start_s: float) -> Iterator[Frame]:
    """Grey frames from ``start_s`` on, timed from ``start_s``."""
    frames = video.frames(gray=True, start_s=start_s if start_s > 0 else None)
    if start_s <= 0:
        return frames
    return (Frame(f.index, f.time_s - start_s, f.image) for f in frames)


def sample_frames(video: VideoReader | ArrayVideo, start_s: float = 0.0) -> list[np.ndarray]:
    """About :data:`N_SAMPLES` grey frames spread over the whole video, for the background.

    Key frames are read at evenly spaced times (one decode each), so the
    background sees the animal in many places even if it rests early on. Files
    that do not seek, or have few key frames, are sampled over their first
    :data:`INIT_S` seconds instead.
    """
    duration = video.info.duration_s
    frames: list[Frame] = []
    if math.isfinite(duration) and duration > start_s + 1.0:
        times = list(np.linspace(start_s, duration - 0.5, N_SAMPLES))
        frames = video.keyframes_near(times, gray=True)
        frames = [f for f in frames if f.time_s >= start_s - 1e-6]
    if len(frames) >= MIN_KEYFRAMES:
        return [f.image for f in frames]
    images: list[np.ndarray] = []
    next_t = 0.0
    for frame in _frames_from(video, start_s):
        if frame.time_s >= next_t:
            images.append(frame.image.copy())
            next_t = frame.time_s + INIT_S / N_SAMPLES
        if frame.time_s >= INIT_S:
            break
    return images


def _to_trace(name: str, tracker: ArenaTracker, protocol: FstProtocol, start_s: float) -> Trace:
    rows = np.array(tracker.rows, dtype=float).reshape(-1, 5)
    time_s = rows[:, 0]
    table = pd.DataFrame({
        "frame": np.arange(len(rows)),
        "time_s": time_s,
        "x_px": rows[:, 1],
        "y_px": rows[:, 2],
        "area_px": rows[:, 3],
        "mobility": rows[:, 4],
    })
    table["immobile"] = immobile_flags(time_s, table["mobility"].to_numpy(), protocol).astype(np.int8)
    step = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 0.0
    meta = {
        "arena_rect_px": tracker.arena.as_text(),
        "threshold": f"{protocol.threshold:g}",
        "polarity": "dark" if tracker.polarity > 0 else "light",
        "segmentation_threshold": f"{tracker.threshold:.2f}",
        "lag_s": f"{tracker.lag_s:g}",
        "animal_found": str(tracker.present).lower(),
        "video_start_s": f"{start_s:g}",
    }
    return Trace(video=name, arena=tracker.arena.number, table=table.loc[:, list(TRACE_COLUMNS)],
                 end_s=float(time_s[-1] + step) if len(time_s) else 0.0, meta=meta)
