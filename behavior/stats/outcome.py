"""Result rows shared by every test family, effect sizes and assumption checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from behavior.stats.formatting import format_p

#: Columns of ``tests.csv``, one row per effect.
TEST_COLUMNS = (
    "test",
    "effect",
    "statistic",
    "df1",
    "df2",
    "p",
    "p_gg",
    "epsilon",
    "effect_size",
    "effect_size_name",
    "statistic_name",
)
#: Columns of ``posthoc.csv``, one row per comparison; ``diff`` = mean(group2) - mean(group1).
POSTHOC_COLUMNS = (
    "group1",
    "group2",
    "diff",
    "ci_low",
    "ci_high",
    "p_adj",
    "method",
    "factor",
    "at",
    "statistic",
    "p",
)
#: Columns of ``assumptions.csv``.
ASSUMPTION_COLUMNS = ("check", "group", "n", "statistic", "p")

NAN = float("nan")


@dataclass
class Outcome:
    """Rows collected while one design is analysed (internal, mutable)."""

    tests: list[dict] = field(default_factory=list)
    posthoc: list[dict] = field(default_factory=list)
    assumptions: list[dict] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    primary: str = ""

    def add_test(
        self,
        test: str,
        effect: str,
        statistic: float,
        statistic_name: str,
        *,
        df1: float = NAN,
        df2: float = NAN,
        p: float = NAN,
        p_gg: float = NAN,
        epsilon: float = NAN,
        effect_size: float = NAN,
        effect_size_name: str = "",
    ) -> None:
        self.tests.append(
            dict(
                test=test,
                effect=effect,
                statistic=float(statistic),
                df1=float(df1),
                df2=float(df2),
                p=float(p),
                p_gg=float(p_gg),
                epsilon=float(epsilon),
                effect_size=float(effect_size),
                effect_size_name=effect_size_name,
                statistic_name=statistic_name,
            )
        )

    def add_comparison(
        self,
        group1: str,
        group2: str,
        diff: float,
        ci_low: float,
        ci_high: float,
        p_adj: float,
        method: str,
        *,
        factor: str,
        at: str = "",
        statistic: float = NAN,
        p: float = NAN,
    ) -> None:
        self.posthoc.append(
            dict(
                group1=group1,
                group2=group2,
                diff=float(diff),
                ci_low=float(ci_low),
                ci_high=float(ci_high),
                p_adj=float(p_adj),
                method=method,
                factor=factor,
                at=at,
                statistic=float(statistic),
                p=float(p),
            )
        )

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return (
            pd.DataFrame(self.tests, columns=list(TEST_COLUMNS)),
            pd.DataFrame(self.posthoc, columns=list(POSTHOC_COLUMNS)),
            pd.DataFrame(self.assumptions, columns=list(ASSUMPTION_COLUMNS)),
        )


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Hedges' g of ``y`` against ``x``: Cohen's d (pooled SD) times the exact J.

    Notes
    -----
    d = (mean(y) - mean(x)) / s_pooled; J = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2)),
    m = n_x + n_y - 2 (Hedges 1981).
    """
    nx, ny = len(x), len(y)
    m = nx + ny - 2
    sp = math.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / m)
    if sp == 0:
        return NAN
    d = (np.mean(y) - np.mean(x)) / sp
    j = math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / math.sqrt(m / 2)
    return float(d * j)


def rank_biserial(u_of_y: float, nx: int, ny: int) -> float:
    """Rank-biserial correlation from the Mann–Whitney U of ``y``: 2U/(n_x n_y) - 1.

    Positive when ``y`` tends to be larger (Kerby 2014).
    """
    return float(2 * u_of_y / (nx * ny) - 1)


def check_assumptions(
    samples: dict[str, np.ndarray], outcome: Outcome, *, levene: bool = True
) -> tuple[float, float]:
    """Shapiro–Wilk per group and (``levene``) Levene's test, median-centred, across groups.

    Returns the smallest Shapiro–Wilk p and the Levene p (NaN when not computable),
    and appends one row per check to ``outcome.assumptions``.
    """
    min_p = NAN
    skipped = []
    if all(np.ptp(x) == 0 for x in samples.values() if len(x)):
        outcome.warnings.append(
            "no variation within any group (every animal in a group has the same value): "
            "t and F statistics are undefined; check the value column"
        )
    for name, x in samples.items():
        if len(x) < 3 or np.ptp(x) == 0:
            skipped.append(name)
            continue
        w, p = stats.shapiro(x)
        outcome.assumptions.append(
            dict(check="Shapiro-Wilk", group=name, n=len(x), statistic=float(w), p=float(p))
        )
        min_p = p if not math.isfinite(min_p) else min(min_p, p)
    if skipped:
        outcome.advice.append(
            "Shapiro–Wilk was not run for "
            + ", ".join(skipped)
            + " (needs at least 3 animals that are not all equal)."
        )
    lev_p = NAN
    usable = [x for x in samples.values() if len(x) >= 2]
    if levene and len(usable) >= 2 and any(np.ptp(x) > 0 for x in usable):
        stat, lev_p = stats.levene(*usable, center="median")
        outcome.assumptions.append(
            dict(
                check="Levene (median-centred)",
                group="all",
                n=sum(map(len, usable)),
                statistic=float(stat),
                p=float(lev_p),
            )
        )
    return float(min_p), float(lev_p)


def assumption_advice(
    min_shapiro_p: float, levene_p: float, *, welch: bool, outcome: Outcome, rank_test: bool = True
) -> None:
    """Plain-language advice from the assumption checks."""
    normal_ok = not (math.isfinite(min_shapiro_p) and min_shapiro_p < 0.05)
    equal_ok = not (math.isfinite(levene_p) and levene_p < 0.05)
    if normal_ok and equal_ok:
        outcome.advice.append(
            "No clear departure from normality (Shapiro–Wilk, smallest "
            f"{format_p(min_shapiro_p)})"
            + (
                f" or from equal variances (Levene, {format_p(levene_p)})."
                if math.isfinite(levene_p)
                else "."
            )
        )
    if not normal_ok:
        clearly = min_shapiro_p < 0.01
        outcome.advice.append(
            f"Shapiro–Wilk suggests non-normal data in at least one group (smallest "
            f"{format_p(min_shapiro_p)}). "
            + (
                (
                    "This is a clear departure: a rank-based test (Mann–Whitney / Kruskal–Wallis) "
                    "is the safer choice. "
                    if rank_test
                    else "This is a clear departure; this design has no rank-based equivalent, "
                    "so check for outliers or analyse a transformed value (e.g. log). "
                )
                if clearly
                else "With small groups this is weak evidence; the parametric test is usually "
                "still fine" + (", but check the rank-based result agrees. " if rank_test else ". ")
            )
            + "Look at the dots in the figure for outliers before deciding."
        )
    if not equal_ok:
        outcome.advice.append(
            f"Levene's test suggests unequal variances ({format_p(levene_p)}). "
            + (
                "Welch's t-test does not assume equal variances, so no change is needed."
                if welch
                else "ANOVA tolerates this when group sizes are equal; otherwise consider a "
                "log transform" + (" or the Kruskal–Wallis test." if rank_test else ".")
            )
        )
