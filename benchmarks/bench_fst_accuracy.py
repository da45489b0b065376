"""Accuracy of immobility scoring on synthetic FST videos: footage tuned on, and
footage held back.

Sets of 6-min synthetic videos with known ground truth (docs/synthetic_fst.md),
scored with the shipped ``mouse_fst`` protocol as it is (window 120-360 s; no
per-set tuning, arenas counted automatically):

``tuning``
    What the scorer's constants were chosen on: 640x480 and 320x240, one and two
    cylinders, dark mice of the usual size, swimming from a third to full vigour,
    H.264 at CRF 23-28, one light mouse in MJPEG at a quantiser of 6; and two barely
    paddling swimmers (vigour 0-0.15; one 40 px long at 320x240, CRF 30).
``tuning-2``
    Looked at per animal in the fourth round (issue 12), and so tuned on: mostly
    still animals that swim gently, animals still from the first second, small
    animals under heavy compression, restless floating (a light step, MPEG-4), a
    gentle swimmer that floats 5 % of the time. Its failures (u6 arena 1, u7) are
    what the shipped method does not yet handle.
``tuning-3``
    The hard corner (as held-out-7, another random draw), made in the fifth round to
    be looked at per animal.
``held-out``
    Never looked at while choosing them, and unlike the tuning set in every way the
    generator allows: other seeds; one, two and four cylinders; animals about 40 px
    long in 320x240; barely paddling swimmers (both hind limbs, the body nearly
    still); x264 CRF 30-35 and MJPEG at a quantiser of 20-24; dim and bright light,
    a light step; albino mice; variable frame rate; 15 fps; the hard nuisances
    (camera shake, glints and shadows, sloshing); fast drift. (Its errors led to
    changes of the method in the second round: no longer clean.)
``held-out-2``
    A second held-out set, made after the first had been scored once and kept apart
    until the fourth round, whose changes it was looked at for: other seeds, MPEG-4
    part 2, 20 fps, 480x360, a quantiser of 28, a brighter light step.
``held-out-3``
    Made before the fourth round: barely paddling swimmers, animals 40 px long at
    320x240 under CRF 33-36, dim and bright, VFR, 1, 2 and 4 cylinders, albino and
    dark animals still for >= 90 % from the first second. Its per-animal errors
    were printed once, before any change; its set figures were read four times
    (before; after two candidates, one of them rejected on it; at the end).
``held-out-4``
    Blind: only its set figures are ever printed, never an animal's error (read
    four times in the fourth round, as held-out-3).
``held-out-5``
    Blind, made after every candidate change of the fourth round had been tried,
    scored once at its end.
``held-out-6``
    Blind, drawn at random (seed 2026) from the generator's whole range at the start
    of the fifth round, so that its make-up does not follow the known failures.
``held-out-7``
    The hard corner only (gentle swimmers, small animals, heavy compression), drawn
    at random (seed 2027) at the start of the fifth round; blind until the sixth
    round's set figures (the patch measure) were read, then looked at per animal.

In the sixth round the mobility measure changed (the most-changed patch of the
silhouette, :func:`behavior.fst.tracker.aligned_change`) and the automatic rule's
constants were set for its scale on the open sets (tuning, tuning-2, tuning-3,
held-out, held-out-2, held-out-3 — every one of them looked at per animal by then);
held-out-4, -5 and -6 stayed blind.

Prints, per animal (but for the blind set), the truth, the score, the error, the
threshold used and the ``separation``; per set, the mean absolute error (MAE), the
worst error and Pearson r, then what a single fixed threshold (0.12-0.3, and the
best one chosen with hindsight) would have given from the same traces, which shows
how much of the error is the decision and how much the measure; and how well the
rows' warnings point at the wrong ones (rows warned, errors over 8 s warned, the
errors of the rows with no warning). Then the swimming and climbing errors, and a
summary with the sets tuned on and held back apart.

    python benchmarks/bench_fst_accuracy.py [--cache benchmarks/.cache] [--jobs 2]
        [--sets tuning,held-out-3] [--rescore] [--protocol mouse_fst] [--tag NAME]

Videos are generated once into the cache folder (gitignored) and kept; traces go
to ``<cache>/traces-<tag>`` (default tag ``current``). ``--rescore`` scores saved
traces again without decoding (after a change to scoring only).
"""

from __future__ import annotations

import argparse
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr

from behavior.fst.batch import VideoJob, score_video
from behavior.fst.scoring import rescore_traces
from behavior.fst.summary import summarize_bouts
from behavior.fst.traces import trace_name
from behavior.protocols import load_fst_protocol
from behavior.testing import HARD, SyntheticSpec, write_video

