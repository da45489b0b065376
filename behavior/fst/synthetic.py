"""Seeded synthetic forced-swim-test videos with per-frame ground truth.

A side view of 1–4 water cylinders separated by opaque dividers, each holding one
simulated mouse whose behaviour state is known in every frame. The videos exist to
test and benchmark the immobility scorer: the nuisances that fool motion-based
scorers (drift with the water, surface ripples, caustics, glare, lighting flicker,
camera noise, variable frame rate, lossy codecs) are all present, and none of them
is movement in the ground truth. Harder, opt-in options (off by default, so that
default videos stay bit-identical) add weak swimming that is hard to tell from
floating, camera shake, glints and shadows crossing the cylinders, and sloshing
after someone bumps the bench (see *Opt-in nuisances*; :data:`HARD` switches them
all on as in the accuracy benchmark's hard condition).

Everything is drawn from one ``seed``; the ground truth (state sequences, poses,
timestamps) is computed up front and frames are rendered lazily, so memory stays
small for long videos.

Scene (all lengths in pixels at scale ``s``, grey levels of the dark-animal scene)
---------------------------------------------------------------------------------
layout
    Arena ``i`` (numbered from 1, left to right) owns the ``i``-th equal vertical
    strip of the frame. Opaque dividers (grey 70; 20 in the light-animal scene),
    ``max(4, 0.04 * strip_width)`` px wide, stand at the strip edges; the cylinder
    interior (:attr:`GroundTruth.arena_rects`) runs from 6 % to 96 % of the height.
    The animal scale is ``s = min(height / 480, strip_width / 320)``, so one arena in
    640x480 has ``s = 1``.
wall and water
    Light wall (205) above the water, water (178) below a surface at 36 % of the
    interior height. The surface ripples: two travelling sinusoids per cylinder,
    amplitudes 1.6 s and 1.0 s px, wavelengths 90–220 s px, speeds 15–45 s px/s,
    with a bright 2-px meniscus (+22). Caustics: three moving sinusoid gratings in
    the water, total amplitude about 7 grey levels (each 2.2–2.8), wavelengths
    25–70 s px, phase speeds 10–35 s px/s, fading in over 10 px below the surface.
glare
    A vertical reflection streak on each cylinder wall (Gaussian, sigma 0.012 of
    the cylinder width, peak +38) that shimmers: its peak is multiplied by
    ``1 + 0.15 sin(2 pi 0.9 t) + 0.1 * OU noise`` and modulated along y by
    ±25 % travelling waves (wavelength 40 s px, 1.5 Hz). It lies on top of the
    animal, as a reflection on the front wall would.
flicker
    The whole image is multiplied by ``1 + w(t) + 0.012 sin(2 pi 100 t_i + phi)``
    where ``w`` is a mean-reverting random walk (time constant 4 s, SD 0.012,
    clipped to ±0.03) and the 100-Hz term, sampled at the frame times, beats
    like mains-powered light (10 Hz at 30 fps). Off with ``flicker=False``.
noise
    Additive Gaussian camera noise, SD ``noise_sigma`` grey levels, drawn from a
    bank of pre-computed noise fields picked at random each frame (with random
    flips), then clipped to 0–255.

The animal (dark, 40 above water; or light, 220, on a dark scene)
-----------------------------------------------------------------
Body ellipse 60 s x 25 s, head ellipse 22 s x 15 s ahead of it, a 45 s tapering
tail and four limbs (12–14 s long lines, 4 s thick, with oval paws). The part of
the animal below the (rippling) surface is blended 35 % toward the water grey.
``centroid_px`` is the centre of the body ellipse in full-frame pixels.

Behaviour states
----------------
``immobile`` (floating)
    The body shape is constant. The animal DRIFTS passively: speed 5–25 s px/s
    (``15 + 10 tanh(OU)``, OU time constant 3 s) in a direction that turns
    smoothly (random walk, 0.6 rad/sqrt(s)); the vertical component is a quarter
    of the horizontal one and pulled back to floating depth. It rides the surface
    waves and bobs 1.5 s px at 0.3–0.6 Hz; its axis is tilted 22° head-up and
    rocks ±3° at 0.15–0.35 Hz; the tail sways ±4° at 0.25 Hz. The four limbs are
    still except ONE hind limb, which makes an occasional single paddle (Poisson,
    0.35 per s; each a 0.4-s stroke of 12°, moving the paw about 3 s px). None of
    this is movement in the ground truth. ``drift=False`` removes the drift.
``swimming``
    Horizontal travel at 40–120 s px/s (drawn per bout) in the facing direction,
    turning round at the walls; all four limbs paddle ±32–45° (drawn per bout) at
    3–6 Hz (drawn per bout) in a diagonal gait; the body undulates ±7° and its
    length pulses ±6 % at the stroke rate; the tail whips ±25°; the body is
    tilted 10° head-up and 3 s px deeper than when floating.
``struggling`` (climbing)
    The body stands at 60° head-up, raised 18 s px so head and forepaws break
    the surface, and rocks ±15° at 1.5–2.5 Hz plus jitter (OU, SD 4°, 0.15 s);
    the forelimbs reach ahead and up (25° below the body axis, 1.4x longer) and
    scrabble ±40–55° (drawn per bout) at 4–8 Hz, the hind limbs kick with the
    same amplitude and rate; the head is raised a further 15°; horizontal
    jitter with velocity SD 25 s px/s (OU, 0.4 s), reflected at the walls.

``swimming``, weak (opt-in: a share ``weak_swimming`` of the swimming bouts)
    Travel at 10–25 s px/s (drawn per bout; the passive drift of a floating
    animal is 5–25 s px/s); all four limbs paddle only ±12–18° (drawn per bout)
    at 2–4 Hz (drawn per bout); the body undulates ±2°, its length pulses ±2 %;
    the tail whips ±8°; the body is tilted 16° head-up and 1.5 s px deeper than
    when floating. Mobile in the ground truth (``swimming``; the frames are also
    flagged in :attr:`GroundTruth.weak_swimming`).

Changes between states are smoothed with a first-order lag of 0.15 s (posture,
limb amplitudes and velocities); the ground-truth label switches at the bout
boundary, so an immobile bout has settled about 0.5 s after it starts.

Bouts
-----
States come in alternating mobile and immobile bouts. Mobile bouts last 1–20 s
(log-normal, median ``3 + 9 (1 - f)`` s) and are swimming or struggling
(struggling with probability 0.55 in the first 120 s, 0.3 later; a mobile bout
may switch once between the two). Immobile bouts last 2–40 s; each is drawn
around the length that brings the running immobile fraction back to the
target ``f`` (log-normal scatter, SD 0.35 in log), so the realised fraction over
120–360 s lands near ``f`` (within a few percentage points for a 6-min video).
``early_mobile=True`` uses ``0.35 f`` as the target before 120 s.

Opt-in nuisances
----------------
Each draws from its own random stream, so switching one on leaves the rest as it
was: the same states, ripples, glare, flicker and noise. Only weak swimming (slower
travel) and table bumps (the animal rides the waves) change the poses.
:attr:`GroundTruth.events` lists every knock, glint, shadow and bump.

``weak_swimming`` (0–1)
    Each swimming bout is weak with this probability (see *Behaviour states*).
``camera_shake`` (SD in frame pixels, whatever the frame size)
    The whole rendered image (scene, animal, glints and shadows; not the camera
    noise, which is added afterwards) is translated by ``(dx, dy)`` with bilinear
    interpolation and replicated borders. Each of dx and dy is an OU process with
    SD ``camera_shake`` and time constant 0.5 s; on top, knocks (Poisson, 2 per
    minute) each jump the image by ``A`` = 1.6–3 times ``camera_shake`` (2–3.75 px
    at 1.25) in a random direction, ringing back as ``A exp(-u / tau) cos(2 pi f
    u)`` with ``f`` 3–6 Hz and ``tau`` 0.2–0.4 s, for ``u`` < 5 ``tau`` after the knock.
    The shift is in :attr:`GroundTruth.shake_px`; centroids stay in the unshaken scene.
``reflections`` (events per minute)
    Poisson events, each crossing one cylinder (chosen at random) in 1–3 s, left
    to right or right to left: a horizontal Gaussian band whose centre moves at a
    constant speed from 2 SD outside one wall to 2 SD outside the other, with a
    strength ``sin(pi u)`` over the crossing (``u`` from 0 to 1). Half are glints
    on the front wall (added, peak +30–50 grey, SD 5–12 s px, only over that
    cylinder's interior, over a vertical run of 40–70 % of the interior height
    starting within its top 30 %, so always covering the water surface, with
    raised-cosine ends over 15 s px); half are shadows of a hand or arm (the
    whole frame height multiplied by ``1 - d g(x)``, darkening ``d`` 20–40 % at
    the centre, SD 25–50 s px, reaching over the dividers). Both lie over the animal.
``table_bumps`` (events per minute)
    Poisson knocks on the bench: the water in every cylinder sloshes. The surface
    of a cylinder gets ``a exp(-u / tau) (m1(x) sin(2 pi f u) + 0.5 m2(x) sin(2 pi
    1.7 f u))`` for ``u`` < 5 ``tau`` after the knock, where ``m1`` runs from -1 at
    the left wall to +1 at the right (``sin(pi xi)``, ``xi`` = position from the
    centre in cylinder widths) and ``m2 = cos(2 pi xi)``; ``a`` is 4–10 s px per
    knock, times 0.7–1.3 with a random sign per cylinder; ``tau`` 2–4 s per knock;
    ``f`` 2.5–3.5 Hz per cylinder (the first sloshing mode of a 10–14 cm cylinder).
    The animal rides these waves like the ripples; the caustics' contrast is
    multiplied by ``1 + 1.5 exp(-u / tau)`` (strongest active knock) and they fade
    in below the deepest trough of the frame. Between episodes the frames are
    exactly those without ``table_bumps``.

Frame times
-----------
Constant frame rate: ``t_i = i / fps``. With ``vfr=True`` the intervals are
drawn in whole milliseconds between ``0.75/fps`` and ``1.35/fps`` (25–45 ms at
30 fps), and these times are written as the frames' presentation timestamps
(time base 1/90000 in MP4/MOV, 1/1000 in Matroska and for MPEG-4 part 2). AVI cannot hold per-frame
times, so ``vfr`` with ``.avi`` is refused.

Notes
-----
The immobility criterion follows the Porsolt test as described by Can et al.
(2012): floating with only the movements needed to keep the head above water
(drift and a small hind-limb paddle included) is immobility; swimming and
struggling/climbing are not.

References
----------
.. [1] Can A, Dao DT, Arad M, et al. The mouse forced swim test. J Vis Exp 2012;
   (59):e3638.
.. [2] Porsolt RD, Le Pichon M, Jalfre M. Depression: a new animal model sensitive
   to antidepressant treatments. Nature 1977;266:730-732.

Examples
--------
>>> spec = SyntheticSpec(duration_s=2.0, width=160, height=120, n_arenas=2, seed=1)
>>> frames, truth = render(spec)
>>> next(frames).shape
(120, 160, 3)
>>> truth.immobile.shape
(2, 60)
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from os import PathLike
from pathlib import Path

import cv2
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
    events
        The opt-in nuisance events, columns :data:`EVENT_COLUMNS`: ``kind``
        (``"camera_knock"``, ``"glint"``, ``"shadow"`` or ``"table_bump"``),
        ``arena`` (the cylinder crossed; 0 for the whole frame), ``start_s``,
        ``end_s`` and ``size`` (knock px, glint grey levels, shadow darkening
        fraction, table-bump wave amplitude px). Empty without them.

    Truths pickled before these three existed load with them ``None``.
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


# --------------------------------------------------------------------------- timing


def frame_times(spec: SyntheticSpec, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Frame presentation times (s) and the end of the last frame."""
    if not spec.vfr:
        n = max(1, int(round(spec.duration_s * spec.fps)))
        t = np.arange(n) / spec.fps
        return t, n / spec.fps
    lo = max(1, int(round(750.0 / spec.fps)))
    hi = max(lo + 1, int(round(1350.0 / spec.fps)))
    n_max = int(spec.duration_s * 1000 / lo) + 2
    steps_ms = rng.integers(lo, hi + 1, size=n_max)
    starts_ms = np.concatenate(([0], np.cumsum(steps_ms)))
    n = max(1, int(np.searchsorted(starts_ms, spec.duration_s * 1000.0, side="left")))
    return starts_ms[:n] / 1000.0, float(starts_ms[n]) / 1000.0


