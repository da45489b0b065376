"""Score videos and traces into result tables: the batch layer over tracking.

Results table (one row per video × arena, and one per video that could not be
scored: only ``video`` and ``warnings``), columns :data:`RESULT_COLUMNS`, then
``immobile_s_<start>_<end>`` bins, then ``warnings`` (see
:mod:`behavior.fst.summary` for the definitions):

``video``            the video file as given
``arena``            arena number, 1 = leftmost
``window_start_s``, ``window_end_s``  scored window from the test start (s)
``scored_s``         part of the window covered by the recording (s)
``immobility_s``     immobile time in the window (s)
``immobility_pct``   immobility_s / scored_s × 100
``latency_s``        test start → first immobility bout ≥ min_bout_s (s; empty if none)
``bouts``            immobility bouts overlapping the window
``mean_bout_s``, ``longest_bout_s``   of those bouts, clipped to the window (s)
``immobile_bins``, ``scored_bins``   whole bins in the window where immobility
                     predominated, of those scored (the rat modified FST's count)
``swimming_s``, ``climbing_s``   seconds of the window in which the mobile animal
                     swam (at about its floating level) or climbed (well above
                     it; :mod:`behavior.fst.states`); empty for tail suspension
``swimming_bins``, ``climbing_bins``   whole bins where that predominated
``tracked_pct``      frames in the window where the animal was found (%)
``threshold_sensitivity_s``   immobility_s with the threshold 20 % higher minus
                     with it 20 % lower: large (a warning over 2.5 % of the window)
                     when the animal's movement lies near the threshold
``separation``       how clearly the animal's mobility separates into still and
                     moving, 0-1: ``1 - F / M``, F its still level (the mobility of
                     its quietest stretches) and M where its sustained movement
                     begins (:mod:`behavior.fst.immobility`); about 0.65-0.9 for
                     animals that swim or struggle, 0.5 when sustained movement
                     begins at twice the still level (barely paddling). Under
                     :data:`SEPARATION_WARN` a warning says to check the threshold on
                     a few videos scored by hand. Empty when either level could not
                     be found (``note`` says why)
``frames``           frames decoded and tracked
``threshold``        the mobility threshold this animal was scored with: the
                     protocol's number, or with ``threshold: auto`` the one chosen
                     from its own trace
``min_bout_s``       the protocol's minimum bout
``note``             why a value of the row is empty (the window not reached by the
                     recording, bins after its end, no animal found); empty when
                     every value was observed
``warnings``         what the user should know about this video and arena, e.g. the
                     camera moves, the animal was found in few frames, the file
                     breaks off, the recording ends before the window (`` | ``
                     between them; empty when none)

Missing is empty, never 0: where nothing was observed the value is empty (NaN in
pandas, blank in the CSV) and ``note`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from behavior import notices
from behavior.errors import BehaviorError, InputError
from behavior.fst.immobility import (
    MAX_STILL,
    ThresholdChoice,
    immobility_bouts,
    smooth_mobility,
)
from behavior.fst.peers import label_immobile, set_peer_levels, trace_choice
from behavior.fst.states import active_bouts
from behavior.fst.summary import (
    SUMMARY_COLUMNS,
    bin_columns,
    frames_to_bouts,
    overlap_s,
    summarize_bouts,
)
from behavior.fst.traces import Trace, find_traces, read_trace
from behavior.io.atomic import atomic_write
from behavior.notices import Notice
from behavior.protocols import FstProtocol

RESULT_COLUMNS = ("video", "arena", *SUMMARY_COLUMNS, "swimming_s", "climbing_s",
                  "swimming_bins", "climbing_bins", "tracked_pct", "threshold_sensitivity_s",
                  "separation", "frames", "threshold", "min_bout_s")
#: The values that are empty when nothing of an animal was observed.
_OBSERVED_COLUMNS = ("immobility_s", "immobility_pct", "latency_s", "bouts", "mean_bout_s",
                     "longest_bout_s", "immobile_bins", "swimming_s", "climbing_s",
                     "swimming_bins", "climbing_bins", "threshold_sensitivity_s", "separation")


def result_columns(protocol: FstProtocol) -> list[str]:
    """The results table's columns, in order, for ``protocol``'s bins."""
    return [*RESULT_COLUMNS, *bin_columns(protocol.duration_s, protocol.bin_s), "note",
            "warnings"]


@dataclass
class AnimalResult:
    """One animal's (video × arena) scores, and what the user should know about them."""

    video: str
    arena: int
    #: the results table's values (:func:`result_columns`, less ``warnings``)
    values: dict[str, object]
    notices: list[Notice] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        """The values plus ``warnings``: the messages of the warnings and errors ( `` | ``
        between them); information (e.g. that one arena was counted) is added to
        ``note`` instead (``; `` between them)."""
        values = dict(self.values)
        quiet = notices.join((n for n in self.notices if n.severity == notices.INFO), "; ")
        if quiet:
            note = values.get("note")
            values["note"] = f"{note}; {quiet}" if isinstance(note, str) and note else quiet
        loud = [n for n in self.notices if n.severity != notices.INFO]
        return {**values, "warnings": notices.join(loud)}


