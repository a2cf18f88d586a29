"""Paired comparisons of two models scored on one shared test set.

When two models are scored on the same test images, most of the test set's sampling noise is shared:
an image that is hard for one is usually hard for the other. A test that treats the two scores as
independent samples (a two-sample binomial on accuracies, a t-test on mean losses) counts that shared
noise twice and so misses real differences. The paired tests below look only at what differs image
by image:

- ``mcnemar``: accuracy. Images both models get right, or both wrong, say nothing about which is
  better; only the discordant ones do. Under "no difference" each discordant image is equally likely
  to favour either model, so the count favouring one is Binomial(discordant, 1/2): McNemar's exact
  test is the two-sided binomial test of that count.
- ``bootstrap_mean_difference``: loss. The per-image difference of the two losses is resampled over
  test images (the images are the random sample; the trained models are fixed), and the percentile
  interval of its mean says how far the mean loss difference could move with another test set drawn
  from the same distribution.

Both say nothing about the seed: with one trained model per side they test these two models, not the
architectures behind them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOOT_CHUNK = 1 << 22  # resampled indices held at once: bounded memory (32 MiB) at any test-set size


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> dict:
    """McNemar's exact test of two models' per-image correctness on the same images.

    Returns ``only_a`` (images only model a gets right), ``only_b`` (only b), and ``p``, the two-sided
    exact p-value: twice the binomial tail P(X ≤ min(only_a, only_b)) for X ~ Bin(only_a + only_b, 1/2),
    capped at 1. The tail is summed in exact integer arithmetic, so p is exact (one rounding, at the
    end) even for thousands of discordant images, where a float sum of binomial terms would underflow.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"correctness of two models on the same images is needed: {a.shape}, {b.shape}")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n, k = only_a + only_b, min(only_a, only_b)
    term, tail = 1, 0  # C(n, i), and the sum of C(n, 0..i)
    for i in range(k + 1):
        tail += term
        term = term * (n - i) // (i + 1)
    # the binomial is symmetric at 1/2, so doubling one tail is the two-sided test (equal counts: p = 1)
    return {"only_a": only_a, "only_b": only_b, "p": min(1.0, 2 * tail / 2 ** n)}


def bootstrap_mean_difference(loss_a: Sequence[float], loss_b: Sequence[float], *, n_boot: int = 10_000,
                              confidence: float = 0.95, seed: int = 0) -> dict:
    """Mean of the per-image difference ``loss_a − loss_b`` and its paired percentile-bootstrap interval.

    Each resample draws the test images with replacement, the same images for both models (that is
    the pairing), and takes the mean difference over them. ``low`` and ``high`` are the
    (1 − confidence)/2 and (1 + confidence)/2 quantiles of those ``n_boot`` means. The generator is
    seeded, so the interval is the same run after run; the resamples are drawn a chunk of rows at a
    time, one vectorized gather per chunk, in the order a loop drawing one resample at a time would.
    """
    a, b = np.asarray(loss_a, dtype=np.float64), np.asarray(loss_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"losses of two models on the same images are needed: shapes {a.shape}, {b.shape}")
    if not np.isfinite(a).all() or not np.isfinite(b).all():
        raise ValueError("a per-image loss is NaN or infinite: a diverged model has no mean loss to compare")
    if not 0 < confidence < 1 or n_boot < 1:
        raise ValueError(f"confidence={confidence} must lie in (0, 1) and n_boot={n_boot} be ≥ 1")
    d, n = a - b, len(a)
    rng = np.random.default_rng(seed)
    rows = max(1, BOOT_CHUNK // n)
    means = np.concatenate([d[rng.integers(0, n, size=(min(rows, n_boot - i), n))].mean(axis=1)
                            for i in range(0, n_boot, rows)])
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return {"mean": float(d.mean()), "low": float(low), "high": float(high), "n_boot": n_boot,
            "confidence": confidence, "seed": seed}
