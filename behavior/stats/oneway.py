"""One between-subject factor: two groups, or several groups with post hoc tests.

Notes
-----
Two groups: Welch's t-test (Welch 1947), reported with the Mann–Whitney U test
beside it. Several groups: one-way ANOVA followed by Dunnett's test against the
control (Dunnett 1955) or Tukey's HSD for all pairs (Tukey–Kramer for unequal n);
or Kruskal–Wallis followed by Dunn's test (Dunn 1964, tie-corrected z, Bonferroni
adjustment over the comparisons made).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from behavior.errors import AnalysisError
from behavior.stats.design import _NUMERIC, Design
from behavior.stats.formatting import format_number, format_p, format_stat
from behavior.stats.outcome import (
    NAN,
    Outcome,
    assumption_advice,
    check_assumptions,
    hedges_g,
    rank_biserial,
)

#: Tests available for one between factor.
ONEWAY_TESTS = ("welch", "mannwhitney", "anova", "kruskal")
#: Post hoc methods available after an omnibus test.
ONEWAY_POSTHOC = ("dunnett", "tukey", "dunn", "none")

#: Seed of the quasi-Monte Carlo integration inside SciPy's Dunnett p values.
DUNNETT_SEED = 20240229


def dunn_test(samples: list[np.ndarray], pairs: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """Dunn's z and unadjusted two-sided p for each pair ``(i, j)`` of samples.

    Notes
    -----
    Ranks are taken over all samples pooled (mid-ranks for ties);
    z = (R̄_j - R̄_i) / sqrt((N(N+1)/12 - Σ(t³ - t) / (12(N - 1))) (1/n_i + 1/n_j))
    (Dunn 1964; tie correction as in Glantz).
    """
    pooled = np.concatenate(samples)
    ranks = stats.rankdata(pooled)
    n_total = len(pooled)
    _, ties = np.unique(pooled, return_counts=True)
    tie_term = float(np.sum(ties**3 - ties)) / (12 * (n_total - 1))
    bounds = np.cumsum([0] + [len(s) for s in samples])
    mean_rank = [ranks[bounds[k] : bounds[k + 1]].mean() for k in range(len(samples))]
    out = []
    for i, j in pairs:
        se = math.sqrt(
            (n_total * (n_total + 1) / 12 - tie_term) * (1 / len(samples[i]) + 1 / len(samples[j]))
        )
        z = (mean_rank[j] - mean_rank[i]) / se
        out.append((z, float(2 * stats.norm.sf(abs(z)))))
    return out


def _dunnett(samples: list[np.ndarray], control: np.ndarray):
    """SciPy's Dunnett test, seeded (``rng`` since SciPy 1.15, ``random_state`` before)."""
    try:
        return stats.dunnett(*samples, control=control, rng=DUNNETT_SEED)
    except TypeError:
        return stats.dunnett(*samples, control=control, random_state=DUNNETT_SEED)


def _level_name(factor: str, level: str) -> str:
    """``vehicle`` as is; a bare number as ``dose_mg_kg = 0``."""
    return f"{factor} = {level}" if _NUMERIC.match(level) else level


def _pairs(k: int, control: bool) -> list[tuple[int, int]]:
    if control:
        return [(0, j) for j in range(1, k)]
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def analyze_oneway(design: Design, test: str | None, posthoc: str | None) -> Outcome:
    """Run the tests of a one-factor between-subject design (see module notes)."""
    factor = design.between[0]
    value = design.value
    levels = design.levels[factor]
    samples = {
        lv: design.data.loc[design.data[factor] == lv, value].to_numpy(float) for lv in levels
    }
    out = Outcome()
    min_sw, lev_p = check_assumptions(samples, out)
    k = len(levels)
    clearly_non_normal = math.isfinite(min_sw) and min_sw < 0.01

    if test is not None and test not in ONEWAY_TESTS:
        raise AnalysisError(
            f"test '{test}' does not fit one between factor; choose one of "
            + ", ".join(ONEWAY_TESTS)
        )
    if test is None:
        if k == 2:
            test = "mannwhitney" if clearly_non_normal else "welch"
        else:
            test = "kruskal" if clearly_non_normal else "anova"
        if clearly_non_normal:
            out.advice.append(
                f"Normality clearly fails (Shapiro–Wilk {format_p(min_sw)} < 0.01), so the "
                f"rank-based test was chosen; set test to '{'welch' if k == 2 else 'anova'}' "
                "to override."
            )
    if k == 2 and test in ("anova", "kruskal"):
        test = "welch" if test == "anova" else "mannwhitney"
    if k > 2 and test in ("welch", "mannwhitney"):
        raise AnalysisError(
            f"'{test}' compares two groups but '{factor}' has {k}: {', '.join(levels)}"
        )
    assumption_advice(min_sw, lev_p, welch=(k == 2), outcome=out)
    if k == 2:
        _two_groups(samples, levels, factor, test, out)
    else:
        _several_groups(samples, levels, factor, test, posthoc, design.control, out)
    n_text = ", ".join(f"{lv} n = {len(samples[lv])}" for lv in levels)
    out.methods[0] = out.methods[0] + f" ({n_text})."
    return out


