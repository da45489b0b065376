"""The moving median and mean used in scoring equal SciPy's filters they replace."""

import numpy as np
import pytest
from scipy.ndimage import median_filter, uniform_filter1d

from behavior.fst.arenas import moving_mean
from behavior.fst.immobility import moving_median


@pytest.mark.parametrize("n", [1, 2, 5, 50, 1001])
def test_moving_median_equals_scipy_nearest(n):
    x = np.random.default_rng(n).normal(size=n)
    for width in (1, 3, 5, 15):
        assert np.array_equal(moving_median(x, width), median_filter(x, size=width,
                                                                     mode="nearest"))


def test_moving_median_by_hand():
    # ends repeat the edge value: [1 1 5 2 8 8] -> medians of (1 1 5) (1 5 2) (5 2 8) (2 8 8)
    assert moving_median(np.array([1.0, 5, 2, 8]), 3).tolist() == [1, 2, 5, 8]
    with pytest.raises(ValueError, match="odd"):
        moving_median(np.zeros(4), 4)


@pytest.mark.parametrize("n", [1, 2, 5, 50, 1001])
def test_moving_mean_equals_scipy_reflect(n):
    x = np.random.default_rng(n).normal(size=n)
    for size in (1, 2, 3, 4, 7, 16):
        np.testing.assert_allclose(moving_mean(x, size), uniform_filter1d(x, size=size),
                                   atol=1e-12)


def test_moving_mean_by_hand():
    # size 2 averages each sample with the one before it; the first with itself (mirror)
    assert moving_mean(np.array([2.0, 4, 8]), 2).tolist() == [2, 3, 6]
