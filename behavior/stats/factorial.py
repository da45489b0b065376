"""Two between-subject factors: two-way ANOVA and Sidak-corrected simple effects.

Notes
-----
The ANOVA is an ordinary least-squares fit (statsmodels ``ols`` + ``anova_lm``)
with Type II sums of squares by default (each main effect adjusted for the other,
the interaction for both) or Type III with sum-to-zero contrasts. Partial
eta-squared = SS_effect / (SS_effect + SS_residual).

Post hoc (Prism's "compare cell means within each row"): levels of the treatment
factor (the one holding the control, else the first) are compared within each
level of the other factor, with t = diff / sqrt(MS_residual (1/n_i + 1/n_j)) on the
residual degrees of freedom of the full model; p values and 95 % confidence
intervals are Sidak-adjusted over all comparisons made:
p_adj = 1 - (1 - p)^m, CI at level (0.95)^(1/m).
"""

from __future__ import annotations

import math

from scipy import stats
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from behavior.errors import AnalysisError
from behavior.stats.design import Design
from behavior.stats.formatting import format_number, format_p, format_stat
from behavior.stats.outcome import Outcome, assumption_advice, check_assumptions


def sidak(p: float, m: int) -> float:
    """Sidak adjustment of one p value among ``m`` comparisons: 1 - (1 - p)^m."""
    return float(-math.expm1(m * math.log1p(-min(p, 1.0)))) if p < 1 else 1.0


def sidak_t_critical(df: float, m: int, alpha: float = 0.05) -> float:
    """Two-sided t quantile for a Sidak-adjusted (1 - alpha) confidence interval."""
    alpha_one = -math.expm1(math.log1p(-alpha) / m)
    return float(stats.t.ppf(1 - alpha_one / 2, df))


def analyze_twoway(
    design: Design, test: str | None, posthoc: str | None, anova_type: int = 2
) -> Outcome:
    """Two-way ANOVA with interaction, then Sidak simple-effect comparisons."""
    if test not in (None, "anova", "twoway"):
        raise AnalysisError(f"test '{test}' does not fit two between factors; use 'anova'")
    if posthoc not in (None, "sidak", "none"):
        raise AnalysisError(f"post hoc '{posthoc}' does not fit two factors; use 'sidak'")
    if anova_type not in (2, 3):
        raise AnalysisError(f"anova_type must be 2 or 3, not {anova_type}")
    a, b = design.between
    data = design.data.rename(columns={a: "fa", b: "fb", design.value: "y"})
    out = Outcome()
    cells = {
        f"{x} / {y}": g["y"].to_numpy(float) for (x, y), g in data.groupby(["fa", "fb"], sort=False)
    }
    min_sw, lev_p = check_assumptions(cells, out)
    assumption_advice(min_sw, lev_p, welch=False, outcome=out, rank_test=False)

    if anova_type == 2:
        model = ols("y ~ C(fa) * C(fb)", data=data).fit()
    else:
        model = ols("y ~ C(fa, Sum) * C(fb, Sum)", data=data).fit()
    table = anova_lm(model, typ=anova_type)
    table = table.drop(index=[i for i in table.index if i == "Intercept"])
    ss_res = float(table.loc["Residual", "sum_sq"])
    df_res = float(table.loc["Residual", "df"])
    label = "Type II" if anova_type == 2 else "Type III"
    sentences = []
    for (idx, row), effect in zip(
        table.drop(index="Residual").iterrows(), (a, b, f"{a} x {b}"), strict=True
    ):
        del idx
        pe2 = row["sum_sq"] / (row["sum_sq"] + ss_res)
        out.add_test(
            f"two-way ANOVA ({label})",
            effect,
            row["F"],
            "F",
            df1=row["df"],
            df2=df_res,
            p=row["PR(>F)"],
            effect_size=pe2,
            effect_size_name="partial eta-squared",
        )
        what = (
            ("interaction " + effect.replace(" x ", " × "))
            if " x " in effect
            else f"main effect of {effect}"
        )
        sentences.append(
            f"{what}: {format_stat('F', row['F'], row['df'], df_res)}, "
            f"{format_p(row['PR(>F)'])}, partial η² = {format_number(pe2)}"
        )
    out.primary = f"two-way ANOVA ({label})"

    treat = design.control_factor or a
    other = b if treat == a else a
    tcol, ocol = ("fa", "fb") if treat == a else ("fb", "fa")
    ms_res = ss_res / df_res
    comparisons = []
    t_levels = design.levels[treat]
    for lv in design.levels[other]:
        sub = data[data[ocol] == lv]
        if design.control is not None:
            pairs = [(t_levels[0], t) for t in t_levels[1:]]
        else:
            pairs = [
                (t_levels[i], t_levels[j])
                for i in range(len(t_levels))
                for j in range(i + 1, len(t_levels))
            ]
        for g1, g2 in pairs:
            x = sub.loc[sub[tcol] == g1, "y"].to_numpy(float)
            y = sub.loc[sub[tcol] == g2, "y"].to_numpy(float)
            comparisons.append((lv, g1, g2, x, y))
    m = len(comparisons)
    if posthoc != "none":
        tcrit = sidak_t_critical(df_res, m)
        for lv, g1, g2, x, y in comparisons:
            diff = y.mean() - x.mean()
            se = math.sqrt(ms_res * (1 / len(x) + 1 / len(y)))
            t = diff / se
            p = float(2 * stats.t.sf(abs(t), df_res))
            out.add_comparison(
                g1,
                g2,
                diff,
                diff - tcrit * se,
                diff + tcrit * se,
                sidak(p, m),
                "Sidak",
                factor=treat,
                at=f"{other} = {lv}",
                statistic=t,
                p=p,
            )
    tail = (
        f", followed by Sidak's multiple comparisons of {treat} within each level of {other}"
        if posthoc != "none"
        else ""
    )
    n_text = ", ".join(f"{k} n = {len(v)}" for k, v in cells.items())
    out.methods.append(
        f"two-way ANOVA ({label} sums of squares) of {a} × {b}: "
        + "; ".join(sentences)
        + tail
        + f" ({n_text})."
    )
    return out