def _two_groups(samples, levels, factor, test, out: Outcome) -> None:
    g1, g2 = levels
    x, y = samples[g1], samples[g2]
    welch = stats.ttest_ind(y, x, equal_var=False)
    g = hedges_g(x, y)
    out.add_test(
        "Welch t-test",
        factor,
        welch.statistic,
        "t",
        df1=welch.df,
        p=welch.pvalue,
        effect_size=g,
        effect_size_name="Hedges' g",
    )
    mw = stats.mannwhitneyu(y, x, alternative="two-sided", method="auto")
    r = rank_biserial(mw.statistic, len(x), len(y))
    out.add_test(
        "Mann-Whitney U",
        factor,
        mw.statistic,
        "U",
        p=mw.pvalue,
        effect_size=r,
        effect_size_name="rank-biserial r",
    )
    welch_text = (
        f"Welch's t-test, {format_stat('t', welch.statistic, welch.df)}, "
        f"{format_p(welch.pvalue)}, Hedges' g = {format_number(g)}"
    )
    mw_text = (
        f"Mann–Whitney U test, U = {format_number(mw.statistic, 1)}, "
        f"{format_p(mw.pvalue)}, rank-biserial r = {format_number(r)}"
    )
    if test == "welch":
        ci = welch.confidence_interval(0.95)
        out.add_comparison(
            g1,
            g2,
            y.mean() - x.mean(),
            ci.low,
            ci.high,
            welch.pvalue,
            "Welch t-test",
            factor=factor,
            statistic=welch.statistic,
            p=welch.pvalue,
        )
        out.primary = "Welch t-test"
        out.methods += [
            f"{g2} vs {g1}: {welch_text}",
            f"Mann–Whitney U test for comparison: "
            f"U = {format_number(mw.statistic, 1)}, {format_p(mw.pvalue)}.",
        ]
    else:
        out.add_comparison(
            g1,
            g2,
            np.median(y) - np.median(x),
            NAN,
            NAN,
            mw.pvalue,
            "Mann-Whitney U (diff = difference of medians)",
            factor=factor,
            statistic=mw.statistic,
            p=mw.pvalue,
        )
        out.primary = "Mann-Whitney U"
        out.methods += [
            f"{g2} vs {g1}: {mw_text}",
            f"Welch's t-test for comparison: "
            f"{format_stat('t', welch.statistic, welch.df)}, {format_p(welch.pvalue)}.",
        ]


