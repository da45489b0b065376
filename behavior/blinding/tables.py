"""Readers of the CSV tables a blinded session takes in: groups and scored intervals.

Readers check and return tables; they compute nothing. Errors name the file and,
where it helps, the line (1-based, the header is line 1).

Groups table (``behavior blind create --groups``)
    ``video, subject, group`` plus any other factor columns (``dose``, ``sex``...).
    ``video`` is matched to the video files by path, file name or file stem.

Interval table (``behavior blind import``, ``behavior agreement``, ``behavior fst calibrate``)
    ``video, behaviour, start_s, end_s`` and, for agreement, ``observer``. ``video``
    is a code or a video file name (only its stem is used). BORIS "aggregated events"
    column names are accepted: ``Media file`` / ``Observation id``, ``Behavior``,
    ``Start (s)``, ``Stop (s)``, ``Observer``; ``behavior`` for ``behaviour``; rows
    whose ``Behavior type`` is ``POINT`` are skipped (only states are bouts). A row
    with a video and nothing else (``behaviour``, ``start_s``, ``end_s`` empty) says
    the video was scored and nothing was seen in it.

    Real exports hold overlapping or repeated intervals of one rater (a double
    click, a bout scored twice): :func:`merge_overlaps` replaces each such group by
    its union and says which lines it merged (or refuses them, ``strict``).

Every table is decoded by :mod:`behavior.io.text` (UTF-8, UTF-16, cp1252 from
Excel; ``,``, ``;`` or tab separated; decimal commas in ``;`` files).
"""

from __future__ import annotations

import io
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from behavior.errors import BadRowsError, InputError
from behavior.fst.summary import SUMMARY_COLUMNS
from behavior.io.text import header_separator, read_text

GROUP_COLUMNS = ("video", "subject", "group")
INTERVAL_COLUMNS = ("video", "behaviour", "start_s", "end_s")
OBSERVER = "observer"
#: Names a groups table cannot use: they are columns of the unblinded scores.
RESERVED_COLUMNS = frozenset({"code", "file", "observer", "n_observers", "n_events",
                              *SUMMARY_COLUMNS})

#: Accepted column names (lower case) for each interval column, in order of preference.
_ALIASES = {
    "video": ("video", "media file", "media file name", "observation id"),
    "behaviour": ("behaviour", "behavior"),
    "start_s": ("start_s", "start (s)", "start"),
    "end_s": ("end_s", "stop (s)", "stop", "end"),
    "observer": ("observer", "rater"),
}


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    """Every cell as text, and the separator (sniffed from the header line)."""
    text = read_text(path).text
    first = next((line for line in text.splitlines() if line.strip()), "")
    sep = header_separator(first)
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read CSV: {exc}") from None
    return table, sep


def video_stem(name: str) -> str:
    """The identity of a video in a table: its file name without folders or suffix."""
    pure = PurePath(name.replace("\\", "/"))
    return pure.stem if pure.suffix else pure.name


def read_groups(path: str | Path) -> pd.DataFrame:
    """Read a groups table; every cell text, stripped; no blank keys or duplicate videos."""
    path = Path(path)
    table, _ = _read_csv(path)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in GROUP_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(GROUP_COLUMNS)} plus any factor columns")
    reserved = sorted(set(table.columns) & RESERVED_COLUMNS)
    if reserved:
        raise InputError(path, f"column name(s) {', '.join(reserved)} are used by the scores; "
                         "rename them")
    table = table.apply(lambda col: col.str.strip())
    for column in GROUP_COLUMNS:
        blank = np.flatnonzero(table[column].to_numpy() == "")
        if blank.size:
            raise InputError(path, f"empty '{column}'", line=int(blank[0]) + 2)
    duplicated = table["video"].duplicated()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(path, f"video '{table['video'].iloc[i]}' is listed twice", line=i + 2)
    return table.reset_index(drop=True)