# --------------------------------------------------------------------------- bouts


def _draw_state_bouts(
    rng: np.random.Generator, duration_s: float, fraction: float, early_mobile: bool
) -> list[tuple[float, float, int]]:
    """Alternating mobile/immobile bouts ``(start_s, end_s, state)`` covering the video."""
    bouts: list[tuple[float, float, int]] = []
    t = 0.0
    imm = {True: 0.0, False: 0.0}  # accumulated immobile time per phase (early?)
    tot = {True: 0.0, False: 0.0}
    immobile_first = rng.random() < fraction and not early_mobile
    while t < duration_s:
        early = t < _EARLY_S
        f = fraction * (0.35 if (early and early_mobile) else 1.0)
        if not immobile_first:
            median_mobile = 3.0 + 9.0 * (1.0 - f)
            m = float(np.clip(median_mobile * rng.lognormal(0.0, 0.6), 1.0, 20.0))
            if f >= 1.0:
                m = 0.0
            p_struggle = 0.55 if early else 0.3
            first = STRUGGLING if rng.random() < p_struggle else SWIMMING
            if m >= 4.0 and rng.random() < 0.3:
                split = m * rng.uniform(0.3, 0.7)
                bouts.append((t, t + split, first))
                bouts.append((t + split, t + m, SWIMMING + STRUGGLING - first))
            elif m > 0:
                bouts.append((t, t + m, first))
            t += m
            tot[early] += m
        immobile_first = False
        if t >= duration_s:
            break
        if f <= 0.0:
            continue
        # Immobile bout aimed at restoring the running fraction to f, with scatter.
        early = t < _EARLY_S
        need = (f * tot[early] - imm[early]) / (1.0 - f) if f < 1.0 else 40.0
        typical = 2.0 + 20.0 * f
        aim = max(need, 0.5 * typical) if need > 0 else 0.0
        if aim < 1.0:
            continue  # skip: the next mobile bout follows directly
        d = float(np.clip(aim * rng.lognormal(0.0, 0.35), 2.0, 40.0))
        bouts.append((t, t + d, IMMOBILE))
        imm[early] += d
        tot[early] += d
        t += d
    # merge touching bouts of the same state
    merged: list[tuple[float, float, int]] = []
    for b in bouts:
        if merged and merged[-1][2] == b[2]:
            merged[-1] = (merged[-1][0], b[1], b[2])
        else:
            merged.append(b)
    return merged


