"""Calibrate the auto-scorer's immobility threshold and minimum bout on manual scores.

For every (threshold, minimum bout) on a grid, the saved mobility traces are
re-scored without the video (:func:`behavior.fst.immobility.immobility_bouts`) and
compared with the observers' consensus on the same videos; the pair that agrees best
is written into a protocol file. :func:`calibrate_climbing` does the same for the
height that tells climbing from swimming (``climb_height``), against the observers'
climbing.

Consensus of several observers: per video, the mean immobility seconds and, per
bin, the mean immobile fraction (a bin is immobile when that mean exceeds 0.5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from behavior.blinding import database as db
from behavior.blinding.agreement import common_end, profile
from behavior.blinding.raters import MANUAL, Rater, interval_raters, session_raters, trace_ids
from behavior.blinding.reliability import (
    bland_altman,
    cohen_kappa,
    icc_2_1,
    pearson_r,
    percent_agreement,
)
from behavior.blinding.session import IMMOBILITY
from behavior.blinding.tables import OBSERVER, read_intervals
from behavior.errors import AnalysisError, InputError
from behavior.fst.immobility import AUTO, immobility_bouts, smooth_mobility
from behavior.fst.peers import trace_choice
from behavior.fst.traces import Trace
from behavior.protocols import FstProtocol

#: Minimum bouts tried by default (s).
DEFAULT_MIN_BOUTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
#: Criteria that can be maximised.
CRITERIA = ("kappa", "icc", "pct_agreement")
#: Columns of the calibration curve.
CURVE_COLUMNS = ("threshold", "min_bout_s", "n_videos", "n_bins", "kappa", "pct_agreement",
                 "icc", "pearson_r", "bias_s", "mean_abs_diff_s")


@dataclass(frozen=True)
class Calibration:
    """The chosen values, the whole curve, and what it was measured on."""

    threshold: float
    min_bout_s: float
    criterion: str
    best: dict[str, float]
    curve: pd.DataFrame
    videos: tuple[str, ...]
    notes: tuple[str, ...] = ()  # videos left out, and why
    #: the threshold ``threshold: auto`` chooses for each of the videos
    automatic: tuple[float, ...] = ()
    #: how the videos scored with those thresholds (and the protocol's minimum bout)
    #: agree with the observers: a row of :data:`CURVE_COLUMNS` without the first two
    automatic_agreement: dict[str, float] = field(default_factory=dict)

    @property
    def versus_automatic(self) -> str:
        """How the calibrated threshold compares with the automatic ones."""
        if not self.automatic:
            return ""
        auto = np.asarray(self.automatic, float)
        middle = float(np.median(auto))
        return (f"threshold: auto would choose {auto.min():.3g}-{auto.max():.3g} on these "
                f"videos (median {middle:.3g}); the calibrated {self.threshold:.3g} is "
                f"{self.threshold / middle:.2f} times that")

    @property
    def automatic_scores(self) -> str:
        """How the videos scored with ``threshold: auto`` agree with the observers
        (empty when that was not measured)."""
        a = self.automatic_agreement
        if not a:
            return ""
        return (f"scored with threshold: auto, these videos agree with the observers at "
                f"kappa {a['kappa']:.3f}, {a['pct_agreement']:.1f} % agreement, ICC "
                f"{a['icc']:.3f}, bias {a['bias_s']:.2f} s, mean |difference| "
                f"{a['mean_abs_diff_s']:.2f} s per video")


def manual_raters(inputs: Sequence[str | Path], behaviour: str = IMMOBILITY, *,
                  strict: bool = False) -> list[Rater]:
    """Observers from session folders/databases and interval CSVs (observer column optional).

    Overlapping intervals of one observer are merged (said in the rater's ``notes``),
    or refused with ``strict``.
    """
    raters: list[Rater] = []
    for item in inputs:
        path = Path(item)
        if (path.is_dir() and (path / db.DB_NAME).exists()) or path.suffix == ".sqlite":
            raters.extend(session_raters(path, behaviour))
        elif path.is_file():
            table = read_intervals(path)
            if OBSERVER not in table.columns:
                table[OBSERVER] = path.stem
            raters.extend(interval_raters(table, path, behaviour, strict=strict))
        else:
            raise InputError(path, "not a session or an interval CSV")
    return raters


def default_thresholds(traces: Sequence[Trace], protocol: FstProtocol, n: int = 40) -> np.ndarray:
    """Thresholds at ``n`` quantiles (2–98 %) of the pooled smoothed mobility."""
    pooled = np.concatenate([smooth_mobility(t.time_s, t.mobility, protocol.smoothing_s)
                             for t in traces])
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        raise AnalysisError("the traces hold no mobility values (no animal found)")
    q = np.nanquantile(pooled, np.linspace(0.02, 0.98, n))
    return np.unique(np.array([float(f"{v:.4g}") for v in q]))


def calibrate(
    manual: Sequence[Rater],
    traces: Sequence[Trace],
    protocol: FstProtocol,
    *,
    thresholds: Sequence[float] | None = None,
    min_bouts: Sequence[float] = DEFAULT_MIN_BOUTS,
    window_s: tuple[float, float] | None = None,
    bin_s: float = 1.0,
    criterion: str = "kappa",
) -> Calibration:
    """Grid search of threshold × minimum bout against the manual consensus.

    Parameters
    ----------
    manual
        Observers' scores; videos are matched to traces by code or file stem
        (``<stem>_arena<N>`` for videos with several arenas).
    traces
        Auto-score traces of (at least) the manually scored videos.
    protocol
        The protocol to calibrate (smoothing, window); its threshold and minimum
        bout are the values searched.
    criterion
        ``kappa`` (Cohen's κ on bins of the window, as DBscorer's per-bin
        calibration), ``icc`` (ICC(2,1) of immobility seconds per video) or
        ``pct_agreement``. Ties go to the smallest |bias|, then the smaller threshold.

    Notes
    -----
    Bins of ``bin_s`` are immobile when more than half is immobile
    (:func:`behavior.fst.summary.bin_states`); κ is pooled over all bins of all videos.
    """
    window = window_s or protocol.window_s
    by_id, videos, ends, ref_total, ref_state, notes = _consensus(manual, traces, window, bin_s,
                                                                  criterion)
    smoothed = {v: smooth_mobility(by_id[v].time_s, by_id[v].mobility, protocol.smoothing_s)
                for v in videos}
    grid = (np.asarray(thresholds, float) if thresholds is not None
            else default_thresholds([by_id[v] for v in videos], protocol))
    rows = []
    for min_bout in min_bouts:
        for threshold in grid:
            p = protocol.with_overrides(threshold=float(threshold), min_bout_s=float(min_bout))
            totals, states = _scored(by_id, videos, ends, window, bin_s, p, smoothed,
                                     [threshold] * len(videos))
            rows.append({"threshold": float(threshold), "min_bout_s": float(min_bout),
                         **_agreement(ref_total, ref_state, totals, states)})
    curve = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    best = _best(curve, criterion, "threshold")
    auto = protocol.with_overrides(threshold=AUTO)
    automatic = tuple(trace_choice(by_id[v], auto).threshold for v in videos)
    totals, states = _scored(by_id, videos, ends, window, bin_s, auto, smoothed, automatic)
    return Calibration(float(best["threshold"]), float(best["min_bout_s"]), criterion,
                       {c: float(best[c]) for c in CURVE_COLUMNS}, curve, tuple(videos), notes,
                       automatic, _agreement(ref_total, ref_state, totals, states))


def _scored(by_id: dict[str, Trace], videos: Sequence[str], ends: dict[str, float],
            window: tuple[float, float], bin_s: float, protocol: FstProtocol,
            smoothed: dict[str, np.ndarray], thresholds: Sequence[float]
            ) -> tuple[list[float], list[np.ndarray]]:
    """Immobility seconds and bin profile of each video scored with ``protocol`` and
    its threshold in ``thresholds``, over the part compared with the observers."""
    totals, states = [], []
    for v, threshold in zip(videos, thresholds, strict=True):
        t = by_id[v]
        bouts = immobility_bouts(t.time_s, t.mobility, protocol, t.end_s, float(threshold),
                                 smoothed=smoothed[v])
        prof = profile(Rater("auto", "auto", "", {v: bouts}), v, window, ends[v], bin_s)
        totals.append(prof.immobility_s)
        states.append(prof.bins)
    return totals, states


#: Heights tried by :func:`calibrate_climbing` by default (body sizes).
DEFAULT_CLIMB_HEIGHTS = tuple(np.round(np.arange(0.05, 0.6001, 0.025), 3))
#: Columns of the climbing calibration curve.
CLIMB_CURVE_COLUMNS = ("climb_height", *CURVE_COLUMNS[2:])


@dataclass(frozen=True)
class ClimbCalibration:
    """The chosen ``climb_height``, the whole curve, and what it was measured on."""

    climb_height: float
    criterion: str
    best: dict[str, float]
    curve: pd.DataFrame
    videos: tuple[str, ...]
    notes: tuple[str, ...] = ()  # videos left out, and why


def calibrate_climbing(
    manual: Sequence[Rater],
    traces: Sequence[Trace],
    protocol: FstProtocol,
    *,
    heights: Sequence[float] = DEFAULT_CLIMB_HEIGHTS,
    window_s: tuple[float, float] | None = None,
    bin_s: float = 1.0,
    criterion: str = "kappa",
) -> ClimbCalibration:
    """Grid search of ``climb_height`` against the observers' climbing consensus.

    ``manual``: the observers' *climbing* scores (:func:`manual_raters` with
    ``behaviour="climbing"``). Immobility is scored with the protocol as it is
    (calibrate its threshold first); each mobile frame is climbing or swimming by
    :mod:`behavior.fst.states`. Criteria and ties as :func:`calibrate`.
    """
    from behavior.blinding.raters import trace_active_bouts

    window = window_s or protocol.window_s
    by_id, videos, ends, ref_total, ref_state, notes = _consensus(manual, traces, window, bin_s,
                                                                  criterion)
    rows = []
    for height in heights:
        p = protocol.with_overrides(climb_height=float(height))
        totals, states = [], []
        for v in videos:
            auto = Rater("auto", "auto", "", {v: trace_active_bouts(by_id[v], p, "climbing")})
            prof = profile(auto, v, window, ends[v], bin_s)
            totals.append(prof.immobility_s)  # the profile's seconds of the bouts given
            states.append(prof.bins)
        rows.append({"climb_height": float(height),
                     **_agreement(ref_total, ref_state, totals, states)})
    curve = pd.DataFrame(rows, columns=list(CLIMB_CURVE_COLUMNS))
    best = _best(curve, criterion, "climb_height")
    return ClimbCalibration(float(best["climb_height"]), criterion,
                            {c: float(best[c]) for c in CLIMB_CURVE_COLUMNS}, curve,
                            tuple(videos), notes)


def _consensus(manual: Sequence[Rater], traces: Sequence[Trace], window: tuple[float, float],
               bin_s: float, criterion: str):
    """The videos scored both ways and the observers' consensus on them: traces by
    video id, the videos, where each comparison ends, seconds per video, the
    state of each bin (mean fraction over the observers > 0.5), and notes naming
    the videos left out because nothing of the window was observed (a recording
    that ends before it starts: empty, not 0). Checks the criterion's name and
    that there are manual scores."""
    if criterion not in CRITERIA:
        raise AnalysisError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    manual = [r for r in manual if r.kind == MANUAL]
    if not manual:
        raise AnalysisError("no manual scores given")
    ids = trace_ids(traces)
    by_id = dict(zip(ids, traces, strict=True))
    scored = set().union(*(r.videos for r in manual))
    videos = sorted(scored & set(by_id))
    if not videos:
        raise AnalysisError(f"no manually scored video has a trace (manual: "
                            f"{', '.join(sorted(scored)[:4])}…; traces: {', '.join(ids[:4])}…)")
    # reference: consensus of the observers who scored each video, over the common part
    ends, ref_totals, ref_bins, kept, left_out = {}, [], [], [], []
    for v in videos:
        who = [r for r in manual if v in r.videos]
        end = min(common_end(who, v, window), by_id[v].end_s)
        if end <= window[0] + 1e-9:
            left_out.append(f"{v} (ends at {end:g} s)")
            continue
        kept.append(v)
        ends[v] = end
        prof = [profile(r, v, window, end, bin_s) for r in who]
        ref_totals.append(np.mean([p.immobility_s for p in prof]))
        ref_bins.append(np.mean([p.bins for p in prof], axis=0))
    notes = [f"left out {len(left_out)} video(s) with nothing of the window {window[0]:g}–"
             f"{window[1]:g} s observed: {', '.join(left_out)}"] if left_out else []
    if not kept:
        raise AnalysisError(f"nothing to compare: {notes[0].removeprefix('left out ')}")
    return (by_id, kept, ends, np.array(ref_totals), np.concatenate(ref_bins) > 0.5,
            tuple(notes))


def _agreement(ref_total: np.ndarray, ref_state: np.ndarray, totals: list[float],
               states: list[np.ndarray]) -> dict[str, float]:
    """One row of a calibration curve: the auto-scorer against the consensus."""
    auto_total = np.array(totals)
    auto_state = np.concatenate(states) > 0.5
    return {
        "n_videos": len(totals), "n_bins": int(auto_state.size),
        "kappa": cohen_kappa(ref_state, auto_state),
        "pct_agreement": percent_agreement(ref_state, auto_state),
        "icc": icc_2_1(np.column_stack((ref_total, auto_total))).icc,
        "pearson_r": pearson_r(ref_total, auto_total),
        "bias_s": bland_altman(ref_total, auto_total).bias,
        "mean_abs_diff_s": float(np.mean(np.abs(auto_total - ref_total))),
    }


def _best(curve: pd.DataFrame, criterion: str, value: str) -> pd.Series:
    """The row that maximises ``criterion``; ties to the smallest |bias|, then the
    smallest ``value``."""
    score = curve[criterion].fillna(-math.inf)
    if not np.isfinite(score).any():
        raise AnalysisError(f"{criterion} is undefined for every {value} (too few videos or "
                            "bins, or no variation in the manual scores)")
    ranked = curve.assign(_score=score, _bias=curve["bias_s"].abs().fillna(math.inf))
    ranked = ranked.sort_values(["_score", "_bias", value], ascending=[False, True, True],
                                kind="stable")
    return ranked.iloc[0]


def calibrated_protocol_text(protocol: FstProtocol, result: Calibration | ClimbCalibration,
                             sources: Sequence[str]) -> str:
    """YAML of ``protocol`` with the chosen threshold and minimum bout (or
    ``climb_height``), and a header saying how they were chosen."""
    if isinstance(result, ClimbCalibration):
        chosen = protocol.with_overrides(climb_height=result.climb_height)
    else:
        chosen = protocol.with_overrides(threshold=result.threshold,
                                         min_bout_s=result.min_bout_s)
    b = result.best
    header = [
        f"# Calibrated by `behavior fst calibrate` on {len(result.videos)} manually scored "
        "video(s)",
        f"# from: {', '.join(sources)}",
        f"# criterion: {result.criterion}; kappa {b['kappa']:.3f}, agreement "
        f"{b['pct_agreement']:.1f} %, ICC {b['icc']:.3f}, bias {b['bias_s']:.2f} s",
        f"# base protocol: {protocol.source or protocol.name}",
    ]
    if isinstance(result, Calibration):
        header += [f"# {line}" for line in (result.versus_automatic, result.automatic_scores)
                   if line]
    return "\n".join(header) + "\n" + chosen.to_yaml()
