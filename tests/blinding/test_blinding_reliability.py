"""Reliability statistics against hand computations and published worked examples."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from behavior.blinding.reliability import (
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    icc_2_1,
    pearson_r,
    percent_agreement,
)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
                          [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)


def test_icc_matches_shrout_fleiss_table():
    r = icc_2_1(SHROUT_FLEISS)
    # their Table 3 mean squares and ICC(2,1) = .29
    assert r.ms_rows == pytest.approx(11.24, abs=0.005)
    assert r.ms_columns == pytest.approx(32.49, abs=0.005)
    assert r.ms_error == pytest.approx(1.02, abs=0.005)
    assert round(r.icc, 2) == 0.29


def test_icc_hand_computed_two_raters():
    # grand mean 3.5; BMS = 21/2, JMS = 1.5/1, EMS = 1/2 -> (10.5-.5)/(10.5+.5+2(1.5-.5)/3) = 6/7
    r = icc_2_1(np.array([[1, 2], [3, 3], [5, 7]], float))
    assert (r.ms_rows, r.ms_columns, r.ms_error) == pytest.approx((10.5, 1.5, 0.5))
    assert r.icc == pytest.approx(6 / 7)


def test_icc_and_ci_match_pingouin():
    rng = np.random.default_rng(3)
    truth = rng.uniform(20, 200, 12)
    ratings = np.column_stack([truth + rng.normal(b, 12, 12) for b in (0, 8, -5)])
    long = pd.DataFrame([(i, j, ratings[i, j]) for i in range(12) for j in range(3)],
                        columns=["video", "rater", "s"])
    ref = pg.intraclass_corr(long, "video", "rater", "s").set_index("Type")
    row = ref.loc["ICC(A,1)"] if "ICC(A,1)" in ref.index else ref.loc["ICC2"]
    mine = icc_2_1(ratings)
    assert mine.icc == pytest.approx(row["ICC"], abs=1e-10)
    lo, hi = row["CI95"] if "CI95" in row else row["CI95%"]
    assert mine.ci_low == pytest.approx(lo, abs=0.006)  # pingouin rounds to 2 decimals
    assert mine.ci_high == pytest.approx(hi, abs=0.006)
    assert mine.ci_low < mine.icc < mine.ci_high


def test_icc_perfect_and_undefined():
    x = np.array([10.0, 50.0, 90.0, 120.0])
    assert icc_2_1(np.column_stack((x, x))).icc == pytest.approx(1.0)
    assert np.isnan(icc_2_1(np.array([[1.0, 2.0]])).icc)  # one target


def test_cohen_kappa_hand_2x2():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    b = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    # po = 7/10; pe = .6*.5 + .4*.5 = .5; kappa = .2/.5
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement(a, b) == pytest.approx(70.0)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert np.isnan(cohen_kappa(np.ones(5), np.ones(5)))


def test_fleiss_kappa_hand_and_wikipedia_example():
    # 4 bins, 3 raters; immobile counts 3,0,2,1: P = (1+1+1/3+1/3)/4 = 2/3, Pe = .5 -> 1/3
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 2]])
    assert fleiss_kappa(counts) == pytest.approx(1 / 3)
    # Fleiss' kappa worked example (Wikipedia; 10 subjects, 14 raters, 5 categories): 0.210
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert round(fleiss_kappa(table), 3) == 0.210
    assert fleiss_kappa(table) == pytest.approx(sm_fleiss(table))
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[2, 1], [1, 1]]))


def test_bland_altman_and_pearson_hand():
    x = np.array([100.0, 150.0, 200.0, 60.0])
    y = np.array([110.0, 150.0, 190.0, 80.0])  # differences 10, 0, -10, 20: mean 5
    ba = bland_altman(x, y)
    sd = np.sqrt((25 + 25 + 225 + 225) / 3)
    assert ba.bias == pytest.approx(5.0)
    assert (ba.loa_low, ba.loa_high) == pytest.approx((5 - 1.96 * sd, 5 + 1.96 * sd))
    assert pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y)[0])