def coverage_notice(end_s: float, protocol: FstProtocol) -> Notice | None:
    """A notice when the recording ends before the scored window does."""
    if end_s < protocol.window_s[1] - 1e-6:
        return notices.warning(
            "short_recording", f"the recording covers {end_s:.1f} s of the test, less than "
            f"the window end {protocol.window_s[1]:g} s; percentages are of the part covered",
            covered_s=round(end_s, 3))
    return None


#: A separation under this gets a warning: the animal's sustained movement begins
#: within 2.5 times its still level, so still and moving frames are told apart by a
#: small margin (synthetic barely paddling swimmers: 0.43-0.63, their scores off by
#: up to 6 s, one with the water sloshing by 33 s; swimmers and strugglers: 0.63-0.89).
SEPARATION_WARN = 0.6
#: A still level above this fraction of :data:`~behavior.fst.immobility.MAX_STILL`
#: (still taken for floating) gets a warning: a gentle swimmer that floats only now
#: and then may have its paddling set its still level, and then be scored as
#: immobile while it paddles. Synthetic animals that float at least a fifth of the
#: time: up to 0.116 (0.64 of it); a single-cylinder swimmer floating 10 % of the
#: time, its paddling at 0.133 (0.74), scored 153 s too high, was not warned at 0.8.
HIGH_STILL = 0.7


def threshold_notices(choice: ThresholdChoice, arena: int) -> list[Notice]:
    """Warnings about how an animal's threshold was chosen: a fixed threshold below
    the animal's still level (most likely one calibrated on an earlier version's
    measure); no still level found (the fallback used); its cage-mates' still level
    used for it (it hardly floats); a still level so high that it may be gentle
    swimming (:data:`HIGH_STILL`); still and moving not clearly apart
    (:data:`SEPARATION_WARN`)."""
    what = ("score a few of these videos by hand (behavior blind) and calibrate the "
            "threshold on them (behavior fst calibrate), then set it in the protocol")
    if choice.method == "fixed" and math.isfinite(choice.still) and \
            choice.threshold < choice.still:
        return [notices.warning(
            "below_still_level", f"the threshold {choice.threshold:g} lies below this "
            f"animal's still level ({choice.still:.3f}): even its quietest stretches count "
            "as movement; a threshold calibrated with an earlier version (whose measure, "
            "the whole silhouette's changed share, was about a third of today's) must be "
            "calibrated again (behavior fst calibrate), or use threshold: auto",
            arena=arena, settings=["threshold"], still=round(choice.still, 5),
            threshold=choice.threshold)]
    if choice.method == "fallback":
        return [notices.warning(
            "no_still_level", f"no still level found to set the threshold "
            f"from ({choice.reason}); scored with threshold {choice.threshold:g}: check "
            f"this animal; {what}", arena=arena, settings=["threshold"],
            threshold=choice.threshold)]
    found = []
    if choice.method == "peers":
        found.append(notices.warning(
            "peer_still_level", f"{choice.reason} (threshold "
            f"{choice.threshold:.3g}); check this animal; {what}", arena=arena,
            settings=["threshold"], still=round(choice.still, 5),
            threshold=round(choice.threshold, 5)))
    if choice.method == "auto" and choice.still > HIGH_STILL * MAX_STILL:
        found.append(notices.warning(
            "high_still_level", f"its quietest stretches move "
            f"{choice.still:.3f}, near the most a floating animal does ({MAX_STILL:g}): if "
            "it floats only now and then, its gentle swimming set this level and may be "
            f"scored as immobility (threshold {choice.threshold:.3g}); check this animal; "
            f"{what}", arena=arena, settings=["threshold"], still=round(choice.still, 5),
            threshold=round(choice.threshold, 5)))
    if math.isfinite(choice.separation) and choice.separation < SEPARATION_WARN:
        found.append(notices.warning(
            "unclear_separation", f"its movement is hard to tell from "
            f"stillness (separation {choice.separation:.2f}: sustained movement begins at "
            f"{choice.moving / choice.still:.1f} times its still level), so its immobility "
            f"depends on the threshold ({choice.threshold:.3g}); {what}", arena=arena,
            settings=["threshold"], separation=round(choice.separation, 3),
            threshold=round(choice.threshold, 5)))
    return found


