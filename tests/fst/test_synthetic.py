"""Synthetic FST videos: determinism, ground truth, timestamps and codecs."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from behavior.fst.summary import frames_to_bouts
from behavior.testing import (
    EVENT_COLUMNS,
    HARD,
    STATES,
    TRUTH_COLUMNS,
    SyntheticSpec,
    ground_truth,
    render,
    write_video,
)

SMALL = dict(width=160, height=120)


def _decode(path, images=True):
    """Decoded presentation times (s) and, if asked, grey images."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [
            (f.pts * f.time_base, f.to_ndarray(format="gray") if images else None)
            for f in c.decode(s)
        ]
    return np.array([float(t) for t, _ in frames]), [im for _, im in frames]


def test_same_seed_same_frames_other_seed_differs():
    spec = SyntheticSpec(duration_s=1.0, n_arenas=2, seed=7, **SMALL)
    a, truth_a = render(spec)
    b, truth_b = render(spec)
    c, _ = render(SyntheticSpec(duration_s=1.0, n_arenas=2, seed=8, **SMALL))
    for fa, fb in zip(a, b, strict=True):
        assert fa.shape == (120, 160, 3) and fa.dtype == np.uint8
        np.testing.assert_array_equal(fa, fb)
    assert np.array_equal(truth_a.centroid_px, truth_b.centroid_px)
    first_a = next(render(spec)[0])
    assert not np.array_equal(first_a, next(c))


@pytest.mark.parametrize("target", [0.2, 0.5, 0.8])
def test_realised_immobility_near_target(target):
    for seed in range(3):
        truth = ground_truth(SyntheticSpec(seed=seed, immobility_fraction=target, **SMALL))
        frac = truth.immobility_fraction(1, 120.0, 360.0)
        assert abs(frac - target) < 0.08, (seed, frac)
        # independent: frame durations summed over immobile frames in the window
        t = truth.time_s
        dur = np.diff(np.append(t, truth.end_s))
        in_win = t >= 120.0
        by_frames = dur[in_win & truth.immobile[0]].sum() / dur[in_win].sum()
        assert by_frames == pytest.approx(frac, abs=1e-9)


def test_per_arena_fractions_and_bout_lengths():
    spec = SyntheticSpec(
        n_arenas=3, immobility_fraction=[0.1, 0.5, 0.9], seed=2, width=240, height=120
    )
    truth = ground_truth(spec)
    fracs = [truth.immobility_fraction(a) for a in (1, 2, 3)]
    assert fracs[0] < fracs[1] < fracs[2]
    for a in (1, 2, 3):
        bouts = truth.bouts(a)
        np.testing.assert_allclose(
            bouts, frames_to_bouts(truth.time_s, truth.immobile[a - 1], truth.end_s)
        )
        interior = bouts[(bouts[:, 0] > 0) & (bouts[:, 1] < truth.end_s)]
        lengths = interior[:, 1] - interior[:, 0]
        # immobile bouts 2-40 s (one frame of slack for frame quantisation)
        assert lengths.min() >= 2.0 - 1 / 30 and lengths.max() <= 40.0 + 1 / 30
    assert set(np.unique(truth.states)) <= set(STATES)
    np.testing.assert_array_equal(truth.immobile, truth.states == "immobile")


def test_early_mobile_makes_first_two_minutes_more_mobile():
    spec = SyntheticSpec(immobility_fraction=0.6, early_mobile=True, seed=4, **SMALL)
    truth = ground_truth(spec)
    assert truth.immobility_fraction(1, 0.0, 120.0) < truth.immobility_fraction(1, 120.0) - 0.2


