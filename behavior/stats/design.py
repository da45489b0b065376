"""Join a results table with a groups table and check the design before any test.

Everything here is pure: tables in, one tidy table plus the list of what was dropped
and why out. Nothing is ever dropped without a message in that list.

Tidy layout
-----------
One row per subject (between-subject designs) or per subject x within level
(repeated measures), with columns :data:`SUBJECT`, one column per factor, and the
value column under its own name.

Keys
----
A results table and a groups table are matched on ``subject`` when both have it,
otherwise on ``video`` + ``arena`` (the forced swim auto-scorer's key; ``video`` may
be a file name or a path on either side — only the file name is compared).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavior.errors import AnalysisError

#: Column identifying the animal in the tidy table.
SUBJECT = "subject"
#: Forced swim key columns.
VIDEO = "video"
ARENA = "arena"
#: Column of the startle module's PPI table: a reason when the animal was excluded.
EXCLUDED = "excluded"
#: Column of the startle module's PPI table: why the animal was excluded.
EXCLUSION_REASON = "exclusion_reason"
#: Column holding the group in unblinded manual scores.
GROUP = "group"
#: Column saying why a value is empty (unblinded scores, forced swim results).
NOTE = "note"
#: Seconds of the scored window that were observed (forced swim summaries).
SCORED_S = "scored_s"
#: Forced swim columns that do not describe the window (kept when ``scored_s`` is 0).
_NOT_WINDOW_MEASURES = {"latency_s", "scored_bins", "window_start_s", "window_end_s"}

_MISSING_TEXT = {"", "na", "nan", "n/a", "none", "null"}
_NUMERIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Design:
    """The checked data and what describes it.

    Attributes
    ----------
    data
        Tidy table: ``subject``, factor columns (text), the value column (float).
    value
        Name of the value column.
    between
        Between-subject factors, 0 to 2.
    within
        Within-subject factor, or None.
    levels
        Ordered levels of every factor (numeric-looking levels in numeric order,
        otherwise in order of first appearance; the control level first).
    control
        Control level of the first between factor that holds it, or None.
    control_factor
        The factor that holds ``control``, or None.
    warnings
        What was dropped or looks odd, one sentence each.
    """

    data: pd.DataFrame
    value: str
    between: tuple[str, ...]
    within: str | None
    levels: dict[str, tuple[str, ...]]
    control: str | None
    control_factor: str | None
    warnings: tuple[str, ...]


def as_text(values: pd.Series) -> pd.Series:
    """Labels as stripped text; missing -> ``""``; ``1.0`` -> ``"1"`` (so 1 and 1.0 match)."""

    def one(x: object) -> str:
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
            return ""
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            return str(int(x))
        text = str(x).strip()
        if re.fullmatch(r"[+-]?\d+\.0+", text):
            text = text.split(".")[0]
        return text

    return pd.Series([one(x) for x in values], index=values.index, dtype=object)


def _video_name(values: pd.Series) -> pd.Series:
    return as_text(values).map(lambda s: re.split(r"[\\/]", s)[-1])


def _names(items: Sequence[str], limit: int = 40) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def order_levels(labels: Sequence[str], first: str | None = None) -> tuple[str, ...]:
    """Distinct labels, numerically sorted when all look numeric, else in order seen.

    ``first`` (the control level) is moved to the front.
    """
    seen = list(dict.fromkeys(labels))
    if seen and all(_NUMERIC.match(s) for s in seen):
        seen.sort(key=float)
    if first is not None and first in seen:
        seen.remove(first)
        seen.insert(0, first)
    return tuple(seen)


def join_groups(
    results: pd.DataFrame, groups: pd.DataFrame | None, *, subject: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Attach the groups table's factor columns to every results row.

    Parameters
    ----------
    results
        Scores: one row per subject, or per subject x within level.
    groups
        Subject (or video + arena) -> factor columns. None when ``results``
        already holds the factors (unblinded manual scores carry ``group``).
    subject
        Name of the key column when it is not ``subject``.

    Returns
    -------
    table, warnings
        ``results`` with a text ``subject`` column and the factor columns; the
        messages say which rows were dropped and why.
    """
    warnings: list[str] = []
    res = results.copy()
    key = subject or SUBJECT
    if groups is None:
        if key not in res.columns and subject is None and {VIDEO, ARENA} <= set(res.columns):
            res[SUBJECT] = _video_name(res[VIDEO]) + " arena " + as_text(res[ARENA])
            return res, warnings
        if key not in res.columns:
            raise AnalysisError(
                f"the results table has no '{key}' column (columns: {_names(res.columns)})"
            )
        res[SUBJECT] = as_text(res[key])
        return res, warnings

    grp = groups.copy()
    if key in res.columns and key in grp.columns:
        res[SUBJECT] = as_text(res[key])
        grp[SUBJECT] = as_text(grp[key])
        key_cols = [key]
    elif {VIDEO, ARENA} <= set(res.columns) and {VIDEO, ARENA} <= set(grp.columns):
        for t in (res, grp):
            t[SUBJECT] = _video_name(t[VIDEO]) + " arena " + as_text(t[ARENA])
        key_cols = [VIDEO, ARENA]
    else:
        raise AnalysisError(
            f"cannot match the results table to the groups table: both need a '{key}' column, "
            f"or both 'video' and 'arena' (results columns: {_names(res.columns)}; "
            f"groups columns: {_names(grp.columns)})"
        )

    blank = grp[SUBJECT].str.replace(" arena ", "", regex=False) == ""
    if blank.any():
        warnings.append(f"groups table: {int(blank.sum())} row(s) without a subject were ignored")
        grp = grp[~blank]
    factor_cols = [c for c in grp.columns if c not in (*key_cols, SUBJECT)]
    dup = grp[grp.duplicated(SUBJECT, keep=False)]
    if not dup.empty:
        conflicting = [
            s
            for s, rows in dup.groupby(SUBJECT, sort=False)
            if len(rows[factor_cols].apply(lambda r: tuple(as_text(r)), axis=1).unique()) > 1
        ]
        if conflicting:
            raise AnalysisError(
                "the groups table gives different groups for the same subject: "
                + _names(conflicting)
            )
        warnings.append(
            "groups table lists these subjects more than once (same groups, kept once): "
            + _names(dup[SUBJECT].unique())
        )
        grp = grp.drop_duplicates(SUBJECT)

    clash = [c for c in factor_cols if c in res.columns]
    for c in clash:
        theirs = dict(zip(grp[SUBJECT], as_text(grp[c]), strict=True))
        ours = as_text(res[c])
        differ = [
            s for s, v in zip(res[SUBJECT], ours, strict=True) if s in theirs and theirs[s] != v
        ]
        if differ:
            warnings.append(
                f"column '{c}' differs between the tables for {_names(list(dict.fromkeys(differ)))}"
                f"; the groups table's '{c}' is used"
            )
    res = res.drop(columns=clash)

    known = set(grp[SUBJECT])
    unknown = [s for s in dict.fromkeys(res[SUBJECT]) if s not in known]
    if unknown:
        warnings.append(
            f"dropped {len(unknown)} subject(s) not in the groups table: {_names(unknown)}"
        )
    absent = [s for s in grp[SUBJECT] if s not in set(res[SUBJECT])]
    if absent:
        warnings.append(
            f"{len(absent)} subject(s) of the groups table have no results: {_names(absent)}"
        )
    merged = res.merge(grp[[SUBJECT, *factor_cols]], on=SUBJECT, how="inner", sort=False)
    return merged, warnings