WINDOW = (120.0, 360.0)
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    """One video of a set: what to render and how to encode it."""

    name: str
    spec: SyntheticSpec
    codec: str = "h264"
    quality: int | None = None
    suffix: str = ".mp4"
    about: str = ""


def _spec(seed: int, fractions, **kw) -> SyntheticSpec:
    kw.setdefault("width", 640)
    kw.setdefault("height", 480)
    return SyntheticSpec(duration_s=360, seed=seed, immobility_fraction=fractions,
                         n_arenas=len(fractions), **kw)


def tuning_set() -> list[Case]:
    """The footage the scorer's constants were chosen on."""
    return [
        Case("t1", _spec(101, (0.15, 0.62), swim_vigour=(0.5, 1.0)), about="640x480 crf23"),
        Case("t2", _spec(102, (0.80, 0.33), swim_vigour=(0.5, 1.0)), about="640x480 crf23"),
        Case("t3", _spec(103, (0.45, 0.71), swim_vigour=(0.5, 1.0), early_mobile=True),
             quality=28, about="640x480 crf28"),
        Case("t4", _spec(104, (0.25, 0.55), width=320, height=240, swim_vigour=(0.4, 1.0)),
             quality=28, about="320x240 crf28"),
        Case("t5", _spec(105, (0.68, 0.40), width=320, height=240, swim_vigour=(0.4, 1.0)),
             about="320x240 crf23"),
        Case("t6", _spec(106, (0.50,), animal="light", swim_vigour=(0.3, 1.0)), "mjpeg", 6,
             ".avi", "640x480 light mjpeg q6"),
        # barely paddling: the automatic threshold's constants were chosen with these
        # two in view (2-min versions of them, seed 900)
        Case("t7", _spec(107, (0.50,), width=320, height=240, animal_scale=0.9,
                         swim_vigour=(0.0, 0.15)), quality=30, about="320x240 40px gentle crf30"),
        Case("t8", _spec(108, (0.50,), swim_vigour=(0.0, 0.15)), about="640x480 gentle crf23"),
    ]


def second_tuning_set() -> list[Case]:
    """More footage to tune on (the fourth round): mostly still animals that swim
    gently, animals still from the first second, small animals under heavy
    compression, sloshing water; new seeds."""
    small = dict(width=320, height=240)
    return [
        Case("u1", _spec(901, (0.85,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.2),
                         brightness=0.7), quality=33, about="320x240 40px gentle dim crf33"),
        Case("u2", _spec(902, (0.90, 0.75), swim_vigour=(0.0, 0.3), vfr=True), quality=30,
             about="640x480 2 cyl gentle vfr crf30"),
        Case("u3", _spec(903, (0.92,), **small, animal_scale=0.9, start_immobile=True,
                         swim_vigour=(0.0, 0.4)), quality=34,
             about="320x240 40px still 92% from 0 s crf34"),
        Case("u4", _spec(904, (0.90,), animal="light", start_immobile=True,
                         x_range=(0.0, 0.3), swim_vigour=(0.1, 0.8)), "mjpeg", 20, ".avi",
             "640x480 albino still 90% from 0 s at a wall mjpeg q20"),
        Case("u5", _spec(905, (0.10, 0.30, 0.70, 0.85), swim_vigour=(0.0, 0.3),
                         drift_scale=2.0), quality=32, about="640x480 4 cyl gentle drift x2 crf32"),
        Case("u6", _spec(906, (0.05, 0.60), **small, animal_scale=0.85,
                         swim_vigour=(0.0, 0.2), brightness=1.3), quality=35,
             about="320x240 2 cyl 40px gentle bright crf35"),
        Case("u7", _spec(907, (0.80,), width=480, height=360, animal="light",
                         swim_vigour=(0.0, 0.6), light_step=(150.0, 0.6)), "mpeg4", 10, ".avi",
             "480x360 albino light-step mpeg4 q10"),
        Case("u8", _spec(908, (0.70,), swim_vigour=(0.0, 1.0), brightness=0.6, **HARD),
             quality=31, about="640x480 hard dim crf31"),
    ]


