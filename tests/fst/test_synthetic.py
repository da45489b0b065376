"""Synthetic FST videos: determinism, ground truth, timestamps and codecs."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from behavior.fst.summary import frames_to_bouts
from behavior.fst.synthetic import (
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