def _numeric_values(table: pd.DataFrame, value: str, warnings: list[str]) -> pd.DataFrame:
    raw = table[value]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        numbers = raw.astype(float)
        text = pd.Series([""] * len(raw), index=raw.index, dtype=object)
        text[numbers.notna()] = "x"
    else:
        text = as_text(raw)
        numbers = pd.to_numeric(
            text.where(text.str.lower().map(lambda s: s not in _MISSING_TEXT)), errors="coerce"
        )
    bad = numbers.isna() & ~text.str.lower().isin(_MISSING_TEXT)
    if bad.any():
        pairs = [f"{s} ('{t}')" for s, t in zip(table.loc[bad, SUBJECT], text[bad], strict=True)]
        warnings.append(f"dropped {int(bad.sum())} non-numeric '{value}' value(s): {_names(pairs)}")
    empty = numbers.isna() & ~bad
    if empty.any():
        # the reason an upstream step gave for an empty value (e.g. the recording ended
        # before the window), named with each animal
        notes = as_text(table[NOTE]) if NOTE in table.columns else None
        named = [
            f"{s} ({notes[i]})" if notes is not None and notes[i] else str(s)
            for i, s in zip(table.index[empty], table.loc[empty, SUBJECT], strict=True)
        ]
        warnings.append(
            f"dropped {int(empty.sum())} row(s) with no '{value}' value: " + _names(named)
        )
    finite = numbers.notna() & ~np.isfinite(numbers.fillna(0.0))
    if finite.any():
        warnings.append(
            f"dropped {int(finite.sum())} infinite '{value}' value(s): "
            + _names(table.loc[finite, SUBJECT].tolist())
        )
    out = table.copy()
    out[value] = numbers
    return out[numbers.notna() & ~finite]


