"""Active behaviour from a trace: each mobile frame is swimming or climbing.

The rat modified forced swim test (Detke, Rickels & Lucki 1995; Slattery & Cryan
2012) scores, per 5-s bin, the predominant behaviour among immobility, swimming
and climbing; SSRIs raise swimming, noradrenergic drugs raise climbing. In a side
view the two active behaviours differ in posture: a swimming animal paddles
horizontally at about the level where it floats; a climbing (struggling) animal
stands up against the wall with its forepaws breaking the surface, so its body
is well above that level.

Rule (no video needed: it uses the trace's centroid and area):

* the **floating level** is the median centroid height of the immobile frames
  (those of immobility bouts after the minimum bout duration); with less than
  :data:`MIN_FLOATING_S` of immobility, the median height of all the frames
  where the animal was found, and a note says so;
* the **body size** is the square root of the animal's median area (px);
* a mobile frame is **climbing** when its centroid, smoothed by the protocol's
  moving median (``smoothing_s``), is at least ``climb_height`` body sizes above
  the floating level, otherwise **swimming**. Frames without the animal are
  neither.

Validated on synthetic videos only (``benchmarks/bench_fst_accuracy.py`` prints the
errors: climbing within 0.7 s, swimming within 3.7 s per 240-s window over 24
animals): struggling raised the centroid by 0.31–0.39 body sizes (5th percentile
per animal), swimming by at most 0.12 (95th percentile, weak swimming included),
against the default ``climb_height`` of 0.2. Check it against a few manually scored videos
(``behavior blind``, behaviours ``immobility,swimming,climbing``) before relying
on it: camera height, the water level and the animal's build all move the
centroid.
"""

from __future__ import annotations

import numpy as np

from behavior.fst.immobility import smooth_mobility
from behavior.fst.summary import frames_to_bouts
from behavior.protocols import FstProtocol

#: The active behaviours, in the order the results table lists them.
ACTIVE_STATES = ("swimming", "climbing")
#: Less immobility than this (s): the floating level is the median of every frame.
MIN_FLOATING_S = 3.0


def active_bouts(
    time_s: np.ndarray,
    y_px: np.ndarray,
    area_px: np.ndarray,
    immobile_bouts: np.ndarray,
    protocol: FstProtocol,
    end_s: float | None = None,
) -> tuple[dict[str, np.ndarray], str | None]:
    """Bouts of swimming and climbing (``[start_s, end_s)``, as immobility bouts),
    and a note when the floating level could not be measured from floating.

    ``immobile_bouts``: the immobility bouts after the minimum bout duration; every
    other frame where the animal was found is swimming or climbing.
    """
    t = np.asarray(time_s, dtype=float)
    y = np.asarray(y_px, dtype=float)
    area = np.asarray(area_px, dtype=float)
    bouts = np.asarray(immobile_bouts, dtype=float).reshape(-1, 2)
    found = np.isfinite(y) & np.isfinite(area)
    empty = {state: np.empty((0, 2)) for state in ACTIVE_STATES}
    if t.size == 0 or not found.any():
        return empty, None
    immobile = np.zeros(t.size, bool)
    for start, stop in bouts:
        immobile |= (t >= start - 1e-9) & (t < stop - 1e-9)
    floating = immobile & found
    note = None
    if floating.any() and float(np.sum(bouts[:, 1] - bouts[:, 0])) >= MIN_FLOATING_S:
        level = float(np.median(y[floating]))
    else:
        level = float(np.median(y[found]))
        note = (f"less than {MIN_FLOATING_S:g} s of immobility: swimming and climbing were "
                "told apart by the height above the animal's median height, not above its "
                "floating level")
    body = float(np.sqrt(np.median(area[found])))
    height = np.where(found, (level - y) / max(body, 1.0), np.nan)  # image y grows downwards
    smoothed = smooth_mobility(t, height, protocol.smoothing_s)
    active = found & ~immobile
    with np.errstate(invalid="ignore"):
        climbing = active & (smoothed >= protocol.climb_height)
    swimming = active & ~climbing
    return ({"swimming": frames_to_bouts(t, swimming, end_s),
             "climbing": frames_to_bouts(t, climbing, end_s)}, note)