def held_out_set() -> list[Case]:
    """Footage kept apart: never scored while the scorer's constants were chosen."""
    small = dict(width=320, height=240)
    return [
        Case("h1", _spec(501, (0.35,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.4),
                         vfr=True), quality=35, about="320x240 40px gentle vfr crf35"),
        Case("h2", _spec(502, (0.70,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.3),
                         brightness=0.55), "mjpeg", 20, ".avi",
         "320x240 40px gentle dim mjpeg q20"),
        Case("h3", _spec(503, (0.20, 0.50, 0.65, 0.85), swim_vigour=(0.0, 0.6),
                         brightness=0.6), quality=32, about="640x480 4 cyl dim crf32"),
        Case("h4", _spec(504, (0.45,), animal="light", animal_scale=1.3, swim_vigour=(0.1, 1.0),
                         light_step=(200.0, 0.6)), quality=30,
             about="640x480 albino large light-step crf30"),
        Case("h5", _spec(505, (0.30, 0.75), **small, fps=15, swim_vigour=(0.0, 1.0),
                         brightness=1.3, **HARD), about="320x240 15fps hard bright"),
        Case("h6", _spec(506, (0.55, 0.25), drift_scale=3.0, swim_vigour=(0.0, 0.5),
                         animal="light"), "mjpeg", 24, ".avi", "640x480 albino drift x3 mjpeg q24"),
        Case("h7", _spec(507, (0.60, 0.10, 0.40), width=480, height=240, animal_scale=0.9,
                         swim_vigour=(0.0, 0.8), vfr=True), quality=33,
             about="480x240 3 cyl 40px vfr crf33"),
    ]


def second_held_out_set() -> list[Case]:
    """Made after the first held-out set had been scored once (its errors then led to
    changes of the method): kept apart from every change after that."""
    return [
        Case("g1", _spec(601, (0.30, 0.65), width=320, height=240, swim_vigour=(0.0, 0.5),
                         brightness=0.7), "mjpeg", 16, ".avi",
             "320x240 2 cyl gentle dim mjpeg q16"),
        Case("g2", _spec(602, (0.55,), animal_scale=0.75, swim_vigour=(0.1, 0.9),
                         light_step=(150.0, 1.5)), quality=34,
             about="640x480 small light-step crf34"),
        Case("g3", _spec(603, (0.15, 0.45, 0.80), animal="light", swim_vigour=(0.0, 0.6),
                         vfr=True), quality=29, about="640x480 3 cyl albino vfr crf29"),
        Case("g4", _spec(604, (0.40,), width=320, height=240, fps=20,
                         swim_vigour=(0.0, 0.3)), "mpeg4", 8, ".avi",
             "320x240 20fps gentle mpeg4 q8"),
        Case("g5", _spec(605, (0.35, 0.70), swim_vigour=(0.2, 1.0), brightness=0.5, **HARD),
             quality=31, about="640x480 hard dim crf31"),
        Case("g6", _spec(606, (0.60,), width=480, height=360, swim_vigour=(0.0, 1.0)),
             "mjpeg", 28, ".avi", "480x360 mjpeg q28"),
        Case("g7", _spec(607, (0.10, 0.50, 0.75, 0.25), swim_vigour=(0.0, 0.4),
                         drift_scale=2.0), quality=35, about="640x480 4 cyl gentle drift x2 crf35"),
    ]


def third_held_out_set() -> list[Case]:
    """Made before the fourth round of changes (issue 12). Its per-animal errors were
    printed once, before any change (so it is not blind); no change was made for one
    of its animals. Spans the generator's range: barely paddling swimmers, animals about 40 px long
    at 320x240 under heavy compression, dim and bright light, VFR, one, two and four
    cylinders, albino and dark mice, animals still for >= 90 % from the first second
    (against a wall and in the middle)."""
    small = dict(width=320, height=240)
    return [
        Case("k1", _spec(701, (0.40,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.2),
                         brightness=0.6), quality=36, about="320x240 40px gentle dim crf36"),
        Case("k2", _spec(702, (0.93,), start_immobile=True, x_range=(0.0, 0.3),
                         brightness=0.5, swim_vigour=(0.2, 1.0)), quality=30,
             about="640x480 dark still 93% from 0 s at a wall, dim crf30"),
        Case("k3", _spec(703, (0.95,), **small, animal="light", start_immobile=True,
                         brightness=1.4, swim_vigour=(0.0, 0.6)), "mjpeg", 18, ".avi",
             "320x240 albino still 95% from 0 s, bright mjpeg q18"),
        Case("k4", _spec(704, (0.05, 0.40, 0.65, 0.90), swim_vigour=(0.0, 0.3), vfr=True),
             quality=33, about="640x480 4 cyl gentle vfr crf33"),
        Case("k5", _spec(705, (0.50, 0.20), width=480, height=360, fps=25, animal="light",
                         swim_vigour=(0.1, 0.8), light_step=(100.0, 0.5)), "mpeg4", 10,
             ".avi", "480x360 2 cyl albino 25fps light-step mpeg4 q10"),
        Case("k6", _spec(706, (0.55,), swim_vigour=(0.0, 1.0), brightness=1.5, vfr=True,
                         **HARD), quality=30, about="640x480 hard bright vfr crf30"),
        Case("k7", _spec(707, (0.35, 0.80), **small, animal_scale=0.85,
                         swim_vigour=(0.0, 0.25), brightness=0.7, vfr=True), quality=34,
             about="320x240 2 cyl 40px gentle dim vfr crf34"),
        Case("k8", _spec(708, (0.60,), animal="light", drift_scale=2.5,
                         swim_vigour=(0.05, 0.7), early_mobile=True), "mjpeg", 22, ".avi",
             "640x480 albino drift x2.5 early-mobile mjpeg q22"),
        Case("k9", _spec(709, (0.92, 0.30), **small, animal_scale=0.9, start_immobile=True,
                         swim_vigour=(0.0, 0.4)), quality=35,
             about="320x240 2 cyl 40px, one still 92% from 0 s, crf35"),
    ]


