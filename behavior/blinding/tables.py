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
    whose ``Behavior type`` is ``POINT`` are skipped (only states are bouts).
"""

from __future__ import annotations

from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.fst.summary import SUMMARY_COLUMNS

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


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                           encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read CSV: {exc}") from None


def video_stem(name: str) -> str:
    """The identity of a video in a table: its file name without folders or suffix."""
    pure = PurePath(name.replace("\\", "/"))
    return pure.stem if pure.suffix else pure.name


def read_groups(path: str | Path) -> pd.DataFrame:
    """Read a groups table; every cell text, stripped; no blank keys or duplicate videos."""
    path = Path(path)
    table = _read_csv(path)
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

    Checks: numbers, ``0 <= start_s < end_s``, no overlap of two intervals of one
    behaviour in one video (per observer).
    """
    path = Path(path)
    raw = _read_csv(path)
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
    for column in ("start_s", "end_s"):
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)))
        if bad.size:
            i = int(bad[0])
            raise InputError(path, f"'{column}' is not a number: {raw[column].iloc[i]!r}",
                             line=int(lines[i]))
        out[column] = values.to_numpy(float)
    out["line"] = lines
    for column in ["video", "behaviour"] + ([OBSERVER] if OBSERVER in out else []):
        blank = np.flatnonzero(out[column].to_numpy() == "")
        if blank.size:
            raise InputError(path, f"empty '{column}'", line=int(lines[blank[0]]))
    invalid = (out["start_s"] < 0) | (out["end_s"] <= out["start_s"])
    bad = np.flatnonzero(invalid.to_numpy())
    if bad.size:
        r = out.iloc[int(bad[0])]
        raise InputError(path, f"interval {r['start_s']:g}–{r['end_s']:g} s must have "
                         "0 <= start_s < end_s", line=int(r["line"]))
    check_overlaps(out, path)
    return out


def check_overlaps(intervals: pd.DataFrame, path: str | Path) -> None:
    """Refuse two intervals of one behaviour in one video (per observer) that overlap."""
    keys = [k for k in (OBSERVER, "video", "behaviour") if k in intervals.columns]
    for _, part in intervals.sort_values("start_s", kind="stable").groupby(keys, sort=False):
        starts, ends = part["start_s"].to_numpy(), part["end_s"].to_numpy()
        running_end = np.maximum.accumulate(ends)
        clash = np.flatnonzero(starts[1:] < running_end[:-1])
        if clash.size:
            a = part.iloc[int(clash[0]) + 1]
            prev = part.iloc[: int(clash[0]) + 1]
            b = prev.iloc[int(np.argmax(prev["end_s"].to_numpy()))]
            raise InputError(path, f"video {a['video']}: {a['behaviour']} {a['start_s']:g}–"
                             f"{a['end_s']:g} s overlaps {b['start_s']:g}–{b['end_s']:g} s "
                             f"(line {int(b['line'])})", line=int(a["line"]))