def _states_at(bouts: list[tuple[float, float, int]], t: np.ndarray) -> np.ndarray:
    starts = np.array([b[0] for b in bouts])
    codes = np.array([b[2] for b in bouts], dtype=np.int8)
    idx = np.searchsorted(starts, t, side="right") - 1
    return codes[np.clip(idx, 0, len(bouts) - 1)]


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    rects: list[tuple[int, int, int, int]]
    divider_px: int
    scale: float
    surface_y: float  # mean water level (full-frame y)


def _layout(spec: SyntheticSpec) -> _Layout:
    strip = spec.width / spec.n_arenas
    div = max(4, int(round(0.04 * strip)))
    if div % 2:
        div += 1
    y0 = int(round(0.06 * spec.height))
    y1 = int(round(0.96 * spec.height))
    rects = []
    for i in range(spec.n_arenas):
        x0 = int(round(i * strip)) + div // 2
        x1 = int(round((i + 1) * strip)) - div // 2
        rects.append((x0, y0, x1 - x0, y1 - y0))
    scale = min(spec.height / 480.0, strip / 320.0)
    return _Layout(rects, div, scale, y0 + 0.36 * (y1 - y0))


# --------------------------------------------------------------------------- kinematics


def _ou(rng: np.random.Generator, dt: np.ndarray, tau: float, sd: float) -> np.ndarray:
    """Ornstein–Uhlenbeck series with stationary SD ``sd`` sampled at steps ``dt``."""
    out = np.empty(dt.size + 1)
    out[0] = rng.normal(0.0, sd)
    a = np.exp(-dt / tau)
    e = rng.standard_normal(dt.size) * sd * np.sqrt(1.0 - a * a)
    for i in range(dt.size):
        out[i + 1] = a[i] * out[i] + e[i]
    return out[1:]


class _Surface:
    """Per-column water-surface height of every cylinder, as a function of time."""

    def __init__(self, spec: SyntheticSpec, lay: _Layout, rng: np.random.Generator):
        s = lay.scale
        self.y0 = lay.surface_y
        self.x = np.arange(spec.width, dtype=np.float64)
        self.inside = np.zeros(spec.width, bool)
        n = spec.width
        self.k = np.zeros((2, n))
        self.ph = np.zeros((2, n))
        self.w = np.zeros((2, n))
        amp = (1.6 * s, 1.0 * s) if spec.ripples else (0.0, 0.0)
        self.amp = amp
        for rx, _, rw, _ in lay.rects:
            cols = slice(rx, rx + rw)
            self.inside[cols] = True
            for j in range(2):
                lam = rng.uniform(90, 220) * s
                speed = rng.uniform(15, 45) * s * (1 if j == 0 else -1)
                self.k[j, cols] = 2 * np.pi / lam
                self.w[j, cols] = 2 * np.pi * speed / lam
                self.ph[j, cols] = rng.uniform(0, 2 * np.pi)
        self.bumps: list[_Bump] = []
        self.bump_peak = 0.0  # largest surface displacement by the bumps (px)

    def add_bumps(
        self, spec: SyntheticSpec, lay: _Layout, end_s: float, rng: np.random.Generator
    ) -> list[tuple[str, int, float, float, float]]:
        """Table bumps (``spec.table_bumps`` per minute) as sloshing episodes; their events."""
        s = lay.scale
        n = rng.poisson(spec.table_bumps / 60.0 * end_s)
        shape1 = np.zeros(self.x.size)
        shape2 = np.zeros(self.x.size)
        for rx, _, rw, _ in lay.rects:
            xi = (self.x[rx : rx + rw] - (rx + rw / 2.0)) / rw
            shape1[rx : rx + rw] = np.sin(np.pi * xi)
            shape2[rx : rx + rw] = np.cos(2 * np.pi * xi)
        events = []
        for t0 in np.sort(rng.uniform(0.0, end_s, n)):
            amp0 = rng.uniform(4.0, 10.0) * s
            tau = rng.uniform(2.0, 4.0)
            amp_col = np.zeros(self.x.size)
            f_col = np.ones(self.x.size)
            for rx, _, rw, _ in lay.rects:
                amp_col[rx : rx + rw] = amp0 * rng.uniform(0.7, 1.3) * rng.choice((-1.0, 1.0))
                f_col[rx : rx + rw] = rng.uniform(2.5, 3.5)
            self.bumps.append(_Bump(float(t0), tau, 5.0 * tau, amp_col, f_col, shape1, shape2))
            self.bump_peak = max(self.bump_peak, 1.5 * float(np.abs(amp_col).max()))
            events.append(("table_bump", 0, float(t0), float(t0 + 5.0 * tau), float(amp0)))
        return events

    def bump_level(self, t: float) -> float:
        """Strongest active bump envelope ``exp(-(t - t0) / tau)`` (0 when calm)."""
        level = 0.0
        for b in self.bumps:
            u = t - b.t0
            if 0.0 <= u < b.span:
                level = max(level, math.exp(-u / b.tau))
        return level

    def at(self, t: float) -> np.ndarray:
        y = np.full(self.x.shape, self.y0)
        for j in range(2):
            if self.amp[j]:
                y += self.amp[j] * np.sin(self.k[j] * self.x + self.ph[j] - self.w[j] * t)
        for b in self.bumps:
            u = t - b.t0
            if 0.0 <= u < b.span:
                w = 2 * np.pi * b.f * u
                y += (
                    b.amp
                    * math.exp(-u / b.tau)
                    * (b.shape1 * np.sin(w) + 0.5 * b.shape2 * np.sin(1.7 * w))
                )
        return y

    def at_x(self, t: float, x: float) -> float:
        i = int(np.clip(round(x), 0, self.x.size - 1))
        y = self.y0
        for j in range(2):
            if self.amp[j]:
                y += self.amp[j] * math.sin(self.k[j, i] * x + self.ph[j, i] - self.w[j, i] * t)
        for b in self.bumps:
            u = t - b.t0
            if 0.0 <= u < b.span:
                w = 2 * math.pi * b.f[i] * u
                y += (
                    b.amp[i]
                    * math.exp(-u / b.tau)
                    * (b.shape1[i] * math.sin(w) + 0.5 * b.shape2[i] * math.sin(1.7 * w))
                )
        return y


