"""Average ranks and Spearman's ρ in NumPy, as scipy.stats computes them; an exact rank test of two small
groups (the seeds of two settings).

Three notebooks need these two small functions, and importing scipy.stats for them took 1.3 s of each
one's start on a 2-core CPU. tests/test_ranks.py checks both against scipy.stats.
"""

from __future__ import annotations

import itertools

import numpy as np


def rankdata(a, axis: int = -1) -> np.ndarray:
    """Ranks 1 … n along ``axis``, tied values sharing their average rank (scipy's method="average")."""
    a = np.moveaxis(np.asarray(a, dtype=float), axis, -1)
    n = a.shape[-1]
    order = np.argsort(a, axis=-1, kind="stable")
    ordered = np.take_along_axis(a, order, -1)
    starts = np.ones(ordered.shape, dtype=bool)  # where a run of equal values begins, in sorted order
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    ends = np.ones(ordered.shape, dtype=bool)  # where one ends
    ends[..., :-1] = starts[..., 1:]
    place = np.arange(n)
    first = np.maximum.accumulate(np.where(starts, place, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, place, n - 1), -1), axis=-1), -1)
    ranks = np.empty(ordered.shape)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, -1)
    return np.moveaxis(ranks, -1, axis)


def spearman(a, b, omit_nan: bool = False) -> float:
    """Spearman's ρ of two sequences: the Pearson correlation of their average ranks. A NaN in either gives
    NaN, unless ``omit_nan`` drops those pairs (scipy's nan_policy="omit"); so does a constant sequence or
    fewer than two pairs."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if len(a) != len(b):
        raise ValueError(f"spearman needs two sequences of one length, not {len(a)} and {len(b)}")
    missing = np.isnan(a) | np.isnan(b)
    if missing.any():
        if not omit_nan:
            return float("nan")
        a, b = a[~missing], b[~missing]
    if len(a) < 2:
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    scale = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / scale) if scale > 0 else float("nan")


def rank_test(a: list[float], b: list[float]) -> dict:
    """Exact two-sided permutation test of the rank sum (Mann-Whitney) of a against b: under "no
    difference" every split of the pooled values into groups of len(a) and len(b) is equally likely.
    {"p", "min_p": the smallest p these group sizes can give, "side": +1 where a ranks higher, −1
    lower, 0 neither}. Two seeds a side can give no p below 1/3, however far apart the values."""
    pooled = np.asarray(list(a) + list(b), float)
    na, n = len(a), len(pooled)
    splits = np.array(list(itertools.combinations(range(n), na)), dtype=np.int64).reshape(-1, na)
    r = rankdata(pooled)
    expected = na * (n + 1) / 2
    observed = r[:na].sum() - expected
    deviation = r[splits].sum(-1) - expected
    # the tolerance keeps a split with the same rank sum as the data from dropping out by rounding
    p = float(np.mean(np.abs(deviation) >= abs(observed) - 1e-9))
    return {"p": p, "min_p": min(1.0, 2 / len(splits)), "side": int(np.sign(round(observed, 9)))}
