"""One within factor and no between factor: repeated-measures ANOVA.

Notes
-----
One-way repeated-measures ANOVA by pingouin's ``rm_anova`` (complete cases only;
incomplete subjects are dropped with a warning beforehand), with Mauchly's test and
Greenhouse–Geisser corrected degrees of freedom and p (Greenhouse & Geisser 1959);
partial eta-squared. Post hoc: paired t-tests between levels (against the control
level, or all pairs), p values and 95 % confidence intervals Sidak-adjusted over the
comparisons made.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pingouin
from scipy import stats

from behavior.errors import AnalysisError
from behavior.stats.design import SUBJECT, Design
from behavior.stats.factorial import sidak, sidak_t_critical
from behavior.stats.formatting import format_number, format_p, format_stat
from behavior.stats.outcome import Outcome, assumption_advice, check_assumptions

NAN = float("nan")


def analyze_repeated(design: Design, test: str | None, posthoc: str | None) -> Outcome:
    """Repeated-measures ANOVA over one within factor, then paired post hoc t-tests."""
    if test not in (None, "anova", "rm", "mixed"):
        raise AnalysisError(f"test '{test}' does not fit one within factor; use 'anova'")
    if posthoc not in (None, "sidak", "none"):
        raise AnalysisError(f"post hoc '{posthoc}' does not fit repeated measures; use 'sidak'")
    within, value = design.within, design.value
    assert within is not None
    levels = design.levels[within]
    wide = design.data.pivot(index=SUBJECT, columns=within, values=value)[list(levels)]
    out = Outcome()
    # the levels are the same animals, so equal variances are not assumed (sphericity is)
    min_sw, _ = check_assumptions({w: wide[w].to_numpy(float) for w in levels}, out, levene=False)
    assumption_advice(min_sw, NAN, welch=False, outcome=out, rank_test=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aov = pingouin.rm_anova(
            data=design.data,
            dv=value,
            within=within,
            subject=SUBJECT,
            correction=True,
            effsize="np2",
        )
    r = aov.iloc[0]
    eps = float(r.get("eps", NAN))
    p_gg = float(r.get("p_GG_corr", NAN))
    df1, df2 = float(r["ddof1"]), float(r["ddof2"])
    out.add_test(
        "repeated-measures ANOVA",
        within,
        r["F"],
        "F",
        df1=df1,
        df2=df2,
        p=r["p_unc"],
        p_gg=p_gg,
        epsilon=eps,
        effect_size=r["np2"],
        effect_size_name="partial eta-squared",
    )
    k = len(levels)
    w_stat = float(r.get("W_spher", NAN))
    w_p = float(r.get("p_spher", NAN))
    out.add_test(
        "Mauchly's test of sphericity", within, w_stat, "W", df1=k * (k - 1) / 2 - 1, p=w_p
    )
    if not math.isfinite(eps):
        out.warnings.append(
            f"the Greenhouse–Geisser epsilon is undefined (no within-subject error left across "
            f"{within}); corrected p values are missing"
        )
    out.primary = "repeated-measures ANOVA"

    if design.control is not None:
        pairs = [(levels[0], w) for w in levels[1:]]
    else:
        pairs = [(levels[i], levels[j]) for i in range(k) for j in range(i + 1, k)]
    m = len(pairs)
    n = len(wide)
    if posthoc != "none":
        tcrit = sidak_t_critical(n - 1, m)
        for w1, w2 in pairs:
            d = (wide[w2] - wide[w1]).to_numpy(float)
            se = float(np.std(d, ddof=1) / math.sqrt(n))
            res = stats.ttest_rel(wide[w2], wide[w1])
            out.add_comparison(
                w1,
                w2,
                d.mean(),
                d.mean() - tcrit * se,
                d.mean() + tcrit * se,
                sidak(float(res.pvalue), m),
                "paired t-test, Sidak",
                factor=within,
                statistic=res.statistic,
                p=res.pvalue,
            )
    tail = (
        f", followed by paired t-tests between {within} levels (Sidak-adjusted over {m} "
        "comparisons)"
        if posthoc != "none"
        else ""
    )
    out.methods.append(
        f"repeated-measures ANOVA over {within} (Greenhouse–Geisser corrected): "
        f"{format_stat('F', r['F'], eps * df1, eps * df2)}, {format_p(p_gg)} "
        f"(ε = {format_number(eps)}), partial η² = {format_number(r['np2'])}{tail} (n = {n})."
    )
    return out
