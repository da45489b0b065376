"""The second synthetic FST generator (benchmarks/other_fst_generator.py): its truth
bookkeeping on a few-second clip, frame count and timestamps, reproducibility."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import other_fst_generator as gen  # noqa: E402


def _clip_spec(codec: str, fps: str, n_cyl: int, seed: int = 5) -> gen.VideoSpec:
    spec = gen.random_spec(seed, n_cylinders=n_cyl, width=320, duration_s=3.0,
                           window_s=(0.5, 2.5), fps=fps)
    spec.codec = codec
    spec.container = "mp4" if codec == "h264" else "avi"
    return spec


@pytest.mark.parametrize("codec,fps,n_cyl", [("h264", "30000/1001", 2), ("mjpeg", "15", 1)])
def test_truth_bookkeeping_and_timestamps(tmp_path, codec, fps, n_cyl):
    spec = _clip_spec(codec, fps, n_cyl)
    path = tmp_path / f"clip{spec.suffix}"
    truth = gen.render(spec, path)
    assert gen.load_truth(path)["animals"] == truth["animals"]

    n = spec.n_frames
    dt = float(1 / Fraction(spec.fps))
    assert n == round(3.0 * float(Fraction(spec.fps)))
    assert truth["n_frames"] == n
    assert truth["frame_duration_s"] == pytest.approx(dt)
    assert len(truth["animals"]) == n_cyl

    times = np.arange(n) * dt
    inwin = (times >= 0.5) & (times < 2.5)
    for a in truth["animals"]:
        runs = a["runs"]
        # runs tile the frames without gaps, states are the three known ones
        assert runs[0][0] == 0 and runs[-1][1] == n
        assert all(r0[1] == r1[0] for r0, r1 in zip(runs, runs[1:], strict=False))
        assert all(r[2] in (gen.FLOATING, gen.SWIMMING, gen.CLIMBING) for r in runs)
        st = gen.states_from_runs(runs, n)
        imm = np.count_nonzero((st == gen.FLOATING) & inwin) * dt
        assert a["immobility_s"] == pytest.approx(imm, abs=1e-9)
        parts = a["immobility_s"] + a["swimming_s"] + a["climbing_s"]
        assert parts == pytest.approx(np.count_nonzero(inwin) * dt, abs=1e-9)
        assert parts == pytest.approx(a["window_span_s"], abs=1e-9)

    # the file: one decoded frame per truth frame, at i / fps
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        decoded = [(f.time, f.width, f.height) for f in c.decode(s)]
    assert len(decoded) == n
    assert all((w, h) == (spec.width, spec.height) for _, w, h in decoded)
    ts = np.array([t for t, _, _ in decoded])
    assert np.allclose(ts, times, atol=2e-3)


def test_reproducible():
    spec = _clip_spec("h264", "25", 2, seed=9)
    s1, k1 = gen.simulate(spec)
    s2, k2 = gen.simulate(gen.VideoSpec.from_json(spec.to_json()))
    assert all(np.array_equal(a, b) for a, b in zip(s1, s2, strict=False))
    assert all(np.array_equal(a, b) for a, b in zip(k1, k2, strict=False))
    f1 = gen.Renderer(spec, k1).frame(10)
    f2 = gen.Renderer(spec, k2).frame(10)
    assert np.array_equal(f1, f2)


def test_floating_share_follows_the_animal():
    """Full 6-min behaviour (no rendering): a >= 90 % floater and a 5-20 % floater."""
    spec = gen.random_spec(3, n_cylinders=2, width=320)
    spec.animals[0].target_float, spec.animals[0].trend = 0.95, 0.3
    spec.animals[0].float_from_start, spec.animals[0].cycle_s = True, 40.0
    spec.animals[1].target_float, spec.animals[1].trend = 0.1, 1.5
    spec.animals[1].float_from_start, spec.animals[1].cycle_s = False, 10.0
    states, _ = gen.simulate(spec)
    truth = gen.truth_of(spec, states)
    hi, lo = (a["floating_share"] for a in truth["animals"])
    assert hi > 0.8
    assert lo < 0.35
    # the high floater floats within the first seconds
    dt = truth["frame_duration_s"]
    first_float = np.argmax(states[0] == gen.FLOATING) * dt
    assert first_float < 5.0
