"""Per-frame mobility -> immobile flags -> bouts -> summary. Pure functions, no I/O.

This is the re-scoring path: it needs only a saved trace (see
:mod:`behavior.fst.traces`), never the video, so thresholds can be changed and a
batch re-scored in seconds.
"""

from __future__ import annotations

import numpy as np

from behavior.fst.summary import apply_min_bout, frames_to_bouts, summarize_bouts
from behavior.protocols import FstProtocol


def smooth_mobility(time_s: np.ndarray, mobility: np.ndarray, smoothing_s: float) -> np.ndarray:
    """Centred moving median of the mobility trace over ``smoothing_s`` seconds.

    The width in frames comes from the median frame interval; frames where the
    animal was not found (NaN) stay NaN.
    """
    m = np.asarray(mobility, dtype=float)
    if smoothing_s <= 0 or m.size < 3:
        return m.copy()
    dt = float(np.median(np.diff(time_s))) if m.size > 1 else 1.0
    # slack so that times read back from a file (rounded) give the same width
    width = max(1, int(np.floor(smoothing_s / dt + 0.5 + 1e-6)))
    if width % 2 == 0:
        width += 1
    missing = np.isnan(m)
    filled = np.where(missing, np.nanmedian(m) if (~missing).any() else 0.0, m)
    out = moving_median(filled, width)
    out[missing] = np.nan
    return out


def moving_median(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving median over an odd ``width``; the ends repeat the edge values
    (``scipy.ndimage.median_filter(mode="nearest")``, without importing SciPy in
    every scoring process)."""
    if width % 2 == 0:
        raise ValueError(f"moving_median needs an odd width, got {width}")
    half = width // 2
    padded = np.pad(np.asarray(values, dtype=float), half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def immobile_flags(time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol) -> np.ndarray:
    """Frames whose (smoothed) mobility is at or below the protocol's threshold.

    Frames with no animal (NaN mobility) are never immobile. The minimum bout
    duration is applied afterwards, on bouts (:func:`immobility_bouts`).
    """
    smoothed = smooth_mobility(time_s, mobility, protocol.smoothing_s)
    with np.errstate(invalid="ignore"):
        return smoothed <= protocol.threshold


def immobility_bouts(
    time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol, end_s: float | None = None
) -> np.ndarray:
    """Immobility bouts ``[start_s, end_s)`` of at least ``protocol.min_bout_s``."""
    flags = immobile_flags(time_s, mobility, protocol)
    return apply_min_bout(frames_to_bouts(time_s, flags, end_s), protocol.min_bout_s)


def score_mobility(
    time_s: np.ndarray, mobility: np.ndarray, protocol: FstProtocol, end_s: float | None = None
) -> dict[str, float]:
    """Summary of one animal from its mobility trace (see :mod:`behavior.fst.summary`).

    Notes
    -----
    Immobility is scored as in DBscorer and EthoVision: a frame is immobile when the
    animal's mobility is at or below a threshold; stretches shorter than a minimum
    bout duration count as mobile. Time comes from frame timestamps, never from
    frame index × nominal frame rate.
    """
    bouts = immobility_bouts(time_s, mobility, protocol, end_s)
    observed_end = end_s if end_s is not None else (float(time_s[-1]) if len(time_s) else 0.0)
    return summarize_bouts(
        bouts, protocol.window_s, protocol.duration_s, protocol.bin_s, observed_end_s=observed_end
    )
