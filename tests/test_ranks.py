"""hwlib.ranks against scipy.stats: average ranks (ties, rows of a matrix) and Spearman's ρ (ties, NaN)."""

import math

import numpy as np
import pytest
from scipy import stats

from hwlib import ranks


def test_rankdata_equals_scipys_with_ties_and_along_rows():
    rng = np.random.default_rng(0)
    for shape in [(7,), (1,), (5, 9), (40, 3)]:
        a = rng.integers(0, 4, size=shape).astype(float)  # many ties
        np.testing.assert_array_equal(ranks.rankdata(a), stats.rankdata(a, axis=-1))
        b = rng.normal(size=shape)
        np.testing.assert_array_equal(ranks.rankdata(b), stats.rankdata(b, axis=-1))
    m = rng.integers(0, 3, size=(4, 6)).astype(float)
    np.testing.assert_array_equal(ranks.rankdata(m, axis=0), stats.rankdata(m, axis=0))


def test_spearman_equals_scipys():
    rng = np.random.default_rng(1)
    for n in (2, 3, 10, 100):
        a, b = rng.normal(size=n), rng.integers(0, 5, size=n).astype(float)
        ours, theirs = ranks.spearman(a, b), float(stats.spearmanr(a, b).statistic)
        assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12), (n, a, b)
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 0.5])
    b = np.array([2.0, 1.0, 3.0, np.nan, 6.0, 0.1])
    assert math.isnan(ranks.spearman(a, b))
    assert ranks.spearman(a, b, omit_nan=True) == pytest.approx(
        stats.spearmanr(a, b, nan_policy="omit").statistic, abs=1e-12)
    assert math.isnan(ranks.spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))  # constant: undefined
    assert math.isnan(ranks.spearman([1.0], [2.0]))
    with pytest.raises(ValueError, match="one length"):
        ranks.spearman([1.0, 2.0], [1.0])


def test_rank_test_against_scipy_exact_mann_whitney():
    from scipy.stats import mannwhitneyu

    from hwlib.ranks import rank_test

    cases = (([1.0, 2.5, 4.0], [3.0, 5.0, 6.0, 7.0]), ([0.1, 0.2], [0.3, 0.4]), ([5, 6, 7, 8, 9], [1, 2, 3, 4, 10]))
    for a, b in cases:
        expected = mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue
        assert rank_test(a, b)["p"] == pytest.approx(expected)


def test_sign_test_against_scipy_binomtest():
    for a, b in [([3, 2, 5, 7, 1], [1, 1, 1, 1, 2]), ([1, 2, 3], [1, 2, 3]), ([5] * 8, [1] * 8), ([1, 2], [2, 1]),
                 ([0.5, 0.4, 0.3, 0.2, 0.1, 0.9], [0.6, 0.1, 0.1, 0.1, 0.1, 0.1])]:
        t = ranks.sign_test(a, b)
        n = t["above"] + t["below"]
        want = 1.0 if n == 0 else stats.binomtest(t["above"], n, 0.5).pvalue
        assert t["p"] == pytest.approx(want, rel=1e-12), (a, b)
        assert t["above"] == sum(x > y for x, y in zip(a, b)) and t["min_p"] == min(1.0, 2 / 2 ** n)
    assert ranks.sign_test([5] * 8, [1] * 8)["p"] == pytest.approx(2 / 256)
    with pytest.raises(ValueError, match="paired"):
        ranks.sign_test([1, 2], [1])
