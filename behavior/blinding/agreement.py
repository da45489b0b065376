"""Agreement between raters on forced swim immobility. Pure computation on :class:`Rater`s.

Per video, each rater's bouts are cut to the common part of the window (the window,
shortened when a recording ends early), giving

- immobility seconds in the window (:func:`behavior.fst.summary.overlap_s`) — for
  Pearson r, ICC(2,1) and Bland–Altman;
- the state of each bin of the window: immobile when more than half of the bin is
  immobile (:func:`behavior.fst.summary.bin_states`) — for Cohen's / Fleiss' κ and
  % agreement, pooled over the videos.

Missing is empty, never 0: a video whose recording ends before the window starts
was not observed in the window; it is left out of every measure and named in the
``note`` column. A pair with no such video left has empty measures (NaN) and says
why, never a bias or limits of 0.

The window is the one stored in a session (:func:`resolve_window`), unless another
is asked for.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavior.blinding.raters import MANUAL, Rater
from behavior.blinding.reliability import (
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    icc_2_1,
    pearson_r,
    percent_agreement,
)
from behavior.errors import AnalysisError
from behavior.fst.summary import clean_bouts, overlap_s

#: Columns of the pairwise agreement table, in order.
PAIR_COLUMNS = (
    "rater1", "rater2", "n_videos", "n_bins", "pearson_r", "icc", "icc_ci_low", "icc_ci_high",
    "bias_s", "loa_low_s", "loa_high_s", "mean_abs_diff_s", "kappa", "pct_agreement",
    "window_start_s", "window_end_s", "bin_s", "note",
)
#: Columns of the all-raters table (written when there are three raters or more).
OVERALL_COLUMNS = (
    "raters", "n_raters", "n_videos", "n_bins", "icc", "icc_ci_low", "icc_ci_high",
    "fleiss_kappa", "pct_all_agree", "window_start_s", "window_end_s", "bin_s", "note",
)


@dataclass(frozen=True)
class Profile:
    """One rater's score of one video over ``[window start, end)``.

    ``immobility_s`` is NaN when nothing of the window was observed (the recording
    ends before the window starts).
    """

    immobility_s: float
    bins: np.ndarray | None  # immobile fraction of each full bin; None for totals-only

    @property
    def observed(self) -> bool:
        return math.isfinite(self.immobility_s)


def resolve_window(given: tuple[float, float] | None, raters: Sequence[Rater],
                   default: tuple[float, float]) -> tuple[tuple[float, float], list[str]]:
    """The window to compare: ``given``, else the one the sessions store, else ``default``.

    Returns the window and notes (a window asked for that differs from a session's).

    Raises
    ------
    AnalysisError
        No window given and the sessions store different ones.
    """
    stored = sorted({tuple(map(float, r.window_s)) for r in raters if r.window_s is not None})
    if given is not None:
        given = (float(given[0]), float(given[1]))
        return given, [f"window {given[0]:g}–{given[1]:g} s as asked; the session stores "
                       f"{w[0]:g}–{w[1]:g} s" for w in stored if w != given]
    if len(stored) > 1:
        shown = ", ".join(f"{w[0]:g}–{w[1]:g} s" for w in stored)
        raise AnalysisError(f"the sessions store different windows ({shown}); name the "
                            "window to compare (setting window_s)")
    return (stored[0] if stored else (float(default[0]), float(default[1]))), []


def common_end(raters: Sequence[Rater], video: str, window_s: tuple[float, float]) -> float:
    """Where scoring of ``video`` can be compared: the window end or the earliest recording end."""
    return min([window_s[1]] + [r.end(video) for r in raters])


def profile(rater: Rater, video: str, window_s: tuple[float, float], end_s: float,
            bin_s: float) -> Profile:
    w0 = window_s[0]
    if video not in rater.bouts:
        return Profile(float(rater.totals[video]), None)
    if end_s <= w0 + 1e-9:  # the recording ends before the window: nothing observed
        return Profile(math.nan, None)
    bouts = rater.bouts[video]
    n_bins = int(math.floor((end_s - w0) / bin_s + 1e-9))
    return Profile(overlap_s(bouts, w0, end_s), bin_fractions(bouts, w0, n_bins, bin_s))


def bin_fractions(bouts: np.ndarray, start_s: float, n_bins: int, bin_s: float) -> np.ndarray:
    """Immobile fraction of ``n_bins`` bins of ``bin_s`` from ``start_s``.

    The same numbers as :func:`behavior.fst.summary.bin_states` (the tests check it),
    computed for all bins at once: calibration evaluates it thousands of times.
    """
    if n_bins <= 0:
        return np.empty(0)
    b = clean_bouts(bouts)
    edges = start_s + np.arange(n_bins + 1) * bin_s
    if b.size == 0:
        return np.zeros(n_bins)
    lo, hi = edges[:-1], edges[1:]
    inside = np.minimum(b[:, 1:2], hi) - np.maximum(b[:, 0:1], lo)  # (bouts, bins)
    return np.clip(inside, 0, None).sum(axis=0) / (hi - lo)


def profiles(raters: Sequence[Rater], videos: Sequence[str], window_s: tuple[float, float],
             bin_s: float) -> list[list[Profile]]:
    """``[video][rater]`` profiles over the part of the window all of them cover."""
    out = []
    for v in videos:
        end = common_end(raters, v, window_s)
        out.append([profile(r, v, window_s, end, bin_s) for r in raters])
    return out


def common_videos(raters: Sequence[Rater]) -> list[str]:
    return sorted(set.intersection(*(r.videos for r in raters)))


def observed_profiles(raters: Sequence[Rater], window_s: tuple[float, float], bin_s: float
                      ) -> tuple[list[str], list[list[Profile]], str]:
    """Profiles of the common videos of which every rater observed part of the window.

    Returns the videos kept, their ``[video][rater]`` profiles, and a note naming
    the videos left out and why (``""`` when none was).
    """
    videos = common_videos(raters)
    rows = profiles(raters, videos, window_s, bin_s)
    keep = [i for i, row in enumerate(rows) if all(p.observed for p in row)]
    out = [videos[i] for i in range(len(videos)) if i not in set(keep)]
    note = ""
    if out:
        ends = ", ".join(f"{v} (ends at {common_end(raters, v, window_s):g} s)" for v in out)
        note = (f"left out {len(out)} video(s) with nothing of the window {window_s[0]:g}–"
                f"{window_s[1]:g} s observed: {ends}")
    return [videos[i] for i in keep], [rows[i] for i in keep], note


def order_pairs(raters: Sequence[Rater]) -> list[tuple[Rater, Rater]]:
    """Every pair once; manual raters before auto ones, so ``rater2 − rater1`` reads
    "auto minus manual"."""
    ranked = sorted(raters, key=lambda r: r.kind != MANUAL)
    return list(itertools.combinations(ranked, 2))


def pair_table(r1: Rater, r2: Rater, window_s: tuple[float, float], bin_s: float
               ) -> pd.DataFrame:
    """Per-video immobility seconds of a pair (columns ``video``, ``x_s``, ``y_s``);
    videos with nothing of the window observed are left out."""
    videos, rows, _ = observed_profiles([r1, r2], window_s, bin_s)
    return pd.DataFrame({"video": videos, "x_s": [p[0].immobility_s for p in rows],
                         "y_s": [p[1].immobility_s for p in rows]})


def pair_agreement(r1: Rater, r2: Rater, window_s: tuple[float, float], bin_s: float
                   ) -> dict[str, object]:
    """One row of :data:`PAIR_COLUMNS` (NaN where a measure is not defined; ``note``
    names the videos left out, or says that none could be compared)."""
    videos, rows, note = observed_profiles([r1, r2], window_s, bin_s)
    if not videos:
        note = ("nothing to compare: " + note.removeprefix("left out ")) if note else \
            "nothing to compare: no video in common"
    x = np.array([p[0].immobility_s for p in rows])
    y = np.array([p[1].immobility_s for p in rows])
    icc = icc_2_1(np.column_stack((x, y))) if len(videos) else icc_2_1(np.empty((0, 2)))
    ba = bland_altman(x, y)
    if rows and all(p[0].bins is not None and p[1].bins is not None for p in rows):
        a = np.concatenate([p[0].bins for p in rows]) > 0.5  # type: ignore[misc]
        b = np.concatenate([p[1].bins for p in rows]) > 0.5  # type: ignore[misc]
        kappa, pct, n_bins = cohen_kappa(a, b), percent_agreement(a, b), int(a.size)
    else:
        kappa = pct = math.nan
        n_bins = 0
    return {
        "rater1": r1.name, "rater2": r2.name, "n_videos": len(videos), "n_bins": n_bins,
        "pearson_r": pearson_r(x, y), "icc": icc.icc, "icc_ci_low": icc.ci_low,
        "icc_ci_high": icc.ci_high, "bias_s": ba.bias, "loa_low_s": ba.loa_low,
        "loa_high_s": ba.loa_high,
        "mean_abs_diff_s": float(np.mean(np.abs(y - x))) if x.size else math.nan,
        "kappa": kappa, "pct_agreement": pct,
        "window_start_s": window_s[0], "window_end_s": window_s[1], "bin_s": bin_s,
        "note": note,
    }


def pairwise_agreement(raters: Sequence[Rater], window_s: tuple[float, float], bin_s: float
                       ) -> pd.DataFrame:
    """One row per pair of raters (:data:`PAIR_COLUMNS`).

    Raises
    ------
    AnalysisError
        Fewer than two raters, or a pair with no video in common.
    """
    if len(raters) < 2:
        raise AnalysisError(f"agreement needs at least two raters, got {len(raters)} "
                            f"({', '.join(r.name for r in raters)})")
    rows = []
    for r1, r2 in order_pairs(raters):
        if not common_videos([r1, r2]):
            raise AnalysisError(f"raters '{r1.name}' and '{r2.name}' have no video in common "
                                f"({_examples(r1)} vs {_examples(r2)})")
        rows.append(pair_agreement(r1, r2, window_s, bin_s))
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def overall_agreement(raters: Sequence[Rater], window_s: tuple[float, float], bin_s: float
                      ) -> pd.DataFrame:
    """All raters at once on the videos every one scored: ICC(2,1) and Fleiss' κ.

    Notes
    -----
    Fleiss' κ (Fleiss 1971) treats each bin of each video as an item rated immobile
    or mobile by every rater; ``pct_all_agree`` is the % of bins where all agree.
    """
    videos, rows, note = observed_profiles(raters, window_s, bin_s)
    if not videos:
        note = ("nothing to compare: " + note.removeprefix("left out ")) if note else \
            "nothing to compare: no video scored by every rater"
    totals = np.array([[p.immobility_s for p in row] for row in rows]).reshape(-1, len(raters))
    icc = icc_2_1(totals)
    fleiss = pct = math.nan
    n_bins = 0
    if rows and all(p.bins is not None for row in rows for p in row):
        states = np.column_stack([np.concatenate([row[j].bins for row in rows])  # type: ignore[misc]
                                  for j in range(len(raters))]) > 0.5
        immobile = states.sum(axis=1)
        counts = np.column_stack((immobile, len(raters) - immobile))
        n_bins = int(states.shape[0])
        if n_bins:
            fleiss = fleiss_kappa(counts)
            pct = 100.0 * float(np.mean((immobile == 0) | (immobile == len(raters))))
    return pd.DataFrame([{
        "raters": "+".join(r.name for r in raters), "n_raters": len(raters),
        "n_videos": len(videos), "n_bins": n_bins, "icc": icc.icc, "icc_ci_low": icc.ci_low,
        "icc_ci_high": icc.ci_high, "fleiss_kappa": fleiss, "pct_all_agree": pct,
        "window_start_s": window_s[0], "window_end_s": window_s[1], "bin_s": bin_s,
        "note": note,
    }], columns=list(OVERALL_COLUMNS))


def _examples(r: Rater) -> str:
    v = sorted(r.videos)
    return ", ".join(v[:3]) + (" ..." if len(v) > 3 else "")



@dataclass(frozen=True)
class Agreement:
    """Everything ``behavior agreement`` reports, for one set of raters.

    Attributes
    ----------
    window_s, bin_s
        The window compared and the bin of κ and % agreement.
    pairs
        One row per pair of raters (:data:`PAIR_COLUMNS`).
    overall
        All raters at once (:data:`OVERALL_COLUMNS`) with three raters or more, else None.
    tables
        Per pair ``(rater1, rater2, per-video table)`` in the order of ``pairs``
        (:func:`pair_table`): what the Bland–Altman plot shows.
    notes
        Notes on the window (one asked for that differs from a session's).
    """

    window_s: tuple[float, float]
    bin_s: float
    pairs: pd.DataFrame
    overall: pd.DataFrame | None
    tables: tuple[tuple[str, str, pd.DataFrame], ...]
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when some raters had nothing to compare (their measures are empty)."""
        frames = [self.pairs] + ([self.overall] if self.overall is not None else [])
        return any(bool((f["n_videos"] == 0).any()) for f in frames)


def agreement(raters: Sequence[Rater], window_s: tuple[float, float] | None, bin_s: float,
              default_window_s: tuple[float, float]) -> Agreement:
    """Pairwise (and, with three raters or more, overall) agreement of ``raters``.

    ``window_s`` None: the window the sessions store, else ``default_window_s`` (the
    protocol's), as :func:`resolve_window` decides.

    Raises
    ------
    AnalysisError
        A bad window or bin, fewer than two raters, or a pair with no video in common.
    """
    if bin_s <= 0 or (window_s is not None and not window_s[0] < window_s[1]):
        raise AnalysisError("expected a window START < END and a positive bin")
    window, notes = resolve_window(window_s, raters, default_window_s)
    pairs = pairwise_agreement(raters, window, bin_s)
    overall = overall_agreement(raters, window, bin_s) if len(raters) > 2 else None
    tables = tuple((a.name, b.name, pair_table(a, b, window, bin_s))
                   for a, b in order_pairs(raters))
    return Agreement(window, bin_s, pairs, overall, tables, tuple(notes))