def match_groups(videos: list[Path], groups: pd.DataFrame, groups_path: str | Path) -> pd.DataFrame:
    """The groups row of each video, in the order of ``videos`` (column ``file`` added).

    A row matches a video by full path, file name or stem, in that order of preference.
    """
    by_key: dict[str, int] = {}
    for i, name in enumerate(groups["video"]):
        for key in (name, PurePath(name.replace("\\", "/")).name, video_stem(name)):
            by_key.setdefault(key, i)
    rows, unmatched = [], []
    for video in videos:
        for key in (str(video), video.name, video.stem):
            if key in by_key:
                rows.append(by_key[key])
                break
        else:
            unmatched.append(video.name)
    if unmatched:
        raise InputError(groups_path, f"no row for video(s) {', '.join(unmatched)} "
                         "(the 'video' column must give the file name or path)")
    if len(set(rows)) != len(rows):
        raise InputError(groups_path, "two videos match the same row; give full file names")
    out = groups.iloc[rows].reset_index(drop=True).copy()
    out.insert(0, "file", [str(v) for v in videos])
    return out


def read_intervals(path: str | Path, *, need_observer: bool = False) -> pd.DataFrame:
    """Read scored intervals into columns ``video`` (stem), ``behaviour``, ``start_s``,
    ``end_s``, ``line`` and ``observer`` (when present).

    Every row is checked -- numbers, ``0 <= start_s < end_s``, no empty field -- and
    every bad row is reported at once. A row with only a video (behaviour and times
    empty) is kept with ``behaviour == ""`` and empty times: the video was scored
    and nothing was seen. Overlaps are left to :func:`merge_overlaps`.

    Raises
    ------
    BadRowsError
        Some rows are wrong (each listed with its line).
    InputError
        The file cannot be read or lacks a column.
    """
    path = Path(path)
    raw, sep = _read_csv(path)
    lower = {str(c).strip().lower(): c for c in reversed(list(raw.columns))}
    picked = {}
    for target, names in _ALIASES.items():
        source = next((lower[n] for n in names if n in lower), None)
        if source is not None:
            picked[target] = raw[source]
    lines = np.arange(len(raw)) + 2  # file lines: the header is line 1
    kind = lower.get("behavior type")
    if kind is not None:  # BORIS: point events have no duration; only states are bouts
        keep = (raw[kind].str.strip().str.upper() != "POINT").to_numpy()
        picked = {k: v[keep].reset_index(drop=True) for k, v in picked.items()}
        lines = lines[keep]
    raw = pd.DataFrame(picked)
    required = list(INTERVAL_COLUMNS) + ([OBSERVER] if need_observer else [])
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(required)}")
    out = pd.DataFrame({"video": [video_stem(v.strip()) for v in raw["video"]],
                        "behaviour": raw["behaviour"].str.strip().str.lower()})
    if OBSERVER in raw.columns:
        out[OBSERVER] = raw[OBSERVER].str.strip()
    texts = {c: raw[c].str.strip() for c in ("start_s", "end_s")}
    for column, text in texts.items():
        # a ';'-separated export from a European Excel writes decimal commas
        number_text = text.str.replace(",", ".", regex=False) if sep != "," else text
        out[column] = pd.to_numeric(number_text, errors="coerce").to_numpy(float)
    out["line"] = lines
    problems = []
    for i in range(len(out)):
        row = out.iloc[i]
        found = []
        if row["video"] == "":
            found.append("empty 'video'")
        if OBSERVER in out.columns and row[OBSERVER] == "":
            found.append("empty 'observer'")
        marker = row["behaviour"] == "" and texts["start_s"].iloc[i] == "" \
            and texts["end_s"].iloc[i] == ""
        if not marker:
            if row["behaviour"] == "":
                found.append("empty 'behaviour'")
            for column, text in texts.items():
                if not np.isfinite(row[column]):
                    found.append(f"'{column}' is not a number: {text.iloc[i]!r}")
            if (np.isfinite(row["start_s"]) and np.isfinite(row["end_s"])
                    and not 0 <= row["start_s"] < row["end_s"]):
                found.append(f"interval {row['start_s']:g}–{row['end_s']:g} s must have "
                             "0 <= start_s < end_s")
        problems += [(int(row["line"]), f) for f in found]
    if problems:
        raise BadRowsError(path, problems)
    return out