def test_centroids_stay_in_their_cylinders_and_table_is_long():
    spec = SyntheticSpec(duration_s=60.0, n_arenas=4, width=320, height=120, seed=3)
    truth = ground_truth(spec)
    for a, (x, y, w, h) in enumerate(truth.arena_rects):
        c = truth.centroid_px[a]
        assert (c[:, 0] > x).all() and (c[:, 0] < x + w).all()
        assert (c[:, 1] > y).all() and (c[:, 1] < y + h).all()
    assert [r[0] for r in truth.arena_rects] == sorted(r[0] for r in truth.arena_rects)
    table = truth.to_frame()
    assert list(table.columns) == list(TRUTH_COLUMNS)
    assert len(table) == 4 * truth.n_frames == 4 * 1800
    row = table.iloc[truth.n_frames + 5]  # arena 2, frame 5
    assert (row["arena"], row["frame"]) == (2, 5)
    assert row["x_px"] == truth.centroid_px[1, 5, 0]


def _changed_pixels(spec, threshold=25):
    frames, truth = render(spec, gray=True)
    prev, counts = None, []
    for f in frames:
        if prev is not None:
            counts.append(int((np.abs(f.astype(int) - prev) > threshold).sum()))
        prev = f.astype(int)
    return np.array(counts), truth


def test_immobile_animal_barely_changes_but_mobile_one_does():
    # drift, ripples, flicker and noise off: only the animal's own motion remains
    spec = SyntheticSpec(
        duration_s=40.0,
        width=320,
        height=240,
        seed=11,
        drift=False,
        ripples=False,
        flicker=False,
        noise_sigma=0.0,
    )
    counts, truth = _changed_pixels(spec)
    state = truth.states[0][1:]
    t = truth.time_s[1:]
    # settled: at least 0.5 s (>3 lag time constants) into an immobile bout
    settled = np.zeros(t.size, bool)
    for start, end in truth.bouts(1):
        settled |= (t >= start + 0.5) & (t < end)
    immobile = counts[settled]
    mobile = counts[state != "immobile"]
    assert immobile.size > 100 and mobile.size > 100
    assert np.median(mobile) > 20 * max(1.0, np.median(immobile))
    # the single hind-limb paddle is small: at most a few dozen pixels change
    assert np.percentile(immobile, 99) < 40


def test_nuisances_change_pixels_outside_the_animal():
    quiet = SyntheticSpec(
        duration_s=0.5, seed=1, ripples=False, flicker=False, noise_sigma=0.0, **SMALL
    )
    busy = SyntheticSpec(duration_s=0.5, seed=1, **SMALL)
    f_quiet = list(render(quiet, gray=True)[0])
    f_busy = list(render(busy, gray=True)[0])
    top = slice(0, 20)  # wall above the water, no animal there
    assert np.array_equal(f_quiet[0][top], f_quiet[5][top])
    noise = f_busy[5][top].astype(float) - f_busy[0][top]
    assert 1.0 < noise.std() < 6.0


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_vfr_timestamps_decode_back(tmp_path, suffix):
    spec = SyntheticSpec(duration_s=2.0, vfr=True, seed=5, **SMALL)
    path = tmp_path / f"vfr{suffix}"
    truth = write_video(spec, path, codec="h264")
    steps = np.diff(truth.time_s)
    assert steps.min() >= 0.025 - 1e-9 and steps.max() <= 0.045 + 1e-9
    assert np.unique(np.round(steps, 3)).size > 5  # really variable
    times, frames = _decode(path)
    assert len(frames) == truth.n_frames == truth.immobile.shape[1]
    np.testing.assert_allclose(times, truth.time_s, atol=1e-9)


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mp4", "h264"), (".avi", "mjpeg"), (".avi", "mpeg4"), (".mov", "mjpeg"), (".mkv", "mpeg4")],
)
def test_each_codec_opens_with_all_frames(tmp_path, suffix, codec):
    spec = SyntheticSpec(duration_s=1.0, fps=25.0, seed=6, **SMALL)
    path = tmp_path / f"clip{suffix}"
    truth = write_video(spec, path, codec=codec)
    times, frames = _decode(path)
    assert len(frames) == 25 == truth.n_frames
    np.testing.assert_allclose(times, np.arange(25) / 25.0, atol=1e-3)
    rendered = list(render(spec, gray=True)[0])
    for got, want in itertools.islice(zip(frames, rendered, strict=True), 0, 25, 8):
        assert got.shape == (120, 160)
        assert np.abs(got.astype(float) - want).mean() < 4.0


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match="AVI"):
        write_video(SyntheticSpec(duration_s=0.2, vfr=True, **SMALL), tmp_path / "x.avi")
    with pytest.raises(ValueError, match="codec"):
        write_video(SyntheticSpec(duration_s=0.2, **SMALL), tmp_path / "x.mp4", codec="vp9")
    with pytest.raises(ValueError, match="3 arenas"):
        SyntheticSpec(n_arenas=3, immobility_fraction=[0.5, 0.5], width=240, height=120)
    with pytest.raises(ValueError, match="n_arenas"):
        SyntheticSpec(n_arenas=5)


