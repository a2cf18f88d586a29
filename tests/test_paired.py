"""hwlib.paired against independent references: McNemar against scipy's exact binomial test and hand
cases; the paired bootstrap against a slow one-resample-at-a-time loop, hand cases and the normal
approximation."""

import math
import time

import numpy as np
import pytest
from scipy.stats import binomtest

from hwlib import paired


def _pairs(only_a, only_b, both=0, neither=0):
    """Correctness lists with the given numbers of discordant and concordant images, shuffled."""
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    order = np.random.default_rng(only_a * 1000 + only_b).permutation(len(a))
    return [a[i] for i in order], [b[i] for i in order]


# ------------------------------------------------------------------ McNemar


@pytest.mark.parametrize("only_a,only_b", [(0, 0), (1, 0), (0, 1), (3, 0), (5, 0), (6, 0), (4, 4), (7, 2),
                                           (2, 13), (30, 12), (120, 95), (600, 530), (2500, 2380)])
def test_mcnemar_is_scipys_exact_two_sided_binomial_test(only_a, only_b):
    a, b = _pairs(only_a, only_b, both=50, neither=7)
    got = paired.mcnemar(a, b)
    assert (got["only_a"], got["only_b"]) == (only_a, only_b)
    n = only_a + only_b
    want = 1.0 if n == 0 else binomtest(only_a, n, 0.5, alternative="two-sided").pvalue
    assert got["p"] == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_mcnemar_hand_cases():
    # concordant images change nothing: only the 4 discordant ones count, 4 to 0 → 2 · (1/2)^4
    assert paired.mcnemar(*_pairs(4, 0, both=300, neither=40))["p"] == 2 / 16
    assert paired.mcnemar(*_pairs(0, 4))["p"] == 2 / 16  # symmetric in the two models
    assert paired.mcnemar(*_pairs(5, 0))["p"] == 2 / 32  # 0.0625: five to none is not yet at 5 %
    assert paired.mcnemar(*_pairs(6, 0))["p"] == 2 / 64  # 0.03125: six to none is
    # 2 to 1 of 3: 2 · (C(3,0) + C(3,1)) / 8 = 1, capped; equal counts are p = 1
    assert paired.mcnemar(*_pairs(2, 1))["p"] == 1.0
    assert paired.mcnemar(*_pairs(9, 9, both=3))["p"] == 1.0
    assert paired.mcnemar([True, False], [True, False]) == {"only_a": 0, "only_b": 0, "p": 1.0}
    # far past float underflow of single binomial terms (2^-5000): exact integers, then one division
    assert paired.mcnemar(*_pairs(5000, 0))["p"] == 0.0
    assert 0 < paired.mcnemar(*_pairs(1000, 0))["p"] == 2.0 ** -999


def test_mcnemar_refuses_unpaired_input():
    with pytest.raises(ValueError, match="same images"):
        paired.mcnemar([True, False], [True])


# ------------------------------------------------------------------ paired bootstrap


def _loop_bootstrap(a, b, n_boot, confidence, seed):
    """The textbook procedure, one resample at a time, no vectorization."""
    rng = np.random.default_rng(seed)
    n = len(a)
    means = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        means.append(sum(a[i] - b[i] for i in idx) / n)
    means.sort()
    return float(np.quantile(means, (1 - confidence) / 2)), float(np.quantile(means, (1 + confidence) / 2))


@pytest.mark.parametrize("n,chunk", [(1, paired.BOOT_CHUNK), (7, paired.BOOT_CHUNK),
                                     (40, paired.BOOT_CHUNK), (40, 40 * 3), (41, 50)])
def test_bootstrap_matches_a_slow_loop(n, chunk, monkeypatch):
    # chunk=40*3 splits 500 resamples into chunks of 3 rows, 50 < 41·2 into single rows: same draws
    monkeypatch.setattr(paired, "BOOT_CHUNK", chunk)
    rng = np.random.default_rng(n)
    a, b = rng.exponential(0.1, n).tolist(), rng.exponential(0.08, n).tolist()
    got = paired.bootstrap_mean_difference(a, b, n_boot=500, confidence=0.9, seed=3)
    low, high = _loop_bootstrap(a, b, 500, 0.9, 3)
    assert got["low"] == pytest.approx(low, rel=1e-12, abs=1e-15)
    assert got["high"] == pytest.approx(high, rel=1e-12, abs=1e-15)
    assert got["mean"] == pytest.approx(sum(x - y for x, y in zip(a, b)) / n, rel=1e-12, abs=1e-15)
    assert (got["n_boot"], got["confidence"], got["seed"]) == (500, 0.9, 3)


def test_bootstrap_hand_cases():
    # identical models: no difference at all
    same = paired.bootstrap_mean_difference([0.3, 0.1, 2.0], [0.3, 0.1, 2.0])
    assert (same["mean"], same["low"], same["high"]) == (0.0, 0.0, 0.0)
    # a constant per-image difference is the same in every resample, however different the images are
    shift = paired.bootstrap_mean_difference([1.25, 0.25, 5.25], [1.0, 0.0, 5.0], n_boot=200)
    assert shift["mean"] == shift["low"] == shift["high"] == 0.25
    # the pairing matters: b is a plus a per-image constant, so the unpaired spread of the losses cancels
    a = np.random.default_rng(0).exponential(1.0, 300)
    tight = paired.bootstrap_mean_difference(a, a - 0.01 + 1e-3 * np.sin(np.arange(300)))
    assert 0.0099 < tight["low"] < tight["high"] < 0.0101


def test_bootstrap_agrees_with_the_normal_approximation_and_is_seeded():
    rng = np.random.default_rng(1)
    a, b = rng.exponential(0.05, 2000), rng.exponential(0.05, 2000) + 0.004
    got = paired.bootstrap_mean_difference(a, b, n_boot=4000, seed=7)
    d = a - b
    half = 1.959964 * d.std(ddof=1) / math.sqrt(len(d))
    # the mean of 2,000 differences is close to normal: the percentile ends within 5 % of the half-width
    assert got["low"] == pytest.approx(d.mean() - half, abs=0.05 * half)
    assert got["high"] == pytest.approx(d.mean() + half, abs=0.05 * half)
    assert paired.bootstrap_mean_difference(a, b, n_boot=4000, seed=7) == got  # same seed, same interval
    assert paired.bootstrap_mean_difference(a, b, n_boot=4000, seed=8)["low"] != got["low"]


def test_bootstrap_is_fast_at_a_full_test_set():
    # 10,000 test images (MNIST, CIFAR-10) and 10,000 resamples: chunked, so memory stays bounded
    rng = np.random.default_rng(2)
    a, b = rng.exponential(0.05, 10_000), rng.exponential(0.05, 10_000)
    start = time.perf_counter()
    paired.bootstrap_mean_difference(a, b)
    assert time.perf_counter() - start < 10  # about 0.7 s on a 2-core CPU


@pytest.mark.parametrize("a,b,match", [([0.1, 0.2], [0.1], "same images"), ([], [], "same images"),
                                       ([0.1, float("nan")], [0.1, 0.2], "NaN")])
def test_bootstrap_refuses_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired.bootstrap_mean_difference(a, b)
