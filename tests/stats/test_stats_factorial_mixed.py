"""Two-way and mixed ANOVA against sums of squares and epsilon computed by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from behavior.stats import analyze
from behavior.stats.factorial import sidak


def quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(*args, **kw)


# 2 x 2, n = 2 per cell. Cell means A1B1 2, A1B2 6, A2B1 4, A2B2 12; grand mean 6.
# A means 4, 8 -> SSA = 4 * (4 + 4) = 32; B means 3, 9 -> SSB = 4 * (9 + 9) = 72;
# interaction residuals +-1 per cell -> SSAB = 2 * 4 = 8; within each cell +-1 -> SSE = 8.
# df_error = 4, MSE = 2: F_A = 16, F_B = 36, F_AB = 4.
CELLS = {
    ("A1", "B1"): [1, 3],
    ("A1", "B2"): [5, 7],
    ("A2", "B1"): [3, 5],
    ("A2", "B2"): [11, 13],
}


def twoway_table(cells=CELLS) -> pd.DataFrame:
    rows = []
    for (a, b), values in cells.items():
        for i, v in enumerate(values):
            rows.append({"subject": f"{a}{b}_{i}", "geno": a, "drug": b, "y": v})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("anova_type", [2, 3])
def test_balanced_twoway_anova_by_hand(anova_type):
    r = quiet(twoway_table(), value="y", between=["geno", "drug"], anova_type=anova_type)
    t = r.tests.set_index("effect")
    assert t.loc["geno", "statistic"] == pytest.approx(16.0)
    assert t.loc["drug", "statistic"] == pytest.approx(36.0)
    assert t.loc["geno x drug", "statistic"] == pytest.approx(4.0)
    assert set(t["df1"]) == {1.0} and set(t["df2"]) == {4.0}
    assert t.loc["geno", "p"] == pytest.approx(stats.f.sf(16, 1, 4))
    assert list(t["effect_size"]) == pytest.approx([32 / 40, 72 / 80, 8 / 16])
    label = "Type II" if anova_type == 2 else "Type III"
    assert t["test"].iloc[0] == f"two-way ANOVA ({label})"
    assert f"({label} sums of squares)" in r.methods[0]
    # Sidak: geno levels compared within each drug level, pooled MSE = 2 on 4 df, m = 2
    post = r.posthoc
    assert list(post["at"]) == ["drug = B1", "drug = B2"]
    assert list(post["diff"]) == pytest.approx([2.0, 6.0])
    se = math.sqrt(2 * (1 / 2 + 1 / 2))
    assert list(post["statistic"]) == pytest.approx([2 / se, 6 / se])
    p = 2 * stats.t.sf(6 / se, 4)
    assert post["p_adj"].iloc[1] == pytest.approx(1 - (1 - p) ** 2)
    crit = stats.t.ppf(1 - (1 - 0.95**0.5) / 2, 4)
    assert post["ci_low"].iloc[1] == pytest.approx(6 - crit * se)


def test_unbalanced_type2_and_type3_equal_extra_sums_of_squares():
    rng = np.random.default_rng(11)
    cells = {
        k: list(np.round(rng.normal(10 + 3 * (k[0] == "A2"), 2, n), 1))
        for k, n in zip(CELLS, (3, 5, 4, 6), strict=True)
    }
    data = twoway_table(cells)
    with pytest.warns(UserWarning, match="unbalanced design"):
        r = analyze(data, value="y", between=["geno", "drug"])
    # Type II SS(geno) = RSS(drug only) - RSS(geno + drug), by least squares
    y = data["y"].to_numpy(float)
    one = np.ones_like(y)
    a = (data["geno"] == "A2").to_numpy(float)
    b = (data["drug"] == "B2").to_numpy(float)

    def rss(*cols):
        x = np.column_stack(cols)
        return float(np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2))

    rss_full = rss(one, a, b, a * b)
    ss_a = rss(one, b) - rss(one, a, b)
    f_a = ss_a / (rss_full / (len(y) - 4))
    assert r.tests.set_index("effect").loc["geno", "statistic"] == pytest.approx(f_a)
    # Type III with sum-to-zero coding: SS(geno) = RSS(without the geno column) - RSS(full)
    sa, sb = 2 * a - 1, 2 * b - 1
    ss_a3 = rss(one, sb, sa * sb) - rss(one, sa, sb, sa * sb)
    r3 = quiet(data, value="y", between=["geno", "drug"], anova_type=3)
    f_a3 = ss_a3 / (rss_full / (len(y) - 4))
    assert r3.tests["statistic"].iloc[0] == pytest.approx(f_a3)
    assert f_a3 != pytest.approx(f_a)


def test_twoway_with_control_compares_treatment_within_genotype():
    r = quiet(twoway_table(), value="y", between=["geno", "drug"], control="B1")
    assert set(r.posthoc["factor"]) == {"drug"}
    assert list(r.posthoc["at"]) == ["geno = A1", "geno = A2"]
    assert list(r.posthoc["diff"]) == pytest.approx([4.0, 8.0])


def test_sidak_formula():
    assert sidak(0.01, 3) == pytest.approx(1 - 0.99**3)
    assert sidak(1.0, 4) == 1.0


# Mixed design: 2 groups x 3 levels, 3 animals per group.
MIXED = {
    "veh": [[3, 5, 9], [4, 7, 8], [2, 4, 10]],
    "drug": [[5, 6, 6], [7, 9, 8], [6, 6, 9]],
}


def mixed_table() -> pd.DataFrame:
    rows = []
    for g, animals in MIXED.items():
        for i, values in enumerate(animals):
            for db, v in zip((70, 75, 80), values, strict=True):
                rows.append({"subject": f"{g}{i}", "prepulse_db": db, "ppi_pct": v})
    return pd.DataFrame(rows)


def test_mixed_anova_and_greenhouse_geisser_epsilon_by_hand():
    data = mixed_table()
    groups = pd.DataFrame(
        {
            "subject": [f"{g}{i}" for g in MIXED for i in range(3)],
            "treatment": [g for g in MIXED for _ in range(3)],
        }
    )
    r = quiet(
        data, groups, value="ppi_pct", between="treatment", within="prepulse_db", control="veh"
    )
    y = {g: np.array(a, float) for g, a in MIXED.items()}  # (subjects, levels)
    allv = np.vstack(list(y.values()))
    n_sub, k, g = 6, 3, 2
    grand = allv.mean()
    ss_group = sum(k * len(v) * (v.mean() - grand) ** 2 for v in y.values())
    ss_subj = sum(k * np.sum((v.mean(axis=1) - v.mean()) ** 2) for v in y.values())
    ss_level = n_sub * np.sum((allv.mean(axis=0) - grand) ** 2)
    ss_cells = sum(len(v) * np.sum((v.mean(axis=0) - grand) ** 2) for v in y.values())
    ss_inter = ss_cells - ss_group - ss_level
    ss_total = np.sum((allv - grand) ** 2)
    ss_err = ss_total - ss_group - ss_subj - ss_level - ss_inter
    df_err = (n_sub - g) * (k - 1)
    f_group = (ss_group / (g - 1)) / (ss_subj / (n_sub - g))
    f_level = (ss_level / (k - 1)) / (ss_err / df_err)
    f_inter = (ss_inter / (k - 1)) / (ss_err / df_err)
    # Greenhouse-Geisser: pooled within-group covariance, orthonormal contrasts
    centred = np.vstack([v - v.mean(axis=0) for v in y.values()])
    s = centred.T @ centred / (n_sub - g)
    c = np.array([[1, -1, 0], [1, 1, -2]], float).T
    c /= np.linalg.norm(c, axis=0)
    m = c.T @ s @ c
    eps = np.trace(m) ** 2 / ((k - 1) * np.trace(m @ m))

    t = r.tests[r.tests["test"] == "mixed ANOVA"].set_index("effect")
    assert t.loc["treatment", "statistic"] == pytest.approx(f_group)
    assert t.loc["prepulse_db", "statistic"] == pytest.approx(f_level)
    assert t.loc["prepulse_db x treatment", "statistic"] == pytest.approx(f_inter)
    assert t.loc["prepulse_db", "epsilon"] == pytest.approx(eps)
    assert t.loc["prepulse_db", "p_gg"] == pytest.approx(
        stats.f.sf(f_level, eps * (k - 1), eps * df_err)
    )
    assert t.loc["prepulse_db", "df2"] == df_err
    # Mauchly's W for k = 3: det(M) / (tr(M) / 2)^2
    w = np.linalg.det(m) / (np.trace(m) / 2) ** 2
    mauchly = r.tests[r.tests["test"] == "Mauchly's test of sphericity"].iloc[0]
    assert mauchly["statistic"] == pytest.approx(w, rel=1e-6)
    # post hoc: drug vs veh at each level, Welch t, Sidak over 3 comparisons
    post = r.posthoc
    assert list(post["at"]) == ["prepulse_db = 70", "prepulse_db = 75", "prepulse_db = 80"]
    w70 = stats.ttest_ind(y["drug"][:, 0], y["veh"][:, 0], equal_var=False)
    assert post["p_adj"].iloc[0] == pytest.approx(1 - (1 - w70.pvalue) ** 3)
    assert post["diff"].iloc[0] == pytest.approx(6 - 3)
    assert "Greenhouse–Geisser" in r.methods[0]


def test_repeated_measures_without_between_factor_by_hand():
    y = np.array([[3, 5, 9], [4, 7, 8], [2, 4, 10], [5, 6, 6], [7, 9, 8]], float)
    data = pd.DataFrame(
        [
            {"subject": f"m{i}", "prepulse_db": db, "ppi_pct": v}
            for i, row in enumerate(y)
            for db, v in zip((70, 75, 80), row, strict=True)
        ]
    )
    r = quiet(data, value="ppi_pct", within="prepulse_db", control="70")
    n, k = y.shape
    grand = y.mean()
    ss_level = n * np.sum((y.mean(axis=0) - grand) ** 2)
    ss_subj = k * np.sum((y.mean(axis=1) - grand) ** 2)
    ss_err = np.sum((y - grand) ** 2) - ss_level - ss_subj
    f = (ss_level / (k - 1)) / (ss_err / ((n - 1) * (k - 1)))
    centred = y - y.mean(axis=0)
    c = np.array([[1, -1, 0], [1, 1, -2]], float).T
    c /= np.linalg.norm(c, axis=0)
    m = c.T @ (centred.T @ centred / (n - 1)) @ c
    eps = np.trace(m) ** 2 / ((k - 1) * np.trace(m @ m))
    row = r.tests.iloc[0]
    assert row["test"] == "repeated-measures ANOVA"
    assert row["statistic"] == pytest.approx(f)
    assert row["epsilon"] == pytest.approx(eps)
    assert row["effect_size"] == pytest.approx(ss_level / (ss_level + ss_err))
    # paired t-tests against 70 dB, Sidak over 2 comparisons
    d = y[:, 2] - y[:, 0]
    t = d.mean() / (d.std(ddof=1) / math.sqrt(n))
    post = r.posthoc.iloc[1]
    assert (post["group1"], post["group2"]) == ("70", "80")
    assert post["statistic"] == pytest.approx(t)
    assert post["p_adj"] == pytest.approx(sidak(2 * stats.t.sf(abs(t), n - 1), 2))
