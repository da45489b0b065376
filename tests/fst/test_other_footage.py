"""Cases found on footage of the independently written generator
(benchmarks/other_fst_generator.py), kept as tests."""

from __future__ import annotations

import sys
from pathlib import Path

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