@dataclass(frozen=True)
class _Bump:
    """One sloshing episode: per-column amplitude (sign per cylinder) and frequency."""

    t0: float
    tau: float
    span: float
    amp: np.ndarray
    f: np.ndarray
    shape1: np.ndarray  # antisymmetric mode, -1 at the left wall to +1 at the right
    shape2: np.ndarray  # symmetric mode, +1 at the centre, -1 at the walls


def _lag(values: np.ndarray, dt: np.ndarray, tau: float = _LAG_S) -> np.ndarray:
    """First-order lag along axis 0 (smooths state switches)."""
    out = np.empty_like(values)
    out[0] = values[0]
    a = 1.0 - np.exp(-dt / tau)
    for i in range(1, values.shape[0]):
        out[i] = out[i - 1] + a[i - 1] * (values[i] - out[i - 1])
    return out


def _simulate_animal(
    spec: SyntheticSpec,
    lay: _Layout,
    surface: _Surface,
    rect: tuple[int, int, int, int],
    t: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    rng_weak: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """State per frame, the pose that the renderer draws and the weak-swimming frames.

    ``rng_weak`` draws the weak swimming bouts (its own stream, so that the rest
    is the same with and without them).
    """
    s = lay.scale
    n = t.size
    dt = np.diff(t, append=t[-1] + (t[-1] - t[-2] if n > 1 else 1.0 / spec.fps))
    bouts = _draw_state_bouts(rng, float(t[-1] + dt[-1]), fraction, spec.early_mobile)
    state = _states_at(bouts, t)
    bout_id = np.searchsorted(np.array([b[0] for b in bouts]), t, side="right") - 1
    nb = len(bouts)
    # per-bout draws
    swim_speed = rng.uniform(40, 120, nb) * s
    swim_hz = rng.uniform(3, 6, nb)
    strug_hz = rng.uniform(4, 8, nb)
    rock_hz = rng.uniform(1.5, 2.5, nb)
    swim_amp = rng.uniform(32, 45, nb)
    strug_amp = rng.uniform(40, 55, nb)
    weak_bout = np.zeros(nb, bool)
    if spec.weak_swimming > 0 and rng_weak is not None:
        codes = np.array([b[2] for b in bouts])
        weak_bout = (rng_weak.random(nb) < spec.weak_swimming) & (codes == SWIMMING)
        swim_speed = np.where(weak_bout, rng_weak.uniform(10, 25, nb) * s, swim_speed)
        swim_amp = np.where(weak_bout, rng_weak.uniform(12, 18, nb), swim_amp)
        swim_hz = np.where(weak_bout, rng_weak.uniform(2, 4, nb), swim_hz)
    limb_hz = np.where(state == STRUGGLING, strug_hz[bout_id], swim_hz[bout_id])
    limb_hz = np.where(state == IMMOBILE, 0.0, limb_hz)
    is_imm, is_swim, is_str = state == IMMOBILE, state == SWIMMING, state == STRUGGLING
    weak = weak_bout[bout_id] & is_swim

    # posture targets, then lag-smoothed
    tgt = np.zeros((n, 8))
    tgt[:, 0] = np.select([is_imm, is_swim, is_str], [22.0, 10.0, 60.0])  # tilt deg
    tgt[:, 1] = np.select([is_imm, is_swim, is_str], [0.0, swim_amp[bout_id], strug_amp[bout_id]])
    tgt[:, 2] = np.select([is_imm, is_swim, is_str], [0.0, 7.0, 15.0])  # body undulation deg
    tgt[:, 3] = np.select([is_imm, is_swim, is_str], [0.0, 0.06, 0.03])  # length pulse
    tgt[:, 4] = np.select([is_imm, is_swim, is_str], [4.0, 25.0, 15.0])  # tail sway deg
    tgt[:, 5] = np.where(is_str, 1.0, 0.0)  # forelimbs up (0 -> 1)
    tgt[:, 6] = np.where(is_str, 15.0, 0.0)  # head pitch deg
    tgt[:, 7] = np.select([is_imm, is_swim, is_str], [0.0, 3.0 * s, -0.30 * 60 * s])  # depth
    if weak.any():  # weak swimming: between floating and swimming
        tgt[weak, 0] = 16.0
        tgt[weak, 2] = 2.0
        tgt[weak, 3] = 0.02
        tgt[weak, 4] = 8.0
        tgt[weak, 7] = 1.5 * s
    post = _lag(tgt, dt)

    # oscillator phases
    limb_phase = np.concatenate(([0.0], np.cumsum(2 * np.pi * limb_hz * dt)[:-1]))
    rock_f = np.where(is_str, rock_hz[bout_id], np.where(is_swim, limb_hz, 0.0))
    rock_phase = np.concatenate(([0.0], np.cumsum(2 * np.pi * rock_f * dt)[:-1]))
    bob_hz, roll_hz = rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.35)
    bob_ph, roll_ph, tail_ph = rng.uniform(0, 2 * np.pi, 3)
    jitter = _ou(rng, dt, 0.15, 4.0)  # struggling rocking jitter (deg)

    # immobile single hind-limb paddles: Poisson 0.35/s, 0.4-s strokes of 12 deg
    paddle = np.zeros(n)
    n_ev = rng.poisson(0.35 * (t[-1] + dt[-1]))
    for t0 in np.sort(rng.uniform(0, t[-1] + dt[-1], n_ev)):
        sel = (t >= t0) & (t < t0 + 0.4)
        paddle[sel] += 12.0 * np.sin(np.pi * (t[sel] - t0) / 0.4)
    paddle *= is_imm

    # translation
    rx, _, rw, _ = rect
    margin = 48.0 * s
    xmin, xmax = rx + margin, rx + rw - margin
    if xmax <= xmin:
        xmin = xmax = rx + rw / 2.0
    drift_speed = (15.0 + 10.0 * np.tanh(_ou(rng, dt, 3.0, 1.0))) * s * spec.drift_scale
    if not spec.drift:
        drift_speed[:] = 0.0
    drift_dir = np.cumsum(rng.standard_normal(n) * 0.6 * np.sqrt(dt)) + rng.uniform(0, 2 * np.pi)
    strug_vx = _ou(rng, dt, 0.4, 25.0 * s)
    x = np.empty(n)
    dy = np.empty(n)  # drift offset from floating depth
    facing = np.empty(n)
    xi = rng.uniform(xmin, xmax)
    dyi = 0.0
    face = 1.0 if rng.random() < 0.5 else -1.0
    flip = 1.0  # reflection of the drift direction at walls
    vx_tgt = np.where(is_str, strug_vx, 0.0)
    vx_prev = 0.0
    a_lag = 1.0 - np.exp(-dt / _LAG_S)
    for i in range(n):
        x[i], dy[i], facing[i] = xi, dyi, face
        if is_imm[i]:
            vx = flip * drift_speed[i] * math.cos(drift_dir[i])
            vy = 0.25 * drift_speed[i] * math.sin(drift_dir[i])
        elif is_swim[i]:
            vx, vy = face * swim_speed[bout_id[i]], 0.0
        else:
            vx, vy = vx_tgt[i], 0.0
        vx = vx_prev + a_lag[i] * (vx - vx_prev)
        vx_prev = vx
        xi += vx * dt[i]
        dyi += (vy - 0.5 * dyi) * dt[i]
        dyi = float(np.clip(dyi, -6 * s, 6 * s))
        if xi > xmax or xi < xmin:
            xi = float(np.clip(2 * (xmax if xi > xmax else xmin) - xi, xmin, xmax))
            vx_prev = -vx_prev
            if is_imm[i]:
                flip = -flip
            elif is_swim[i]:
                face = -face
            else:
                strug_vx[i:] = -strug_vx[i:]
                vx_tgt = np.where(is_str, strug_vx, 0.0)
    ys = np.array([surface.at_x(ti, xi) for ti, xi in zip(t, x, strict=True)])
    bob = 1.5 * s * np.sin(2 * np.pi * bob_hz * t + bob_ph)
    depth = 6.0 * s  # body centre below the surface while floating
    y = ys + depth + dy + bob + post[:, 7]
    tilt = (
        post[:, 0]
        + 3.0 * np.sin(2 * np.pi * roll_hz * t + roll_ph)
        + post[:, 2] * np.sin(rock_phase)
        + np.where(is_str, jitter, 0.0)
    )
    pose = {
        "x": x,
        "y": y,
        "facing": facing,
        "tilt_deg": tilt,
        "limb_amp_deg": post[:, 1],
        "limb_phase": limb_phase,
        "length_pulse": post[:, 3] * np.sin(rock_phase),
        "tail_deg": post[:, 4]
        * np.sin(np.where(is_imm, 2 * np.pi * 0.25 * t + tail_ph, limb_phase)),
        "fore_up": post[:, 5],
        "head_pitch_deg": post[:, 6],
        "paddle_deg": paddle,
    }
    return state, pose, weak


