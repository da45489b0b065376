"""Synthetic forced swim videos: drawing the frames (cylinders, water, glare,
flicker, noise and the mice). See docs/synthetic_fst.md."""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np
import pandas as pd

from behavior.testing.fst_motion import (
    _camera_shake,
    _extra_rng,
    _layout,
    _Light,
    _light_events,
    _ou,
    _simulate_animal,
    _Surface,
    frame_times,
)
from behavior.testing.fst_spec import (
    EVENT_COLUMNS,
    IMMOBILE,
    STATES,
    GroundTruth,
    SyntheticSpec,
)


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
        vigour = np.full((n_a, self.t.size), np.nan)
        self.poses = []
        for a in range(n_a):
            st, pose, weak[a], vigour[a] = _simulate_animal(
                spec,
                lay,
                self.surface,
                lay.rects[a],
                self.t,
                spec.fractions()[a],
                np.random.default_rng(seeds[4 + a]),
                _extra_rng(spec, "weak_swimming", a),
                _extra_rng(spec, "swim_vigour", a),
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
            vigour=vigour,
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
        if self.spec.brightness != 1.0 or self.spec.light_step is not None:
            level = np.full(t.size, self.spec.brightness)
            if self.spec.light_step is not None:
                at, factor = self.spec.light_step
                level[t >= at] *= factor
            self.gain = (self.gain * level).astype(np.float32)
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
        s = self.lay.scale * self.spec.animal_scale
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
    fore_amp = q.get("fore_amp_deg", amp)  # limb_amp_deg for all four unless given
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
        ang = rest_deg + (fore_amp if name == "fore" else amp) * math.sin(ph + phase_off)
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


def ground_truth(spec: SyntheticSpec) -> GroundTruth:
    """The ground truth of ``spec`` (no rendering)."""
    return _Scene(spec, for_rendering=False).truth
