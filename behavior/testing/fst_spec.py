"""Synthetic forced swim videos: what to make (:class:`SyntheticSpec`) and the truth
that comes with it (:class:`GroundTruth`). See docs/synthetic_fst.md for the scene,
the behaviour states, the bouts and the opt-in nuisances."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavior.fst.summary import frames_to_bouts

#: Behaviour states, in the order of their integer codes.
STATES = ("immobile", "swimming", "struggling")


IMMOBILE, SWIMMING, STRUGGLING = 0, 1, 2


#: Columns of :meth:`GroundTruth.to_frame`.
TRUTH_COLUMNS = ("arena", "frame", "time_s", "state", "immobile", "x_px", "y_px")


#: Columns of :attr:`GroundTruth.events` (the opt-in nuisances, one row per event).
EVENT_COLUMNS = ("kind", "arena", "start_s", "end_s", "size")


#: Opt-in nuisances of the benchmark's hard condition: ``SyntheticSpec(..., **HARD)``.
HARD = {"weak_swimming": 0.4, "camera_shake": 1.25, "reflections": 3.0, "table_bumps": 0.5}


#: Codec name -> (encoder, pixel format).
CODECS = {
    "h264": ("libx264", "yuv420p"),
    "mjpeg": ("mjpeg", "yuvj420p"),
    "mpeg4": ("mpeg4", "yuv420p"),
    "ffv1": ("ffv1", "gray"),  # lossless: decoded frames equal the rendered ones
}


#: Container suffixes accepted by :func:`write_video`.
CONTAINERS = (".mp4", ".mov", ".mkv", ".avi")


_EARLY_S = 120.0  # the first two minutes of the mouse FST


_LAG_S = 0.15  # first-order lag smoothing state changes


@dataclass(frozen=True)
class SyntheticSpec:
    """What to render. See the module docstring for what each option does.

    Parameters
    ----------
    duration_s, fps, width, height
        Length, nominal frame rate and frame size.
    n_arenas
        Cylinders side by side (1–4), each with its own animal.
    immobility_fraction
        Target fraction of immobile time (0–1), one value or one per arena.
    seed
        Seed of everything random.
    vfr
        Jittered frame intervals written as per-frame timestamps.
    early_mobile
        The first 120 s aim at ``0.35 * immobility_fraction`` (realistic escape phase).
    animal
        ``"dark"`` (dark mouse, light water) or ``"light"`` (white mouse, dark scene).
    drift, ripples, flicker, noise_sigma
        Switch off the nuisances one by one (``noise_sigma=0`` for no noise);
        ``ripples`` covers the surface waves, caustics and glare shimmer.
    drift_scale
        Multiplies the passive drift speed of a floating animal (default 1: 5–25
        s px/s; 3 gives 15–75 s px/s, e.g. water still moving after a struggle).
    weak_swimming
        Share (0–1) of the swimming bouts that are weak: slow travel (10–25 s px/s)
        and small strokes (±12–18°). Still mobile in the ground truth. Default 0.
    camera_shake
        SD in frame pixels of a jitter of the whole image (camera on a tripod that
        people touch), with occasional sharp knocks. Not movement. Default 0 (off).
    reflections
        Light passing over a cylinder (a bright glint or a hand's shadow crossing
        it in 1–3 s), events per minute. Not movement. Default 0 (off).
    table_bumps
        Someone knocks the bench: the water sloshes (4–10 s px waves) and the
        caustics flare; events per minute. Not movement. Default 0 (off).
    swim_vigour
        ``(low, high)``: each swimming bout's vigour is drawn from this range, from
        0 (barely paddling: both hind limbs stroke ±12–20° at 2–4 Hz, the forelimbs,
        body and tail nearly still, travel 2–8 s px/s) to 1 (the swimming above).
        Still mobile in the ground truth (:attr:`GroundTruth.vigour`). Default
        ``(1, 1)``: every bout at full vigour, as before.
    animal_scale
        Multiplies the animal's size (and its speeds, in its own lengths); the
        scene keeps its size. Default 1.
    brightness, light_step
        The whole picture (before camera noise) multiplied by ``brightness`` (dim
        below 1, bright above), and from ``light_step = (time_s, factor)`` on by
        ``factor`` as well (a light switched on or off). Defaults 1 and None.
    x_range
        ``(low, high)``, fractions of the cylinder's width: the animal's centre
        stays within them (an animal keeping to one side). Default ``(0, 1)``.
    start_immobile
        The first bout is immobile (unless ``early_mobile``): an animal that floats
        from the first frame. Default False.

    :data:`HARD` holds the values of the benchmark's hard condition.
    """

    duration_s: float = 360.0
    fps: float = 30.0
    width: int = 640
    height: int = 480
    n_arenas: int = 1
    immobility_fraction: float | Sequence[float] = 0.5
    seed: int = 0
    vfr: bool = False
    animal: str = "dark"
    drift: bool = True
    ripples: bool = True
    flicker: bool = True
    noise_sigma: float = 2.0
    early_mobile: bool = False
    drift_scale: float = 1.0
    weak_swimming: float = 0.0
    camera_shake: float = 0.0
    reflections: float = 0.0
    table_bumps: float = 0.0
    swim_vigour: tuple[float, float] = (1.0, 1.0)
    animal_scale: float = 1.0
    brightness: float = 1.0
    light_step: tuple[float, float] | None = None
    x_range: tuple[float, float] = (0.0, 1.0)
    start_immobile: bool = False

    def __post_init__(self) -> None:
        if not (self.duration_s > 0 and math.isfinite(self.duration_s)):
            raise ValueError(f"duration_s must be positive, got {self.duration_s}")
        if not (1.0 <= self.fps <= 240.0):
            raise ValueError(f"fps must be between 1 and 240, got {self.fps}")
        if not (1 <= self.n_arenas <= 4):
            raise ValueError(f"n_arenas must be 1 to 4, got {self.n_arenas}")
        if self.width < 64 * self.n_arenas or self.height < 64:
            raise ValueError(
                f"frame {self.width}x{self.height} too small for {self.n_arenas} arena(s); "
                "need at least 64 px per arena"
            )
        if self.width % 2 or self.height % 2:
            raise ValueError(f"width and height must be even, got {self.width}x{self.height}")
        if self.animal not in ("dark", "light"):
            raise ValueError(f"animal must be 'dark' or 'light', got {self.animal!r}")
        if self.noise_sigma < 0:
            raise ValueError(f"noise_sigma must be >= 0, got {self.noise_sigma}")
        if not (0 <= self.drift_scale <= 10):
            raise ValueError(f"drift_scale must be within 0-10, got {self.drift_scale}")
        for name, top in (
            ("weak_swimming", 1.0),
            ("camera_shake", 10.0),
            ("reflections", 60.0),
            ("table_bumps", 30.0),
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= top:
                raise ValueError(f"{name} must be within 0-{top:g}, got {value}")
        for name, low, high in (("swim_vigour", 0.0, 1.0), ("x_range", 0.0, 1.0)):
            pair = tuple(float(v) for v in getattr(self, name))
            if len(pair) != 2 or not low <= pair[0] <= pair[1] <= high:
                raise ValueError(f"{name} must be (low, high) within {low:g}-{high:g}, "
                                 f"got {getattr(self, name)}")
            object.__setattr__(self, name, pair)
        if self.x_range[1] - self.x_range[0] < 0.05:
            raise ValueError(f"x_range must span at least 0.05, got {self.x_range}")
        if not 0.2 <= self.animal_scale <= 4.0:
            raise ValueError(f"animal_scale must be within 0.2-4, got {self.animal_scale}")
        if not 0.1 <= self.brightness <= 2.0:
            raise ValueError(f"brightness must be within 0.1-2, got {self.brightness}")
        if self.light_step is not None:
            step = tuple(float(v) for v in self.light_step)
            if len(step) != 2 or step[0] < 0 or not 0.1 <= step[1] <= 4.0:
                raise ValueError(f"light_step must be (time_s >= 0, factor 0.1-4), "
                                 f"got {self.light_step}")
            object.__setattr__(self, "light_step", step)
        if not isinstance(self.immobility_fraction, (int, float)):
            # a tuple keeps the frozen spec hashable
            fractions = tuple(float(v) for v in self.immobility_fraction)
            object.__setattr__(self, "immobility_fraction", fractions)
        for f in self.fractions():
            if not 0.0 <= f <= 1.0:
                raise ValueError(f"immobility_fraction must be within 0-1, got {f}")

    def fractions(self) -> tuple[float, ...]:
        """Target immobile fraction per arena."""
        f = self.immobility_fraction
        if isinstance(f, (int, float)):
            return (float(f),) * self.n_arenas
        values = tuple(float(v) for v in f)
        if len(values) != self.n_arenas:
            raise ValueError(
                f"immobility_fraction has {len(values)} values for {self.n_arenas} arenas"
            )
        return values


@dataclass
class GroundTruth:
    """Per-frame truth of a synthetic video.

    Attributes
    ----------
    time_s
        Presentation time of each frame (s), as written to the container.
    end_s
        End of the last frame (s).
    states
        ``(n_arenas, n_frames)`` state names (see :data:`STATES`).
    immobile
        ``(n_arenas, n_frames)`` True where the state is ``immobile``.
    centroid_px
        ``(n_arenas, n_frames, 2)`` x, y of the body centre in full-frame pixels.
    arena_rects
        ``x, y, w, h`` of each cylinder interior, arena 1 first.
    weak_swimming
        ``(n_arenas, n_frames)`` True in the frames of a weak swimming bout (a
        subset of the ``swimming`` frames; all False unless ``weak_swimming``).
    shake_px
        ``(n_frames, 2)`` dx, dy by which the whole image is translated
        (``camera_shake``; zeros without it). ``centroid_px`` and ``arena_rects``
        are in the unshaken scene: the body centre appears at
        ``centroid_px + shake_px``.
    vigour
        ``(n_arenas, n_frames)`` vigour (0–1) of the swimming bout each frame is
        in (``swim_vigour``; 1 for full swimming), NaN when not swimming.
    events
        The opt-in nuisance events, columns :data:`EVENT_COLUMNS`: ``kind``
        (``"camera_knock"``, ``"glint"``, ``"shadow"`` or ``"table_bump"``),
        ``arena`` (the cylinder crossed; 0 for the whole frame), ``start_s``,
        ``end_s`` and ``size`` (knock px, glint grey levels, shadow darkening
        fraction, table-bump wave amplitude px). Empty without them.

    Truths pickled before these existed load with them ``None``.
    """

    time_s: np.ndarray
    end_s: float
    states: np.ndarray
    immobile: np.ndarray
    centroid_px: np.ndarray
    arena_rects: list[tuple[int, int, int, int]]
    weak_swimming: np.ndarray | None = None
    shake_px: np.ndarray | None = None
    events: pd.DataFrame | None = None
    vigour: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.time_s.size)

    def bouts(self, arena: int) -> np.ndarray:
        """Immobile bouts ``[start_s, end_s)`` of ``arena`` (numbered from 1)."""
        a = self._index(arena)
        return frames_to_bouts(self.time_s, self.immobile[a], end_s=self.end_s)

    def immobility_fraction(
        self, arena: int, start_s: float = 120.0, end_s: float | None = None
    ) -> float:
        """Fraction of ``[start_s, end_s)`` (default: to the end) the animal is immobile."""
        end = self.end_s if end_s is None else min(end_s, self.end_s)
        if end <= start_s:
            raise ValueError(f"empty window {start_s}-{end} s (video ends at {self.end_s} s)")
        b = np.clip(self.bouts(arena), start_s, end)
        return float((b[:, 1] - b[:, 0]).sum() / (end - start_s))

    def to_frame(self) -> pd.DataFrame:
        """Long table, one row per arena and frame: columns :data:`TRUTH_COLUMNS`."""
        n_a, n_f = self.immobile.shape
        return pd.DataFrame(
            {
                "arena": np.repeat(np.arange(1, n_a + 1), n_f),
                "frame": np.tile(np.arange(n_f), n_a),
                "time_s": np.tile(self.time_s, n_a),
                "state": self.states.reshape(-1),
                "immobile": self.immobile.reshape(-1),
                "x_px": self.centroid_px[..., 0].reshape(-1),
                "y_px": self.centroid_px[..., 1].reshape(-1),
            },
            columns=list(TRUTH_COLUMNS),
        )

    def _index(self, arena: int) -> int:
        if not 1 <= arena <= self.immobile.shape[0]:
            raise ValueError(f"arena {arena} out of range 1-{self.immobile.shape[0]}")
        return arena - 1
