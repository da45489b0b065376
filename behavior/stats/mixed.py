"""One within x one between factor (PPI: prepulse level x treatment): mixed ANOVA.

Notes
-----
Split-plot ANOVA by pingouin's ``mixed_anova`` (complete cases only: subjects
missing a level are dropped, with a warning, before it runs). Mauchly's test of
sphericity and the Greenhouse–Geisser epsilon come from the pooled within-group
covariance matrix of the repeated measures (as SPSS, JASP and R's afex/car); the
within effect and the interaction are reported with Greenhouse–Geisser corrected
degrees of freedom (ε·df) and p (Greenhouse & Geisser 1959). Partial eta-squared.

Post hoc: at each within level the groups are compared by Welch's t-test (against
the control, or all pairs); p values and 95 % confidence intervals are
Sidak-adjusted over every comparison at every level.
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


def analyze_mixed(design: Design, test: str | None, posthoc: str | None) -> Outcome:
    """Mixed ANOVA with Mauchly's test, Greenhouse–Geisser correction and post hoc tests."""
    if test not in (None, "mixed", "anova"):
        raise AnalysisError(f"test '{test}' does not fit a within x between design; use 'mixed'")
    if posthoc not in (None, "sidak", "none"):
        raise AnalysisError(f"post hoc '{posthoc}' does not fit a mixed design; use 'sidak'")
    between, within, value = design.between[0], design.within, design.value
    assert within is not None
    data = design.data
    out = Outcome()
    cells = {
        f"{g} @ {w}": data.loc[(data[between] == g) & (data[within] == w), value].to_numpy(float)
        for w in design.levels[within]
        for g in design.levels[between]
    }
    min_sw, _ = check_assumptions(cells, out, levene=False)  # Levene per level below
    lev_ps = []
    for w in design.levels[within]:
        groups = [
            data.loc[(data[between] == g) & (data[within] == w), value].to_numpy(float)
            for g in design.levels[between]
        ]
        if all(len(x) >= 2 for x in groups) and any(np.ptp(x) > 0 for x in groups):
            s, p = stats.levene(*groups, center="median")
            out.assumptions.append(
                dict(
                    check="Levene (median-centred)",
                    group=f"@ {w}",
                    n=sum(map(len, groups)),
                    statistic=float(s),
                    p=float(p),
                )
            )
            lev_ps.append(p)
    assumption_advice(
        min_sw, min(lev_ps) if lev_ps else float("nan"), welch=False, outcome=out, rank_test=False
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aov = pingouin.mixed_anova(
            data=data, dv=value, within=within, subject=SUBJECT, between=between, correction=True
        )
    rows = {r["Source"]: r for _, r in aov.iterrows()}
    sentences = []
    for source, effect in (
        ("Interaction", f"{within} x {between}"),
        (between, between),
        (within, within),
    ):
        r = rows[source]
        is_within = source != between
        # pingouin leaves out the correction columns when the epsilon is undefined
        eps = float(r.get("eps", float("nan"))) if is_within else float("nan")
        p_gg = float(r.get("p_GG_corr", float("nan"))) if is_within else float("nan")
        out.add_test(
            "mixed ANOVA",
            effect,
            r["F"],
            "F",
            df1=r["DF1"],
            df2=r["DF2"],
            p=r["p_unc"],
            p_gg=p_gg,
            epsilon=eps,
            effect_size=r["np2"],
            effect_size_name="partial eta-squared",
        )
        name = ("interaction " + effect.replace(" x ", " × ")) if " x " in effect else effect
        if is_within:
            sentences.append(
                f"{name}: {format_stat('F', r['F'], eps * r['DF1'], eps * r['DF2'])}, "
                f"{format_p(p_gg)} (Greenhouse–Geisser ε = {format_number(eps)}), "
                f"partial η² = {format_number(r['np2'])}"
            )
        else:
            sentences.append(
                f"{name}: {format_stat('F', r['F'], r['DF1'], r['DF2'])}, "
                f"{format_p(r['p_unc'])}, partial η² = {format_number(r['np2'])}"
            )
    if not math.isfinite(float(rows[within].get("eps", float("nan")))):
        out.warnings.append(
            f"the Greenhouse–Geisser epsilon is undefined (no within-subject error left: every "
            f"animal changes identically across {within}); corrected p values are missing"
        )
    w_row = rows[within]
    w_stat = float(w_row.get("W_spher", float("nan")))
    w_p = float(w_row.get("p_spher", float("nan")))
    n_levels = len(design.levels[within])
    out.add_test(
        "Mauchly's test of sphericity",
        within,
        w_stat,
        "W",
        df1=n_levels * (n_levels - 1) / 2 - 1,
        p=w_p,
    )
    if n_levels > 2 and math.isfinite(w_p):
        out.advice.append(
            f"Mauchly's test {'rejects' if w_p < 0.05 else 'does not reject'} sphericity "
            f"(W = {format_number(w_stat, 3)}, {format_p(w_p)}); within effects are reported "
            "with the Greenhouse–Geisser correction either way."
        )
    out.primary = "mixed ANOVA"

    levels_b = design.levels[between]
    if design.control is not None:
        pairs = [(levels_b[0], g) for g in levels_b[1:]]
    else:
        pairs = [
            (levels_b[i], levels_b[j])
            for i in range(len(levels_b))
            for j in range(i + 1, len(levels_b))
        ]
    comparisons = [(w, g1, g2) for w in design.levels[within] for g1, g2 in pairs]
    m = len(comparisons)
    if posthoc != "none":
        for w, g1, g2 in comparisons:
            at = data[data[within] == w]
            x = at.loc[at[between] == g1, value].to_numpy(float)
            y = at.loc[at[between] == g2, value].to_numpy(float)
            res = stats.ttest_ind(y, x, equal_var=False)
            diff = y.mean() - x.mean()
            se = (
                diff / res.statistic
                if res.statistic != 0
                else math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
            )
            half = sidak_t_critical(res.df, m) * abs(se)
            out.add_comparison(
                g1,
                g2,
                diff,
                diff - half,
                diff + half,
                sidak(res.pvalue, m),
                "Welch t-test, Sidak",
                factor=between,
                at=f"{within} = {w}",
                statistic=res.statistic,
                p=res.pvalue,
            )
    n_text = ", ".join(
        f"{g} n = {data.loc[data[between] == g, SUBJECT].nunique()}" for g in levels_b
    )
    tail = (
        f", followed by Welch's t-tests between {between} groups at each {within} level "
        f"(Sidak-adjusted over {m} comparisons)"
        if posthoc != "none"
        else ""
    )
    out.methods.append(
        f"mixed ANOVA ({within} within subjects, {between} between subjects, "
        "Greenhouse–Geisser corrected): " + "; ".join(sentences) + tail + f" ({n_text})."
    )
    return out
