"""Tracking settings that are not protocol keys: how the tracker works, not what is scored.

They travel with each job (:class:`TrackingSettings` in a
:class:`~behavior.fst.batch.VideoJob`, a :class:`~behavior.fst.setup.Setup`), so a
worker process or a cluster node tracks with exactly the settings it was sent, and
tests change them by passing other values, never by patching module constants.
Their defaults are the documented constants of the modules that use them. Every
field is part of the ``--resume`` key (:func:`behavior.fst.batch.tracking_key`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from behavior.fst import background, halves, tracker

#: Tests at least this long (s) are tracked as two halves, each with a decoder of its
#: own, so that one video keeps two cores busy (see :mod:`behavior.fst.halves`).
SPLIT_MIN_S = 120.0
#: Below this frame rate (frames per s) paddling is sampled too sparsely to be seen
#: reliably (a 5-Hz stroke filmed at 10 fps can look still, at 5 fps it always can):
#: a warning says immobility may be overestimated. Synthetic 2-min tests: errors
#: -1 to +10 s at 10 fps, +8 to +23 s at 5 fps; within 1 s at 8, 15 and 30 fps
#: (one -4.5 s at 15 fps).
MIN_FPS = 12.0
#: Seen in more than this share of the segmentations, an arena gets a warning that
#: it may hold two animals (two cylinders taken as one). Synthetic merged arenas: 1.0;
#: single animals with reflections, glints and shadows: under 0.005; a real mouse
#: with a title card and a grid floor: 0.19.
TWIN_SHARE = 0.5
#: Smallest animal/background difference (grey levels) taken as an animal.
MIN_CONTRAST = 20.0


@dataclass(frozen=True)
class TrackingSettings:
    """How tracking works (see each default's constant for why it is what it is).

    Attributes
    ----------
    lags_s
        Times between the silhouettes the mobility measure compares (s);
        :data:`behavior.fst.tracker.LAGS_S`.
    n_samples, min_keyframes, init_s
        Frames sampled for the background; fewer key frames than ``min_keyframes``
        sample the first ``init_s`` seconds instead (:mod:`behavior.fst.background`).
    unlike_r
        Sampled frames correlated with the median frame under this are left out
        (a title card); :data:`behavior.fst.background.UNLIKE_R`.
    clear_resting_animal
        Take an animal that rested in one place out of the background median
        (:func:`behavior.fst.background.fill_ghost`).
    growth_limit
        A silhouette this many times the usual area is cut back to its core.
    bg_update_s
        How often the background adapts (s of video).
    split_min_s, warm_s
        Tests at least ``split_min_s`` long are tracked as two halves; the second
        starts ``warm_s`` early (:mod:`behavior.fst.halves`).
    min_fps, twin_share, min_contrast
        Thresholds of the warnings for a low frame rate, two animals in one arena,
        and of the contrast an animal must have to be found.
    soft_silhouettes
        Measure the mobility of animals smaller than
        :data:`behavior.fst.tracker.SOFT_BELOW_PX` on soft silhouettes (membership
        rising with the grey-level difference, aligned to a fraction of a pixel)
        rather than binary ones (:meth:`behavior.fst.tracker.ArenaTracker._soft`).
    """

    lags_s: tuple[float, ...] = tracker.LAGS_S
    n_samples: int = background.N_SAMPLES
    min_keyframes: int = background.MIN_KEYFRAMES
    init_s: float = background.INIT_S
    unlike_r: float = background.UNLIKE_R
    clear_resting_animal: bool = True
    growth_limit: float = tracker.GROWTH_LIMIT
    bg_update_s: float = halves.BG_UPDATE_S
    split_min_s: float = SPLIT_MIN_S
    warm_s: float = halves.WARM_S
    min_fps: float = MIN_FPS
    twin_share: float = TWIN_SHARE
    min_contrast: float = MIN_CONTRAST
    soft_silhouettes: bool = True

    def replace(self, **changes: Any) -> TrackingSettings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["lags_s"] = list(self.lags_s)
        return data


DEFAULT_SETTINGS = TrackingSettings()