# --------------------------------------------------------------------------- opt-in nuisances

#: Spawn keys of the opt-in nuisances' random streams, apart from the original ones
#: (children 0 .. 3 + n_arenas of the seed), so that those stay as they were.
_EXTRA_KEYS = {"weak_swimming": 100, "camera": 110, "reflections": 120, "table_bumps": 130}


def _extra_rng(spec: SyntheticSpec, name: str, index: int = 0) -> np.random.Generator:
    key = (_EXTRA_KEYS[name] + index,)
    return np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=key))


def _camera_shake(
    spec: SyntheticSpec, t: np.ndarray, end_s: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[str, int, float, float, float]]]:
    """Per-frame image translation (dx, dy) and the knock events."""
    sd = spec.camera_shake
    dt = np.diff(t, append=end_s)
    shake = np.column_stack((_ou(rng, dt, 0.5, sd), _ou(rng, dt, 0.5, sd)))
    knocks = []
    n = rng.poisson(2.0 / 60.0 * end_s)
    for t0 in np.sort(rng.uniform(0.0, end_s, n)):
        amp = rng.uniform(1.6, 3.0) * sd
        angle = rng.uniform(0.0, 2 * np.pi)
        f = rng.uniform(3.0, 6.0)
        tau = rng.uniform(0.2, 0.4)
        sel = (t >= t0) & (t < t0 + 5 * tau)
        u = t[sel] - t0
        ring = amp * np.exp(-u / tau) * np.cos(2 * np.pi * f * u)
        shake[sel] += ring[:, None] * np.array([math.cos(angle), math.sin(angle)])
        knocks.append(("camera_knock", 0, float(t0), float(t0 + 5 * tau), float(amp)))
    return shake, knocks


@dataclass(frozen=True)
class _Light:
    """A glint or shadow band crossing one cylinder."""

    kind: str  # "glint" (additive, on the cylinder wall) or "shadow" (multiplicative)
    arena: int  # numbered from 1
    t0: float
    dur: float
    x_from: float
    x_to: float
    sigma: float  # horizontal Gaussian SD (px)
    size: float  # glint peak (grey levels) or shadow darkening (fraction)
    rows: tuple[int, int]
    vprof: np.ndarray  # vertical profile over rows[0]:rows[1]
    cols: tuple[int, int]  # columns the band may touch


def _light_events(
    spec: SyntheticSpec, lay: _Layout, end_s: float, rng: np.random.Generator
) -> list[_Light]:
    s = lay.scale
    out = []
    n = rng.poisson(spec.reflections / 60.0 * end_s)
    for t0 in np.sort(rng.uniform(0.0, end_s, n)):
        a = int(rng.integers(spec.n_arenas))
        rx, ry, rw, rh = lay.rects[a]
        dur = rng.uniform(1.0, 3.0)
        glint = rng.random() < 0.5
        if glint:
            sigma = rng.uniform(5.0, 12.0) * s
            size = rng.uniform(30.0, 50.0)
            top = ry + int(rng.uniform(0.0, 0.3) * rh)
            bottom = min(ry + rh, top + int(rng.uniform(0.4, 0.7) * rh))
            y = np.arange(top, bottom, dtype=np.float64)
            ramp = 15.0 * s
            edge = np.clip(np.minimum(y - top + 0.5, bottom - 0.5 - y) / ramp, 0.0, 1.0)
            vprof = 0.5 - 0.5 * np.cos(np.pi * edge)
            rows, cols = (top, bottom), (rx, rx + rw)
        else:
            sigma = rng.uniform(25.0, 50.0) * s
            size = rng.uniform(0.2, 0.4)
            rows, cols = (0, spec.height), (0, spec.width)
            vprof = np.ones(spec.height)
        ends = (rx - 2 * sigma, rx + rw + 2 * sigma)
        if rng.random() < 0.5:
            ends = ends[::-1]
        out.append(
            _Light(
                "glint" if glint else "shadow",
                a + 1,
                float(t0),
                float(dur),
                ends[0],
                ends[1],
                float(sigma),
                float(size),
                rows,
                vprof.astype(np.float32),
                cols,
            )
        )
    return out


# --------------------------------------------------------------------------- truth


def ground_truth(spec: SyntheticSpec) -> GroundTruth:
    """The ground truth of ``spec`` (no rendering)."""
    return _Scene(spec, for_rendering=False).truth


# --------------------------------------------------------------------------- rendering


