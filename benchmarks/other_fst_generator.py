"""A second, independently written synthetic forced-swim-test (FST) video generator.

Written without looking at ``behavior.testing`` or the scorer, to give the scorer a
fair out-of-sample test. Modelling choices (deliberately not an "ellipse body + four
line limbs" cartoon):

* **Mouse as a 3-D articulated body seen from the side.** A spine of seven control
  points (nose, head, neck, shoulders, mid back, hips, rump) is bent (hunch, head nod)
  and interpolated with a Catmull-Rom spline; the body is the envelope of spheres of a
  tapering radius profile swept along it (pointed nose, thick chest and belly, rounded
  rump), so it projects correctly at any heading, including seen head-on or from behind
  while the mouse turns. Fore- and hind limbs have two segments each (tapered capsules)
  plus paws (long hind feet), the tail is a chain of ten tapering segments carrying a
  travelling wave; ear and eye. Far-side limbs are drawn behind the body and darker.
  Fur: a per-animal low-contrast noise texture, a lighter dorsal sheen, slight blur.
  Coats: black (C57BL/6-like, pinkish-grey paws) or albino (white fur, pink paws/tail,
  red eye).
* **3-D motion in a round tank.** The mouse moves in the top-view disc of the cylinder
  (x across, z towards the camera) with a heading; side view is its projection, with a
  small perspective scale with depth. Swimming mice travel and turn at the wall (seen
  as foreshortening), floating mice drift with a slow water current, climbing mice go to
  the wall and face it.
* **Water optics.** The surface is seen as a thin ellipse (camera slightly above the
  water) with a rippled front edge, a meniscus rising at the walls and waves radiating
  from an active mouse. Below the surface the cylinder acts as a horizontal lens
  (non-linear magnification, strongest at the centre, none at the walls), plus wavy
  displacement near the surface; underwater parts are attenuated towards the water
  colour with depth; a wet highlight where the body pierces the surface; optional
  mirror reflection of the above-water part just under the surface; splash droplets
  when vigorous.
* **Scene / camera.** Backdrop with low-frequency texture, optional opaque dividers,
  cylinder walls with rims and base, specular stripes on the walls that wander and
  breathe a little, vignette and a lateral light gradient applied to everything, an
  optional slow light-level drift with slight flicker, sensor noise, optional camera
  shake, optional monochrome (IR-like) camera; H.264 (libx264, CRF 18-36) or MJPEG
  (qscale 2-24) in .mp4/.mkv/.avi via PyAV.
* **Behaviour.** A semi-Markov process of floating and mobile bouts (log-normal
  durations) whose floating probability follows a per-animal logistic trend over the
  6 min, calibrated to a target share in the 120-360 s window (5-20 %, 20-40 %,
  40-70 %, 70-90 %, or >= 90 % from the first seconds). Mobile bouts are split into
  swimming segments of a vigour from barely paddling (hind limbs only, 2-6 Hz, small
  strokes, body nearly still) to vigorous (four limbs, fast travel), and climbing
  segments (upright at the wall, forepaws scrabbling above the surface) that are more
  likely early in the test. While floating the mouse bobs, drifts and makes corrective
  movements counted as immobility: single brief hind-paw kicks, tail adjustments, head
  nods and slow turns.

Ground truth: per frame and cylinder, a state (0 floating, 1 swimming, 2 climbing) at
the frame's presentation time ``i / fps``; the immobility of an animal is the summed
duration (``1 / fps`` each) of its floating frames whose time lies in the window
(default 120-360 s).

Usage::

    python benchmarks/other_fst_generator.py out.mp4 --seed 3 [--duration 20]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

# bumped whenever the rendering or behaviour changes (cached videos are redrawn)
GENERATOR_VERSION = 2

FLOATING, SWIMMING, CLIMBING = 0, 1, 2
STATE_NAMES = {FLOATING: "floating", SWIMMING: "swimming", CLIMBING: "climbing"}

# ---------------------------------------------------------------------------------
# specifications
# ---------------------------------------------------------------------------------


@dataclass
class AnimalSpec:
    coat: str = "dark"                 # "dark" (C57BL/6-like) or "albino"
    length_px: float = 80.0            # nose to rump at mid depth
    target_float: float = 0.5          # aimed floating share in the scored window
    trend: float = 1.5                 # logistic slope of floating probability over time
    cycle_s: float = 15.0              # mean float + mobile bout length
    vigor: float = 0.5                 # 0 barely paddling .. 1 vigorous
    climb0: float = 0.3                # share of mobile segments spent climbing at t = 0
    climb_tau_s: float = 120.0         # decay of climbing over the test
    float_pitch_deg: float = 38.0      # body slant while floating
    kick_rate: float = 0.15            # corrective single hind kicks per s while floating
    tail_rate: float = 0.2             # tail adjustments per s while floating
    hind_freq: float = 2.8             # paddling frequency (Hz) at the gentle end
    float_from_start: bool = False     # floats from the very first seconds


@dataclass
class VideoSpec:
    seed: int = 0
    width: int = 640
    height: int = 480
    fps: str = "30"                    # a fraction as text, e.g. "30000/1001"
    duration_s: float = 360.0
    window_s: tuple = (120.0, 360.0)
    n_cylinders: int = 1
    codec: str = "h264"                # "h264" or "mjpeg"
    container: str = "mp4"             # "mp4", "mkv" or "avi"
    crf: int = 23                      # libx264
    qscale: int = 5                    # mjpeg (2 best .. 31 worst)
    gray: bool = False                 # monochrome camera
    noise_sigma: float = 2.5
    shake_px: float = 0.0              # camera shake (px, standard deviation)
    light_drift: float = 0.0           # relative amplitude of slow light-level change
    flicker: float = 0.0               # relative amplitude of fast light flicker
    reflection: float = 0.0            # strength of the mirror image under the surface
    backdrop: int = 190                # grey level of the wall behind the cylinders
    dividers: bool = False             # opaque panels between cylinders
    water_level: float = 0.45          # surface height, fraction of frame height
    surface_ellipse: float = 0.03      # half height of the surface ellipse / radius
    magnification: float = 1.18        # lens magnification at the cylinder centre
    attenuation: float = 0.3           # underwater colour mixing towards the water
    vignette: float = 0.25
    light_gradient: float = 0.12
    animals: list = field(default_factory=list)

    @property
    def fps_fraction(self) -> Fraction:
        return Fraction(self.fps)

    @property
    def n_frames(self) -> int:
        return int(round(self.duration_s * float(self.fps_fraction)))

    @property
    def suffix(self) -> str:
        return "." + self.container

    def to_json(self) -> dict:
        d = asdict(self)
        d["window_s"] = list(self.window_s)
        return d

    @classmethod
    def from_json(cls, d: dict) -> VideoSpec:
        d = dict(d)
        d["animals"] = [AnimalSpec(**a) for a in d["animals"]]
        d["window_s"] = tuple(d["window_s"])
        return cls(**d)


def random_spec(seed: int, **overrides) -> VideoSpec:
    """A video drawn from the generator's whole range (seeded). ``overrides`` replace
    any VideoSpec field after drawing (``n_cylinders``, ``width``, ``duration_s`` ...);
    ``animal_overrides`` (a dict) replaces AnimalSpec fields of every animal."""
    rng = np.random.default_rng([seed, 1000])
    animal_overrides = overrides.pop("animal_overrides", {})
    size = [(320, 240), (480, 360), (640, 480), (1280, 720)][
        rng.choice(4, p=[0.3, 0.3, 0.32, 0.08])]
    n_cyl = int(rng.choice([1, 2, 4], p=[0.35, 0.35, 0.3]))
    n_cyl = int(overrides.pop("n_cylinders", n_cyl))
    if "width" in overrides:
        w = int(overrides.pop("width"))
        size = (w, int(overrides.pop("height", w * 3 // 4)))
    fps = str(rng.choice(["15", "20", "25", "30000/1001", "30"], p=[0.15, 0.1, 0.3, 0.2, 0.25]))
    codec = "h264" if rng.random() < 0.7 else "mjpeg"
    container = str(rng.choice(["mp4", "mkv", "avi"], p=[0.7, 0.2, 0.1])) if codec == "h264" \
        else str(rng.choice(["avi", "mkv"], p=[0.75, 0.25]))
    coat_dark = rng.random() < 0.65
    gray = rng.random() < 0.2
    spec = VideoSpec(
        seed=int(seed), width=int(size[0]), height=int(size[1]), fps=fps,
        n_cylinders=n_cyl, codec=codec, container=container,
        crf=int(rng.integers(18, 37)), qscale=int(rng.integers(2, 25)), gray=bool(gray),
        noise_sigma=float(rng.uniform(1.0, 5.0)),
        shake_px=float(rng.uniform(0.2, 1.2)) if rng.random() < 0.3 else 0.0,
        light_drift=float(rng.uniform(0.03, 0.12)) if rng.random() < 0.4 else 0.0,
        flicker=float(rng.uniform(0.003, 0.015)) if rng.random() < 0.3 else 0.0,
        reflection=float(rng.uniform(0.1, 0.35)) if rng.random() < 0.4 else 0.0,
        backdrop=int(rng.uniform(140, 235) if coat_dark else rng.uniform(45, 150)),
        dividers=bool(n_cyl > 1 and rng.random() < 0.5),
        water_level=float(rng.uniform(0.36, 0.52)),
        surface_ellipse=float(rng.uniform(0.0, 0.06)),
        magnification=float(rng.uniform(1.08, 1.3)),
        attenuation=float(rng.uniform(0.15, 0.4)),
        vignette=float(rng.uniform(0.05, 0.4)),
        light_gradient=float(rng.uniform(-0.2, 0.2)),
    )
    for k, v in overrides.items():
        if not hasattr(spec, k):
            raise TypeError(f"no VideoSpec field {k!r}")
        setattr(spec, k, v)
    cw = _cylinder_width(spec.width, spec.n_cylinders)
    animals = []
    for _ in range(spec.n_cylinders):
        r = rng.random()
        if r < 0.22:
            target, trend, cycle = rng.uniform(0.05, 0.2), rng.uniform(1.0, 2.5), rng.uniform(6, 18)
        elif r < 0.36:
            target, trend, cycle = rng.uniform(0.2, 0.4), rng.uniform(1.0, 2.5), rng.uniform(8, 22)
        elif r < 0.68:
            target, trend, cycle = rng.uniform(0.4, 0.7), rng.uniform(0.8, 2.5), rng.uniform(10, 30)
        elif r < 0.82:
            target, trend, cycle = rng.uniform(0.7, 0.9), rng.uniform(0.5, 2.0), rng.uniform(15, 40)
        else:
            target, trend = rng.uniform(0.9, 0.98), rng.uniform(0.0, 0.8)
            cycle = rng.uniform(25, 60)
        vigor = rng.uniform(0.05, 0.3) if rng.random() < 0.4 else rng.uniform(0.25, 1.0)
        length = float(np.clip(rng.uniform(0.38, 0.55) * cw, 0.06 * spec.width, 0.19 * spec.width))
        animals.append(AnimalSpec(
            coat="dark" if coat_dark else "albino", length_px=length,
            target_float=float(target), trend=float(trend), cycle_s=float(cycle),
            vigor=float(vigor), climb0=float(rng.uniform(0.0, 0.6)),
            climb_tau_s=float(rng.uniform(60, 200)),
            float_pitch_deg=float(rng.uniform(28, 50)),
            kick_rate=float(rng.uniform(0.03, 0.3)), tail_rate=float(rng.uniform(0.05, 0.3)),
            hind_freq=float(rng.uniform(2.0, 3.5)),
            float_from_start=bool(target >= 0.9 and rng.random() < 0.8)))
    for a in animals:
        for k, v in animal_overrides.items():
            setattr(a, k, v)
    spec.animals = animals
    return spec


def _cylinder_width(width: int, n: int) -> float:
    return {1: 0.5, 2: 0.4, 4: 0.215}[n] * width


# ---------------------------------------------------------------------------------
# behaviour and kinematics
# ---------------------------------------------------------------------------------

# columns of the per-frame kinematics array
K_X, K_Z, K_HEAD, K_PITCH, K_HN, K_FLEX, K_NOD, K_PHL, K_PHR, K_AMPL, K_AMPR, K_KICKL, \
    K_KICKR, K_PHF, K_AMPF, K_REACH, K_TAILB, K_TAILLAT, K_TAILVERT, K_PHT, K_ACT = range(21)
N_K = 21


def _lognormal(rng, mean: float, sigma: float) -> float:
    return float(rng.lognormal(math.log(mean) - sigma * sigma / 2, sigma))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def timeline(a: AnimalSpec, duration: float, window: tuple, rng) -> list:
    """Bouts ``(t0, t1, state, vigour)`` covering ``[0, duration]``."""
    grid = np.linspace(window[0], window[1], 200)
    xg = (grid - 240.0) / 120.0
    lo, hi = -12.0, 12.0
    for _ in range(60):                 # calibrate the logistic offset to the target share
        c = (lo + hi) / 2
        if _sigmoid(c + a.trend * xg).mean() < a.target_float:
            lo = c
        else:
            hi = c

    def p_float(t):
        return float(_sigmoid(c + a.trend * (t - 240.0) / 120.0))

    bouts = []
    t = 0.0
    if a.float_from_start:
        d = rng.uniform(0.8, 4.0)       # a short struggle after being put in
        bouts.append((0.0, d, SWIMMING, min(1.0, a.vigor + 0.3)))
        t, floating = d, True
    else:
        floating = False
    while t < duration:
        p = min(max(p_float(t), 0.01), 0.99)
        if floating:
            d = max(1.0, _lognormal(rng, max(1.0, p * a.cycle_s), 0.75))
            bouts.append((t, t + d, FLOATING, 0.0))
        else:
            d = max(0.6, _lognormal(rng, max(0.6, (1 - p) * a.cycle_s), 0.7))
            # split into segments of swimming (of a vigour) or climbing
            s = t
            while s < t + d - 1e-9:
                seg = min(t + d - s, max(0.6, rng.uniform(1.5, 8.0)))
                if t + d - (s + seg) < 0.6:
                    seg = t + d - s
                pc = a.climb0 * math.exp(-s / a.climb_tau_s)
                if rng.random() < pc:
                    bouts.append((s, s + seg, CLIMBING, 1.0))
                else:
                    v = a.vigor * (1 - 0.35 * s / 360.0) + rng.normal(0, 0.12)
                    bouts.append((s, s + seg, SWIMMING, float(np.clip(v, 0.04, 1.0))))
                s += seg
        t += d
        floating = not floating
    return bouts


def states_at(bouts: list, times: np.ndarray) -> tuple:
    starts = np.array([b[0] for b in bouts])
    idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(bouts) - 1)
    st = np.array([b[2] for b in bouts], dtype=np.uint8)[idx]
    vg = np.array([b[3] for b in bouts], dtype=np.float64)[idx]
    return st, vg


def frame_times(spec: VideoSpec) -> np.ndarray:
    fps = spec.fps_fraction
    return np.arange(spec.n_frames, dtype=np.float64) * float(1 / fps)


def simulate_animal(spec: VideoSpec, k: int) -> tuple:
    """Per-frame truth states (uint8) and kinematics (n_frames x N_K float32) of the
    animal in cylinder ``k``."""
    a = spec.animals[k]
    rng = np.random.default_rng([spec.seed, 1, k])
    bouts = timeline(a, spec.duration_s + 1.0, spec.window_s, rng)
    times = frame_times(spec)
    n = len(times)
    dt = float(1 / spec.fps_fraction)
    truth, _ = states_at(bouts, times)
    lead = 0.08                           # motion ramps are centred on the bout edges
    mstate, mvig = states_at(bouts, times + lead)

    L = a.length_px
    R = _cylinder_width(spec.width, spec.n_cylinders) / 2
    rmax = R - 0.3 * L
    # corrective events while floating
    kicks = np.zeros((n, 2))
    tail_adj = np.zeros(n)
    fl = mstate == FLOATING
    i = 0
    while i < n:
        i += max(1, int(rng.exponential(1.0 / a.kick_rate) / dt))
        if i < n and fl[i]:
            d = int(rng.uniform(0.2, 0.4) / dt) + 1
            amp = rng.uniform(20, 40)
            side = rng.integers(2)
            env = np.sin(np.pi * np.arange(d) / d)
            j = min(n, i + d)
            kicks[i:j, side] = amp * env[: j - i] * fl[i:j]
    i = 0
    cur = 0.0
    while i < n:
        step = max(1, int(rng.exponential(1.0 / a.tail_rate) / dt))
        tail_adj[i:i + step] = cur
        i += step
        cur = float(np.clip(cur + rng.normal(0, 14), -25, 25))

    K = np.zeros((n, N_K), np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    x, z = 0.5 * rmax * math.cos(ang), 0.5 * rmax * math.sin(ang)
    head = rng.uniform(0, 2 * np.pi)
    pitch, hn, flex = 30.0, 0.05, 0.1
    ampL = ampF = reach = 0.0
    phL = rng.uniform(0, 2 * np.pi)
    phF = rng.uniform(0, 2 * np.pi)
    phT = 0.0
    tailb, taillat, tailvert, act = -20.0, 5.0, 3.0, 0.0
    vx = vz = 0.0
    turn = 0.0
    cur_x, cur_z = rng.normal(0, 0.02, 2) * L
    wob = 0.0
    nod_ou = 0.0
    bob_ph = rng.uniform(0, 2 * np.pi)
    bob_f = rng.uniform(0.35, 0.9)
    ghost_v = a.vigor
    fH = a.hind_freq

    def flt(cur, target, tau):
        return cur + (target - cur) * (1 - math.exp(-dt / tau))

    # random walks are specified per frame at 30 fps; other rates get the same
    # dynamics per second (decay per frame ** (30 dt), noise * sqrt(30 dt))
    f30 = 30.0 * dt
    sq = math.sqrt(f30)

    def ar(decay30):
        return decay30 ** f30

    for i in range(n):
        s = mstate[i]
        v = float(mvig[i]) if s == SWIMMING else (1.0 if s == CLIMBING else 0.0)
        ghost_v = flt(ghost_v, v, 0.3)
        # water current: slow random walk
        cur_x = ar(0.995) * cur_x + rng.normal(0, 0.004) * L * sq
        cur_z = ar(0.995) * cur_z + rng.normal(0, 0.004) * L * sq
        wob = ar(0.99) * wob + rng.normal(0, 0.4) * sq
        nod_ou = ar(0.97) * nod_ou + rng.normal(0, 0.6 if s == FLOATING else 1.2) * sq
        if s == FLOATING:
            t_pitch, t_hn, t_flex, t_speed = a.float_pitch_deg + wob, 0.035, 0.28, 0.0
            t_ampH, t_ampF, t_reach, freqH = 0.0, 0.0, 0.0, fH
            t_tailb, t_lat, t_vert, freqT = -28.0 + tail_adj[i], 4.0, 3.0, 0.4
            turn = ar(0.98) * turn + rng.normal(0, 0.02) * sq
            head += turn * dt
        elif s == SWIMMING:
            t_pitch = 32.0 - 17.0 * v + 0.5 * wob
            t_hn, t_flex = 0.04 + 0.03 * v, 0.12
            t_speed = (0.03 + 0.9 * v * v) * L
            t_ampH = 12.0 + 40.0 * v
            t_ampF = max(0.0, v - 0.4) * 70.0
            t_reach = 0.0
            freqH = fH * (1.0 + 1.2 * v)
            t_tailb, t_lat, t_vert, freqT = -8.0, 8.0 + 22.0 * v, 4.0, freqH
            turn = ar(0.97) * turn + rng.normal(0, 0.12 + 0.25 * v) * sq
            head += turn * dt
        else:  # climbing: to the wall, face it
            t_pitch, t_hn, t_flex, t_speed = 76.0 + 3 * wob, 0.2, -0.05, 0.0
            t_ampH, t_ampF, t_reach, freqH = 45.0, 0.0, 1.0, fH * 2.2
            t_tailb, t_lat, t_vert, freqT = -45.0, 15.0, 6.0, 3.0
            wall = math.atan2(z, x) if (x * x + z * z) > 1e-6 else head
            dh = (wall - head + math.pi) % (2 * math.pi) - math.pi
            head += float(np.clip(dh, -4 * dt, 4 * dt))
            rw = R - 0.2 * L
            gx, gz = rw * math.cos(wall), rw * math.sin(wall)
            vx = flt(vx, (gx - x) * 3.0, 0.15)
            vz = flt(vz, (gz - z) * 3.0, 0.15)
        if s != CLIMBING:
            tvx, tvz = t_speed * math.cos(head), t_speed * math.sin(head)
            vx = flt(vx, tvx, 0.4)
            vz = flt(vz, tvz, 0.4)
        x += (vx + cur_x * (s == FLOATING)) * dt
        z += (vz + cur_z * (s == FLOATING)) * dt
        r = math.hypot(x, z)
        lim = rmax if s != CLIMBING else R - 0.18 * L
        if r > lim:
            x, z = x * lim / r, z * lim / r
            if s == SWIMMING:
                # turn away from the wall, towards the inside
                inward = math.atan2(-z, -x) + rng.uniform(-1.0, 1.0)
                dh = (inward - head + math.pi) % (2 * math.pi) - math.pi
                turn = float(np.clip(dh * 3.0, -5, 5))
            elif s == FLOATING:
                cur_x, cur_z = -cur_x, -cur_z
        pitch = flt(pitch, t_pitch, 0.3)
        hn = flt(hn, t_hn, 0.3)
        flex = flt(flex, t_flex, 0.4)
        ampL = flt(ampL, t_ampH, 0.08)
        ampF = flt(ampF, t_ampF, 0.1)
        reach = flt(reach, t_reach, 0.2)
        tailb = flt(tailb, t_tailb, 0.35)
        taillat = flt(taillat, t_lat, 0.3)
        tailvert = flt(tailvert, t_vert, 0.3)
        act = flt(act, ghost_v, 0.4)
        phL += 2 * math.pi * freqH * dt
        phF += 2 * math.pi * (freqH if s != CLIMBING else fH * 2.6) * dt
        phT += 2 * math.pi * freqT * dt
        bob_ph += 2 * math.pi * bob_f * dt
        bob = 0.012 * math.sin(bob_ph) + 0.012 * ampL / 52.0 * math.sin(2 * phL) \
            + 0.03 * reach * math.sin(phF)
        K[i] = (x, z, head, pitch, hn + bob, flex, nod_ou * (2.0 if s == FLOATING else 3.0) / 3.0,
                phL, phL + math.pi, ampL, ampL, kicks[i, 0], kicks[i, 1], phF, ampF, reach,
                tailb, taillat, tailvert, phT, act)
    return truth, K


def truth_of(spec: VideoSpec, states: list) -> dict:
    times = frame_times(spec)
    dt = float(1 / spec.fps_fraction)
    inwin = (times >= spec.window_s[0]) & (times < spec.window_s[1])
    animals = []
    for k, st in enumerate(states):
        imm = float(np.count_nonzero((st == FLOATING) & inwin) * dt)
        span = float(np.count_nonzero(inwin) * dt)
        runs = []
        edges = np.flatnonzero(np.diff(st.astype(np.int16))) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [len(st)]])
        for s0, s1 in zip(starts, ends, strict=False):
            runs.append([int(s0), int(s1), int(st[s0])])
        animals.append({
            "arena": k + 1, "immobility_s": imm, "window_span_s": span,
            "floating_share": imm / span if span else float("nan"),
            "swimming_s": float(np.count_nonzero((st == SWIMMING) & inwin) * dt),
            "climbing_s": float(np.count_nonzero((st == CLIMBING) & inwin) * dt),
            "runs": runs, **asdict(spec.animals[k])})
    return {"fps": spec.fps, "n_frames": spec.n_frames, "frame_duration_s": dt,
            "window_s": list(spec.window_s),
            "states": {str(k): v for k, v in STATE_NAMES.items()}, "animals": animals}


def simulate(spec: VideoSpec) -> tuple:
    states, kins = [], []
    for k in range(spec.n_cylinders):
        st, K = simulate_animal(spec, k)
        states.append(st)
        kins.append(K)
    return states, kins


def states_from_runs(runs: list, n_frames: int) -> np.ndarray:
    st = np.zeros(n_frames, np.uint8)
    for s0, s1, s in runs:
        st[s0:s1] = s
    return st


# ---------------------------------------------------------------------------------
# scene
# ---------------------------------------------------------------------------------


def _smooth_noise(rng, h, w, sigma):
    n = rng.normal(0, 1, (h, w)).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / (n.std() + 1e-6)


class _Cylinder:
    def __init__(self, spec: VideoSpec, k: int):
        W, H = spec.width, spec.height
        cw = _cylinder_width(W, spec.n_cylinders)
        n = spec.n_cylinders
        slot = W / n
        self.cx = slot * (k + 0.5)
        self.R = cw / 2
        self.x0 = int(math.floor(self.cx - self.R))
        self.x1 = int(math.ceil(self.cx + self.R))
        self.y_top = int(0.06 * H)
        self.y_bot = int(0.95 * H)
        self.yw = spec.water_level * H
        self.e = spec.surface_ellipse * self.R
        xs = np.arange(self.x0, self.x1 + 1, dtype=np.float64)
        self.xs = xs
        self.rel = np.clip((xs - self.cx) / self.R, -1, 1)
        # lens mapping: true x (rel) = f(apparent rel)
        m = spec.magnification
        a = np.linspace(-1, 1, 401)
        f = a / m + (1 - 1 / m) * a ** 3
        self._lens_a, self._lens_f = a, f
        self.lens_x = self.lens_src(np.arange(spec.width, dtype=np.float64)).astype(np.float32)

    def lens_src(self, xapp):
        """True x of the underwater point seen at apparent x."""
        rel = np.clip((xapp - self.cx) / self.R, -1, 1)
        return self.cx + self.R * np.interp(rel, self._lens_a, self._lens_f)

    def lens_app(self, xtrue):
        rel = np.clip((xtrue - self.cx) / self.R, -1, 1)
        return self.cx + self.R * np.interp(rel, self._lens_f, self._lens_a)


class _Scene:
    """Static background (dry and wet versions), illumination, wall highlights."""

    def __init__(self, spec: VideoSpec):
        W, H = spec.width, spec.height
        rng = np.random.default_rng([spec.seed, 2])
        self.spec = spec
        self.cyl = [_Cylinder(spec, k) for k in range(spec.n_cylinders)]
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        rr = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
        illum = (1 - spec.vignette * rr / 2) * (1 + spec.light_gradient * (xx / W - 0.5) * 2)
        illum *= 1 + 0.04 * cv2.resize(_smooth_noise(rng, 24, 32, 2), (W, H))
        self.illum = illum.astype(np.float32)
        self.illum4 = np.dstack([self.illum] * 3 + [np.ones_like(self.illum)])
        b = float(spec.backdrop)
        wall = b * (1 + 0.05 * cv2.resize(_smooth_noise(rng, 48, 64, 3), (W, H))
                    + 0.06 * (yy / H - 0.5))
        tint = np.array([1.0, 1.0, 1.0]) + rng.uniform(-0.04, 0.04, 3)
        dry = wall[..., None] * tint[None, None, :].astype(np.float32)
        if spec.dividers:
            for k in range(1, spec.n_cylinders):
                xd = W / spec.n_cylinders * k
                gw = max(2, int(0.015 * W))
                col = rng.uniform(30, 90) if b > 120 else rng.uniform(150, 220)
                dry[int(0.03 * H):int(0.97 * H), int(xd - gw):int(xd + gw)] = col
        # bench
        dry[int(0.965 * H):] *= 0.7
        wet = dry.copy()
        water_col = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.0),
                              rng.uniform(0.75, 0.9)],
                             np.float32) * b
        self.water_col = water_col / 255.0
        for c in self.cyl:
            x0, x1 = max(0, c.x0), min(W, c.x1 + 1)
            # air part: acrylic slightly darkens and tints
            dry[c.y_top:c.y_bot, x0:x1] *= 0.96
            # water part: magnified background, tinted, darker with depth
            ys = int(c.yw - c.e - 2)
            reg = dry[ys:c.y_bot, x0:x1].copy()
            xsrc = c.lens_src(np.arange(x0, x1, dtype=np.float64)) - x0
            mapx = np.tile(xsrc.astype(np.float32), (reg.shape[0], 1))
            mapy = np.repeat(np.arange(reg.shape[0], dtype=np.float32)[:, None], x1 - x0, 1)
            reg = cv2.remap(reg, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            depth = np.linspace(0, 1, reg.shape[0], dtype=np.float32)[:, None, None]
            kw = 0.25 + 0.25 * depth
            caust = 1 + 0.03 * cv2.resize(_smooth_noise(rng, 20, 12, 1.5),
                                          (x1 - x0, reg.shape[0]))[..., None]
            reg = (reg * (1 - kw) + water_col * kw) * caust * (1 - 0.12 * depth)
            wet[ys:c.y_bot, x0:x1] = reg
            # base of the cylinder
            for img in (dry, wet):
                cv2.ellipse(img, (int(c.cx), c.y_bot), (int(c.R), int(0.05 * c.R)), 0, 0, 360,
                            (b * 0.7,) * 3, -1, cv2.LINE_AA)
                cv2.ellipse(img, (int(c.cx), c.y_top), (int(c.R), int(0.05 * c.R)), 0, 180, 360,
                            (b * 0.8,) * 3, max(1, int(0.005 * W)), cv2.LINE_AA)
                wt = max(1, int(round(0.006 * W)))
                for xe, sgn in ((c.cx - c.R, 1), (c.cx + c.R, -1)):
                    cv2.line(img, (int(xe), c.y_top), (int(xe), c.y_bot), (b * 0.72,) * 3, wt,
                             cv2.LINE_AA)
                    cv2.line(img, (int(xe + sgn * wt * 1.5), c.y_top),
                             (int(xe + sgn * wt * 1.5), c.y_bot), (min(255, b * 1.15),) * 3, 1,
                             cv2.LINE_AA)
            # back edge of the surface ellipse (behind the mouse): a faint line, and the
            # surface seen from above (sheen) between back and front edges
            if c.e > 0.6:
                xs = np.arange(x0, x1)
                rel = np.clip((xs - c.cx) / c.R, -1, 1)
                yb = c.yw - c.e * np.sqrt(1 - rel ** 2)
                pts = np.stack([xs, yb], 1)
                cv2.polylines(wet, [np.round(pts * 16).astype(np.int32)], False,
                              (min(255, b * 1.1 + 15),) * 3, 1, cv2.LINE_AA, shift=4)
        blur = 0.4 + W / 1600
        dry = cv2.GaussianBlur(dry, (0, 0), blur) * illum[..., None]
        wet = cv2.GaussianBlur(wet, (0, 0), blur) * illum[..., None]
        self.dry = np.clip(dry, 0, 255).astype(np.uint8)
        self.wet = np.clip(wet, 0, 255).astype(np.uint8)
        # specular stripes on the cylinder walls: a few vertical bands per cylinder,
        # pre-rendered at 9 sub-pixel shifts
        self.stripes = []
        for c in self.cyl:
            x0, x1 = max(0, c.x0 - 2), min(W, c.x1 + 3)
            xs = np.arange(x0, x1, dtype=np.float32)
            bands = [(c.cx - c.R * rng.uniform(0.7, 0.85), c.R * rng.uniform(0.02, 0.05),
                      rng.uniform(25, 70)),
                     (c.cx + c.R * rng.uniform(0.5, 0.8), c.R * rng.uniform(0.01, 0.03),
                      rng.uniform(10, 35))]
            vprof = (0.75 + 0.25 * np.sin(np.linspace(0, np.pi, c.y_bot - c.y_top))).astype(
                np.float32)
            shifts = []
            for sh in np.linspace(-2.0, 2.0, 9):
                prof = np.zeros_like(xs)
                for (bx, bw, bs) in bands:
                    prof += bs * np.exp(-0.5 * ((xs - bx - sh) / max(0.6, bw)) ** 2)
                img = vprof[:, None] * prof[None, :]
                shifts.append(np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, 2))
            self.stripes.append((x0, x1, shifts, rng.uniform(0, 2 * np.pi, 2),
                                 rng.uniform(0.01, 0.05, 2)))


# ---------------------------------------------------------------------------------
# the mouse
# ---------------------------------------------------------------------------------

_U = np.array([0.50, 0.40, 0.27, 0.12, -0.06, -0.26, -0.44])     # spine control points
_V0 = np.array([-0.02, 0.01, 0.02, 0.01, 0.0, 0.0, -0.01])
_NECK, _SHOULDER, _HIP, _RUMP = 2, 3, 5, 6


def _catmull_rom_matrix(n_ctrl: int, per_seg: int) -> np.ndarray:
    rows = []
    for s in range(n_ctrl - 1):
        for j in range(per_seg):
            t = j / per_seg
            i0, i1, i2, i3 = max(0, s - 1), s, s + 1, min(n_ctrl - 1, s + 2)
            w = [(-t ** 3 + 2 * t ** 2 - t) / 2, (3 * t ** 3 - 5 * t ** 2 + 2) / 2,
                 (-3 * t ** 3 + 4 * t ** 2 + t) / 2, (t ** 3 - t ** 2) / 2]
            r = np.zeros(n_ctrl)
            for ii, ww in zip((i0, i1, i2, i3), w, strict=False):
                r[ii] += ww
            rows.append(r)
    r = np.zeros(n_ctrl)
    r[-1] = 1
    rows.append(r)
    return np.array(rows)


def _radius_profile(u: np.ndarray) -> np.ndarray:
    """Half-thickness (in body lengths) along the spine by position u (nose 0.5)."""
    ku = np.array([0.50, 0.47, 0.42, 0.36, 0.28, 0.18, 0.05, -0.10, -0.25, -0.36, -0.42, -0.45])
    kr = np.array([0.012, 0.032, 0.06, 0.082, 0.088, 0.11, 0.126, 0.132, 0.126, 0.107, 0.078,
                   0.045])
    return np.interp(-u, -ku, kr)


class _Mouse:
    def __init__(self, spec: VideoSpec, k: int, cyl: _Cylinder, K: np.ndarray):
        a = spec.animals[k]
        self.a, self.cyl, self.K = a, cyl, K
        rng = np.random.default_rng([spec.seed, 3, k])
        L = a.length_px
        self.L = L
        per_seg = int(np.clip(L / 14, 3, 8))
        self.B = _catmull_rom_matrix(len(_U), per_seg)
        u_dense = self.B @ _U
        self.r_dense = _radius_profile(u_dense)
        if a.coat == "dark":
            base = rng.uniform(22, 40)
            self.fur = np.array([base, base * 1.02, base * 1.06])
            self.sheen = self.fur * 1.0 + rng.uniform(18, 35)
            self.paw = np.array([105, 110, 140]) * rng.uniform(0.8, 1.0)
            self.tail = np.array([62, 64, 72]) * rng.uniform(0.85, 1.1)
            self.ear = self.fur * 1.3
            self.eye = np.array([10, 10, 10])
        else:
            base = rng.uniform(200, 230)
            self.fur = np.array([base * 0.93, base * 0.98, base])
            self.sheen = np.minimum(255, self.fur + 22)
            self.paw = np.array([165, 165, 225])
            self.tail = np.array([170, 175, 220])
            self.ear = np.array([175, 180, 230])
            self.eye = np.array([40, 30, 170])
        ts = int(max(256, 4 * L))
        fine = _smooth_noise(rng, ts, ts, 0.7)
        coarse = _smooth_noise(rng, ts, ts, max(2.0, L / 25))
        amp = 0.10 if a.coat == "dark" else 0.05
        tex = (1 + amp * (0.6 * fine + 0.4 * coarse)).astype(np.float32)
        self.tex4 = np.dstack([tex, tex, tex, np.ones_like(tex)])
        self.blur = 0.35 + L / 250

    # -- geometry -------------------------------------------------------------------
    def project(self, row, uvw: np.ndarray, scale: float) -> np.ndarray:
        """Body-frame points (n, 3: u forward, v dorsal, w left) to screen (n, 2)."""
        th = math.radians(row[K_PITCH])
        h = row[K_HEAD]
        u, v, w = uvw[:, 0], uvw[:, 1], uvw[:, 2]
        hf = u * math.cos(th) - v * math.sin(th)
        up = u * math.sin(th) + v * math.cos(th)
        X = self.cyl.cx + row[K_X] + scale * (hf * math.cos(h) - w * math.sin(h))
        return np.stack([X, -scale * up], 1)

    def pose(self, row):
        """Screen-space pieces of the mouse (before vertical placement)."""
        L = self.L
        scale = L * (1 + 0.06 * row[K_Z] / self.cyl.R)
        flex = row[K_FLEX]
        ctrl_v = _V0 - flex * (_U ** 2 - 0.05)
        ctrl = np.stack([_U.astype(np.float64), ctrl_v], 1)
        # head nod: rotate nose and head about the neck
        nod = math.radians(row[K_NOD])
        c, s = math.cos(nod), math.sin(nod)
        p0 = ctrl[_NECK].copy()
        for j in (0, 1):
            d = ctrl[j] - p0
            ctrl[j] = p0 + (c * d[0] - s * d[1], s * d[0] + c * d[1])
        dense = self.B @ ctrl
        uvw = np.concatenate([dense, np.zeros((len(dense), 1))], 1)
        return scale, ctrl, uvw

    # -- limbs ----------------------------------------------------------------------
    @staticmethod
    def _dir(alpha_deg):
        a = math.radians(alpha_deg)
        return np.array([math.sin(a), -math.cos(a)])      # 0 = straight down (ventral)

    def limbs(self, row, ctrl):
        """Body-frame joints of the four limbs: (16, 3) array, 4 points per limb in the
        order hind left, fore left, hind right, fore right (w > 0 is the left side)."""
        out = np.empty((16, 3))
        reach = float(row[K_REACH])
        sin, cos, rad = math.sin, math.cos, math.radians
        hip = ctrl[_HIP] + (0.0, -0.045)
        sh = ctrl[_SHOULDER] + (0.0, -0.06)
        af = float(row[K_AMPF])
        wpad = min(1.0, af / 20.0)
        for side, sgn in ((0, 1.0), (1, -1.0)):
            ph = float(row[K_PHL] if side == 0 else row[K_PHR])
            amp = float(row[K_AMPL] if side == 0 else row[K_AMPR])
            kick = float(row[K_KICKL] if side == 0 else row[K_KICKR])
            a1 = -15.0 + amp * sin(ph) - kick * 0.9 + 10 * reach
            a2 = a1 - (55.0 + 0.5 * amp * cos(ph) - 0.6 * kick)
            a3 = a2 + 95.0 - 0.3 * amp * sin(ph + 0.6) + 0.5 * kick
            j = side * 8
            p = hip
            out[j] = (p[0], p[1], sgn * 0.085)
            x, y = p[0], p[1]
            for n, (ang, ln, w) in enumerate(((a1, 0.15, 0.085), (a2, 0.16, 0.11),
                                              (a3, 0.15, 0.11))):
                x += ln * sin(rad(ang))
                y -= ln * cos(rad(ang))
                out[j + 1 + n] = (x, y, sgn * w)
            # forelimb: blend of tucked under the chin, paddling, reaching up the wall
            phf = float(row[K_PHF]) + (0 if side == 0 else math.pi)
            pad1 = 35.0 + af * sin(phf)
            pad2 = pad1 + 70.0 + 0.5 * af * cos(phf)
            rch1 = 120.0 + 28.0 * sin(phf)
            rch2 = rch1 + 15.0 + 30.0 * cos(phf)
            b1 = (1 - reach) * ((1 - wpad) * 35.0 + wpad * pad1) + reach * rch1
            b2 = (1 - reach) * ((1 - wpad) * 125.0 + wpad * pad2) + reach * rch2
            out[j + 4] = (sh[0], sh[1], sgn * 0.07)
            x, y = sh[0], sh[1]
            for n, (ang, ln, w) in enumerate(((b1, 0.11, 0.07), (b2, 0.1, 0.08),
                                              (b2 + 20, 0.035, 0.08))):
                x += ln * sin(rad(ang))
                y -= ln * cos(rad(ang))
                out[j + 5 + n] = (x, y, sgn * w)
        return out

    def tail_pts(self, row, ctrl):
        n = 10
        base = ctrl[_RUMP]
        d0 = ctrl[_RUMP] - ctrl[_HIP]
        ang0 = math.atan2(d0[1], d0[0])
        out = np.empty((n + 1, 3))
        out[0] = (base[0], base[1], 0.0)
        seg = 0.09
        a_v = ang0 + math.radians(float(row[K_TAILB]))
        lat = 0.0
        tv = math.radians(float(row[K_TAILVERT]))
        tl = math.radians(float(row[K_TAILLAT]))
        pt = float(row[K_PHT])
        x, y = base[0], base[1]
        for j in range(1, n + 1):
            f = j / n
            a_v += tv * math.sin(pt - 0.8 * j) * f
            lat_ang = tl * math.sin(pt - 0.9 * j) * (0.3 + f)
            step = seg * math.cos(lat_ang)
            lat += seg * math.sin(lat_ang)
            x += step * math.cos(a_v)
            y += step * math.sin(a_v)
            out[j] = (x, y, lat)
        return out


# limb segments: (index of start joint within the limb's 4, half-width at start and end
# in body lengths, colour key)
_LIMB_SEGS = {"hind": ((0, 0.05, 0.028, "fur"), (1, 0.028, 0.016, "fur"), (2, 0.02, 0.014, "paw")),
              "fore": ((0, 0.032, 0.022, "fur"), (1, 0.02, 0.015, "fur"), (2, 0.018, 0.012, "paw"))}


_TAIL_R = 0.026 - 0.016 * np.arange(11) / 10


def _capsule(img, x0, y0, x1, y1, r0, r1, color, cap0=True):
    """Tapered capsule between screen points (shift-4 subpixel), plain floats."""
    dx, dy = x1 - x0, y1 - y0
    ln = math.hypot(dx, dy)
    if ln > 1e-3:
        nx, ny = -dy / ln, dx / ln
        quad = np.array([[x0 + nx * r0, y0 + ny * r0], [x1 + nx * r1, y1 + ny * r1],
                         [x1 - nx * r1, y1 - ny * r1], [x0 - nx * r0, y0 - ny * r0]])
        cv2.fillConvexPoly(img, (quad * 16).astype(np.int32), color, cv2.LINE_AA, shift=4)
    if cap0:
        cv2.circle(img, (int(x0 * 16), int(y0 * 16)), max(8, int(r0 * 16)), color, -1,
                   cv2.LINE_AA, shift=4)
    cv2.circle(img, (int(x1 * 16), int(y1 * 16)), max(8, int(r1 * 16)), color, -1,
               cv2.LINE_AA, shift=4)


# ---------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------


class Renderer:
    def __init__(self, spec: VideoSpec, kins: list):
        cv2.setNumThreads(1)
        self.spec = spec
        self.scene = _Scene(spec)
        self.mice = [_Mouse(spec, k, self.scene.cyl[k], kins[k]) for k in range(spec.n_cylinders)]
        self.rng = np.random.default_rng([spec.seed, 4])
        W, H = spec.width, spec.height
        nrng = np.random.default_rng([spec.seed, 5])
        ch = 1 if spec.gray else 3
        noise = nrng.normal(0, spec.noise_sigma, (6, H + 48, W, ch)).round()
        if ch == 1:
            noise = noise[..., 0]
        # as two unsigned parts: img + pos - neg (saturating, fast)
        self.noise_pos = np.clip(noise, 0, 255).astype(np.uint8)
        self.noise_neg = np.clip(-noise, 0, 255).astype(np.uint8)
        self.dt = float(1 / spec.fps_fraction)
        self.shake = np.zeros(2)
        self.surf = [dict(ph=self.rng.uniform(0, 6.28, 3), k=self.rng.uniform(0.05, 0.3, 3)
                          * 2 * math.pi / c.R * 6, w=self.rng.uniform(2, 7, 3),
                          a=self.rng.uniform(0.08, 0.3, 3) * (H / 480) + 0.05)
                     for c in self.scene.cyl]
        self._lut_g = None

    def surface(self, k: int, t: float, mouse_x: float, act: float) -> np.ndarray:
        """Front edge of the water surface (y) over the cylinder's columns."""
        c = self.scene.cyl[k]
        s = self.surf[k]
        xs = c.xs
        y = c.yw + c.e * np.sqrt(1 - c.rel ** 2)
        for j in range(3):
            y = y + s["a"][j] * np.sin(s["k"][j] * (xs - c.cx) * (1 if j % 2 else -1)
                                       + s["w"][j] * t + s["ph"][j])
        men = 0.012 * c.R + 1.0
        y = y - men * np.exp(-(1 - np.abs(c.rel)) * c.R / max(2.0, 0.04 * c.R))
        L = self.mice[k].L
        dist = np.abs(xs - mouse_x)
        y = y + (0.05 * L * act) * np.exp(-dist / (0.8 * L)) * np.sin(
            dist * 2 * math.pi / (0.35 * L) - 14 * t)
        return y

    def frame(self, i: int) -> np.ndarray:
        spec = self.spec
        t = i * self.dt
        img = self.scene.wet.copy()
        W, H = spec.width, spec.height
        surfs = []
        for k, (c, m) in enumerate(zip(self.scene.cyl, self.mice, strict=False)):
            row = m.K[i]
            mx = c.cx + float(row[K_X])
            ys = self.surface(k, t, mx, float(row[K_ACT]))
            surfs.append(ys)
            # dry above the front edge, sheen between back and front edges
            x0, x1 = max(0, c.x0), min(W, c.x1 + 1)
            ysl = ys[x0 - c.x0: x1 - c.x0]
            y_a = int(max(0, math.floor(ysl.min()) - 1))
            y_b = int(min(H, math.ceil(ysl.max()) + 2))
            rows = np.arange(y_a, y_b, dtype=np.float32)[:, None]
            cov = _clip01(ysl[None, :].astype(np.float32) - rows)[..., None]
            dry = self.scene.dry[y_a:y_b, x0:x1].astype(np.float32)
            if c.e > 0.6:
                yb = c.yw - c.e * np.sqrt(1 - c.rel[x0 - c.x0: x1 - c.x0] ** 2)
                sheen = _clip01(rows - yb[None, :].astype(np.float32))[..., None] * 0.12
                dry = dry * (1 - sheen) + 255 * sheen * 0.8
            wet = img[y_a:y_b, x0:x1].astype(np.float32)
            img[y_a:y_b, x0:x1] = (dry * cov + wet * (1 - cov)).astype(np.uint8)
            # the part of the sheen band above the current front edge but below y_a
            if c.e > 0.6:
                yb0 = int(c.yw - c.e)
                if yb0 < y_a:
                    band = self.scene.dry[yb0:y_a, x0:x1].astype(np.float32)
                    yb = c.yw - c.e * np.sqrt(1 - c.rel[x0 - c.x0: x1 - c.x0] ** 2)
                    r2 = np.arange(yb0, y_a, dtype=np.float32)[:, None]
                    sheen = _clip01(r2 - yb[None, :].astype(np.float32))[..., None] * 0.12
                    img[yb0:y_a, x0:x1] = (band * (1 - sheen) + 255 * sheen * 0.8).astype(
                        np.uint8)
        for k, (c, m) in enumerate(zip(self.scene.cyl, self.mice, strict=False)):
            self._draw_mouse(img, k, c, m, i, t, surfs[k])
        # front edge of the surface: bright meniscus line with a dark line under it
        b = spec.backdrop
        for k, c in enumerate(self.scene.cyl):
            ys = surfs[k]
            pts = np.stack([c.xs, ys], 1)
            cv2.polylines(img, [np.round((pts + (0, 1.2)) * 16).astype(np.int32)], False,
                          (b * 0.55,) * 3, 1, cv2.LINE_AA, shift=4)
            cv2.polylines(img, [np.round(pts * 16).astype(np.int32)], False,
                          (min(255, b * 1.15 + 25),) * 3, 1, cv2.LINE_AA, shift=4)
        # specular stripes on the walls
        for (x0, x1, shifts, ph, fr) in self.scene.stripes:
            c = self.scene.cyl[0]
            pos = math.sin(2 * math.pi * fr[0] * t + ph[0])
            j = int(round((pos + 1) * 4))
            g = 0.8 + 0.2 * math.sin(2 * math.pi * fr[1] * t + ph[1])
            sl = img[c.y_top:c.y_bot, x0:x1]
            img[c.y_top:c.y_bot, x0:x1] = cv2.addWeighted(sl, 1.0, shifts[j], g, 0)
        # splash droplets
        for k, m in enumerate(self.mice):
            act = float(m.K[i, K_ACT])
            if act > 0.35:
                c = self.scene.cyl[k]
                n = self.rng.poisson(6 * (act - 0.35))
                mx = c.cx + float(m.K[i, K_X])
                for _ in range(n):
                    dx = self.rng.normal(0, 0.45 * m.L)
                    dy = -abs(self.rng.normal(0, 0.12 * m.L))
                    xi = int(np.clip(mx + dx, c.x0 + 2, c.x1 - 2))
                    yi = int(surfs[k][xi - c.x0] + dy)
                    rr = max(1, int(round(self.rng.uniform(0.5, 1.5) * m.L / 80)))
                    cv2.circle(img, (xi, yi), rr, (235, 240, 240), -1, cv2.LINE_AA)
        # camera: light level, shake, noise, colour mode
        g = 1.0 + spec.light_drift * math.sin(2 * math.pi * t / 170.0 + spec.seed) \
            + spec.flicker * math.sin(2 * math.pi * 0.9 * t + 1.3 * (i % 7))
        if abs(g - 1.0) > 1e-3:
            if self._lut_g is None or abs(self._lut_g[0] - g) > 0.002:
                lut = np.clip(np.arange(256) * g, 0, 255).astype(np.uint8)
                self._lut_g = (g, lut)
            img = cv2.LUT(img, self._lut_g[1])
        if spec.shake_px > 0:
            self.shake = 0.9 * self.shake + self.rng.normal(0, spec.shake_px * 0.44, 2)
            if self.rng.random() < 0.002:
                self.shake += self.rng.normal(0, 3 * spec.shake_px, 2)
            img = _shift(img, float(self.shake[0]), float(self.shake[1]))
        if spec.gray:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if spec.noise_sigma > 0:
            j = int(self.rng.integers(len(self.noise_pos)))
            dy = int(self.rng.integers(48))
            img = cv2.subtract(cv2.add(img, self.noise_pos[j, dy:dy + H]),
                               self.noise_neg[j, dy:dy + H])
        return img

    def _draw_mouse(self, img, k, c: _Cylinder, m: _Mouse, i, t, ys):
        row = m.K[i]
        scale, ctrl, uvw = m.pose(row)
        head = float(row[K_HEAD])
        near = 1.0 if math.cos(head) >= 0 else -1.0
        hd = ctrl[1]
        extra = np.array([[ctrl[_NECK, 0], ctrl[_NECK, 1], 0.0],
                          [hd[0] - 0.05, hd[1] + 0.07, near * 0.04],       # ear
                          [hd[0] + 0.04, hd[1] + 0.025, near * 0.045]])   # eye
        nb = len(uvw)
        allb = np.concatenate([uvw, m.limbs(row, ctrl), m.tail_pts(row, ctrl), extra])
        P = m.project(row, allb, scale)
        # keep everything inside the cylinder (the tail bends along the wall)
        radii = m.r_dense * scale
        lo, hi = c.cx - c.R + 1.5, c.cx + c.R - 1.5
        P[:nb, 0] = np.minimum(np.maximum(P[:nb, 0], lo + radii), hi - radii)
        P[nb:, 0] = np.minimum(np.maximum(P[nb:, 0], lo), hi)
        mx = c.cx + float(row[K_X])
        col = min(max(int(round(mx - c.x0)), 0), len(ys) - 1)
        # local surface at the mouse's depth (surface ellipse), with the ripples; the
        # neck is placed hn body lengths above it
        y_loc = float(ys[col]) - c.e * math.sqrt(max(0.0, 1 - (mx - c.cx) ** 2 / c.R ** 2)) \
            + c.e * float(row[K_Z]) / c.R
        P[:, 1] += y_loc - float(row[K_HN]) * scale - P[-3, 1]
        # bounding box, including where the underwater part appears after the lens
        mg = float(radii.max()) + 4 + 3 * m.blur
        xa = c.lens_app(P[:, 0])
        x_lo = min(P[:, 0].min(), xa.min()) - mg
        x_hi = max(P[:, 0].max(), xa.max()) + mg
        y_lo = P[:, 1].min() - mg
        y_hi = P[:, 1].max() + mg
        reflect = self.spec.reflection > 0
        if reflect:
            y_hi = max(y_hi, y_loc + 0.4 * m.L)
        H, W = img.shape[:2]
        px0, py0 = int(max(0, math.floor(x_lo))), int(max(0, math.floor(y_lo)))
        px1, py1 = int(min(W, math.ceil(x_hi))), int(min(H, math.ceil(y_hi)))
        if px1 - px0 < 2 or py1 - py0 < 2:
            return
        Q = P - (px0, py0)
        Ql = Q.tolist()
        patch = np.zeros((py1 - py0, px1 - px0, 4), np.uint8)
        dim_far = 0.75 if m.a.coat == "dark" else 0.85
        cols = {}
        for key, base in (("fur", m.fur), ("paw", m.paw)):
            for dim in (1.0, dim_far):
                cols[(key, dim)] = (float(base[0] * dim), float(base[1] * dim),
                                    float(base[2] * dim), 255.0)

        def draw_limbs(sgn_wanted):
            for li, kind in enumerate(("hind", "fore", "hind", "fore")):
                sgn = 1.0 if li < 2 else -1.0
                if sgn != sgn_wanted:
                    continue
                dim = 1.0 if sgn == near else dim_far
                j0 = nb + 4 * li
                for n, (s0, w0, w1, key) in enumerate(_LIMB_SEGS[kind]):
                    pa, pb = Ql[j0 + s0], Ql[j0 + s0 + 1]
                    _capsule(patch, pa[0], pa[1], pb[0], pb[1], max(0.5, w0 * scale),
                             max(0.5, w1 * scale), cols[(key, dim)], cap0=(n == 0))

        draw_limbs(-near)
        # tail: tapering segments
        tc = (float(m.tail[0]), float(m.tail[1]), float(m.tail[2]), 255.0)
        tq = Q[nb + 16:nb + 27]
        d = np.gradient(tq, axis=0)
        d /= np.maximum(1e-6, np.hypot(d[:, 0], d[:, 1]))[:, None]
        nrm = np.stack([-d[:, 1], d[:, 0]], 1) * np.maximum(0.5, _TAIL_R * scale)[:, None]
        poly = np.concatenate([tq + nrm, (tq - nrm)[::-1]])
        cv2.fillPoly(patch, [(poly * 16).astype(np.int32)], tc, cv2.LINE_AA, shift=4)
        # body: envelope of spheres along the spine, then a dorsal sheen
        fc = cols[("fur", 1.0)]
        bp = (Q[:nb] * 16).astype(np.int32).tolist()
        rr = np.maximum(8, radii * 16).astype(np.int32).tolist()
        for (x, y), r in zip(bp, rr, strict=False):
            cv2.circle(patch, (x, y), r, fc, -1, cv2.LINE_AA, shift=4)
        th = math.radians(float(row[K_PITCH]))
        dors = np.array([-math.sin(th) * math.cos(head), -math.cos(th)])
        sc = (float(m.sheen[0]), float(m.sheen[1]), float(m.sheen[2]), 255.0)
        sp = ((Q[:nb] + dors[None, :] * radii[:, None] * 0.4) * 16).astype(np.int32).tolist()
        for (x, y), r in zip(sp[1:-1:2], rr[1:-1:2], strict=False):
            cv2.circle(patch, (x, y), max(4, int(r * 0.45)), sc, -1, cv2.LINE_AA, shift=4)
        # ear and eye (near side)
        ear, eye = Ql[-2], Ql[-1]
        er = 0.04 * scale * 16
        ec = (float(m.ear[0]), float(m.ear[1]), float(m.ear[2]), 255.0)
        cv2.ellipse(patch, (int(ear[0] * 16), int(ear[1] * 16)),
                    (max(8, int(er)), max(8, int(er * 0.75))),
                    -math.degrees(th) * math.cos(head), 0, 360, ec, -1, cv2.LINE_AA, shift=4)
        cv2.circle(patch, (int(eye[0] * 16), int(eye[1] * 16)), max(8, int(0.016 * scale * 16)),
                   (float(m.eye[0]), float(m.eye[1]), float(m.eye[2]), 255.0), -1, cv2.LINE_AA,
                   shift=4)
        draw_limbs(near)

        # -- to float, texture, blur, water optics ---------------------------------
        ph, pw = patch.shape[:2]
        tex = m.tex4
        tx = int(mx) % (tex.shape[1] - pw) if tex.shape[1] > pw else 0
        ty = int(y_loc) % (tex.shape[0] - ph) if tex.shape[0] > ph else 0
        tcrop = tex[ty:ty + ph, tx:tx + pw]
        if tcrop.shape[:2] == (ph, pw):
            pf = cv2.multiply(patch, tcrop, scale=1 / 255, dtype=cv2.CV_32F)
        else:
            pf = patch.astype(np.float32) * np.float32(1 / 255)
        pf = cv2.GaussianBlur(pf, (0, 0), m.blur)
        X = np.arange(px0, px1, dtype=np.float32)
        Y = np.arange(py0, py1, dtype=np.float32)
        ycol = ys[np.minimum(np.maximum(np.arange(px0 - c.x0, px1 - c.x0), 0), len(ys) - 1)]
        ycol = ycol.astype(np.float32)
        ycol -= np.float32(ys[col] - y_loc)      # surface at the mouse's depth
        rb = int(max(0, math.floor(float(ycol.min())) - py0))
        if rb < ph:
            Yb = Y[rb:]
            dist = Yb[:, None] - ycol[None, :]                  # below the surface > 0
            below = dist > 0
            depth = _clip01((Yb - np.float32(y_loc)) * np.float32(1 / (0.6 * m.L)))  # per row
            ripple = ((0.6 + 0.01 * m.L * float(row[K_ACT])) * np.sin(Yb * 0.35 + t * 9.0)
                      * np.exp(-depth * 2)).astype(np.float32)
            xsrc = c.lens_x[px0:px1] - np.float32(px0)
            # nothing of the mouse shows beyond the cylinder's walls under water
            xsrc[(X < c.cx - c.R) | (X > c.cx + c.R)] = -1000.0
            mapx = np.where(below, xsrc[None, :] + ripple[:, None], X[None, :] - px0)
            mapx = mapx.astype(np.float32)
            mapy = np.repeat((Yb - py0)[:, None], pw, 1)
            src = pf
            sub = cv2.remap(src, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=0)
            att = (below * (self.spec.attenuation * (0.6 + 0.8 * depth))[:, None]).astype(
                np.float32)[..., None]
            wc = self.scene.water_col.astype(np.float32)
            alpha = sub[..., 3:4]
            sub[..., :3] += (wc[None, None, :] * alpha - sub[..., :3]) * att
            # a wet highlight where the body pierces the surface
            nr = min(len(Yb), int(float(ycol.max()) - Yb[0]) + 5)
            if nr > 0:
                wl = np.exp(-(dist[:nr] / 1.3) ** 2)[..., None]
                sub[:nr, :, :3] += wl * 0.25 * alpha[:nr]
            if reflect:
                # mirror image of the above-water part just under the surface
                nm = min(len(Yb), int(float(ycol.max()) - Yb[0] + 0.4 * m.L))
                my = (2 * ycol[None, :] - Yb[:nm, None] - py0).astype(np.float32)
                mmapx = np.repeat((X - px0)[None, :], nm, 0) + 1.5 * ripple[:nm, None]
                mir = cv2.remap(src, mmapx.astype(np.float32), my, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                wgt = (self.spec.reflection * below[:nm]
                       * np.exp(-np.maximum(dist[:nm], 0) / (0.12 * m.L))).astype(
                    np.float32)[..., None]
                a_m = mir[..., 3:4] * wgt
                s2 = sub[:nm]
                s2[..., :3] = s2[..., :3] * (1 - a_m) + mir[..., :3] * wgt
                s2[..., 3:4] += a_m * (1 - s2[..., 3:4])
            pf[rb:] = sub
        pf = cv2.multiply(pf, self.scene.illum4[py0:py1, px0:px1])
        a = np.ascontiguousarray(pf[..., 3])
        col = np.ascontiguousarray(pf[..., :3])
        roi = img[py0:py1, px0:px1].astype(np.float32)
        roi *= (1 - a)[..., None]
        col *= 255
        roi += col
        img[py0:py1, px0:px1] = cv2.convertScaleAbs(roi)


def _clip01(a: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(a, 0, out=a), 1, out=a)


def _shift(img, dx: float, dy: float) -> np.ndarray:
    """Image content moved by (dx, dy) px, bilinear, edges replicated."""
    ix, iy = math.floor(dx), math.floor(dy)
    fx, fy = dx - ix, dy - iy
    pad = 2 + max(abs(ix), abs(iy))
    P = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    H, W = img.shape[:2]

    def view(ox, oy):
        return P[pad - oy:pad - oy + H, pad - ox:pad - ox + W]

    a = cv2.addWeighted(view(ix, iy), 1 - fx, view(ix + 1, iy), fx, 0)
    b = cv2.addWeighted(view(ix, iy + 1), 1 - fx, view(ix + 1, iy + 1), fx, 0)
    return cv2.addWeighted(a, 1 - fy, b, fy, 0)


def _to_yuv420(img: np.ndarray, full_range: bool) -> np.ndarray:
    """BGR or grey uint8 to planar 4:2:0 (I420 layout, as PyAV's yuv420p ndarray)."""
    H, W = img.shape[:2]
    if img.ndim == 2:
        y = img if full_range else cv2.convertScaleAbs(img, alpha=219 / 255, beta=16)
        out = np.empty((H * 3 // 2, W), np.uint8)
        out[:H] = y
        out[H:] = 128
        return out
    if not full_range:
        return cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
    ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)          # full range (JPEG)
    y, cr, cb = cv2.split(ycc)
    cb = cv2.resize(cb, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    cr = cv2.resize(cr, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    return np.concatenate([y, cb.reshape(H // 4, W), cr.reshape(H // 4, W)])


def iter_frames(spec: VideoSpec, kins: list | None = None) -> Iterator[np.ndarray]:
    """Frames (BGR uint8, or grey for a monochrome camera), one at a time."""
    if kins is None:
        _, kins = simulate(spec)
    r = Renderer(spec, kins)
    for i in range(spec.n_frames):
        yield r.frame(i)


def render(spec: VideoSpec, path: str | Path, threads: int = 1) -> dict:
    """Render and encode the video; write ``<path>.truth.json`` (spec and truth) next
    to it and return the truth."""
    path = Path(path)
    t0 = time.time()
    states, kins = simulate(spec)
    truth = truth_of(spec, states)
    t_sim = time.time() - t0
    fps = spec.fps_fraction
    tmp = path.with_name(path.stem + ".part" + path.suffix)
    container = av.open(str(tmp), "w")
    if spec.codec == "h264":
        stream = container.add_stream("libx264", rate=fps,
                                      options={"crf": str(spec.crf), "preset": "superfast"})
        stream.pix_fmt = "yuv420p"
        full = False
    else:
        stream = container.add_stream("mjpeg", rate=fps, options={
            "qmin": str(spec.qscale), "qmax": str(spec.qscale)})
        stream.pix_fmt = "yuvj420p"
        full = True
    stream.width, stream.height = spec.width, spec.height
    stream.thread_count = threads
    for i, img in enumerate(iter_frames(spec, kins)):
        fr = av.VideoFrame.from_ndarray(_to_yuv420(img, full), format=stream.pix_fmt)
        fr.pts = i
        for p in stream.encode(fr):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)
    container.close()
    tmp.replace(path)
    truth["spec"] = spec.to_json()
    truth["generator_version"] = GENERATOR_VERSION
    truth["render_s"] = time.time() - t0
    truth["simulate_s"] = t_sim
    Path(str(path) + ".truth.json").write_text(json.dumps(truth))
    return truth


def load_truth(video: str | Path) -> dict:
    return json.loads(Path(str(video) + ".truth.json").read_text())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="video file (.mp4, .mkv or .avi; the suffix is replaced by "
                    "the drawn container unless --container is given)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--cylinders", type=int, choices=(1, 2, 4), default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--fps", default=None)
    ap.add_argument("--codec", choices=("h264", "mjpeg"), default=None)
    args = ap.parse_args(argv)
    ov = {}
    if args.duration is not None:
        ov["duration_s"] = args.duration
    if args.cylinders is not None:
        ov["n_cylinders"] = args.cylinders
    if args.width is not None:
        ov["width"] = args.width
        ov["height"] = args.height or args.width * 3 // 4
    if args.fps is not None:
        ov["fps"] = args.fps
    spec = random_spec(args.seed, **ov)
    if args.codec:
        spec.codec = args.codec
        spec.container = "mp4" if args.codec == "h264" else "avi"
    out = Path(args.out).with_suffix(spec.suffix)
    tr = render(spec, out)
    print(f"{out}: {spec.width}x{spec.height} {spec.fps} fps {spec.n_frames} frames "
          f"{spec.n_cylinders} cylinder(s) {spec.codec} in {tr['render_s']:.1f} s")
    for a in tr["animals"]:
        print(f"  arena {a['arena']}: {a['coat']} L={a['length_px']:.0f}px vigour={a['vigor']:.2f} "
              f"immobility {a['immobility_s']:.1f} s of {a['window_span_s']:.0f} s")


if __name__ == "__main__":
    main()