def test_quality_setting_changes_the_encoding(tmp_path):
    spec = SyntheticSpec(duration_s=0.5, seed=2, **SMALL)
    sizes = {}
    for q in (3, 20):
        path = tmp_path / f"q{q}.avi"
        write_video(spec, path, codec="mjpeg", quality=q)
        sizes[q] = path.stat().st_size
    assert sizes[20] < 0.7 * sizes[3]


SAMPLES = Path(__file__).resolve().parents[2] / "videos"


@pytest.mark.parametrize(
    ("name", "arenas"),
    [("fst_2arenas_h264.mp4", 2), ("fst_1arena_vfr.mp4", 1), ("fst_mjpeg.avi", 1)],
)
def test_shipped_samples_match_their_truth_tables(name, arenas):
    video = SAMPLES / name
    truth_csv = video.with_name(video.stem + ".truth.csv")
    if not video.exists() or not truth_csv.exists():
        pytest.skip(f"{video} or its truth table is missing (run videos/make_samples.py)")
    table = pd.read_csv(truth_csv)
    assert list(table.columns) == list(TRUTH_COLUMNS)
    assert sorted(table["arena"].unique()) == list(range(1, arenas + 1))
    times, frames = _decode(video, images=False)
    first = table[table["arena"] == 1]
    assert len(frames) == len(first)
    np.testing.assert_allclose(times, first["time_s"], atol=1e-6)


@pytest.mark.parametrize(("animal", "inside"), [("dark", (0, 110)), ("light", (140, 255))])
def test_centroid_lies_on_the_animal(animal, inside):
    # body centre: fur blended 35 % toward the water where submerged
    # (dark: 40 -> 88, light: 220 -> 162); the water itself is 166-178 or 47-55.
    # The glare streak lies on top of the animal, so a few samples may miss.
    spec = SyntheticSpec(
        duration_s=4.0, n_arenas=2, width=320, height=240, seed=9, animal=animal, noise_sigma=0.0
    )
    frames, truth = render(spec, gray=True)
    hits = []
    for i, f in enumerate(frames):
        for a in range(2):
            x, y = np.round(truth.centroid_px[a, i]).astype(int)
            hits.append(inside[0] <= f[y, x] <= inside[1])
    assert np.mean(hits) > 0.95
    rects = truth.arena_rects
    assert rects[0][2] == rects[1][2] and rects[0][0] + rects[0][2] < rects[1][0]