class _Scene:
    """Static background, nuisance generators and per-arena poses of one spec."""

    def __init__(self, spec: SyntheticSpec, for_rendering: bool = True):
        self.spec = spec
        seeds = np.random.SeedSequence(spec.seed).spawn(4 + spec.n_arenas)
        rng_time, rng_scene, rng_noise, rng_light = (np.random.default_rng(x) for x in seeds[:4])
        self.lay = lay = _layout(spec)
        self.t, end_s = frame_times(spec, rng_time)
        self.surface = _Surface(spec, lay, rng_scene)
        events: list[tuple[str, int, float, float, float]] = []
        if spec.table_bumps > 0:
            events += self.surface.add_bumps(spec, lay, end_s, _extra_rng(spec, "table_bumps"))
        n_a = spec.n_arenas
        states = np.empty((n_a, self.t.size), dtype=np.int8)
        weak = np.zeros((n_a, self.t.size), bool)
        self.poses = []
        for a in range(n_a):
            st, pose, weak[a] = _simulate_animal(
                spec,
                lay,
                self.surface,
                lay.rects[a],
                self.t,
                spec.fractions()[a],
                np.random.default_rng(seeds[4 + a]),
                _extra_rng(spec, "weak_swimming", a),
            )
            states[a] = st
            self.poses.append(pose)
        self.shake: np.ndarray | None = None
        if spec.camera_shake > 0:
            self.shake, knocks = _camera_shake(spec, self.t, end_s, _extra_rng(spec, "camera"))
            events += knocks
        self.lights: list[_Light] = []
        if spec.reflections > 0:
            self.lights = _light_events(spec, lay, end_s, _extra_rng(spec, "reflections"))
            events += [(e.kind, e.arena, e.t0, e.t0 + e.dur, e.size) for e in self.lights]
        events.sort(key=lambda e: (e[2], e[0]))
        centroid = np.stack([np.column_stack((p["x"], p["y"])) for p in self.poses])
        self.truth = GroundTruth(
            time_s=self.t.copy(),
            end_s=float(end_s),
            states=np.asarray(STATES, dtype=object)[states].astype(str),
            immobile=states == IMMOBILE,
            centroid_px=centroid,
            arena_rects=list(lay.rects),
            weak_swimming=weak,
            shake_px=np.zeros((self.t.size, 2)) if self.shake is None else self.shake.copy(),
            events=pd.DataFrame(events, columns=list(EVENT_COLUMNS)).astype(
                {"kind": str, "arena": int, "start_s": float, "end_s": float, "size": float}
            ),
        )
        if for_rendering:
            self._init_images(rng_scene, rng_light, rng_noise)

    def _init_images(self, rng_scene, rng_light, rng_noise) -> None:
        self._init_palette()
        self._init_background()
        self._init_texture(rng_scene)
        self._init_light(rng_light)
        self._init_noise(rng_noise)

    # ---- static parts
    def _init_palette(self) -> None:
        if self.spec.animal == "dark":
            self.wall, self.water, self.divider, self.fur = 205.0, 178.0, 70.0, 40.0
            self.meniscus, self.glare_peak = 22.0, 38.0
        else:
            self.wall, self.water, self.divider, self.fur = 38.0, 55.0, 20.0, 220.0
            self.meniscus, self.glare_peak = 18.0, 30.0
        self.fur_sub = self.fur + 0.35 * (self.water - self.fur)

    def _init_background(self) -> None:
        spec, lay = self.spec, self.lay
        h, w = spec.height, spec.width
        bg = np.full((h, w), self.divider, np.float32)
        top = lay.rects[0][1]
        bottom = top + lay.rects[0][3]
        # outside the cylinders (above/below): a darker bench/backdrop
        bg[:top] = self.wall * 0.8
        bg[bottom:] = self.wall * 0.6
        band = int(math.ceil(3 * sum(self.surface.amp))) + 3
        level = int(lay.surface_y)
        calm = (max(top, level - band), min(bottom, level + band + 1))  # rows the ripples reach
        for rx, ry, rw, rh in lay.rects:
            bg[ry : calm[0], rx : rx + rw] = self.wall
            bg[calm[0] : ry + rh, rx : rx + rw] = self.water
            # slight vertical shading of the water (deeper = darker)
            ramp = np.linspace(
                0.0,
                -12.0 if self.spec.animal == "dark" else -8.0,
                ry + rh - calm[1],
                dtype=np.float32,
            )
            bg[calm[1] : ry + rh, rx : rx + rw] += ramp[:, None]
        # table bumps widen the rows redrawn per frame, not the background
        extra = int(math.ceil(self.surface.bump_peak))
        self.band = (max(top, calm[0] - extra), min(bottom, calm[1] + extra))
        self.bg = bg
        self._buf = np.empty_like(bg)
        self._buf2 = np.empty_like(bg) if self.shake is not None else None  # shaken copy
        self.wall_row = np.where(self.surface.inside, self.wall, bg[self.band[0] - 1]).astype(
            np.float32
        )
        self.band_rows = np.arange(self.band[0], self.band[1], dtype=np.float64)[:, None]
        self.band_bg = bg[self.band[0] : self.band[1]].copy()
        self.band_bg[: calm[1] - self.band[0], self.surface.inside] = self.water

    def _init_texture(self, rng: np.random.Generator) -> None:
        """Caustic gratings and glare as a low-rank product Y(t) @ X(t) over interior rows."""
        spec, lay, s = self.spec, self.lay, self.lay.scale
        _, ry, _, rh = lay.rects[0]
        self.rows = (ry, ry + rh)
        self._tex = np.empty((rh, spec.width), np.float32)
        y = np.arange(ry, ry + rh, dtype=np.float64)
        x = np.arange(spec.width, dtype=np.float64)
        self.tex_y, self.tex_x = y, x
        fade_start = lay.surface_y + 3 * sum(self.surface.amp) + 1
        self.fade_start = fade_start
        self.water_fade = np.clip((y - fade_start) / 10.0, 0.0, 1.0)
        self.gratings = []
        for _ in range(3):
            lam = rng.uniform(25, 70) * s
            ang = rng.uniform(0, np.pi)
            kx, ky = 2 * np.pi / lam * math.cos(ang), 2 * np.pi / lam * math.sin(ang)
            w = 2 * np.pi * rng.uniform(10, 35) * s / lam
            self.gratings.append((kx, ky, w, rng.uniform(2.2, 2.8), rng.uniform(0, 2 * np.pi)))
        prof = np.zeros(spec.width)
        for rx, _, rw, _ in lay.rects:
            xg = rx + rng.uniform(0.15, 0.3) * rw
            sig = max(1.0, 0.012 * rw)
            prof += np.exp(-0.5 * ((x - xg) / sig) ** 2)
        self.glare_prof = prof * self.glare_peak
        self.inside = self.surface.inside.astype(np.float64)

    def _init_light(self, rng: np.random.Generator) -> None:
        t = self.t
        dt = np.diff(t, append=t[-1] + 1.0 / self.spec.fps)
        if self.spec.flicker:
            walk = np.clip(_ou(rng, dt, 4.0, 0.012), -0.03, 0.03)
            mains = 0.012 * np.sin(2 * np.pi * 100.0 * t + rng.uniform(0, 2 * np.pi))
            self.gain = (1.0 + walk + mains).astype(np.float32)
        else:
            self.gain = np.ones(t.size, np.float32)
        if self.spec.ripples:
            shimmer = 1.0 + 0.15 * np.sin(2 * np.pi * 0.9 * t) + 0.1 * _ou(rng, dt, 0.3, 1.0)
        else:
            shimmer = np.ones(t.size)
        self.shimmer = np.clip(shimmer, 0.5, 1.5)

    def _init_noise(self, rng: np.random.Generator) -> None:
        h, w = self.spec.height, self.spec.width
        self.noise_pick = rng.integers(0, 1 << 30, size=self.t.size)
        if self.spec.noise_sigma <= 0:
            self.noise_bank = None
            return
        k = int(np.clip(40e6 / (4 * h * w), 8, 48))
        self.noise_bank = rng.standard_normal((k, h, w), dtype=np.float32) * np.float32(
            self.spec.noise_sigma
        )

    # ---- per frame
    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as an HxW uint8 grey image."""
        t = float(self.t[i])
        buf = self._buf
        np.copyto(buf, self.bg)
        ys = self.surface.at(t)
        b0, b1 = self.band
        above = self.band_rows < ys[None, :]
        band = np.where(above, self.wall_row[None, :], self.band_bg)
        men = (np.abs(self.band_rows - ys[None, :] - 0.5) < 1.0) & self.surface.inside[None, :]
        band[men] += self.meniscus
        buf[b0:b1] = band
        for a in range(self.spec.n_arenas):
            self._draw_animal(buf, self.poses[a], i, ys)
        np.add(
            buf[self.rows[0] : self.rows[1]],
            self._texture(t, i, ys),
            out=buf[self.rows[0] : self.rows[1]],
        )
        for light in self.lights:
            if light.t0 <= t < light.t0 + light.dur:
                self._draw_light(buf, light, t)
        if self.shake is not None:
            h, w = buf.shape
            dx, dy = self.shake[i]
            move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
            buf = cv2.warpAffine(
                buf,
                move,
                (w, h),
                dst=self._buf2,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        g = float(self.gain[i])
        if self.noise_bank is not None:
            pick = int(self.noise_pick[i])
            noise = self.noise_bank[pick % self.noise_bank.shape[0]]
            if pick & (1 << 28):
                noise = noise[::-1]
            if pick & (1 << 29):
                noise = noise[:, ::-1]
            buf *= np.float32(g)
            buf += noise
        else:
            buf *= np.float32(g)
        # numpy, not cv2, for whole-frame passes: cv2's thread pool costs more than it
        # saves on a shared 2-core machine
        np.clip(buf, 0.0, 255.0, out=buf)
        np.rint(buf, out=buf)
        out = np.empty(buf.shape, np.uint8)
        np.copyto(out, buf, casting="unsafe")
        return out

    def _texture(self, t: float, i: int, ys: np.ndarray) -> np.ndarray:
        cols_y, cols_x = [], []
        fade, flare = self.water_fade, 1.0
        level = self.surface.bump_level(t) if self.surface.bumps else 0.0
        if level > 0.0:  # sloshing: brighter caustics, fading in below the deepest trough
            flare = 1.0 + 1.5 * level
            trough = max(0.0, float(ys[self.surface.inside].max()) - self.lay.surface_y)
            fade = np.clip((self.tex_y - self.fade_start - trough) / 10.0, 0.0, 1.0)
        if self.spec.ripples:
            for kx, ky, w, amp, ph in self.gratings:
                if level > 0.0:
                    amp = amp * flare
                ax = kx * self.tex_x - w * t + ph
                by = ky * self.tex_y
                cols_x += [np.sin(ax) * self.inside, np.cos(ax) * self.inside]
                cols_y += [amp * np.cos(by) * fade, amp * np.sin(by) * fade]
            gy = 0.25 * np.sin(2 * np.pi * (self.tex_y / (40 * self.lay.scale) - 1.5 * t))
        else:
            gy = np.zeros_like(self.tex_y)
        cols_x.append(self.glare_prof)
        cols_y.append(self.shimmer[i] * (1.0 + gy))
        ymat = np.column_stack(cols_y).astype(np.float32)
        xmat = np.vstack(cols_x).astype(np.float32)
        # cv2.gemm, not numpy's matmul: multi-threaded BLAS spin-waits badly on a busy machine
        return cv2.gemm(ymat, xmat, 1.0, None, 0.0, dst=self._tex)

    def _draw_light(self, buf: np.ndarray, e: _Light, t: float) -> None:
        """Add a glint or cast a shadow: a Gaussian band at its place at time ``t``."""
        u = (t - e.t0) / e.dur
        xc = e.x_from + (e.x_to - e.x_from) * u
        c0 = max(e.cols[0], int(math.floor(xc - 4 * e.sigma)))
        c1 = min(e.cols[1], int(math.ceil(xc + 4 * e.sigma)) + 1)
        if c1 <= c0:
            return
        x = np.arange(c0, c1, dtype=np.float32)
        level = np.float32(e.size * math.sin(math.pi * u))
        gx = level * np.exp(np.float32(-0.5) * ((x - np.float32(xc)) / np.float32(e.sigma)) ** 2)
        roi = buf[e.rows[0] : e.rows[1], c0:c1]
        if e.kind == "glint":
            roi += e.vprof[:, None] * gx[None, :]
        else:
            roi *= 1.0 - gx[None, :]

    def _draw_animal(self, buf: np.ndarray, p: dict[str, np.ndarray], i: int, ys: np.ndarray):
        s = self.lay.scale
        cx, cy = float(p["x"][i]), float(p["y"][i])
        half = int(math.ceil(62 * s)) + 4
        h, w = buf.shape
        x0, x1 = max(0, int(cx) - half), min(w, int(cx) + half + 1)
        y0, y1 = max(0, int(cy) - half), min(h, int(cy) + half + 1)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        _draw_mouse(mask, cx - x0, cy - y0, s, {k: float(v[i]) for k, v in p.items()})
        roi = buf[y0:y1, x0:x1]
        alpha = mask.astype(np.float32) * np.float32(1 / 255)
        rows = np.arange(y0, y1, dtype=np.float64)[:, None]
        colour = np.where(rows >= ys[None, x0:x1], self.fur_sub, self.fur).astype(np.float32)
        roi += alpha * (colour - roi)


_SHIFT = 4
_ONE = 1 << _SHIFT


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * _ONE)), int(round(y * _ONE))


def _draw_mouse(mask: np.ndarray, cx: float, cy: float, s: float, q: dict[str, float]) -> None:
    """Draw the mouse silhouette (255 inside, anti-aliased) into ``mask``.

    Body coordinates: ``u`` along the axis toward the head, ``v`` toward the back.
    """
    face = q["facing"]
    th = math.radians(q["tilt_deg"])
    d = (face * math.cos(th), -math.sin(th))
    nrm = (-face * math.sin(th), -math.cos(th))

    def at(u: float, v: float) -> tuple[float, float]:
        return cx + u * d[0] + v * nrm[0], cy + u * d[1] + v * nrm[1]

    def axis_deg(angle_rad: float) -> float:
        return math.degrees(math.atan2(-math.sin(angle_rad), face * math.cos(angle_rad)))

    aa, col = cv2.LINE_AA, 255
    stretch = 1.0 + q["length_pulse"]
    body_a, body_b = 30.0 * s * stretch, 12.5 * s / math.sqrt(stretch)
    # limbs first (the body covers their roots)
    limb_len = {"fore": 12.0 * s, "hind": 14.0 * s}
    amp = q["limb_amp_deg"]
    ph = q["limb_phase"]
    up = q["fore_up"]
    for name, u0, v0, rest, phase_off in (
        ("fore", 17.0, -7.0, -95.0, 0.0),
        ("fore", 13.0, -8.0, -100.0, math.pi),
        ("hind", -17.0, -6.0, -80.0, math.pi),
        ("hind", -21.0, -5.0, -85.0, 0.0),
    ):
        rest_deg = rest
        if name == "fore":
            rest_deg = (1.0 - up) * rest + up * -25.0  # struggling: forepaws reach ahead, up
        ang = rest_deg + amp * math.sin(ph + phase_off)
        if name == "hind" and u0 == -21.0:
            ang += q["paddle_deg"]
        base = at(u0 * s * stretch, v0 * s)
        r = math.radians(ang)
        ln = limb_len[name] * (1.0 + 0.4 * up if name == "fore" else 1.0)
        tip_u, tip_v = u0 * s * stretch + ln * math.cos(r), v0 * s + ln * math.sin(r)
        tip = at(tip_u, tip_v)
        cv2.line(mask, _pt(*base), _pt(*tip), col, max(1, int(round(4 * s))), aa, _SHIFT)
        cv2.ellipse(
            mask, _pt(*tip), _pt(3.5 * s, 2.5 * s), axis_deg(th + r), 0, 360, col, -1, aa, _SHIFT
        )
    # tail: tapering polyline from the rump
    tail_rad = math.radians(q["tail_deg"])
    seg = 9.0 * s
    u, v = -body_a + 2 * s, 0.0
    heading = math.pi - math.radians(8.0)
    for k in range(5):
        heading += tail_rad * 0.35 * (k + 1) / 3
        nu, nv = u + seg * math.cos(heading), v + seg * math.sin(heading)
        thick = max(1, int(round((3.0 - 0.45 * k) * s)))
        cv2.line(mask, _pt(*at(u, v)), _pt(*at(nu, nv)), col, thick, aa, _SHIFT)
        u, v = nu, nv
    # body and head
    cv2.ellipse(mask, _pt(cx, cy), _pt(body_a, body_b), axis_deg(th), 0, 360, col, -1, aa, _SHIFT)
    pitch = math.radians(q["head_pitch_deg"])
    hc = at(body_a + 3 * s + 8 * s * math.cos(pitch), 8 * s * math.sin(pitch) + 2 * s)
    cv2.ellipse(
        mask, _pt(*hc), _pt(11.0 * s, 7.5 * s), axis_deg(th + pitch), 0, 360, col, -1, aa, _SHIFT
    )
    ear = at(body_a + 2 * s, 7.0 * s + 4 * s * math.sin(pitch))
    cv2.ellipse(mask, _pt(*ear), _pt(3.5 * s, 3.0 * s), 0, 0, 360, col, -1, aa, _SHIFT)


def render(spec: SyntheticSpec, gray: bool = False) -> tuple[Iterator[np.ndarray], GroundTruth]:
    """Frames of ``spec`` (lazily) and its ground truth.

    Parameters
    ----------
    spec
        What to render.
    gray
        Yield HxW grey frames instead of HxWx3 BGR (the scene is grey either way).

    Returns
    -------
    frames
        Iterator over ``uint8`` frames, one per ``truth.time_s`` entry.
    truth
        The per-frame ground truth.
    """
    scene = _Scene(spec)

    def frames() -> Iterator[np.ndarray]:
        for i in range(scene.t.size):
            g = scene.frame(i)
            yield g if gray else cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)

    return frames(), scene.truth


def _prefetch(make: Callable[[int], np.ndarray], n: int, depth: int = 6) -> Iterator[np.ndarray]:
    """``make(0) ... make(n - 1)`` computed in a background thread, ``depth`` ahead.

    Rendering (numpy/cv2, which release the GIL) then overlaps with encoding.
    """
    box: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for i in range(n):
                item: tuple[str, object] = ("frame", make(i))
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            box.put(("error", exc))

    worker = threading.Thread(target=work, name="synthetic-fst-render", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def write_video(
    spec: SyntheticSpec,
    path: str | PathLike[str],
    codec: str = "h264",
    quality: int | None = None,
    keyframe_s: float | None = None,
) -> GroundTruth:
    """Render ``spec`` and encode it to ``path``; the container comes from the suffix.

    Parameters
    ----------
    spec
        What to render.
    path
        Output file: ``.mp4``, ``.mov``, ``.mkv`` or ``.avi``.
    codec
        ``"h264"`` (libx264, preset ultrafast), ``"mjpeg"``, ``"mpeg4"`` (MPEG-4 part 2)
        or ``"ffv1"`` (lossless, grey; ``.mkv`` or ``.avi``).
    quality
        H.264 CRF (default 23, x264's own) or MJPEG/MPEG-4 qscale (default 4); lower is better.
    keyframe_s
        Longest time between two key frames (s); default the encoder's (x264: 250
        frames), as most cameras write few key frames.

    Returns
    -------
    GroundTruth
        With ``time_s`` exactly as written (``pts * time_base``).
    """
    import av  # local: the generator itself does not need PyAV

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise ValueError(f"{path}: container {suffix!r} not supported; use one of {CONTAINERS}")
    if codec not in CODECS:
        raise ValueError(f"codec {codec!r} not supported; use one of {tuple(CODECS)}")
    if spec.vfr and suffix == ".avi":
        raise ValueError(f"{path}: AVI cannot store per-frame timestamps; use .mp4/.mov/.mkv")
    scene = _Scene(spec)
    rate = Fraction(spec.fps).limit_denominator(1001)
    if spec.vfr:
        # Matroska stores milliseconds; MPEG-4 part 2 allows time bases up to 1/65535
        ms_only = suffix == ".mkv" or codec == "mpeg4"
        time_base = Fraction(1, 1000) if ms_only else Fraction(1, 90000)
    else:
        time_base = 1 / rate
    tb_num, tb_den = time_base.numerator, time_base.denominator
    pts = np.round(scene.t * tb_den / tb_num).astype(np.int64)
    encoder, pix_fmt = CODECS[codec]
    container = av.open(str(path), mode="w")
    try:
        stream = container.add_stream(encoder, rate=rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if keyframe_s is not None:
            stream.codec_context.gop_size = max(1, int(round(keyframe_s * spec.fps)))
        if codec == "ffv1":
            pass
        elif codec == "h264":
            crf = 23 if quality is None else quality
            stream.options = {"preset": "ultrafast", "crf": str(crf)}
        else:
            q = 4 if quality is None else quality
            # a fixed quantiser (ffmpeg's -q:v needs per-frame quality, which PyAV cannot set)
            stream.options = {"qmin": str(q), "qmax": str(q)}
        for i, image in enumerate(_prefetch(scene.frame, scene.t.size)):
            frame = av.VideoFrame.from_ndarray(image, format="gray")
            frame.pts = int(pts[i])
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    truth = scene.truth
    truth.time_s = pts * tb_num / tb_den
    truth.end_s = round(truth.end_s * tb_den / tb_num) * tb_num / tb_den
    return truth
