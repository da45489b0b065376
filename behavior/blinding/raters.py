"""Raters' immobility scores from every kind of input, in one canonical structure.

A :class:`Rater` holds, per video, immobility bouts ``[start_s, end_s)`` from the
test start (the structure of :mod:`behavior.fst.summary`), or only a per-video
total when that is all the input gives (a results table).

Inputs (:func:`load_raters` guesses the kind):

- a session folder or ``session.sqlite`` — one rater per observer, videos by code;
- an interval CSV with an ``observer`` column — one rater per observer;
- a folder of traces (``*_arena<N>.trace.csv`` from ``behavior fst score --traces``)
  or trace files — one rater, ``auto``, scored with a protocol as ``behavior fst
  rescore`` would; videos by file stem (``<stem>_arena<N>`` when a video has
  several arenas);
- a results CSV of the auto-scorer (``video`` and ``immobility_s`` columns) —
  one rater with totals only (no bins, so no κ).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from behavior.blinding import database as db
from behavior.blinding.lock import session_scores
from behavior.blinding.session import IMMOBILITY
from behavior.blinding.tables import OBSERVER, merge_overlaps, read_intervals, video_stem
from behavior.errors import InputError
from behavior.fst.immobility import immobility_bouts
from behavior.fst.peers import trace_choice
from behavior.fst.states import ACTIVE_STATES, active_bouts
from behavior.fst.summary import apply_min_bout
from behavior.fst.traces import TRACE_SUFFIX, Trace, find_traces, read_trace
from behavior.io.atomic import read_failure
from behavior.io.text import header_separator, read_text
from behavior.protocols import FstProtocol, load_fst_protocol

MANUAL, AUTO = "manual", "auto"


@dataclass(frozen=True)
class Rater:
    """One rater's immobility scores.

    Attributes
    ----------
    bouts
        video → ``(n, 2)`` immobility bouts (s from the test start).
    end_s
        video → where the recording ends, when known (else absent: open-ended).
    totals
        video → immobility seconds in the window, for raters known only by totals.
    window_s
        The scored window stored with the scores (a session's), if any.
    notes
        What was changed while reading (overlapping intervals merged), one line each.
    """

    name: str
    kind: str
    source: str
    bouts: dict[str, np.ndarray] = field(default_factory=dict)
    end_s: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    window_s: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def videos(self) -> set[str]:
        return set(self.bouts) | set(self.totals)

    def end(self, video: str) -> float:
        return self.end_s.get(video, math.inf)


def session_raters(session: str | Path, behaviour: str = IMMOBILITY) -> list[Rater]:
    """One rater per observer of a session (videos scored or marked finished)."""
    path = db.database_path(session)
    conn = db.open_database(path, readonly=True)
    try:
        protocol = db.read_protocol(conn)
        videos = {v.code: v for v in db.read_videos(conn)}
        scored = session_scores(conn)
        events = pd.read_sql_query(
            "SELECT o.name AS observer, v.code, e.start_s, e.end_s FROM events e "
            "JOIN observers o ON o.id = e.observer_id JOIN videos v ON v.id = e.video_id "
            "WHERE e.behaviour = ?", conn, params=(behaviour,))
    finally:
        conn.close()
    raters = []
    for observer in sorted(set(scored.get("observer", []))):
        codes = scored.loc[scored["observer"] == observer, "code"]
        mine = events[events["observer"] == observer]
        bouts = {c: apply_min_bout(mine.loc[mine["code"] == c, ["start_s", "end_s"]]
                                   .to_numpy(float), protocol.min_bout_s) for c in codes}
        raters.append(Rater(observer, MANUAL, str(path), bouts,
                            {c: videos[c].duration_s for c in codes},
                            window_s=tuple(protocol.window_s)))
    if not raters:
        raise InputError(path, "no observer has scored any video in this session")
    return raters


def interval_raters(intervals: pd.DataFrame, source: str | Path,
                    behaviour: str = IMMOBILITY, *, strict: bool = False) -> list[Rater]:
    """One rater per observer of an interval table (from ``read_intervals``).

    Every video an observer has any row for counts as scored by them (a video with
    only swimming rows has zero immobility). Overlapping or repeated intervals of
    an observer are merged (:func:`~behavior.blinding.tables.merge_overlaps`; each
    merge is in the rater's ``notes``), or refused with ``strict``.
    """
    if OBSERVER not in intervals.columns:
        raise InputError(source, "interval table needs an 'observer' column for agreement")
    raters = []
    for observer, part in intervals.groupby(OBSERVER, sort=False):
        part, merges = merge_overlaps(part, source, strict=strict)
        bouts = {}
        for video, rows in part.groupby("video", sort=True):
            chosen = rows[rows["behaviour"] == behaviour]
            bouts[str(video)] = chosen[["start_s", "end_s"]].to_numpy(float).reshape(-1, 2)
        raters.append(Rater(str(observer), MANUAL, str(source), bouts, notes=tuple(merges)))
    return raters


def trace_ids(traces: Sequence[Trace]) -> list[str]:
    """Video id of each trace: the video's stem, or ``<stem>_arena<N>`` with several arenas."""
    stems = [video_stem(t.video) for t in traces]
    arenas: dict[str, set[int]] = {}
    for s, t in zip(stems, traces, strict=True):
        arenas.setdefault(s, set()).add(t.arena)
    return [s if len(arenas[s]) == 1 else f"{s}_arena{t.arena}"
            for s, t in zip(stems, traces, strict=True)]


def trace_bouts(trace: Trace, protocol: FstProtocol) -> np.ndarray:
    """Immobility bouts of a trace scored with ``protocol`` — threshold, smoothing and
    minimum bout — exactly as ``behavior fst rescore`` scores it."""
    return immobility_bouts(trace.time_s, trace.mobility, protocol, trace.end_s,
                            trace_choice(trace, protocol).threshold)


def trace_active_bouts(trace: Trace, protocol: FstProtocol, behaviour: str) -> np.ndarray:
    """Swimming or climbing bouts of a trace, as ``behavior fst rescore`` finds them
    (:mod:`behavior.fst.states`)."""
    table = trace.table
    bouts, _ = active_bouts(trace.time_s, table["y_px"].to_numpy(float),
                            table["area_px"].to_numpy(float), trace_bouts(trace, protocol),
                            protocol, trace.end_s)
    return bouts[behaviour]


def trace_rater(traces: Sequence[Trace], protocol: FstProtocol, name: str = "auto",
                source: str = "", behaviour: str = IMMOBILITY) -> Rater:
    """The auto-scorer as a rater of ``behaviour`` (immobility, swimming or climbing)."""
    if behaviour != IMMOBILITY and behaviour not in ACTIVE_STATES:
        raise InputError(source or name, f"the auto-scorer's traces give immobility, "
                         f"{', '.join(ACTIVE_STATES)}; not {behaviour!r}")
    ids = trace_ids(traces)
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(source or name, f"two traces for the same video: {', '.join(dup)}")
    if behaviour == IMMOBILITY:
        bouts = {i: trace_bouts(t, protocol) for i, t in zip(ids, traces, strict=True)}
    else:
        bouts = {i: trace_active_bouts(t, protocol, behaviour)
                 for i, t in zip(ids, traces, strict=True)}
    return Rater(name, AUTO, source, bouts, {i: t.end_s for i, t in zip(ids, traces,
                                                                        strict=True)})


def results_rater(path: str | Path, behaviour: str = IMMOBILITY) -> Rater:
    """Totals-only rater from an auto-score results table (``video`` and
    ``immobility_s``, or ``swimming_s`` / ``climbing_s`` for those behaviours)."""
    column = "immobility_s" if behaviour == IMMOBILITY else f"{behaviour}_s"
    path = Path(path)
    text = read_text(path).text
    body = [line for line in text.splitlines() if not line.startswith("#")]
    try:
        table = pd.read_csv(io.StringIO("\n".join(body)),
                            sep=header_separator(next((b for b in body if b.strip()), "")))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read results table: {exc}") from None
    if "video" not in table.columns or column not in table.columns:
        raise InputError(path, f"a results table needs 'video' and '{column}' columns")
    stems = [video_stem(str(v)) for v in table["video"]]
    if "arena" in table.columns:
        counts = pd.Series(stems).value_counts()
        stems = [s if counts[s] == 1 else f"{s}_arena{int(a)}"
                 for s, a in zip(stems, table["arena"], strict=True)]
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy())
    if bad.size:
        raise InputError(path, f"'{column}' is not a number: {raw.iloc[int(bad[0])]!r}",
                         line=int(bad[0]) + 2)
    # empty cells: videos the auto-scorer could not score; they are left out
    totals = {s: v for s, v in zip(stems, values, strict=True) if not np.isnan(v)}
    return Rater(f"auto:{path.stem}", AUTO, str(path), totals=totals)


def _csv_kind(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            if fh.read(16).startswith(b"# behavior-trace"):
                return "trace"  # written by us in UTF-8; the whole trace is read later
    except OSError as exc:
        raise read_failure(path, exc) from None
    lines = read_text(path).text.splitlines()
    first = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    header = {c.strip().strip('"').lower() for c in first.split(header_separator(first))}
    if header & {"start_s", "start (s)", "start"}:
        return "intervals"
    if "immobility_s" in header:
        return "results"
    raise InputError(path, "not an interval table (video, observer, behaviour, start_s, end_s), "
                     "a results table (video, immobility_s) or a trace")


def load_raters(inputs: Sequence[str | Path], protocol: FstProtocol | None = None,
                behaviour: str = IMMOBILITY, *, strict: bool = False) -> list[Rater]:
    """Raters from every input (see the module docstring), names made unique.

    Traces are scored with ``protocol`` (default: the shipped ``mouse_fst``).
    Overlapping intervals of one observer in an interval table are merged (said in
    the rater's ``notes``), or refused with ``strict``.
    """
    if protocol is None:
        protocol = load_fst_protocol("mouse_fst")
    raters: list[Rater] = []
    loose_traces: list[Path] = []
    trace_dirs = [Path(p) for p in inputs if Path(p).is_dir()
                  and not (Path(p) / db.DB_NAME).exists()]
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise InputError(path, "not found")
        if (path.is_dir() and (path / db.DB_NAME).exists()) or path.suffix == ".sqlite":
            raters.extend(session_raters(path, behaviour))
        elif path.is_dir():
            files = find_traces(path)
            if not files:
                raise InputError(path, f"no session database and no *{TRACE_SUFFIX} traces here")
            name = "auto" if len(trace_dirs) == 1 else f"auto:{path.name}"
            raters.append(trace_rater([read_trace(f) for f in files], protocol, name, str(path),
                                      behaviour))
        else:
            kind = _csv_kind(path)
            if kind == "trace":
                loose_traces.append(path)
            elif kind == "intervals":
                raters.extend(interval_raters(read_intervals(path, need_observer=True), path,
                                              behaviour, strict=strict))
            else:
                raters.append(results_rater(path, behaviour))
    if loose_traces:
        raters.append(trace_rater([read_trace(f) for f in loose_traces], protocol, "auto",
                                  str(loose_traces[0].parent), behaviour))
    return _unique_names(raters)


def _unique_names(raters: list[Rater]) -> list[Rater]:
    seen: dict[str, int] = {}
    for r in raters:
        seen[r.name] = seen.get(r.name, 0) + 1
    out = []
    for r in raters:
        if seen[r.name] > 1:
            r = Rater(f"{r.name}@{Path(r.source).stem or r.source}", r.kind, r.source, r.bouts,
                      r.end_s, r.totals, r.window_s, r.notes)
        out.append(r)
    names = [r.name for r in out]
    if len(set(names)) != len(names):
        raise InputError(out[0].source, f"two raters share a name: {names}")
    return out