def fourth_held_out_set() -> list[Case]:
    """Made when held-out-3's per-animal errors had been printed once (before any
    change): blind. Only its set figures are printed (:data:`BLIND`), never an
    animal's error, so nothing in it can guide a change."""
    small = dict(width=320, height=240)
    return [
        Case("b1", _spec(801, (0.50,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.15),
                         vfr=True), quality=34, about="320x240 40px barely paddling vfr crf34"),
        Case("b2", _spec(802, (0.94,), animal="light", start_immobile=True,
                         x_range=(0.6, 1.0), brightness=0.6, swim_vigour=(0.0, 0.5)),
             quality=31, about="640x480 albino still 94% from 0 s at a wall, dim crf31"),
        Case("b3", _spec(803, (0.91,), **small, start_immobile=True, brightness=1.3,
                         animal_scale=0.9, swim_vigour=(0.0, 0.3)), "mjpeg", 20, ".avi",
             "320x240 40px dark still 91% from 0 s, bright mjpeg q20"),
        Case("b4", _spec(804, (0.30, 0.55, 0.75, 0.15), swim_vigour=(0.0, 0.5),
                         brightness=0.65), quality=32, about="640x480 4 cyl gentle dim crf32"),
        Case("b5", _spec(805, (0.45, 0.70), width=480, height=360, swim_vigour=(0.0, 1.0),
                         vfr=True, animal="light"), quality=30,
             about="480x360 2 cyl albino vfr crf30"),
        Case("b6", _spec(806, (0.65,), **small, fps=20, animal_scale=0.85,
                         swim_vigour=(0.0, 0.35), brightness=1.4), "mpeg4", 12, ".avi",
             "320x240 40px gentle bright 20fps mpeg4 q12"),
        Case("b7", _spec(807, (0.25, 0.60), swim_vigour=(0.1, 0.9), light_step=(180.0, 1.6),
                         **HARD), quality=33, about="640x480 2 cyl hard light-step crf33"),
        Case("b8", _spec(808, (0.85, 0.40, 0.55), width=480, height=240, animal_scale=0.9,
                         swim_vigour=(0.0, 0.25), vfr=True), quality=35,
             about="480x240 3 cyl 40px gentle vfr crf35"),
    ]


def fifth_held_out_set() -> list[Case]:
    """Made after every candidate change of the fourth round had been tried, and
    scored once, at its end: blind (only its set figures are printed)."""
    small = dict(width=320, height=240)
    return [
        Case("c1", _spec(1001, (0.70,), **small, animal_scale=0.9, swim_vigour=(0.0, 0.25),
                         brightness=0.65, vfr=True), quality=33,
             about="320x240 40px gentle dim vfr crf33"),
        Case("c2", _spec(1002, (0.93,), start_immobile=True, x_range=(0.7, 1.0),
                         swim_vigour=(0.0, 0.6)), "mjpeg", 18, ".avi",
             "640x480 dark still 93% from 0 s at a wall mjpeg q18"),
        Case("c3", _spec(1003, (0.92,), **small, animal="light", start_immobile=True,
                         animal_scale=0.9, brightness=0.7), quality=34,
             about="320x240 40px albino still 92% from 0 s dim crf34"),
        Case("c4", _spec(1004, (0.20, 0.85, 0.50, 0.65), swim_vigour=(0.0, 0.4),
                         brightness=1.3, vfr=True), quality=31,
             about="640x480 4 cyl gentle bright vfr crf31"),
        Case("c5", _spec(1005, (0.40, 0.75), width=480, height=360, swim_vigour=(0.1, 1.0),
                         animal="light", light_step=(200.0, 1.8)), "mpeg4", 9, ".avi",
             "480x360 2 cyl albino light-step mpeg4 q9"),
        Case("c6", _spec(1006, (0.30,), **small, fps=25, animal_scale=0.85,
                         swim_vigour=(0.0, 0.2)), quality=36,
             about="320x240 40px barely paddling 25fps crf36"),
        Case("c7", _spec(1007, (0.55, 0.80), swim_vigour=(0.0, 1.0), **HARD, brightness=0.6),
             quality=32, about="640x480 2 cyl hard dim crf32"),
        Case("c8", _spec(1008, (0.60,), drift_scale=2.0, swim_vigour=(0.0, 0.5),
                         early_mobile=True), "mjpeg", 24, ".avi",
             "640x480 drift x2 early-mobile gentle mjpeg q24"),
    ]