def _several_groups(samples, levels, factor, test, posthoc, control, out: Outcome) -> None:
    k = len(levels)
    arrays = [samples[lv] for lv in levels]
    n_total = sum(len(a) for a in arrays)
    if posthoc is not None and posthoc not in ONEWAY_POSTHOC:
        raise AnalysisError(
            f"post hoc '{posthoc}' does not fit one between factor; choose one of "
            + ", ".join(ONEWAY_POSTHOC)
        )
    if test == "anova":
        f, p = stats.f_oneway(*arrays)
        grand = np.concatenate(arrays).mean()
        ss_between = sum(len(a) * (a.mean() - grand) ** 2 for a in arrays)
        ss_total = float(np.sum((np.concatenate(arrays) - grand) ** 2))
        eta2 = ss_between / ss_total if ss_total > 0 else NAN
        out.add_test(
            "one-way ANOVA",
            factor,
            f,
            "F",
            df1=k - 1,
            df2=n_total - k,
            p=p,
            effect_size=eta2,
            effect_size_name="eta-squared",
        )
        out.primary = "one-way ANOVA"
        head = (
            f"one-way ANOVA, {format_stat('F', f, k - 1, n_total - k)}, {format_p(p)}, "
            f"η² = {format_number(eta2)}"
        )
        posthoc = posthoc or ("dunnett" if control is not None else "tukey")
        if posthoc == "dunn":
            raise AnalysisError("Dunn's test follows Kruskal–Wallis; set test to 'kruskal'")
    else:
        h, p = stats.kruskal(*arrays)
        eps2 = h / (n_total - 1)
        out.add_test(
            "Kruskal-Wallis",
            factor,
            h,
            "H",
            df1=k - 1,
            p=p,
            effect_size=eps2,
            effect_size_name="epsilon-squared",
        )
        out.primary = "Kruskal-Wallis"
        head = (
            f"Kruskal–Wallis test, {format_stat('H', h, k - 1)}, {format_p(p)}, "
            f"ε² = {format_number(eps2)}"
        )
        posthoc = posthoc or "dunn"
        if posthoc in ("dunnett", "tukey"):
            raise AnalysisError(f"{posthoc.title()}'s test follows an ANOVA; set test to 'anova'")

    if posthoc == "dunnett" and control is None:
        raise AnalysisError("Dunnett's test needs a control level (set control)")
    against = f"against {_level_name(factor, control)}" if control is not None else "for all pairs"
    if posthoc == "dunnett":
        res = _dunnett(arrays[1:], arrays[0])
        ci = res.confidence_interval(0.95)
        for j in range(1, k):
            out.add_comparison(
                levels[0],
                levels[j],
                arrays[j].mean() - arrays[0].mean(),
                ci.low[j - 1],
                ci.high[j - 1],
                res.pvalue[j - 1],
                "Dunnett",
                factor=factor,
                statistic=res.statistic[j - 1],
            )
        tail = f", followed by Dunnett's test against {_level_name(factor, levels[0])}"
    elif posthoc == "tukey":
        res = stats.tukey_hsd(*arrays)
        ci = res.confidence_interval(0.95)
        for i, j in _pairs(k, False):
            out.add_comparison(
                levels[i],
                levels[j],
                res.statistic[j, i],
                ci.low[j, i],
                ci.high[j, i],
                res.pvalue[j, i],
                "Tukey HSD",
                factor=factor,
            )
        tail = ", followed by Tukey's multiple comparisons test"
    elif posthoc == "dunn":
        pairs = _pairs(k, control is not None)
        zs = dunn_test(arrays, pairs)
        adj = multipletests([p for _, p in zs], method="bonferroni")[1]
        for (i, j), (z, praw), pa in zip(pairs, zs, adj, strict=True):
            out.add_comparison(
                levels[i],
                levels[j],
                np.median(arrays[j]) - np.median(arrays[i]),
                NAN,
                NAN,
                pa,
                "Dunn (Bonferroni; diff = difference of medians)",
                factor=factor,
                statistic=z,
                p=praw,
            )
        tail = f", followed by Dunn's test {against} (Bonferroni-adjusted)"
    else:
        tail = ""
    out.methods.append(head + tail)


def descriptive_table(
    data: pd.DataFrame, value: str, by: list[str], levels: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """n, mean, SD, SEM, median, min and max of ``value`` per cell of ``by``."""
    rows = []
    for key, grp in data.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        x = grp[value].to_numpy(float)
        n = len(x)
        sd = float(np.std(x, ddof=1)) if n > 1 else NAN
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "n": n,
                "mean": float(x.mean()),
                "sd": sd,
                "sem": sd / math.sqrt(n) if n > 1 else NAN,
                "median": float(np.median(x)),
                "min": float(x.min()),
                "max": float(x.max()),
            }
        )
    table = pd.DataFrame(rows)
    order = [table[f].map({lv: i for i, lv in enumerate(levels[f])}) for f in by]
    table = table.assign(**{f"_o{i}": o for i, o in enumerate(order)})
    table = table.sort_values([f"_o{i}" for i in range(len(by))]).drop(
        columns=[f"_o{i}" for i in range(len(by))]
    )
    return table.reset_index(drop=True)