#: The threshold is moved by this fraction either way to measure how much the
#: immobility depends on it (:func:`threshold_sensitivity`).
SENSITIVITY_STEP = 0.2
#: A change of immobility over this fraction of the scored window (and at least
#: SENSITIVITY_MIN_S) when the threshold moves by SENSITIVITY_STEP gets a warning:
#: 6 s of a 240-s window. At 0.05 (12 s) the independent generator's draws 1-3 left
#: 9 of 70 rows unwarned, off by up to 14.2 s (their changes 0.7-11 s); at 0.025 the
#: rows left are off by 6.7 s at most, and 7 more of our open sets' 110 rows are
#: warned (28 to 35; those left are off by 2.8 s at most). Chosen on those; checked
#: on the independent draw 4, read once before: 21 of 25 rows warned and 4 unwarned
#: off by up to 16.4 s at 0.05; at 0.025 24 warned, the one left off by 2.1 s.
SENSITIVITY_WARN = 0.025
SENSITIVITY_MIN_S = 3.0


def threshold_sensitivity(trace: Trace, protocol: FstProtocol, scored_s: float,
                          threshold: float | None = None, smoothed: np.ndarray | None = None
                          ) -> tuple[float, Notice | None]:
    """Immobility in the window with the threshold raised by :data:`SENSITIVITY_STEP`
    minus with it lowered by as much (s), and a warning when that is large.

    A floating animal's mobility lies far below the threshold and a swimming one's
    far above, so the score barely moves (about 1-2 s per 240 s on the synthetic
    sets). Movement near the threshold — weak, slow swimming — makes the score
    depend on the threshold itself: the warning says to look at the video or to
    calibrate on manual scores (``behavior fst calibrate``). ``smoothed``: the
    trace's mobility already smoothed.
    """
    w0, w1 = protocol.window_s
    end = min(w1, trace.end_s)
    if threshold is None:
        threshold = trace_choice(trace, protocol, smoothed).threshold
    seconds = []
    for factor in (1 - SENSITIVITY_STEP, 1 + SENSITIVITY_STEP):
        seconds.append(overlap_s(immobility_bouts(trace.time_s, trace.mobility, protocol,
                                                  trace.end_s, threshold * factor,
                                                  smoothed=smoothed), w0, end))
    spread = seconds[1] - seconds[0]
    if scored_s > 0 and spread > max(SENSITIVITY_MIN_S, SENSITIVITY_WARN * scored_s):
        low, high = (threshold * f for f in (1 - SENSITIVITY_STEP, 1 + SENSITIVITY_STEP))
        return spread, notices.warning(
            "threshold_sensitive", f"immobility changes by {spread:.1f} s between thresholds "
            f"{low:.3g} and {high:.3g}: much of this animal's movement is close to the "
            "threshold (weak or slow swimming?); look at the video or calibrate the "
            "threshold on manual scores", arena=trace.arena, settings=["threshold"],
            spread_s=round(spread, 3))
    return spread, None