@dataclass(frozen=True)
class Ranges:
    """What :func:`random_draw` draws from (uniformly): the share of animals still from
    the first second and their immobility, the lower end of the swimming vigour and the
    most the upper end reaches, the largest animal, and the encoders' quality ranges
    (``high`` excluded)."""

    still_share: float
    still_fraction: tuple[float, float]
    low_vigour: float
    high_vigour: float
    largest: float
    quality: dict = field(default_factory=dict)


#: The generator's whole range (held-out-6).
WHOLE_RANGE = Ranges(0.2, (0.9, 0.95), 0.3, 1.0, 1.3,
                     {"h264": (23, 37), "mjpeg": (6, 25), "mpeg4": (4, 13)})
#: The hard corner: gentle swimmers, small animals, heavy compression (held-out-7,
#: tuning-3).
HARD_CORNER = Ranges(0.3, (0.88, 0.95), 0.1, 0.4, 1.0,
                     {"h264": (30, 37), "mjpeg": (14, 25), "mpeg4": (8, 13)})


def random_draw(ranges: Ranges, seed: int, prefix: str, first_seed: int, about: str
                ) -> list[Case]:
    """Twelve videos drawn at random (``seed``) from ``ranges``: 320x240, 480x360 or
    640x480 (one, two or four cylinders at 640x480, else one or two), dark or albino,
    dim to bright, drift, 15-30 fps or VFR, now and then a light step, the hard
    nuisances or an animal keeping to one side; H.264, MJPEG or MPEG-4."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(12):
        width, height = [(320, 240), (480, 360), (640, 480)][rng.integers(3)]
        n = int(rng.choice([1, 2, 4])) if width == 640 else int(rng.choice([1, 2]))
        start_immobile = bool(rng.random() < ranges.still_share)
        fractions = tuple(float(round(f, 2)) for f in (
            rng.uniform(*ranges.still_fraction, n) if start_immobile
            else rng.uniform(0.05, 0.95, n)))
        low = float(round(rng.uniform(0.0, ranges.low_vigour), 2))
        kw = dict(width=width, height=height, animal=str(rng.choice(["dark", "light"])),
                  animal_scale=float(round(rng.uniform(0.85 if width == 320 else 0.75,
                                                       ranges.largest), 2)),
                  swim_vigour=(low, float(round(rng.uniform(low + 0.1, ranges.high_vigour),
                                                2))),
                  brightness=float(round(rng.uniform(0.5, 1.5), 2)),
                  drift_scale=float(round(rng.uniform(1.0, 3.0), 1)),
                  fps=float(rng.choice([15, 20, 25, 30])), vfr=bool(rng.random() < 0.3),
                  start_immobile=start_immobile)
        if rng.random() < 0.2:
            kw["light_step"] = (float(round(rng.uniform(60, 300))),
                                float(round(rng.uniform(0.5, 1.8), 2)))
        if rng.random() < 0.2:
            kw.update(HARD)
        if n == 1 and rng.random() < 0.3:
            kw["x_range"] = (0.0, 0.3) if rng.random() < 0.5 else (0.7, 1.0)
        if kw["vfr"]:
            kw["fps"] = 30.0
        codec = str(rng.choice(["h264", "h264", "mjpeg", "mpeg4"]))
        quality = {c: int(rng.integers(*r)) for c, r in ranges.quality.items()}[codec]
        # AVI cannot store a variable frame rate: MKV holds MJPEG and MPEG-4 then
        suffix = ".mp4" if codec == "h264" else ".mkv" if kw["vfr"] else ".avi"
        cases.append(Case(f"{prefix}{i + 1}", _spec(first_seed + i, fractions, **kw), codec,
                          quality, suffix, f"{about} {i + 1}"))
    return cases


def sixth_held_out_set() -> list[Case]:
    """Made at the start of the fifth round (issue 12), before any change was tried,
    and drawn at random (seed 2026) from the generator's whole range rather than
    chosen by hand, so that its make-up does not follow the failures known so far:
    blind (only its set figures are printed)."""
    return random_draw(WHOLE_RANGE, 2026, "r", 3000, "random draw")


def seventh_held_out_set() -> list[Case]:
    """The hard corner only, drawn at random (seed 2027) at the start of the fifth
    round, before any change was tried: gentle swimmers (vigour 0-0.1 up to 0.1-0.4),
    small animals, heavy compression, immobility from 5 % to 95 % (a third still from
    the first second). Blind (only its set figures are printed)."""
    return random_draw(HARD_CORNER, 2027, "q", 4000, "hard-corner draw")


def third_tuning_set() -> list[Case]:
    """The hard corner again (as held-out-7), another random draw (seed 2028), made in
    the fifth round to be looked at per animal and tuned on."""
    return random_draw(HARD_CORNER, 2028, "v", 5000, "hard-corner draw")

SETS = {"tuning": tuning_set, "tuning-2": second_tuning_set, "tuning-3": third_tuning_set,
        "held-out": held_out_set,
        "held-out-2": second_held_out_set, "held-out-3": third_held_out_set,
        "held-out-4": fourth_held_out_set, "held-out-5": fifth_held_out_set,
        "held-out-6": sixth_held_out_set,
        "held-out-7": seventh_held_out_set}
#: Sets whose per-animal errors are never printed (only the set's figures).
BLIND = {"held-out-4", "held-out-5", "held-out-6"}
#: Sets the scorer's constants were tuned on, and the ones held back, printed apart.
TUNED_ON = ("tuning", "tuning-2", "tuning-3")
#: How clean each held-back set still is (printed with its figures).
STATUS = {
    "held-out": "its errors led to changes in the second round; its set MAE chose a constant "
                "in the fourth; looked at per animal in the fifth; its set figures printed by the "
                "eighth round's sweeps (flicker ratio, brief movements; chosen on the tuning "
                "sets); read four times in the ninth (tracking only every second frame of 30-fps "
                "videos, twice: rejected; cuts of a rig of equal tanks, which moved h3's "
                "rectangles onto its cylinders and its scores by 0.1 s or less; a warning change); "
                "in the tenth, each animal's error read beside how rhythmic its floating is (no "
                "change made)",
    "held-out-2": "looked at per animal in the fourth and fifth rounds; its set figures "
                  "printed by the eighth round's sweeps (flicker ratio, brief movements); read "
                  "four times in the ninth (every second frame tracked, twice: rejected; "
                  "cuts of a rig of equal tanks; a warning change); in the tenth, each animal's "
                  "error read beside how rhythmic its floating is (no change made)",
    "held-out-3": "per-animal errors seen once before the fourth round; set figures read "
                  "four times; looked at per animal in the fifth; its set figures printed "
                  "by the eighth round's sweeps (flicker ratio, brief movements); read four "
                  "times in the ninth (every second frame tracked, twice: rejected; cuts of "
                  "a rig of equal tanks; a warning change); in the tenth, each animal's error "
                  "read beside how rhythmic its floating is (no change made)",
    "held-out-4": "blind; set figures read four times in the fourth round, twice in the "
                  "fifth, three times in the sixth (the patch measure; then its density "
                  "smoothing), once in the seventh (a set-up change that moved no score), "
                  "four times in the eighth (the flicker rule; its "
                  "frame-to-frame part; brief movements joined; a new warning), four times "
                  "in the ninth (every second frame tracked, twice: rejected; cuts of a rig of "
                  "equal tanks, which moved no score; a warning change)",
    "held-out-5": "blind; scored once, at the end of the fourth round (and by the rule "
                  "before it, from the same traces); read twice in the fifth, three "
                  "times in the sixth (the patch measure; then its density smoothing), "
                  "once in the seventh (a set-up change that moved no score), four times in "
                  "the eighth (the flicker rule; its frame-to-frame part; brief movements "
                  "joined; a new warning), four times in the ninth (every second frame tracked, "
                  "twice: rejected; cuts of a rig of equal tanks, which moved no score; a "
                  "warning change)",
    "held-out-6": "blind; drawn at random from the generator's range before the fifth "
                  "round; scored with the fourth round's rule, then the fifth's, then "
                  "three times with the sixth's (the patch measure; then its density "
                  "smoothing), once in the seventh (a set-up change that moved no score), "
                  "four times in the eighth (the flicker rule; its "
                  "frame-to-frame part; brief movements joined; a new warning), four times "
                  "in the ninth (every second frame tracked, twice: rejected; cuts of a rig of "
                  "equal tanks, which moved no score; a warning change)",
    "held-out-7": "the hard corner (gentle, small, compressed) drawn at random before "
                  "the fifth round; blind until its set figures with the sixth round's "
                  "measure were read, then looked at per animal (one silent 153-s error "
                  "led to a warning change); its set figures printed by the eighth "
                  "round's sweeps (flicker ratio, brief movements); read four times in the "
                  "ninth (every second frame tracked, twice: rejected; cuts of a rig of "
                  "equal tanks; a warning change); in the tenth, each animal's error read "
                  "beside how rhythmic its floating is (no change made)",
}


def make(case: Case, folder: Path) -> tuple[Path, object]:
    """The case's video and truth, rendered once into ``folder``."""
    path = folder / f"{case.name}{case.suffix}"
    truth_file = path.with_suffix(".truth.pkl")
    if path.exists() and truth_file.exists():
        return path, pickle.loads(truth_file.read_bytes())
    truth = write_video(case.spec, path, codec=case.codec, quality=case.quality)
    truth_file.write_bytes(pickle.dumps(truth))
    return path, truth


