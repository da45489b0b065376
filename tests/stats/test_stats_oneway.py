"""One between factor: references computed by hand or published (SciPy's Dunnett example)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs
from scipy import stats

from behavior.errors import AnalysisError
from behavior.stats import analyze
from behavior.stats.oneway import dunn_test


def table(groups: dict[str, list[float]], factor: str = "treatment") -> pd.DataFrame:
    """Subjects named <group><i>, one row each, factor column + 'score'."""
    rows = [
        {"subject": f"{g}{i}", factor: g, "score": v}
        for g, values in groups.items()
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def run(groups, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(table(groups), value="score", between="treatment", **kw)


def test_oneway_anova_matches_hand_computation():
    # groups 1-3, 4-6, 7-9: means 2, 5, 8, grand mean 5; SSB = 3*(9 + 0 + 9) = 54,
    # SSW = 3 * 2 = 6; F = (54/2) / (6/6) = 27; for df1 = 2 the F tail has the closed
    # form p = (1 + 2F/df2)^(-df2/2) = 10^-3
    r = run({"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}, test="anova")
    row = r.tests.iloc[0]
    assert row["test"] == "one-way ANOVA"
    assert row["statistic"] == pytest.approx(27.0)
    assert (row["df1"], row["df2"]) == (2, 6)
    assert row["p"] == pytest.approx(0.001)
    assert row["effect_size"] == pytest.approx(54 / 60)
    assert "one-way ANOVA, F(2, 6) = 27.00, p = 0.001, η² = 0.90" in r.methods[0]
    # no control: Tukey for all pairs; MSE = 1, n = 3 -> CI half width q_crit * sqrt(1/3)
    assert list(r.posthoc["method"]) == ["Tukey HSD"] * 3
    half = stats.studentized_range.ppf(0.95, 3, 6) * math.sqrt(1 / 3)
    ab = r.posthoc.iloc[0]
    assert (ab["group1"], ab["group2"], ab["diff"]) == ("a", "b", pytest.approx(3.0))
    assert ab["ci_low"] == pytest.approx(3.0 - half, rel=1e-6)
    assert ab["p_adj"] == pytest.approx(
        stats.studentized_range.sf(3 / math.sqrt(1 / 3), 3, 6), rel=1e-4
    )


def test_dunnett_reproduces_scipy_documented_example():
    # scipy.stats.dunnett docstring (Dunnett 1955, Table 1)
    r = run(
        {
            "control": [2.9, 3.0, 2.5, 2.6, 3.2],
            "s1": [3.8, 2.7, 4.0, 2.4],
            "s2": [2.8, 3.4, 3.7, 2.2, 2.0],
        },
        control="control",
        test="anova",
    )
    post = r.posthoc
    assert list(post["method"]) == ["Dunnett", "Dunnett"]
    assert list(post["group1"]) == ["control", "control"]
    assert list(post["statistic"]) == pytest.approx([0.90874545, -0.05007117], rel=1e-6)
    # SciPy integrates the multivariate t numerically: agree to 3 decimals
    assert list(post["p_adj"]) == pytest.approx([0.58325114, 0.99819341], abs=2e-3)
    assert post["diff"].iloc[0] == pytest.approx(np.mean([3.8, 2.7, 4.0, 2.4]) - 2.84)
    assert "followed by Dunnett's test against control" in r.methods[0]


def test_two_groups_welch_mann_whitney_and_effect_sizes_by_hand():
    x, y = [1.0, 2.0, 3.0, 4.0], [2.0, 5.0, 7.0, 8.0]
    r = run({"vehicle": x, "drug": y}, control="vehicle")
    welch, mw = r.tests.iloc[0], r.tests.iloc[1]
    vx, vy = 5 / 3, 7.0  # sample variances
    se2 = vx / 4 + vy / 4
    df = se2**2 / ((vx / 4) ** 2 / 3 + (vy / 4) ** 2 / 3)
    assert welch["statistic"] == pytest.approx(3.0 / math.sqrt(se2))
    assert welch["df1"] == pytest.approx(df)
    sp = math.sqrt((3 * vx + 3 * vy) / 6)
    j = math.gamma(3) / (math.sqrt(3) * math.gamma(2.5))
    assert welch["effect_size"] == pytest.approx(3.0 / sp * j)
    # U of drug: pairs drug > vehicle (+0.5 for the tie 2 = 2): 1.5 + 4 + 4 + 4
    assert mw["statistic"] == pytest.approx(13.5)
    assert mw["effect_size"] == pytest.approx(2 * 13.5 / 16 - 1)
    post = r.posthoc.iloc[0]
    assert (post["group1"], post["group2"], post["diff"]) == ("vehicle", "drug", 3.0)
    tq = stats.t.ppf(0.975, df)
    assert post["ci_high"] == pytest.approx(3.0 + tq * math.sqrt(se2))
    assert r.methods[0].startswith("drug vs vehicle: Welch's t-test, t(4.35) = 2.04")


def test_kruskal_by_hand_and_dunn_against_scikit_posthocs():
    # ranks = values; H = 12/(9*10) * (6^2+15^2+24^2)/3 - 30 = 7.2; chi2(2) sf = exp(-3.6)
    r = run({"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}, test="kruskal", control="a")
    row = r.tests.iloc[0]
    assert row["statistic"] == pytest.approx(7.2)
    assert row["p"] == pytest.approx(math.exp(-3.6))
    assert row["effect_size"] == pytest.approx(7.2 / 8)
    # against the control only: 2 comparisons, Bonferroni x2
    assert list(r.posthoc["group2"]) == ["b", "c"]
    rng = np.random.default_rng(7)
    samples = [np.round(rng.normal(m, 2, n)) for m, n in ((10, 6), (12, 7), (15, 5))]
    ours = dunn_test(samples, [(0, 1), (0, 2), (1, 2)])
    long = pd.DataFrame(
        {"v": np.concatenate(samples), "g": np.repeat([0, 1, 2], [len(s) for s in samples])}
    )
    ref = scikit_posthocs.posthoc_dunn(long, val_col="v", group_col="g")
    for (i, j), (_, p) in zip([(0, 1), (0, 2), (1, 2)], ours, strict=True):
        assert p == pytest.approx(ref.loc[i, j], rel=1e-9)
    assert r.posthoc["p_adj"].iloc[0] == pytest.approx(min(1.0, 2 * r.posthoc["p"].iloc[0]))


def test_clearly_non_normal_data_switch_to_kruskal_with_advice():
    rng = np.random.default_rng(3)
    skewed = {g: list(np.exp(rng.normal(0, 1.5, 12))) for g in ("a", "b", "c")}
    skewed["a"][0] = 500.0  # one wild animal
    r = run(skewed)
    assert stats.shapiro(skewed["a"]).pvalue < 0.01
    assert r.primary == "Kruskal-Wallis"
    assert any("clearly fails" in a for a in r.advice)
    forced = run(skewed, test="anova")
    assert forced.primary == "one-way ANOVA"


def test_wrong_requests_raise_clear_errors():
    three = {"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}
    with pytest.raises(AnalysisError, match="Dunnett's test needs a control"):
        run(three, posthoc="dunnett")
    with pytest.raises(AnalysisError, match="'welch' compares two groups"):
        run(three, test="welch")
    with pytest.raises(AnalysisError, match="control level 'saline' is not a level"):
        run(three, control="saline")
