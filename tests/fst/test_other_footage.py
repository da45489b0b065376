"""Cases found on footage of the independently written generator
(benchmarks/other_fst_generator.py), kept as tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from behavior.fst.setup import prepare
from behavior.io.video import VideoReader
from behavior.protocols import load_fst_protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import other_fst_generator as gen  # noqa: E402

#: Two dark mice side by side at 320x240, no dividers: on the left a gentle swimmer
#: floating half the time near one place (a faint ghost in the median), on the right a
#: vigorous one; the cylinder walls carry bright reflections that wander a little.
#: (The first video of bench_fst_other_generator.py's second draw, cut to 60 s.)
TWO_DARK_MICE = {
    "seed": 1107134939, "width": 320, "height": 240, "fps": "25", "duration_s": 60.0,
    "window_s": [0.0, 60.0], "n_cylinders": 2, "codec": "h264", "container": "mp4",
    "crf": 20, "qscale": 9, "gray": False, "noise_sigma": 1.4007513773641862,
    "shake_px": 0.0, "light_drift": 0.0, "flicker": 0.0, "reflection": 0.0,
    "backdrop": 140, "dividers": False, "water_level": 0.4513015486393043,
    "surface_ellipse": 0.04004248334662471, "magnification": 1.1361130258884946,
    "attenuation": 0.32509825934117764, "vignette": 0.25520859790256756,
    "light_gradient": 0.19005728363210228,
    "animals": [
        {"coat": "dark", "length_px": 60.8, "target_float": 0.5063385199897186,
         "trend": 1.0127481805554903, "cycle_s": 17.703406195605105,
         "vigor": 0.10721029331632763, "climb0": 0.5904381768473619,
         "climb_tau_s": 139.26746511638737, "float_pitch_deg": 43.73892232820735,
         "kick_rate": 0.214923142810747, "tail_rate": 0.06023728762131371,
         "hind_freq": 2.5656871805392107, "float_from_start": False},
        {"coat": "dark", "length_px": 60.8, "target_float": 0.08387348596618754,
         "trend": 1.8801897250164008, "cycle_s": 9.93115714355998,
         "vigor": 0.6858287370341264, "climb0": 0.43563587716031976,
         "climb_tau_s": 197.1531995924625, "float_pitch_deg": 39.37420115623825,
         "kick_rate": 0.10519329012212887, "tail_rate": 0.18629008569728583,
         "hind_freq": 2.979119600237654, "float_from_start": False}],
}


def test_a_wandering_wall_reflection_is_not_taken_for_a_resting_light_animal(tmp_path):
    """The reflection's edges, lighter and darker than the median now and then, and
    the surface line joined the faint ghost of the gentle swimmer into a 'resting
    animal' region of about 30,000 px (the animal: about 400 px), taken for a light
    animal: the arena's background was then spoilt and its animal scored as light."""
    path = tmp_path / "two_dark_mice.mp4"
    gen.render(gen.VideoSpec.from_json(TWO_DARK_MICE), path)
    with VideoReader(path) as video:
        setup = prepare(video, load_fst_protocol("mouse_fst"), n_arenas=2, sidecar=False)
    assert [a.stats.polarity for a in setup.arenas] == [1.0, 1.0]  # both dark
    # at most a ghost of about the animal's size was cleared (it was 29,655 px)
    assert all(a.ghost_px < 3000 for a in setup.arenas)
    assert not [n for a in setup.arenas for n in a.notices if n.code == "colour_unclear"]


@pytest.mark.slow
def test_restless_floating_of_the_other_generator_is_scored_nearer_the_truth(tmp_path,
                                                                             monkeypatch):
    """One cylinder, 90 s: the gentle swimmer above made to float about 70 % of the
    time, kicking and moving its tail while it floats (the other generator counts all
    of it as floating), four draws as they came (seeds 1-4). By the threshold alone
    the floating's smooth rises and brief kicks are movement: 7.2, 4.8, 6.1 and 6.6 s
    too little immobility; counted as floating (the flicker rule, brief_movement_s):
    +0.9, -4.8, -4.5 and -5.1 s."""
    import copy

    import behavior.fst.immobility as immobility
    from behavior.fst.scoring import score_traces
    from behavior.fst.tracking import track_video

    spec = copy.deepcopy(TWO_DARK_MICE)
    spec.update(n_cylinders=1, duration_s=90.0, window_s=[0.0, 90.0])
    animal = spec["animals"][0]
    animal.update(target_float=0.7, vigor=0.5, kick_rate=0.25, tail_rate=0.15)
    spec["animals"] = [animal]
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 90), duration_s=90)
    now, plain = [], []
    for seed in (1, 2, 3, 4):
        spec["seed"] = seed
        path = tmp_path / f"restless_{seed}.mp4"
        gen.render(gen.VideoSpec.from_json(spec), path)
        truth = gen.load_truth(path)["animals"][0]["immobility_s"]
        with VideoReader(path) as video:
            traces = track_video(video, protocol).traces
        assert len(traces) == 1
        now.append(score_traces(traces, protocol)[0].row()["immobility_s"] - truth)
        with monkeypatch.context() as m:
            m.setattr(immobility, "FLICKER_RATIO", 0.0)
            row = score_traces(traces, protocol.with_overrides(brief_movement_s=0))[0].row()
        plain.append(row["immobility_s"] - truth)
    now, plain = np.abs(now), np.abs(plain)
    assert (now <= plain + 0.01).all(), (now, plain)
    assert now.max() <= 6.0 and now.mean() <= plain.mean() - 1.0, (now, plain)


@pytest.mark.slow
@pytest.mark.parametrize("seed,cylinders", [(100012, 4), (200000, 4), (100018, 2)])
def test_four_tanks_of_the_other_generator_are_four_arenas(tmp_path, seed, cylinders):
    """Fresh 60-s draws of benchmarks/bench_fst_arenas.py, kept as they came. Pictures
    of four equal tanks were counted as fewer: 100012 (480x360, dividers) as 2,
    200000 (320x240, no dividers, a shaken camera) as 3. In each, a tank's corner
    that nothing visits was quieter than the divider or the walls beside it, so the
    picture was cut there, through a tank. Cut instead where a rig of equal tanks
    has its dividers or walls, they are four. Two tanks of unequal width (100018),
    whose walls lie near a third and two thirds of the picture, stay two."""
    spec = gen.random_spec(seed, duration_s=60.0)
    assert spec.n_cylinders == cylinders
    path = tmp_path / f"other_{seed}.mp4"
    gen.render(spec, path)
    with VideoReader(path) as video:
        setup = prepare(video, load_fst_protocol("mouse_fst"), sidecar=False)
    assert len(setup.arenas) == cylinders
    # every arena holds an animal: none is an empty strip cut out of a tank
    assert all(a.present for a in setup.arenas)