def track(path: Path, traces: Path, protocol, n_arenas: int) -> tuple[int, list[str]]:
    """Score one video (arenas counted); when the count is wrong, score it again with
    the right one, so the animals can still be compared. Returns the arenas found."""
    result = score_video(VideoJob(str(path)), protocol, str(traces))
    assert result.error is None, result.error
    found = len(result.animals)
    if found != n_arenas:
        result = score_video(VideoJob(str(path), n_arenas=n_arenas), protocol, str(traces))
        assert result.error is None, result.error
    return found, [n.text() for n in result.notices]


def truth_immobility(truth, arena: int) -> float:
    return summarize_bouts(truth.bouts(arena), WINDOW, 360, 60, truth.end_s)["immobility_s"]


@dataclass
class Scored:
    name: str
    cases: list[Case]
    made: list[tuple[Path, object]]
    traces: Path
    paths: list[Path] = field(default_factory=list)
    truth_s: np.ndarray = field(default_factory=lambda: np.empty(0))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(pearsonr(a, b)[0]) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")


def errors_line(truth: np.ndarray, ours: np.ndarray) -> str:
    e = ours - truth
    return (f"MAE {np.nanmean(np.abs(e)):5.2f} s, worst {np.nanmax(np.abs(e)):6.2f} s, "
            f"mean {np.nanmean(e):+6.2f} s, r {pearson(truth, ours):.4f}")