#: Immobility that lies above the threshold (frames whose mobility rises smoothly,
#: brief movements joining two bouts: :mod:`behavior.fst.immobility`) beyond this
#: many seconds of the window gets a warning: how restless floating is counted then
#: matters to the score. (Our synthetic sets: at most 6.7 s, median 0; the
#: independent generator's restless floaters: median 6.7 s, up to 42 s.)
RESTLESS_WARN_S = 5.0


def restless_floating(trace: Trace, protocol: FstProtocol, threshold: float,
                      scored_s: float, smoothed: np.ndarray | None = None
                      ) -> tuple[float, Notice | None]:
    """How much of the animal's immobility in the window (``scored_s``) lies above the
    threshold, and a warning when that is over :data:`RESTLESS_WARN_S`: its floating
    turns, drifts or kicks, and whether a person would count such floating as
    immobility is a convention the score then depends on. ``smoothed``: the trace's
    mobility already smoothed."""
    w0, w1 = protocol.window_s
    plain = overlap_s(immobility_bouts(trace.time_s, trace.mobility, protocol, trace.end_s,
                                       threshold, smoothed=smoothed, threshold_only=True),
                      w0, min(w1, trace.end_s))
    above = max(0.0, scored_s - plain)
    if above <= RESTLESS_WARN_S:
        return above, None
    return above, notices.warning(
        "restless_floating", f"{above:.1f} s of its immobility lies above the threshold "
        f"({threshold:.3g}): its floating turns, drifts or kicks, and how such floating is "
        "counted decides the score; score a few of these videos by hand (behavior blind) "
        "and calibrate the threshold on them (behavior fst calibrate)", arena=trace.arena,
        settings=["threshold", "brief_movement_s"], above_s=round(above, 3))


#: The animal unseen for this long (s) before the scored part of the window ends: a
#: warning (taken out early, or lost by the tracker).
GONE_AT_END_S = 5.0


def gone_before_the_end(trace: Trace, protocol: FstProtocol) -> Notice | None:
    """A warning when the animal is not seen in the last :data:`GONE_AT_END_S` or more
    of the scored window, e.g. taken out of the water before the test ended: those
    frames count as mobile."""
    t = trace.time_s
    found = np.isfinite(trace.table["area_px"].to_numpy(float))
    w0, w1 = protocol.window_s
    end = min(w1, trace.end_s)
    inside = (t >= w0) & (t < end)
    if not found[inside].any():
        return None  # never seen in the window: "no animal" says so
    last = float(t[inside & found][-1])
    gap = end - last
    if gap < GONE_AT_END_S:
        return None
    return notices.warning(
        "gone_at_end", f"the animal is not seen after {last:.1f} s, the last {gap:.0f} s of "
        "the window (taken out early?); those frames count as mobile: set end_s to where "
        "the test ended", arena=trace.arena, settings=["end_s"], last_seen_s=round(last, 3))


def unseen_before(trace: Trace, until_s: float) -> tuple[float, float] | None:
    """The longest stretch ``(start, end)`` of frames before ``until_s`` in which the
    animal was not seen (a title card, the animal lost), or None."""
    t = trace.time_s
    unseen = ~np.isfinite(trace.table["area_px"].to_numpy(float)) & (t < until_s)
    if not unseen.any():
        return None
    # each unseen frame lasts until the next frame, as an immobility bout's do
    stretches = np.minimum(frames_to_bouts(t, unseen, trace.end_s), until_s)
    start, end = stretches[int(np.argmax(stretches[:, 1] - stretches[:, 0]))]
    return float(start), float(end)


