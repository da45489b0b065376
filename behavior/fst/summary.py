"""Immobility bouts and their summaries: the definitions shared by auto and manual scores.

Both the auto-scorer (per-frame immobile flags from video) and observers (intervals
scored by hand) end in the same structure — an ``(n, 2)`` array of immobility bouts
``[start_s, end_s)`` measured from the test start — and are summarised by the same
function, so that manual and automatic scores are comparable number for number.

Definitions
-----------
window
    Only the part of each bout inside ``[window_start_s, window_end_s)`` counts
    (mouse FST: 120–360 s).
immobility_s, immobility_pct
    Total bout time inside the window, and that as % of the scored part of the
    window (``scored_s``: the window, cut short if the recording ends early).
latency_s
    Time from the test start (t = 0) to the start of the first immobility bout of
    at least the minimum bout duration, anywhere in the test (before
    ``duration_s``); NaN if none.
bouts, mean_bout_s, longest_bout_s
    Bouts that overlap the window, with durations clipped to the window.
immobile_bins, scored_bins
    Time sampling, as the rat modified FST is scored (5-s bins, 60 in the test):
    of the whole bins of ``bin_s`` inside the scored part of the window
    (``scored_bins``), those in which immobility predominated (``immobile_bins``):
    it took more of the bin than any other behaviour scored and than the time
    with none scored. With immobility alone scored that is more than half the bin.
<state>_s, <state>_bins
    For each other behaviour scored (swimming, climbing): its seconds inside the
    window, and the whole bins in which it predominated, as above. Ties go to the
    behaviour named first (immobility, then the others in the order given).
bins
    Immobility seconds in consecutive bins of ``bin_s`` from t = 0 to the test
    duration, columns ``immobile_s_<start>_<end>``.

Missing is empty, never 0
-------------------------
Where nothing was observed the value is NaN (blank in a CSV), never 0, and
``note`` says why: a window the recording does not reach leaves every value of
the window empty (``scored_s`` is 0); a bin that starts at or after the end of
the recording is empty; ``mean_bout_s`` of no bouts is empty. ``note`` is ``""``
when every value was observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Summary columns, in order (bins follow, see :func:`bin_columns`).
SUMMARY_COLUMNS = (
    "window_start_s",
    "window_end_s",
    "scored_s",
    "immobility_s",
    "immobility_pct",
    "latency_s",
    "bouts",
    "mean_bout_s",
    "longest_bout_s",
    "immobile_bins",
    "scored_bins",
)


def _fmt(x: float) -> str:
    return f"{x:g}".replace(".", "p")


def bin_edges(duration_s: float, bin_s: float) -> np.ndarray:
    """Bin edges from 0 to ``duration_s`` in steps of ``bin_s`` (the last bin may be short)."""
    n = max(1, math.ceil(duration_s / bin_s - 1e-9))
    edges = np.arange(n + 1, dtype=float) * bin_s
    edges[-1] = min(edges[-1], duration_s)
    return edges


def bin_columns(duration_s: float, bin_s: float) -> list[str]:
    """Names of the bin columns, e.g. ``immobile_s_0_60``, ``immobile_s_60_120``, ..."""
    e = bin_edges(duration_s, bin_s)
    return [f"immobile_s_{_fmt(a)}_{_fmt(b)}" for a, b in zip(e[:-1], e[1:], strict=True)]


def frames_to_bouts(
    time_s: np.ndarray, immobile: np.ndarray, end_s: float | None = None
) -> np.ndarray:
    """Runs of immobile frames -> bouts ``[start_s, end_s)``.

    Frame ``i`` lasts from its timestamp to the next frame's, so variable frame
    rates are timed correctly; the last frame lasts until ``end_s`` (default: its
    timestamp plus the median frame interval).

    Examples
    --------
    >>> t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> frames_to_bouts(t, np.array([0, 1, 1, 0, 1], bool), end_s=5.0)
    array([[1., 3.],
           [4., 5.]])
    """
    t = np.asarray(time_s, dtype=float)
    flags = np.asarray(immobile, dtype=bool)
    if t.shape != flags.shape:
        raise ValueError(f"time_s has {t.size} values but immobile has {flags.size}")
    if t.size == 0:
        return np.empty((0, 2))
    if end_s is None:
        step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
        end_s = float(t[-1] + step)
    ends_of_frames = np.append(t[1:], end_s)
    padded = np.concatenate(([False], flags, [False]))
    change = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, stops = change[::2], change[1::2]  # frame indices [start, stop)
    return np.column_stack((t[starts], ends_of_frames[stops - 1])).astype(float)


def clean_bouts(bouts: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Sort bouts and merge overlapping or touching ones."""
    b = np.asarray(bouts, dtype=float).reshape(-1, 2)
    if b.size == 0:
        return np.empty((0, 2))
    b = b[np.argsort(b[:, 0], kind="stable")]
    merged = [b[0].copy()]
    for start, end in b[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append(np.array([start, end]))
    return np.array(merged)


def apply_min_bout(bouts: np.ndarray, min_bout_s: float) -> np.ndarray:
    """Drop bouts shorter than ``min_bout_s`` (they count as mobile)."""
    b = clean_bouts(bouts)
    if min_bout_s <= 0 or b.size == 0:
        return b
    # a microsecond of slack: a bout of exactly min_bout_s read back from a file counts
    return b[(b[:, 1] - b[:, 0]) >= min_bout_s - 1e-6]


def overlap_s(bouts: np.ndarray, start_s: float, end_s: float) -> float:
    """Total time of ``bouts`` inside ``[start_s, end_s)``."""
    b = np.asarray(bouts, dtype=float).reshape(-1, 2)
    if b.size == 0:
        return 0.0
    return float(np.clip(np.minimum(b[:, 1], end_s) - np.maximum(b[:, 0], start_s), 0, None).sum())


def summarize_bouts(
    bouts: np.ndarray,
    window_s: tuple[float, float],
    duration_s: float,
    bin_s: float,
    observed_end_s: float | None = None,
    others: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Summary of immobility bouts (see the module docstring for the definitions).

    Parameters
    ----------
    bouts
        ``(n, 2)`` immobility bouts in seconds from the test start, already
        filtered by the minimum bout duration (:func:`apply_min_bout`).
    window_s
        Scored window ``(start, end)`` in seconds.
    duration_s
        Test duration; bins cover ``[0, duration_s)``.
    bin_s
        Bin width in seconds.
    observed_end_s
        Where the recording (or the scoring) ends; a shorter recording shortens
        ``scored_s`` and the percentage is of the scored part.
    others
        Bouts of other behaviours by name (e.g. ``swimming``, ``climbing``): each
        adds ``<name>_s`` and ``<name>_bins``, and competes with immobility for
        the bins.

    Returns
    -------
    dict
        Keys :data:`SUMMARY_COLUMNS`, then ``<name>_s`` and ``<name>_bins`` of each
        of ``others``, then :func:`bin_columns`, then ``note`` (why a value is
        empty; ``""`` when none is).

    Examples
    --------
    >>> s = summarize_bouts(np.array([[100.0, 130.0], [200.0, 260.0]]), (120, 360), 360, 60)
    >>> s["immobility_s"], s["latency_s"], s["bouts"], s["longest_bout_s"]
    (70.0, 100.0, 2, 60.0)
    """
    b = clean_bouts(bouts)
    w0, w1 = float(window_s[0]), float(window_s[1])
    observed = duration_s if observed_end_s is None else min(duration_s, float(observed_end_s))
    end = min(w1, observed)
    scored = max(0.0, end - w0)
    clipped = np.column_stack((np.maximum(b[:, 0], w0), np.minimum(b[:, 1], end))) if b.size else b
    durations = (clipped[:, 1] - clipped[:, 0]) if b.size else np.empty(0)
    durations = durations[durations > 0]
    immobility = float(durations.sum())
    # nothing of the window observed: every value of it is missing, not 0
    seen = scored > 0
    nan = math.nan
    out: dict[str, float] = {
        "window_start_s": w0,
        "window_end_s": w1,
        "scored_s": scored,
        "immobility_s": immobility if seen else nan,
        "immobility_pct": 100.0 * immobility / scored if seen else nan,
        "latency_s": float(b[0, 0]) if b.size and b[0, 0] < duration_s else nan,
        "bouts": int(durations.size) if seen else nan,
        "mean_bout_s": float(durations.mean()) if durations.size else nan,
        "longest_bout_s": (float(durations.max()) if durations.size else 0.0) if seen else nan,
    }
    notes = []
    if not seen:
        notes.append(f"the recording ends at {observed:g} s, before the window starts at "
                     f"{w0:g} s: nothing in the window was observed")
    others = {k: clean_bouts(v) for k, v in (others or {}).items()}
    edges = bin_edges(duration_s, bin_s)
    names = ["immobile", *others]
    counts = dict.fromkeys(names, 0)
    scored_bins = 0
    per_bin = {}
    unobserved = []
    for name, a, z in zip(bin_columns(duration_s, bin_s), edges[:-1], edges[1:], strict=True):
        if a >= observed - 1e-9:  # the recording ends before this bin starts
            per_bin[name] = nan
            unobserved.append(name)
            continue
        per_bin[name] = overlap_s(b, a, z)
        if a >= w0 - 1e-9 and z <= end + 1e-9 and z - a > bin_s - 1e-9:
            scored_bins += 1
            seconds = [per_bin[name], *(overlap_s(o, a, z) for o in others.values())]
            # the predominant behaviour: more than any other, and than none at all
            best = int(np.argmax(seconds))
            if seconds[best] > (z - a) - sum(seconds) + 1e-9:
                counts[names[best]] += 1
    out["immobile_bins"] = counts["immobile"] if scored_bins else nan
    out["scored_bins"] = scored_bins
    for state, bouts_of_state in others.items():
        out[f"{state}_s"] = overlap_s(bouts_of_state, w0, end) if seen else nan
        out[f"{state}_bins"] = counts[state] if scored_bins else nan
    out.update(per_bin)
    if unobserved:
        notes.append(f"bins from {edges[len(edges) - 1 - len(unobserved)]:g} s on are empty: "
                     f"the recording ends at {observed:g} s")
    if not durations.size and seen:
        notes.append("no immobility bout in the window: mean_bout_s is empty")
    out["note"] = "; ".join(notes)
    return out


def bin_states(
    bouts: np.ndarray, window_s: tuple[float, float], bin_s: float
) -> np.ndarray:
    """Fraction of each bin of the window spent immobile (for second-by-second agreement).

    Bins run from the window start in steps of ``bin_s``; a bin is commonly called
    immobile when the fraction is > 0.5 (the predominant behaviour).
    """
    w0, w1 = window_s
    n = max(1, int(round((w1 - w0) / bin_s)))
    edges = w0 + np.arange(n + 1) * bin_s
    b = clean_bouts(bouts)
    return np.array([overlap_s(b, a, z) / (z - a)
                     for a, z in zip(edges[:-1], edges[1:], strict=True)])
