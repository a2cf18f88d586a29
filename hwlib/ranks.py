"""Average ranks and Spearman's ρ in NumPy, as scipy.stats computes them; an exact rank test of two small
groups (the seeds of two settings); an exact sign test of paired values (two measurements of each run); rank
correlations across models with a bootstrap interval, plain and partial (one variable held fixed).

Three notebooks need these two small functions, and importing scipy.stats for them took 1.3 s of each
one's start on a 2-core CPU. tests/test_ranks.py checks both against scipy.stats.
"""

from __future__ import annotations

import itertools
import math
import statistics

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


N_BOOT = 2000  # bootstrap resamples: the 2.5/97.5 % quantiles move by < 0.02 in ρ between repeats
CONFIDENCE = 0.95  # coverage of the bootstrap interval of a rank correlation
MIN_MODELS = 3  # a rank correlation over fewer models cannot be anything but ±1 or 0.5-ish: not reported


def _rho_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Spearman ρ: the Pearson correlation of the (average) ranks along the last axis."""
    ra, rb = rankdata(a, axis=-1), rankdata(b, axis=-1)
    ra, rb = ra - ra.mean(-1, keepdims=True), rb - rb.mean(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra * rb).sum(-1) / np.sqrt((ra ** 2).sum(-1) * (rb ** 2).sum(-1))


def _partial_rows(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Row-wise partial Spearman ρ of x and y with z held fixed: the correlation of the parts of x's and
    y's ranks that z's ranks do not explain linearly (NaN where z's ranks explain x's or y's fully)."""
    xy, xz, yz = _rho_rows(x, y), _rho_rows(x, z), _rho_rows(y, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xy - xz * yz) / np.sqrt((1 - xz ** 2) * (1 - yz ** 2))


def _bootstrap(columns: list[np.ndarray], statistic) -> dict:
    """``statistic`` over the models and its percentile-bootstrap interval (models resampled with
    replacement); None where fewer than MIN_MODELS models or the statistic is undefined.

    The resamples are drawn from a stream seeded by the columns' ranks, with the models in rank order:
    one set of columns has one interval wherever it is computed (1-3d and 1-3e both correlate the
    softmax sensitivity with the test loss, and with a seed each they once printed one ρ with two
    intervals), independent of the models' order and of any rounding that keeps the order."""
    n = len(columns[0])
    if n < MIN_MODELS:
        return {"rho": None, "low": None, "high": None, "n": n}
    whole = float(statistic(*columns))
    if not math.isfinite(whole):
        return {"rho": None, "low": None, "high": None, "n": n}
    r = [np.rint(2 * rankdata(c)).astype(np.int64) for c in columns]  # midranks are multiples of ½
    order = np.lexsort(tuple(reversed(r)))
    entropy = [int(v) for v in np.concatenate([c[order] for c in r])]
    idx = np.random.default_rng(entropy).integers(0, n, size=(N_BOOT, n))
    boot = statistic(*(c[order][idx] for c in columns))
    tail = 100 * (1 - CONFIDENCE) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(boot, [tail, 100 - tail])
    return {"rho": whole, "low": float(low), "high": float(high), "n": n}


def rank_correlation(x, y) -> dict:
    """Spearman ρ of x and y over models and its 95 % percentile-bootstrap interval: {"rho", "low",
    "high", "n"}, ρ and the bounds None where they cannot be computed (fewer than MIN_MODELS models, or
    a column with a single value)."""
    return _bootstrap([np.asarray(x, float), np.asarray(y, float)], _rho_rows)


def partial_rank_correlation(x, y, control) -> dict:
    """The partial Spearman ρ of x and y with ``control`` held fixed, and its 95 % bootstrap interval, as
    rank_correlation gives them: whether x and y still move together among models equal in ``control``
    (e.g. a flatness measure and the batch size, among models equally trained)."""
    return _bootstrap([np.asarray(v, float) for v in (x, y, control)], _partial_rows)


def sign_test(a: list[float], b: list[float]) -> dict:
    """Exact two-sided sign test of paired values a[i] against b[i]: pairs with a[i] = b[i] are dropped;
    under "no difference" each other pair has a above b with probability 1/2, so the count above is
    Binomial(untied, 1/2). {"above", "below": pairs with a above / below b, "p", "min_p": the smallest p
    this many untied pairs can give}. Summed in exact integers, as scipy.stats.binomtest does it."""
    if len(a) != len(b):
        raise ValueError(f"sign_test needs paired values, not {len(a)} and {len(b)}")
    above = sum(x > y for x, y in zip(a, b))
    below = sum(x < y for x, y in zip(a, b))
    n = above + below
    tail = sum(math.comb(n, i) for i in range(min(above, below) + 1))
    return {"above": above, "below": below, "p": min(1.0, 2 * tail / 2 ** n), "min_p": min(1.0, 2 / 2 ** n)}


def compare_medians(deep: list[float], shallow: list[float], alpha: float) -> dict:
    """1-1a's comparison: the exact rank test of a deeper model's final losses against the shallowest's, and its verdict:
    'better' / 'worse' (p as printed below alpha, the seeds' medians ordered the same way), 'tie' (it
    could reach alpha but did not), 'floor' (with these seed counts p cannot go below alpha)."""
    t = rank_test(deep, shallow)
    p = f"{t['p']:.2g}"
    mid_d, mid_s = statistics.median(deep), statistics.median(shallow)
    if t["min_p"] >= alpha:
        verdict = "floor"
    elif float(p) < alpha and t["side"] != 0 and mid_d != mid_s and (mid_d < mid_s) == (t["side"] < 0):
        verdict = "better" if mid_d < mid_s else "worse"
    else:
        verdict = "tie"
    return {**t, "p_text": p, "verdict": verdict, "median_deep": mid_d, "median_shallow": mid_s}