def score_trace(trace: Trace, protocol: FstProtocol) -> AnimalResult:
    """One animal's results from its trace (no video needed).

    An arena where the animal was never found in the scored window has no scores:
    every value but the window, ``scored_s`` and ``tracked_pct`` is empty, with the
    reason in ``note`` (never a 0 for an animal that was not seen).
    """
    t = trace.time_s
    smoothed = smooth_mobility(t, trace.mobility, protocol.smoothing_s)
    choice = trace_choice(trace, protocol, smoothed)
    bouts = immobility_bouts(t, trace.mobility, protocol, trace.end_s, choice.threshold,
                             smoothed=smoothed)
    others: dict[str, np.ndarray] = {}
    found_notices: list[Notice] = [n.at(trace.video, None) for n in trace.notices]
    if protocol.test != "tst":  # a hanging animal neither swims nor climbs
        others, state_note = active_bouts(t, trace.table["y_px"].to_numpy(float),
                                          trace.table["area_px"].to_numpy(float), bouts,
                                          protocol, trace.end_s)
        if state_note:
            found_notices.append(notices.info("floating_level", state_note, arena=trace.arena,
                                              video=trace.video))
    summary = summarize_bouts(bouts, protocol.window_s, protocol.duration_s, protocol.bin_s,
                              observed_end_s=trace.end_s, others=others)
    note = summary.pop("note")
    w0, w1 = protocol.window_s
    in_window = (t >= w0) & (t < w1)
    found = np.isfinite(trace.table["area_px"].to_numpy(float))[in_window]
    values: dict[str, object] = {"video": trace.video, "arena": trace.arena, **summary}
    values["tracked_pct"] = 100.0 * found.mean() if found.size else math.nan
    spread, spread_note = threshold_sensitivity(trace, protocol, float(summary["scored_s"]),
                                                choice.threshold, smoothed)
    values["threshold_sensitivity_s"] = spread if summary["scored_s"] > 0 else math.nan
    immobile_s = float(summary["immobility_s"])
    _, restless_note = restless_floating(trace, protocol, choice.threshold,
                                         immobile_s if math.isfinite(immobile_s) else 0.0,
                                         smoothed)
    values["separation"] = choice.separation
    values["frames"] = len(t)
    values["threshold"] = choice.threshold
    values["min_bout_s"] = protocol.min_bout_s
    choice_notes = threshold_notices(choice, trace.arena)
    if not math.isfinite(choice.separation) and choice.reason and found.any():
        note = "; ".join(filter(None, [note, f"separation empty: {choice.reason}"]))
    if found.size and not found.any():
        # the window was recorded, but no animal was seen in it: nothing to score
        for column in _OBSERVED_COLUMNS:
            if column in values:
                values[column] = math.nan
        for column in bin_columns(protocol.duration_s, protocol.bin_s):
            values[column] = math.nan
        note = (f"no animal was found in arena {trace.arena} in the window; nothing to "
                "score" + (f"; {note}" if note else ""))
        spread_note = restless_note = None
        choice_notes = []
        if choice.method != "fixed":
            values["threshold"] = math.nan
    latency = float(values["latency_s"])
    hidden = unseen_before(trace, latency) if math.isfinite(latency) else None
    if hidden is not None and hidden[1] - hidden[0] >= protocol.min_bout_s:
        # a bout as long as the shortest counted could have passed unseen
        values["latency_s"] = math.nan
        note = "; ".join(filter(None, [note, (
            f"latency empty: the animal was not seen from {hidden[0]:.1f} to "
            f"{hidden[1]:.1f} s, before its first bout seen (at {latency:.1f} s)")]))
    values["note"] = note
    for extra in (spread_note, restless_note, *choice_notes,
                  gone_before_the_end(trace, protocol), coverage_notice(trace.end_s, protocol)):
        if extra is not None:
            found_notices.append(extra.at(trace.video, trace.arena))
    return AnimalResult(trace.video, trace.arena, values, found_notices)


#: Whole-number columns, kept whole (not 1.0) when a not-scored row leaves them empty.
_COUNT_COLUMNS = ("arena", "bouts", "immobile_bins", "scored_bins", "swimming_bins",
                  "climbing_bins", "frames")


