"""Generators of test data with known answers, for tests, benchmarks and anyone who
wants to check the scorers on data whose truth is known.

Forced swim videos (docs/synthetic_fst.md): :class:`SyntheticSpec` says what to make;
:func:`ground_truth` gives the per-frame truth; :func:`render` the frames;
:func:`write_video` encodes them in a real codec and container. Startle sessions:
:mod:`behavior.testing.startle` (trial tables and per-sample exports with known amplitudes).

Examples
--------
>>> from behavior.testing import SyntheticSpec, render
>>> spec = SyntheticSpec(duration_s=2.0, width=160, height=120, n_arenas=2, seed=1)
>>> frames, truth = render(spec)
>>> next(frames).shape
(120, 160, 3)
>>> truth.immobile.shape
(2, 60)
"""

from behavior.testing.fst_motion import frame_times
from behavior.testing.fst_scene import ground_truth, render
from behavior.testing.fst_spec import (
    CODECS,
    CONTAINERS,
    EVENT_COLUMNS,
    HARD,
    STATES,
    TRUTH_COLUMNS,
    GroundTruth,
    SyntheticSpec,
)
from behavior.testing.fst_video import write_video

__all__ = ["CODECS", "CONTAINERS", "EVENT_COLUMNS", "HARD", "STATES", "TRUTH_COLUMNS",
           "GroundTruth", "SyntheticSpec", "frame_times", "ground_truth", "render",
           "write_video"]