def report(s: Scored, protocol) -> tuple[np.ndarray, np.ndarray]:
    table, errors, _ = rescore_traces(s.paths, protocol)
    assert not errors, errors
    ours = table["immobility_s"].to_numpy(float)
    print(f"\n{s.name}: {len(s.cases)} videos, {len(ours)} animals")
    about = [c.about for c in s.cases for _ in range(c.spec.n_arenas)]
    rows = list(zip(table.iterrows(), s.truth_s, about, strict=True))
    if s.name in BLIND:
        print("  (blind set: per-animal errors not printed)")
        rows = []
    else:
        print(f"  {'video':<6}{'arena':>6}{'truth s':>9}{'ours s':>9}{'error':>8}{'thr':>8}"
              f"{'sep':>6}  about")
    for (_, row), want, what in rows:
        video = Path(str(row["video"])).stem
        sep = row.get("separation", float("nan"))
        print(f"  {video:<6}{int(row['arena']):>6}{want:9.1f}{row['immobility_s']:9.1f}"
              f"{row['immobility_s'] - want:8.1f}{float(row['threshold']):8.3f}"
              f"{float(sep):6.2f}  {what}")
    print(f"  {s.name}: {errors_line(s.truth_s, ours)}   (targets MAE <= 3 s, worst <= 8 s, "
          "r >= 0.98)")
    print(f"  {s.name}: {warned_line(s.truth_s, ours, warned(table))}")
    return ours, warned(table)


#: An error larger than this is a miss the row's warnings should have flagged.
MISS_S = 8.0


def warned(table) -> np.ndarray:
    """Rows that carry a warning (what a lab would check before trusting them)."""
    return table["warnings"].fillna("").astype(str).str.len().to_numpy() > 0


def warned_line(truth: np.ndarray, ours: np.ndarray, flagged: np.ndarray) -> str:
    """How well the warnings point at the wrong rows: how many rows are warned, how
    many errors over :data:`MISS_S` were warned, and the errors of the rows with none."""
    e = np.abs(ours - truth)
    big = e > MISS_S
    quiet = e[~flagged]
    rest = (f"rows with no warning: MAE {np.nanmean(quiet):.2f} s, worst {np.nanmax(quiet):.2f} s"
            if quiet.size else "every row warned")
    return (f"{flagged.sum()} of {flagged.size} rows warned; errors over {MISS_S:g} s: "
            f"{big.sum()}, {(big & flagged).sum()} of them warned; {rest}")


#: The fixed thresholds printed for each set (besides the best one with hindsight).
SHOWN_FIXED = (0.12, 0.16, 0.2, 0.25, 0.3)