def rows_to_table(rows: Iterable[dict[str, object] | AnimalResult],
                  protocol: FstProtocol) -> pd.DataFrame:
    """The results table (:func:`result_columns`) from results or rows."""
    rows = [r.row() if isinstance(r, AnimalResult) else r for r in rows]
    table = pd.DataFrame(rows)
    columns = result_columns(protocol)
    if table.empty:
        return pd.DataFrame(columns=columns)
    table = table.reindex(columns=columns)
    for column in _COUNT_COLUMNS:
        table[column] = pd.to_numeric(table[column]).round().astype("Int64")
    for column in ("note", "warnings"):
        table[column] = table[column].fillna("").astype(str)
    return table


def score_traces(traces: Iterable[Trace], protocol: FstProtocol) -> list[AnimalResult]:
    """Results of several animals, those of one video scored together: each trace's
    peer still level is set first (:func:`behavior.fst.peers.set_peer_levels`, kept in
    its metadata), then it is scored (:func:`score_trace`)."""
    traces = list(traces)
    set_peer_levels(traces, protocol)
    return [score_trace(trace, protocol) for trace in traces]


def rescore_traces(paths: Iterable[Path], protocol: FstProtocol
                   ) -> tuple[pd.DataFrame, list[Notice], list[Notice]]:
    """Results table from saved traces with a (new) protocol; no video is decoded.

    Returns the table, the errors of traces that could not be read, and the
    notices of the rows (each trace's, and the scoring's). Two traces of the same
    video and arena (files of two runs that named them differently) are scored
    once, from the newer file, with a warning.
    """
    errors: list[Notice] = []
    found: list[Notice] = []
    # (video, arena) -> (modification time, file, trace), in the order first seen
    kept: dict[tuple[str, int], tuple[float, Path, Trace]] = {}
    for path in map(Path, paths):
        try:
            trace = read_trace(path)
        except BehaviorError as exc:
            errors.append(Notice.from_exception(exc, str(path)))
            continue
        key, this = (trace.video, trace.arena), (path.stat().st_mtime, path, trace)
        if key in kept:
            newer, older = (this, kept[key]) if this[0] >= kept[key][0] else (kept[key], this)
            found.append(notices.warning(
                "duplicate_trace", f"{older[1]}: another trace of {trace.video} arena "
                f"{trace.arena} ({newer[1].name}) is newer; only that one is scored",
                video=trace.video, arena=trace.arena))
            this = newer
        kept[key] = this
    results = score_traces([trace for _, _, trace in kept.values()], protocol)
    found += [n for r in results for n in r.notices]
    return rows_to_table(results, protocol), errors, found


def rescore_dir(directory: str | Path, protocol: FstProtocol
                ) -> tuple[pd.DataFrame, list[Notice], list[Notice]]:
    """:func:`rescore_traces` over every ``*.trace.csv`` in a folder (an error if
    there is none)."""
    paths = find_traces(directory)
    if not paths:
        raise InputError(directory, "no traces (*.trace.csv) in this folder")
    return rescore_traces(paths, protocol)


def relabel_immobile(trace: Trace, protocol: FstProtocol) -> Trace:
    """A copy of the trace whose ``immobile`` column follows ``protocol``."""
    copy = Trace(trace.video, trace.arena, trace.table.copy(), trace.end_s, dict(trace.meta),
                 list(trace.notices))
    label_immobile(copy, protocol)
    return copy


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the results as CSV, or as an Excel workbook when the name ends in .xlsx.

    Written to a temporary file first, then renamed: a crash never leaves half a
    results file, and an older file is replaced only by a complete one. Empty
    values stay empty cells.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        with atomic_write(path, "wb") as fh:
            table.round(4).to_excel(fh, index=False, sheet_name="immobility",
                                    engine="openpyxl")
    else:
        with atomic_write(path, "w", newline="") as fh:
            table.to_csv(fh, index=False, float_format="%.4f", lineterminator="\n")
    return path
