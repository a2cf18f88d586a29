"""Average ranks and Spearman's ρ in NumPy, as scipy.stats computes them.

Three notebooks need these two small functions, and importing scipy.stats for them took 1.3 s of each
one's start on a 2-core CPU. tests/test_ranks.py checks both against scipy.stats.
"""

from __future__ import annotations

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