def _drop_unobserved(table: pd.DataFrame, value: str, warnings: list[str]) -> pd.DataFrame:
    """Drop window measures of rows whose ``scored_s`` is 0: nothing of the window was
    observed, so a 0 there means "not seen", not "none" (tables written before such
    values were left empty carry 0s). Latency and per-bin columns are not window
    measures and are kept."""
    if SCORED_S not in table.columns or value == SCORED_S or value in _NOT_WINDOW_MEASURES \
            or value.startswith("immobile_s_"):
        return table
    scored = pd.to_numeric(as_text(table[SCORED_S]), errors="coerce")
    unobserved = scored == 0
    if unobserved.any():
        warnings.append(
            f"dropped {int(unobserved.sum())} row(s) where nothing of the window was observed "
            f"({SCORED_S} = 0), so '{value}' there is not a measurement: "
            + _names(table.loc[unobserved, SUBJECT].tolist())
        )
    return table[~unobserved]


def _drop_excluded(table: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Drop animals flagged in ``excluded`` (a reason, or True with ``exclusion_reason``)."""
    if EXCLUDED not in table.columns:
        return table
    flag = as_text(table[EXCLUDED])
    flagged = flag.str.lower().map(lambda s: s not in _MISSING_TEXT and s not in {"false", "0"})
    if not flagged.any():
        return table
    if EXCLUSION_REASON in table.columns:
        reason = as_text(table[EXCLUSION_REASON])
    else:
        reason = flag.where(~flag.str.lower().isin({"true", "1"}), "")
    parts: list[str] = []
    for s, r in zip(table.loc[flagged, SUBJECT], reason[flagged], strict=True):
        item = f"{s} ({r})" if r else s
        if item not in parts:
            parts.append(item)
    subjects = table.loc[flagged, SUBJECT].unique()
    warnings.append(f"dropped {len(subjects)} excluded subject(s): {_names(parts)}")
    return table[~table[SUBJECT].isin(subjects)]


def select_rows(table: pd.DataFrame, where: dict[str, str], warnings: list[str]) -> pd.DataFrame:
    """Keep the rows whose column equals the given text (e.g. ``pulse_db = 120``)."""
    for col, wanted in where.items():
        if col not in table.columns:
            raise AnalysisError(
                f"cannot select on '{col}': no such column (columns: {_names(table.columns)})"
            )
        text = as_text(table[col])
        want = as_text(pd.Series([wanted])).iloc[0]
        keep = text == want
        if not keep.any() and _NUMERIC.match(want):
            target = float(want)
            keep = pd.Series(
                [bool(_NUMERIC.match(s)) and float(s) == target for s in text], index=text.index
            )
        if not keep.any():
            raise AnalysisError(
                f"no rows with {col} = {wanted} (values: {_names(sorted(set(text)))})"
            )
        warnings.append(
            f"kept {int(keep.sum())} of {len(table)} rows where {col} = {wanted} (as asked)"
        )
        table = table[keep]
    return table


def check_design(
    table: pd.DataFrame,
    value: str,
    between: Sequence[str] = (),
    within: str | None = None,
    control: str | None = None,
    *,
    level_hints: dict[str, Sequence[str]] | None = None,
    warnings: Sequence[str] = (),
) -> Design:
    """Validate a joined table and reduce it to the tidy layout of the design.

    Raises
    ------
    AnalysisError
        When a column is missing, a subject has several rows without a within
        factor, a cell of a factorial design is empty, or fewer than two groups remain.

    Notes
    -----
    Dropped, each with a warning naming the subjects: subjects marked in an
    ``excluded`` column (with the reason), rows with a missing or non-numeric value
    (with the ``note`` of the row, when the table has one) or factor level, window
    measures of rows with ``scored_s`` = 0 (nothing of the window observed),
    subjects missing a within level (complete cases are needed for the
    repeated-measures ANOVA), and groups with fewer than two animals in a
    one-factor design.
    """
    msgs = list(warnings)
    between = tuple(between)
    factors = (*between, *((within,) if within else ()))
    if len(set(factors)) != len(factors):
        raise AnalysisError(f"a factor is named twice: {', '.join(factors)}")
    for col in (value, *factors):
        if col not in table.columns:
            raise AnalysisError(f"no column '{col}' in the data (columns: {_names(table.columns)})")
    if len(between) > 2:
        raise AnalysisError("at most two between-subject factors are supported")
    if within and len(between) > 1:
        raise AnalysisError(
            "a within factor can be combined with at most one between factor (mixed ANOVA); "
            f"got {len(between)}"
        )
    if not between and not within:
        raise AnalysisError("give at least one between-subject factor "
                            "(setting between, e.g. group)")

    table = _drop_excluded(table, msgs)
    table = table.copy()
    for f in factors:
        table[f] = as_text(table[f])
        miss = table[f] == ""
        if miss.any():
            msgs.append(
                f"dropped {int(miss.sum())} row(s) with no '{f}' level: "
                + _names(table.loc[miss, SUBJECT].unique())
            )
            table = table[~miss]
    table = _numeric_values(table, value, msgs)
    table = _drop_unobserved(table, value, msgs)

    if within:
        dup = table[table.duplicated([SUBJECT, within], keep=False)]
        if not dup.empty:
            raise AnalysisError(
                f"several rows for the same subject and '{within}' level: "
                + _names(list(dict.fromkeys(dup[SUBJECT] + " @ " + dup[within])))
                + "; select one condition (setting where, e.g. pulse_db = 120)"
            )
    else:
        dup = table[table.duplicated(SUBJECT, keep=False)]
        if not dup.empty:
            counts = dup.groupby(SUBJECT).size()
            raise AnalysisError(
                "several rows per subject but no within factor: "
                + _names([f"{s} ({n} rows)" for s, n in counts.items()])
                + "; name the within-subject factor (setting within) for repeated measures, "
                "or select one condition (setting where, e.g. pulse_db = 120)"
            )

    hints = level_hints or {}
    control_factor = None
    if control is not None:
        control = as_text(pd.Series([control])).iloc[0]
        for f in between or (within,):
            labels = set(table[f])
            if control in labels:
                control_factor = f
                break
            numeric = [s for s in labels if _NUMERIC.match(s)]
            if _NUMERIC.match(control) and any(float(s) == float(control) for s in numeric):
                control = next(s for s in numeric if float(s) == float(control))
                control_factor = f
                break
        if control_factor is None:
            lv = {f: sorted(set(table[f])) for f in between or (within,)}
            raise AnalysisError(
                f"control level '{control}' is not a level of "
                + " or ".join(f"'{f}' ({', '.join(v)})" for f, v in lv.items())
            )

    if within:
        wl = order_levels(list(hints.get(within, [])) + list(table[within]))
        wl = tuple(w for w in wl if w in set(table[within]))
        have = table.groupby(SUBJECT)[within].agg(lambda s: set(s))
        incomplete = {
            s: [w for w in wl if w not in got] for s, got in have.items() if len(got) < len(wl)
        }
        if incomplete:
            msgs.append(
                f"dropped {len(incomplete)} subject(s) missing a '{within}' level "
                "(repeated measures need every level): "
                + _names([f"{s} (no {', '.join(m)})" for s, m in incomplete.items()])
            )
            table = table[~table[SUBJECT].isin(list(incomplete))]

    per_subject = table.drop_duplicates(SUBJECT)
    if len(between) == 1:
        f = between[0]
        n = per_subject.groupby(f).size()
        small = n[n < 2]
        if not small.empty:
            msgs.append(
                "dropped group(s) with fewer than 2 animals: "
                + _names([f"{f} = {g} (n = {k})" for g, k in small.items()])
            )
            table = table[~table[f].isin(small.index)]
            per_subject = table.drop_duplicates(SUBJECT)
            if control is not None and control in set(small.index):
                raise AnalysisError(f"the control group '{control}' has fewer than 2 animals")
        if per_subject[f].nunique() < 2:
            raise AnalysisError(
                f"fewer than two groups of '{f}' with at least 2 animals remain "
                f"({', '.join(sorted(set(per_subject[f]))) or 'none'})"
            )
    elif len(between) == 2:
        a, b = between
        cells = per_subject.groupby([a, b]).size()
        full = pd.MultiIndex.from_product(
            [sorted(set(per_subject[a])), sorted(set(per_subject[b]))]
        )
        cells = cells.reindex(full, fill_value=0)
        thin = cells[cells < 2]
        if not thin.empty:
            raise AnalysisError(
                "two-way ANOVA needs at least 2 animals in every cell; too few in: "
                + _names([f"{a} = {x}, {b} = {y} (n = {k})" for (x, y), k in thin.items()])
            )
        if per_subject[a].nunique() < 2 or per_subject[b].nunique() < 2:
            raise AnalysisError("each between factor needs at least two levels")
        if cells.nunique() > 1:
            msgs.append(
                f"unbalanced design (n = {cells.min()} to {cells.max()} per cell): "
                "Type II and Type III sums of squares differ; the type used is stated"
            )
    elif len(per_subject) < 2:
        raise AnalysisError("a repeated-measures ANOVA needs at least 2 complete subjects")
    if within and between:
        n = per_subject.groupby(between[0]).size()
        if n.nunique() > 1:
            msgs.append(
                "unequal group sizes in the mixed design ("
                + ", ".join(f"{g}: n = {k}" for g, k in n.items())
                + "); the ANOVA is valid but less robust to unequal covariance matrices"
            )
    if within:
        if table[within].nunique() < 2:
            raise AnalysisError(f"the within factor '{within}' has fewer than two levels")

    levels = {}
    for f in factors:
        levels[f] = order_levels(
            [s for s in hints.get(f, []) if s in set(table[f])] + list(table[f]),
            first=control if f == control_factor else None,
        )
    keep = [SUBJECT, *factors, value]
    tidy = table[keep].reset_index(drop=True)
    return Design(
        data=tidy,
        value=value,
        between=between,
        within=within,
        levels=levels,
        control=control,
        control_factor=control_factor,
        warnings=tuple(msgs),
    )