def test_lossless_ffv1_decodes_to_the_rendered_frames(tmp_path):
    spec = SyntheticSpec(duration_s=1.0, vfr=True, n_arenas=2, seed=12, width=240, height=120)
    truth = write_video(spec, tmp_path / "lossless.mkv", codec="ffv1")
    times, frames = _decode(tmp_path / "lossless.mkv")
    rendered = list(render(spec, gray=True)[0])
    assert len(frames) == len(rendered) == truth.n_frames
    for got, want in zip(frames, rendered, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(times, truth.time_s, atol=1e-9)


# --------------------------------------------------------------------------- opt-in nuisances

#: sha256 of frames rendered before the opt-in nuisances existed (the defaults must
#: keep every existing video bit-identical: the tests and the sample clips rely on it)
DEFAULT_FIRST_FRAME = "f41025ed21e2425506e0fae884fb792c5fa4169bbb7654cb124527db83f0fd85"
DEFAULT_CLIP = "3c0ba42ce63f5c9c38735976e21f9eca1837f307f763d67c7a54c0c535d0b067"
#: of the truth rounded to a microsecond and a thousandth of a pixel: float results in
#: the last bits differ between CPUs (NumPy's SIMD paths for AVX2 and AVX-512)
DEFAULT_TRUTH_360 = "14a747927e8ded8cfe0024f55cd5d6a23824028dc57e908f1502328c5aaa2c57"
OPT_IN = ("weak_swimming", "camera_shake", "reflections", "table_bumps")


def test_defaults_render_exactly_as_before_the_opt_in_nuisances():
    first = next(render(SyntheticSpec(duration_s=1.0, n_arenas=2, seed=1, **SMALL), True)[0])
    assert hashlib.sha256(first.tobytes()).hexdigest() == DEFAULT_FIRST_FRAME
    spec = SyntheticSpec(duration_s=3.0, n_arenas=2, seed=1, **SMALL)
    assert all(getattr(spec, name) == 0 for name in OPT_IN)
    frames, truth = render(spec, gray=True)
    clip = hashlib.sha256()
    for f in frames:
        clip.update(f.tobytes())
    assert clip.hexdigest() == DEFAULT_CLIP
    assert not truth.weak_swimming.any() and not truth.shake_px.any()
    assert truth.events.empty and list(truth.events.columns) == list(EVENT_COLUMNS)
    long = ground_truth(SyntheticSpec(seed=3, n_arenas=2, immobility_fraction=(0.2, 0.8)))
    digest = hashlib.sha256()
    for a in (np.round(long.time_s, 6), long.immobile, np.round(long.centroid_px, 3)):
        digest.update(np.ascontiguousarray(a).tobytes())
    assert digest.hexdigest() == DEFAULT_TRUTH_360


def test_opt_in_nuisances_keep_the_behaviour_states():
    spec = SyntheticSpec(duration_s=120.0, n_arenas=2, seed=6, **SMALL)
    hard = replace(spec, **HARD)
    assert all(getattr(hard, name) > 0 for name in OPT_IN)
    plain, truth = ground_truth(spec), ground_truth(hard)
    np.testing.assert_array_equal(truth.states, plain.states)
    np.testing.assert_array_equal(truth.time_s, plain.time_s)
    assert set(truth.events["kind"]) <= {"camera_knock", "glint", "shadow", "table_bump"}
    assert truth.events["start_s"].is_monotonic_increasing
    for name, bad in (("weak_swimming", 1.5), ("camera_shake", -1.0), ("reflections", -0.1)):
        with pytest.raises(ValueError, match=name):
            replace(spec, **{name: bad})


def test_weak_swimming_is_mobile_slow_and_small():
    spec = SyntheticSpec(duration_s=600.0, seed=3, immobility_fraction=0.3, weak_swimming=0.5)
    truth, plain = ground_truth(spec), ground_truth(replace(spec, weak_swimming=0.0))
    np.testing.assert_array_equal(truth.states, plain.states)  # the same bouts, still mobile
    weak, state = truth.weak_swimming[0], truth.states[0]
    assert weak.any() and (state[weak] == "swimming").all()
    # per swimming bout, after the 0.15-s lag has settled (0.6 s): speed (s = 1 here)
    t, x = truth.time_s, truth.centroid_px[0, :, 0]
    speed = np.abs(np.gradient(x, t))
    swim = np.flatnonzero(np.diff(np.r_[0, (state == "swimming").astype(int), 0]))
    n_weak = n_all = 0
    for a, b in zip(swim[::2], swim[1::2], strict=True):
        if b - a < 30:
            continue
        n_all += 1
        n_weak += bool(weak[a])
        assert weak[a:b].all() or not weak[a:b].any()  # whole bouts are weak
        v = np.median(speed[a + 18 : b])
        lo, hi = (10.0, 25.0) if weak[a] else (40.0, 120.0)
        assert lo - 0.5 <= v <= hi + 0.5, (t[a], weak[a], v)
    assert n_all > 20 and 0.3 < n_weak / n_all < 0.7


def test_weak_strokes_change_far_fewer_pixels_than_swimming():
    # the same bouts with and without weak swimming; nuisances and drift off
    quiet = dict(drift=False, ripples=False, flicker=False, noise_sigma=0.0)
    spec = SyntheticSpec(duration_s=90.0, width=320, height=240, seed=12, **quiet)
    weak_counts, truth = _changed_pixels(replace(spec, weak_swimming=1.0))
    strong_counts, _ = _changed_pixels(spec)
    t, weak = truth.time_s[1:], truth.weak_swimming[0][1:]
    settled = np.zeros(t.size, bool)
    for start, end in truth.bouts(1):
        settled |= (t >= start + 0.5) & (t < end)
    swim = np.flatnonzero(np.diff(np.r_[0, weak.astype(int), 0]))
    weak_settled = np.zeros(t.size, bool)
    for a, b in zip(swim[::2], swim[1::2], strict=True):
        weak_settled[a + 15 : b] = True
    assert weak_settled.sum() > 300
    floating = np.median(strong_counts[settled])
    weak_swim, swim = np.median(weak_counts[weak_settled]), np.median(strong_counts[weak_settled])
    assert weak_swim > 10 * max(1.0, floating)  # visibly moving ...
    assert weak_swim < 0.5 * swim  # ... but far less than swimming


def _edge_centre(profile):
    """Position of the edge(s) in a 1-D profile: centroid of |derivative| (exact under a
    linear-interpolation shift)."""
    d = np.abs(np.diff(np.asarray(profile, float)))
    return (np.arange(d.size) * d).sum() / d.sum()


def test_camera_shake_moves_the_whole_image_by_shake_px():
    spec = SyntheticSpec(
        duration_s=2.0,
        n_arenas=2,
        width=320,
        height=240,
        seed=4,
        noise_sigma=0.0,
        flicker=False,
        camera_shake=1.5,
    )
    shaken, truth = render(spec, gray=True)
    still, plain = render(replace(spec, camera_shake=0.0), gray=True)
    np.testing.assert_array_equal(truth.centroid_px, plain.centroid_px)
    assert not plain.shake_px.any() and np.abs(truth.shake_px).max() > 1.0
    x, y, w, _ = truth.arena_rects[1]
    for i, (a, b) in enumerate(zip(shaken, still, strict=True)):
        # the divider left of arena 2 (dx), the top edge of the cylinder (dy)
        dx = np.mean(
            [
                _edge_centre(a[r, x - 16 : x + 10]) - _edge_centre(b[r, x - 16 : x + 10])
                for r in range(y + 4, y + 12)
            ]
        )
        cols = range(x + int(0.6 * w), x + int(0.8 * w))
        dy = np.mean(
            [
                _edge_centre(a[y - 10 : y + 10, c]) - _edge_centre(b[y - 10 : y + 10, c])
                for c in cols
            ]
        )
        np.testing.assert_allclose((dx, dy), truth.shake_px[i], atol=0.05)


def test_camera_shake_statistics_and_knocks():
    sd = 1.25
    spec = SyntheticSpec(duration_s=300.0, fps=120.0, seed=8, camera_shake=sd, **SMALL)
    truth = ground_truth(spec)
    shake, t = truth.shake_px, truth.time_s
    knocks = truth.events[truth.events["kind"] == "camera_knock"]
    assert 3 <= len(knocks) <= 20  # 2 per minute: 10 expected
    calm = np.ones(t.size, bool)
    for start, end in zip(knocks["start_s"], knocks["end_s"], strict=True):
        calm &= ~((t >= start) & (t < end))
        assert 0.2 * 5 - 1e-9 <= end - start <= 0.4 * 5 + 1e-9
    # OU part: SD `sd` per axis, correlation exp(-1) after its 0.5-s time constant
    np.testing.assert_allclose(shake[calm].std(axis=0), sd, rtol=0.15)
    lag = 60  # 0.5 s at 120 fps
    both = calm[:-lag] & calm[lag:]
    for axis in (0, 1):
        r = np.corrcoef(shake[:-lag, axis][both], shake[lag:, axis][both])[0, 1]
        assert abs(r - np.exp(-1.0)) < 0.12
    # a knock jumps the image by 1.6-3 SD within one frame (8 ms: the ring barely turns)
    for start, size in zip(knocks["start_s"], knocks["size"], strict=True):
        assert 1.6 * sd - 1e-9 <= size <= 3.0 * sd + 1e-9
        i = int(np.searchsorted(t, start))
        if (np.abs(knocks["start_s"] - start) < 2.0).sum() > 1:
            continue  # two knocks close together
        jump = np.hypot(*(shake[i] - shake[i - 1]))
        assert 0.85 * size - 0.6 < jump < size + 0.6


def test_glints_and_shadows_cross_one_cylinder_and_nothing_else():
    quiet = dict(flicker=False, noise_sigma=0.0)
    spec = SyntheticSpec(duration_s=30.0, n_arenas=2, width=320, height=240, seed=5, **quiet)
    lit, truth = render(replace(spec, reflections=20.0), gray=True)
    dark, plain = render(spec, gray=True)
    np.testing.assert_array_equal(truth.centroid_px, plain.centroid_px)
    events = truth.events
    assert set(events["kind"]) == {"glint", "shadow"} and 4 <= len(events) <= 20
    starts, ends = events["start_s"].to_numpy(), events["end_s"].to_numpy()
    assert ((ends - starts >= 1.0) & (ends - starts <= 3.0)).all()
    checked = set()
    for i, (a, b) in enumerate(zip(lit, dark, strict=True)):
        t = truth.time_s[i]
        active = np.flatnonzero((starts <= t) & (t < ends))
        diff = a.astype(float) - b
        if active.size == 0:
            assert not diff.any(), t  # nothing else changes
            continue
        if active.size > 1:
            continue
        e = events.iloc[active[0]]
        x, y, w, h = truth.arena_rects[e["arena"] - 1]
        u = (t - e["start_s"]) / (e["end_s"] - e["start_s"])
        mid = abs(u - 0.5) < 0.5 / 30 / (e["end_s"] - e["start_s"])
        # the band runs at constant speed from 2 SD outside one wall to 2 SD outside
        # the other (SD <= 12 s = 6 px): its centre is off the middle by at most
        off = abs(u - 0.5) * (w + 4 * 6) + 1.0
        if e["kind"] == "glint":  # only over its cylinder's interior, never darker
            outside = np.ones(diff.shape, bool)
            outside[y : y + h, x : x + w] = False
            assert not diff[outside].any() and diff.min() >= 0
            if mid:  # full strength at the middle of the crossing, near the centre
                assert e["size"] - 2 <= diff.max() <= e["size"] + 1
                mass = diff.sum(axis=0)
                col = (np.arange(mass.size) * mass).sum() / mass.sum()
                assert abs(col - (x + w / 2 - 0.5)) < off
                checked.add("glint")
        else:
            assert diff.max() <= 0
            if mid:  # darkens by `size` at its centre column, over the whole height
                col = int(np.argmin(diff.sum(axis=0)))
                assert abs(col - (x + w / 2 - 0.5)) < off + 0.5
                bright = b[:, col] > 100
                ratio = a[bright, col] / b[bright, col].astype(float)
                assert np.median(ratio) == pytest.approx(1 - e["size"], abs=0.02)
                assert (diff[:, col] < 0).mean() > 0.9
                checked.add("shadow")
    assert checked == {"glint", "shadow"}


def _surface_row(column, wall, water):
    """First row (from the top of the band) that is no longer wall."""
    below = np.flatnonzero(np.abs(column.astype(float) - wall) > 0.5 * (wall - water))
    return below[0]


def test_table_bumps_slosh_the_water_and_nothing_else():
    quiet = dict(ripples=False, flicker=False, noise_sigma=0.0)  # a flat surface at rest
    spec = SyntheticSpec(duration_s=120.0, width=320, height=240, seed=2, **quiet)
    bumped, truth = render(replace(spec, table_bumps=3.0), gray=True)
    calm, plain = render(spec, gray=True)
    np.testing.assert_array_equal(truth.states, plain.states)
    bumps = truth.events
    assert set(bumps["kind"]) == {"table_bump"} and len(bumps) >= 2
    assert ((bumps["size"] >= 4.0 * 0.5) & (bumps["size"] <= 10.0 * 0.5)).all()  # s = 0.5
    starts, ends = bumps["start_s"].to_numpy(), bumps["end_s"].to_numpy()
    x, y, w, h = truth.arena_rects[0]
    level = y + 0.36 * h  # the mean water level
    top = int(level) - 20
    peak = np.zeros(len(bumps))
    for i, (a, b) in enumerate(zip(bumped, calm, strict=True)):
        t = truth.time_s[i]
        active = (starts <= t) & (t < ends)
        if not active.any():
            assert np.array_equal(a, b), t  # exactly the calm video
            np.testing.assert_array_equal(truth.centroid_px[:, i], plain.centroid_px[:, i])
            continue
        # surface near the walls (m1 = +-0.95), where the animal is not
        for col in (x + int(0.1 * w), x + int(0.9 * w)):
            if abs(truth.centroid_px[0, i, 0] - col) < 45:
                continue
            rise = level - (top + _surface_row(a[top:, col], 205, 178))
            k = int(np.flatnonzero(active)[-1])
            peak[k] = max(peak[k], abs(rise))
    # amplitude a, times 0.7-1.3 per cylinder, the two modes together up to 1.5
    # (0.77-1.4 at these columns), decaying with tau 2-4 s: over an episode that
    # overlaps no other, at least a third of `a`, never more than 1.95 a (+1 px rounding)
    size = bumps["size"].to_numpy()
    alone = [
        k
        for k in range(len(bumps))
        if ((starts < ends[k]) & (ends > starts[k])).sum() == 1  # overlaps no other bump
    ]
    assert len(alone) >= 2
    assert (peak[alone] >= 0.3 * size[alone]).all(), (peak, size)
    assert (peak[alone] <= 1.95 * size[alone] + 1.0).all(), (peak, size)


QUIET = dict(drift=False, ripples=False, flicker=False, noise_sigma=0.0)


def test_widening_options_keep_the_behaviour_states_and_default_to_off():
    spec = SyntheticSpec(duration_s=120.0, n_arenas=2, seed=6, **SMALL)
    assert (spec.swim_vigour, spec.animal_scale, spec.brightness, spec.light_step,
            spec.x_range, spec.start_immobile) == ((1.0, 1.0), 1.0, 1.0, None, (0.0, 1.0), False)
    wide = replace(spec, swim_vigour=(0.0, 0.5), animal_scale=0.7, brightness=0.5,
                   light_step=(30.0, 1.5))
    plain, truth = ground_truth(spec), ground_truth(wide)
    np.testing.assert_array_equal(truth.states, plain.states)
    swimming = truth.states == "swimming"
    assert np.isnan(truth.vigour[~swimming]).all()
    assert (truth.vigour[swimming] >= 0).all() and (truth.vigour[swimming] <= 0.5).all()
    assert (plain.vigour[swimming] == 1).all()
    for name, bad in (("swim_vigour", (0.6, 0.2)), ("animal_scale", 0.1), ("brightness", 3.0),
                      ("light_step", (10.0, 0.0)), ("x_range", (0.5, 0.52))):
        with pytest.raises(ValueError, match=name):
            replace(spec, **{name: bad})


def test_gentle_swimming_paddles_with_the_body_nearly_still():
    # the same bouts at full vigour and barely paddling; nuisances and drift off
    spec = SyntheticSpec(duration_s=90.0, width=320, height=240, seed=12, **QUIET)
    gentle_counts, truth = _changed_pixels(replace(spec, swim_vigour=(0.0, 0.0)))
    strong_counts, _ = _changed_pixels(spec)
    t, state = truth.time_s[1:], truth.states[0][1:]
    settled = np.zeros(t.size, bool)  # 0.6 s into a bout: the 0.15-s lag has settled
    floating = np.zeros(t.size, bool)
    for start, end in frames_to_bouts(t, state == "swimming"):
        settled |= (t >= start + 0.6) & (t < end)
    for start, end in truth.bouts(1):
        floating |= (t >= start + 0.6) & (t < end)
    assert settled.sum() > 300 and floating.sum() > 300
    gentle, strong = np.median(gentle_counts[settled]), np.median(strong_counts[settled])
    still = np.median(strong_counts[floating])
    assert gentle > 5 * max(1.0, still)  # the paddling limbs change pixels every frame ...
    assert gentle < 0.3 * strong  # ... but far fewer than swimming does
    # the body nearly still: travel 2-8 px/s (s = 0.5 here: 1-4 px/s), not 20-60
    x = truth.centroid_px[0, 1:, 0]
    speed = np.abs(np.gradient(x, t))
    assert np.median(speed[settled]) < 4.5


def test_animal_scale_brightness_light_step_and_x_range():
    spec = SyntheticSpec(duration_s=6.0, width=320, height=240, seed=4,
                         immobility_fraction=1.0, **QUIET)

    def dark_pixels(s):  # the animal's, inside its cylinder (the dividers are dark too)
        frames, truth = render(s, gray=True)
        first = next(frames)
        x, y, w, h = truth.arena_rects[0]
        return int((first[y:y + h, x:x + w] < 110).sum()), first

    base, first = dark_pixels(spec)
    small, _ = dark_pixels(replace(spec, animal_scale=0.7))
    assert small / base == pytest.approx(0.49, rel=0.12)
    frames, truth = render(replace(spec, brightness=0.5, light_step=(3.0, 1.6)), gray=True)
    means = np.array([f.mean() for f in frames])
    before, after = means[truth.time_s < 3.0], means[truth.time_s >= 3.0]
    assert before.mean() == pytest.approx(0.5 * first.mean(), rel=0.02)
    assert after.mean() == pytest.approx(0.8 * first.mean(), rel=0.02)
    kept = ground_truth(SyntheticSpec(duration_s=120.0, width=320, height=240, seed=5,
                                      immobility_fraction=0.3, x_range=(0.0, 0.4)))
    x0, _, w, _ = kept.arena_rects[0]
    x = kept.centroid_px[0, :, 0]
    assert x.max() <= x0 + 0.4 * w + 1e-6 and x.min() >= x0
    floating = ground_truth(SyntheticSpec(duration_s=60.0, seed=7, immobility_fraction=0.9,
                                          start_immobile=True, **SMALL))
    assert floating.immobile[0, :30].all()
