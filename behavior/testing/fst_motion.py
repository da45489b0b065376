"""Synthetic forced swim videos: the animals' behaviour and movement, and the
camera's and the lights' (everything drawn from the seed before any frame is
rendered). See docs/synthetic_fst.md."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from behavior.testing.fst_spec import (
    _EARLY_S,
    _LAG_S,
    IMMOBILE,
    STRUGGLING,
    SWIMMING,
    SyntheticSpec,
)


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


def _draw_state_bouts(
    rng: np.random.Generator,
    duration_s: float,
    fraction: float,
    early_mobile: bool,
    start_immobile: bool = False,
) -> list[tuple[float, float, int]]:
    """Alternating mobile/immobile bouts ``(start_s, end_s, state)`` covering the video
    (the first immobile when ``start_immobile``)."""
    bouts: list[tuple[float, float, int]] = []
    t = 0.0
    imm = {True: 0.0, False: 0.0}  # accumulated immobile time per phase (early?)
    tot = {True: 0.0, False: 0.0}
    immobile_first = (rng.random() < fraction or start_immobile) and not early_mobile
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
        if start_immobile and not bouts:
            aim = typical  # nothing to make up for yet: an ordinary first bout
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
    rng_vigour: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """State per frame, the pose that the renderer draws, the weak-swimming frames
    and the vigour of each frame's swimming (NaN when not swimming).

    ``rng_weak`` and ``rng_vigour`` draw the weak swimming bouts and the swimming
    vigour (their own streams, so that the rest is the same with and without them).
    """
    s = lay.scale * spec.animal_scale
    n = t.size
    dt = np.diff(t, append=t[-1] + (t[-1] - t[-2] if n > 1 else 1.0 / spec.fps))
    bouts = _draw_state_bouts(rng, float(t[-1] + dt[-1]), fraction, spec.early_mobile,
                              spec.start_immobile)
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
    vigour = np.ones(nb)
    varied = spec.swim_vigour != (1.0, 1.0) and rng_vigour is not None
    if varied:
        # per swimming bout, from barely paddling (0) to the full swimming above (1)
        codes = np.array([b[2] for b in bouts])
        lo, hi = spec.swim_vigour
        drawn = rng_vigour.uniform(lo, hi, nb)
        gentle_speed = rng_vigour.uniform(2.0, 8.0, nb) * s
        gentle_amp = rng_vigour.uniform(12.0, 20.0, nb)
        gentle_hz = rng_vigour.uniform(2.0, 4.0, nb)
        vigour = np.where((codes == SWIMMING) & ~weak_bout, drawn, 1.0)
        swim_speed = gentle_speed + vigour * (swim_speed - gentle_speed)
        hind_amp = gentle_amp + vigour * (swim_amp - gentle_amp)
        fore_amp = vigour * swim_amp
        swim_hz = gentle_hz + vigour * (swim_hz - gentle_hz)
    limb_hz = np.where(state == STRUGGLING, strug_hz[bout_id], swim_hz[bout_id])
    limb_hz = np.where(state == IMMOBILE, 0.0, limb_hz)
    is_imm, is_swim, is_str = state == IMMOBILE, state == SWIMMING, state == STRUGGLING
    weak = weak_bout[bout_id] & is_swim
    frame_vigour = np.where(is_swim, vigour[bout_id], np.nan)

    # posture targets, then lag-smoothed
    tgt = np.zeros((n, 9 if varied else 8))
    tgt[:, 0] = np.select([is_imm, is_swim, is_str], [22.0, 10.0, 60.0])  # tilt deg
    hind = hind_amp if varied else swim_amp
    tgt[:, 1] = np.select([is_imm, is_swim, is_str], [0.0, hind[bout_id], strug_amp[bout_id]])
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
    if varied:  # the forelimbs, body, tail and posture calm down with the vigour
        v = np.where(is_swim, vigour[bout_id], 1.0)
        gentle = is_swim & ~weak
        tgt[:, 8] = np.select([is_swim, is_str], [fore_amp[bout_id], strug_amp[bout_id]])
        tgt[gentle, 0] = 20.0 - 10.0 * v[gentle]
        tgt[gentle, 2] = 7.0 * v[gentle]
        tgt[gentle, 3] = 0.06 * v[gentle]
        tgt[gentle, 4] = 5.0 + 20.0 * v[gentle]
        tgt[gentle, 7] = (0.5 + 2.5 * v[gentle]) * s
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
    if spec.x_range != (0.0, 1.0):  # the animal keeps to a part of its cylinder
        xmin, xmax = max(xmin, rx + spec.x_range[0] * rw), min(xmax, rx + spec.x_range[1] * rw)
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
    if varied:
        pose["fore_amp_deg"] = post[:, 8]
    return state, pose, weak, frame_vigour


#: Spawn keys of the opt-in nuisances' random streams, apart from the original ones
#: (children 0 .. 3 + n_arenas of the seed), so that those stay as they were.
_EXTRA_KEYS = {"weak_swimming": 100, "camera": 110, "reflections": 120, "table_bumps": 130,
               "swim_vigour": 140}


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
