"""The stats entry point: tables in, tests + post hoc + descriptives + methods out."""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from behavior.errors import AnalysisError
from behavior.stats.design import (
    GROUP,
    Design,
    as_text,
    check_design,
    join_groups,
    select_rows,
)
from behavior.stats.factorial import analyze_twoway
from behavior.stats.mixed import analyze_mixed
from behavior.stats.oneway import analyze_oneway, descriptive_table
from behavior.stats.repeated import analyze_repeated


class DataWarning(UserWarning):
    """Rows were dropped or the design is unusual; the message says which and why."""


@dataclass(frozen=True)
class StatsResult:
    """Everything one analysis produced.

    Attributes
    ----------
    design
        The checked data (``design.data`` is what was analysed) and factor levels.
    tests
        One row per effect; columns :data:`behavior.stats.outcome.TEST_COLUMNS`.
    posthoc
        One row per comparison; ``diff`` = mean(group2) - mean(group1).
    descriptives
        n, mean, sd, sem, median, min, max per group or cell.
    assumptions
        Shapiro–Wilk per group/cell and Levene rows.
    primary
        Name of the main test (e.g. ``"one-way ANOVA"``).
    methods
        Sentences for a methods/results section, one per result.
    advice
        Plain sentences about the assumption checks and choices made.
    warnings
        What was dropped or looks odd (never silent).
    """

    design: Design
    tests: pd.DataFrame
    posthoc: pd.DataFrame
    descriptives: pd.DataFrame
    assumptions: pd.DataFrame
    primary: str
    methods: tuple[str, ...]
    advice: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def value(self) -> str:
        return self.design.value


def analyze(
    results: pd.DataFrame,
    groups: pd.DataFrame | None = None,
    *,
    value: str,
    between: Sequence[str] | str | None = None,
    within: str | None = None,
    control: str | None = None,
    test: str | None = None,
    posthoc: str | None = None,
    anova_type: int = 2,
    subject: str | None = None,
    where: Mapping[str, str] | None = None,
) -> StatsResult:
    """Join scores with groups, check the design and run the tests a lab expects.

    Parameters
    ----------
    results
        Tidy scores: one row per subject (or per subject x ``within`` level), with a
        ``subject`` column, or ``video`` + ``arena`` (forced swim results).
    groups
        Subject (or video + arena) -> factor columns; None when ``results``
        already carries the factors.
    value
        Column to analyse (e.g. ``immobility_s``, ``ppi_pct``).
    between
        One or two between-subject factors; default ``group`` when present
        (none with ``within``: repeated-measures ANOVA).
    within
        Within-subject factor in long layout (e.g. ``prepulse_db``).
    control
        Control level of a between factor: enables Dunnett (one factor), sets the
        reference of comparisons (two factors, mixed) and comes first in figures.
    test
        Override the automatic choice: ``welch``, ``mannwhitney``, ``anova``,
        ``kruskal`` (one factor), ``anova`` (two factors), ``mixed``.
    posthoc
        Override the post hoc test: ``dunnett``, ``tukey``, ``dunn``, ``sidak`` or
        ``none``.
    anova_type
        Sums of squares of the two-way ANOVA: 2 (default) or 3.
    subject
        Key column when it is not called ``subject``.
    where
        Keep only rows of ``results`` with these column values, e.g.
        ``{"pulse_db": "120"}`` when a PPI table holds several pulse levels.

    Returns
    -------
    StatsResult

    Notes
    -----
    Choice (each overridable): 2 groups -> Welch's t-test (Mann–Whitney reported
    too); k groups -> one-way ANOVA + Dunnett against ``control`` or Tukey for all
    pairs; Kruskal–Wallis + Dunn when asked or when normality clearly fails
    (Shapiro–Wilk p < 0.01 in some group); two between factors -> two-way ANOVA +
    Sidak; within x between -> mixed ANOVA with Greenhouse–Geisser correction +
    Sidak-adjusted Welch tests per level; one within factor alone ->
    repeated-measures ANOVA (Greenhouse–Geisser) + Sidak-adjusted paired t-tests.
    Every dropped row is reported in
    ``warnings`` and emitted as a :class:`DataWarning`.
    """
    if isinstance(between, str):
        between = [between]
    if not between:
        cols = set(results.columns) | (set(groups.columns) if groups is not None else set())
        if GROUP in cols:
            between = [GROUP]
        elif within:
            between = []
        else:
            raise AnalysisError(
                "no between factor given and no 'group' column to default to; "
                "name the factor (setting between, e.g. treatment)"
            )
    if test is not None:
        test = test.lower().replace("-", "").replace("_", "")
        test = {
            "t": "welch",
            "ttest": "welch",
            "mw": "mannwhitney",
            "kw": "kruskal",
            "kruskalwallis": "kruskal",
            "twoway": "anova",
        }.get(test, test)
    if posthoc is not None:
        posthoc = posthoc.lower()

    selected: list[str] = []
    if where:
        results = select_rows(results, dict(where), selected)
    table, msgs = join_groups(results, groups, subject=subject)
    msgs = selected + msgs
    hints = {}
    source = groups if groups is not None else results
    for f in [*between, *([within] if within else [])]:
        if f in source.columns:
            hints[f] = list(as_text(source[f]))
    design = check_design(table, value, between, within, control, level_hints=hints, warnings=msgs)

    if within and not design.between:
        outcome = analyze_repeated(design, test, posthoc)
        by = [within]
    elif within:
        outcome = analyze_mixed(design, test, posthoc)
        by = [design.between[0], within]
    elif len(design.between) == 2:
        outcome = analyze_twoway(design, test, posthoc, anova_type)
        by = list(design.between)
    else:
        outcome = analyze_oneway(design, test, posthoc)
        by = list(design.between)
    tests, post, assumptions = outcome.frames()
    descriptives = descriptive_table(design.data, value, by, design.levels)
    all_warnings = (*design.warnings, *outcome.warnings)
    for w in all_warnings:
        _warnings.warn(w, DataWarning, stacklevel=2)
    return StatsResult(
        design=design,
        tests=tests,
        posthoc=post,
        descriptives=descriptives,
        assumptions=assumptions,
        primary=outcome.primary,
        methods=tuple(outcome.methods),
        advice=tuple(outcome.advice),
        warnings=tuple(all_warnings),
    )