def fixed_thresholds(s: Scored, protocol) -> None:
    """The same traces scored with one fixed threshold for every animal."""
    best = None
    grid = np.round(np.arange(0.08, 0.5001, 0.01), 3)
    lines = []
    for thr in grid:
        table, _, _ = rescore_traces(s.paths, protocol.with_overrides(threshold=float(thr)))
        ours = table["immobility_s"].to_numpy(float)
        mae = float(np.nanmean(np.abs(ours - s.truth_s)))
        if best is None or mae < best[0]:
            best = (mae, thr, ours)
        if thr in SHOWN_FIXED:
            lines.append(f"    fixed {thr:.2f}: {errors_line(s.truth_s, ours)}")
    print(f"  {s.name}, one fixed threshold for all animals (traces re-scored):")
    print("\n".join(lines))
    print(f"    best fixed {best[1]:.3f} (hindsight): {errors_line(s.truth_s, best[2])}")


def active_behaviour(s: Scored, protocol) -> None:
    table, _, _ = rescore_traces(s.paths, protocol)
    parts = []
    for column, state in (("swimming_s", "swimming"), ("climbing_s", "struggling")):
        truth = []
        for case, (_, t) in zip(s.cases, s.made, strict=True):
            dt = np.diff(np.append(t.time_s, t.end_s))
            inside = (t.time_s >= WINDOW[0]) & (t.time_s < WINDOW[1])
            truth += [float(dt[inside & (t.states[a] == state)].sum())
                      for a in range(case.spec.n_arenas)]
        e = table[column].to_numpy(float) - np.array(truth)
        parts.append(f"{column[:-2]} MAE {np.nanmean(np.abs(e)):5.2f} s, worst "
                     f"{np.nanmax(np.abs(e)):5.2f} s")
    print(f"  {s.name}, active behaviour: " + ";  ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=HERE / ".cache")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--rescore", action="store_true",
                    help="score the saved traces again (no decoding)")
    ap.add_argument("--protocol", default="mouse_fst")
    ap.add_argument("--tag", default="current", help="traces folder: <cache>/traces-<tag>")
    args = ap.parse_args()
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = set(names) - set(SETS)
    if unknown:
        ap.error(f"--sets: unknown {sorted(unknown)}; of {', '.join(SETS)}")
    protocol = load_fst_protocol(args.protocol)
    folder = args.cache
    folder.mkdir(parents=True, exist_ok=True)
    scored = []
    for name in names:
        cases = SETS[name]()
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            made = list(pool.map(make, cases, [folder] * len(cases)))
        traces = folder / f"traces-{args.tag}"
        s = Scored(name, cases, made, traces)
        for case, (path, _truth) in zip(cases, made, strict=True):
            s.paths += [traces / trace_name(path, a) for a in range(1, case.spec.n_arenas + 1)]
        s.truth_s = np.array([truth_immobility(truth, a) for c, (_, truth) in
                              zip(cases, made, strict=True) for a in range(1, c.spec.n_arenas + 1)])
        if not args.rescore or not all(p.exists() for p in s.paths):
            todo = [(path, c.spec.n_arenas) for c, (path, _) in zip(cases, made, strict=True)]
            with ProcessPoolExecutor(args.jobs) as pool:
                found = list(pool.map(track, [p for p, _ in todo], [traces] * len(todo),
                                      [protocol] * len(todo), [n for _, n in todo]))
            for (path, n), (got, _) in zip(todo, found, strict=True):
                if got != n:
                    print(f"  {path.name}: {got} arena(s) counted, {n} cylinders (scored "
                          f"with n_arenas={n})")
        print(f"{name}: {len(cases)} videos ready and scored in "
              f"{time.perf_counter() - t0:.0f} s ({folder})")
        scored.append(s)
    figures = {s.name: (s.truth_s, *report(s, protocol)) for s in scored}
    print()
    for s in scored:
        fixed_thresholds(s, protocol)
    print()
    for s in scored:
        active_behaviour(s, protocol)
    print(f"\nSummary ({args.protocol} as shipped, no per-set tuning; targets on held-back "
          "footage: MAE <= 3 s, worst <= 8 s, r >= 0.98)")
    for title, keep in (("tuned on", lambda n: n in TUNED_ON),
                        ("held back", lambda n: n not in TUNED_ON)):
        names_here = [n for n in figures if keep(n)]
        if not names_here:
            continue
        print(f"  {title}:")
        for n in names_here:
            status = f"  ({STATUS[n]})" if n in STATUS else ""
            truth, ours, flagged = figures[n]
            print(f"    {n:<11} {errors_line(truth, ours)}{status}")
            print(f"    {'':<11} {warned_line(truth, ours, flagged)}")


if __name__ == "__main__":
    main()