def merge_overlaps(intervals: pd.DataFrame, path: str | Path, *, strict: bool = False
                   ) -> tuple[pd.DataFrame, list[str]]:
    """Replace overlapping or repeated intervals of one rater, video and behaviour by
    their union.

    Real exports have them (a rater clicks twice, or scores a bout again);
    intervals that only touch (one ends where the next starts) are not merged.

    Parameters
    ----------
    intervals
        From :func:`read_intervals`.
    path
        The file, for the messages.
    strict
        Refuse overlaps instead of merging them.

    Returns
    -------
    table, merges
        The intervals with each overlapping group replaced by one row (its first
        line), and one message per merge naming the file and the lines.

    Raises
    ------
    BadRowsError
        With ``strict``, every overlap (with both lines).
    """
    keys = [k for k in (OBSERVER, "video", "behaviour") if k in intervals.columns]
    markers = intervals[intervals["behaviour"] == ""]
    bouts = intervals[intervals["behaviour"] != ""]
    merged_rows, merges, problems = [], [], []
    for _, part in bouts.sort_values(["start_s", "end_s", "line"], kind="stable").groupby(
            keys, sort=False):
        groups: list[list[pd.Series]] = []
        for _, row in part.iterrows():
            if groups and row["start_s"] < max(r["end_s"] for r in groups[-1]):
                groups[-1].append(row)
            else:
                groups.append([row])
        for group in groups:
            first = group[0].copy()
            first["end_s"] = max(r["end_s"] for r in group)
            first["line"] = min(int(r["line"]) for r in group)
            merged_rows.append(first)
            if len(group) > 1:
                message = _overlap_message(group, first, path)
                merges.append(message)
                problems += [(int(r["line"]), _overlap_problem(r, group[0]))
                             for r in group[1:]]
    if strict and problems:
        raise BadRowsError(path, sorted(problems), "overlapping intervals of one rater")
    out = pd.DataFrame(merged_rows, columns=intervals.columns)
    out = pd.concat([out, markers], ignore_index=True) if len(markers) else out
    out = out.sort_values("line", kind="stable").reset_index(drop=True)
    out["line"] = out["line"].astype(int)
    return out, merges


def _who(row: pd.Series) -> str:
    observer = f" ({row[OBSERVER]})" if OBSERVER in row.index else ""
    return f"video {row['video']}{observer}: {row['behaviour']}"


def _overlap_message(group: list[pd.Series], union: pd.Series, path: str | Path) -> str:
    lines = sorted(int(r["line"]) for r in group)
    spans = [f"{r['start_s']:g}–{r['end_s']:g} s" for r in sorted(group,
                                                                  key=lambda r: int(r["line"]))]
    listed = ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"
    if len({(r["start_s"], r["end_s"]) for r in group}) == 1:
        return (f"{path}, lines {listed}: {_who(union)} {spans[0]} is listed "
                f"{len(group)} times; kept once")
    return (f"{path}, lines {listed}: {_who(union)} {', '.join(spans)} overlap; merged into "
            f"{union['start_s']:g}–{union['end_s']:g} s")


def _overlap_problem(row: pd.Series, first: pd.Series) -> str:
    if (row["start_s"], row["end_s"]) == (first["start_s"], first["end_s"]):
        return (f"{_who(row)} {row['start_s']:g}–{row['end_s']:g} s repeats line "
                f"{int(first['line'])}")
    return (f"{_who(row)} {row['start_s']:g}–{row['end_s']:g} s overlaps "
            f"{first['start_s']:g}–{first['end_s']:g} s (line {int(first['line'])})")


#: Numbers in the tables this domain writes (unblinded scores, agreement, curves).
FLOAT_FORMAT = "%.6g"


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table of this domain (unblinded scores, agreement, calibration curve)
    as CSV, atomically (whole or not at all), numbers to 6 significant digits."""
    from behavior.io.atomic import write_csv

    return write_csv(table, path, float_format=FLOAT_FORMAT)
