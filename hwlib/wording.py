"""How a comment compares numbers and says them.

A comment may call two settings different only when the runs say so. ``ranked`` decides it by an exact
two-sided test at ``ALPHA``, the rank test of two groups of seeds or the sign test of paired values (two
measurements of each run), and gives the words that print its p beside the verdict; where the counts
cannot reach the level (two seeds a side give no p below 1/3, so complete separation of 2 against 2 happens
by chance one time in three) it says so instead of guessing. ``gap`` describes two sides without a
verdict: whether their ranges overlap (every value of one side beyond every value of the other), unknown
with one value on a side. ``rho_strength`` reads a Spearman ρ on one scale for every comment, and the
seed-noise phrases (``noise_unknown``, ``OTHER_SEEDS_UNKNOWN``, ``seeds_cannot_tell``, ``no_uncertainty``) say
in the same words wherever one run stands behind a number. The remaining helpers turn counts and lists into
English, so no comment prints "iteration(s)" or a Python list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .ranks import rank_test, sign_test

ALPHA = 0.05  # level of the exact rank test that alone may call one side higher or lower

# Spearman |ρ| bands (the usual reading of a rank correlation), strongest first.
RHO_STRONG, RHO_MODERATE, RHO_WEAK = 0.6, 0.4, 0.2
RHO_BANDS = ((RHO_STRONG, "strong"), (RHO_MODERATE, "moderate"), (RHO_WEAK, "weak"))

# Where one run stands behind a number, how far another seed would move it is not measured.
OTHER_SEEDS_UNKNOWN = "whether other seeds would agree is unknown"


@dataclass(frozen=True)
class Gap:
    """Side a against side b, each a list of values over seeds (or repeats)."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def mean_a(self) -> float:
        return sum(self.a) / len(self.a)

    @property
    def mean_b(self) -> float:
        return sum(self.b) / len(self.b)

    @property
    def diff(self) -> float:
        """mean(a) − mean(b)."""
        return self.mean_a - self.mean_b

    @property
    def noise_known(self) -> bool:
        """Seed noise is measured only where each side has at least two runs."""
        return len(self.a) >= 2 and len(self.b) >= 2

    @property
    def clear(self) -> bool:
        """True when the seed ranges do not overlap (and there are ≥ 2 runs a side to know it)."""
        return self.noise_known and (min(self.a) > max(self.b) or min(self.b) > max(self.a))

    @property
    def verdict(self) -> str:
        """'a' or 'b' (whose values are larger, clearly), 'tie' (ranges overlap) or 'unknown' (one run a side)."""
        if not self.noise_known:
            return "unknown"
        if not self.clear:
            return "tie"
        return "a" if self.diff > 0 else "b"


def gap(a: Sequence[float], b: Sequence[float]) -> Gap:
    """Compare two sides; ``None`` values (diverged or missing runs) are dropped. Both must keep a value."""
    a = tuple(float(v) for v in a if v is not None)
    b = tuple(float(v) for v in b if v is not None)
    if not a or not b:
        raise ValueError("gap() needs at least one finished run on each side")
    return Gap(a, b)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 seed', '3 seeds', '2 batches' (give ``many`` where adding s is wrong)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def join(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def amount(x: float) -> str:
    """A ratio such as parameters per image: '210', '1,234', or two significant digits below 10 ('0.35')."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def pct(x: float, digits: int = 1) -> str:
    """0.9833 -> '98.3 %' (a thin space before % as in the rest of the report's prose)."""
    return f"{100 * x:.{digits}f} %"


def distinct_pct_digits(values: Sequence[float], most: int = 3) -> int:
    """The fewest decimals (up to ``most``) at which percentages that differ print differently: labels of
    0.9937 and 0.9951 that both read "99 %" say nothing about which run ended higher."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    for digits in range(most + 1):
        if len({pct(v, digits) for v in values}) == len({round(100 * v, most) for v in values}):
            return digits
    return most


def spread(values: Sequence[float], fmt: str = ".3g") -> str:
    """'0.12' for one value, '0.12 (mean; 0.10–0.15 over 3 seeds)' for several: the mean and the seed range."""
    values = [v for v in values if v is not None]
    mean = sum(values) / len(values)
    if len(values) == 1:
        return format(mean, fmt)
    return f"{mean:{fmt}} (mean; {min(values):{fmt}}–{max(values):{fmt}} over {len(values)} seeds)"


def p_text(p: float, level: float = ALPHA) -> str:
    """'p = 0.25', 'p = 0.031', 'p < 0.001': two significant digits, more where rounding would carry p
    across ``level`` (0.0496 is 'p = 0.0496', never 'p = 0.05' beside a verdict)."""
    if p < 0.001 < level:
        return "p < 0.001"
    for digits in range(2, 10):
        text = f"{p:.{digits}g}"
        if (float(text) < level) == (p < level) and float(text) != level:
            break
    return f"p = {text}"


def rho_printed(rho: float) -> float:
    """ρ as printed (2 decimals): the words follow the number the reader sees (−0.3965 reads −0.40)."""
    return float(f"{rho:.2f}")


def rho_strength(rho: float) -> str:
    """'strong', 'moderate', 'weak' or 'none': the band of |ρ| as printed."""
    size = abs(rho_printed(rho))
    return next((name for edge, name in RHO_BANDS if size >= edge), "none")


def fixed(v: float, digits: int = 2) -> str:
    """v with ``digits`` decimals, and never "-0.00": a printed end of an interval is read against 0."""
    text = f"{v:.{digits}f}"
    return text[1:] if float(text) == 0 and text.startswith("-") else text


def interval(c: dict, name: str = "ρ", over: str = "models") -> str:
    """'ρ = 0.71, 95 % interval 0.12 to 0.99 over 10 models': a rank correlation (hwlib.ranks) as printed."""
    return f"{name} = {fixed(c['rho'])}, 95 % interval {fixed(c['low'])} to {fixed(c['high'])} over {c['n']} {over}"


def direction(c: dict) -> str:
    """'up' / 'down' when the bootstrap interval as printed excludes 0, 'none' when it holds 0, 'unknown'
    without ρ."""
    if c.get("rho") is None:
        return "unknown"
    low, high = float(fixed(c["low"])), float(fixed(c["high"]))
    return "up" if low > 0 else "down" if high < 0 else "none"


def noise_unknown(of: str = "") -> str:
    """'the seed noise is unknown', or 'the seed noise of the curvatures is unknown' with ``of``: said where
    one run stands behind each value, so no spread over seeds exists to weigh a difference against."""
    subject = f"the seed noise of {of}" if of else "the seed noise"
    return subject + " is unknown"


def seeds_cannot_tell(what: str = "") -> str:
    """'the seeds cannot tell', or 'the seeds cannot tell which way it goes': said where seeds disagree."""
    return " ".join(["the seeds cannot tell", what]).rstrip()


def no_uncertainty(runs: str) -> str:
    """'(one run: no uncertainty measured)': beside a number that ``runs`` stand behind, one each."""
    return f"({runs}: no uncertainty measured)"


def seeds_needed(level: float = ALPHA) -> int:
    """The fewest values a side at which the exact rank test of n against n can reach p < level."""
    return next(n for n in range(1, 50) if 2 / math.comb(2 * n, n) < level)


@dataclass(frozen=True)
class Ranked:
    """Side a against side b by an exact two-sided test over the seeds (or runs): the rank test of two
    groups (hwlib.ranks.rank_test), or, where a[i] and b[i] are two measurements of one run, the sign test
    of the pairs (hwlib.ranks.sign_test; ``above``/``below``: pairs with a above / below b)."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    p: float
    min_p: float
    side: int  # +1 where a ranks higher, -1 lower, 0 neither
    level: float
    unit: str
    paired: bool = False
    above: int = 0
    below: int = 0

    @property
    def means_order(self) -> int:
        ma, mb = sum(self.a) / len(self.a), sum(self.b) / len(self.b)
        return (ma > mb) - (ma < mb)

    @property
    def verdict(self) -> str:
        """'higher' / 'lower' (a's values: p < level, ranks and means ordered alike), 'floor' (these
        counts cannot reach p < level), 'order' (p < level but the means order the other way), 'tie'."""
        if self.min_p >= self.level:
            return "floor"
        if self.p >= self.level:
            return "tie"
        if self.side == 0 or self.means_order != self.side:
            return "order"
        return "higher" if self.side > 0 else "lower"

    @property
    def test(self) -> str:
        """The test and its p, to print beside the verdict (or beside 'cannot tell')."""
        name = f"exact two-sided {'sign' if self.paired else 'rank'} test over the {self.unit}s"
        untied = self.above + self.below
        if self.paired:
            sizes = f"with {plural(untied, self.unit)} that {'differs' if untied == 1 else 'differ'}"
        else:
            sizes = f"with {plural(len(self.a), self.unit)} against {len(self.b):,}"
        return {"floor": f"{sizes} the {name} cannot go below p = {self.min_p:.2g}, not below {self.level:g}",
                "tie": f"{name}, {p_text(self.p, self.level)}, not below {self.level:g}",
                "order": f"{name}, {p_text(self.p, self.level)}, but the means order the other way",
                }.get(self.verdict, f"{name}, {p_text(self.p, self.level)}, below {self.level:g}")


def ranked(a: Sequence[float], b: Sequence[float], level: float = ALPHA, unit: str = "seed",
           paired: bool = False) -> Ranked:
    """Compare two sides by the exact rank test, or by the sign test where ``paired`` (a[i] and b[i] belong
    together; then no value may be missing); ``None`` values (diverged runs) are dropped."""
    if paired:
        t = sign_test(a, b)
        side = (t["above"] > t["below"]) - (t["above"] < t["below"])
        return Ranked(tuple(a), tuple(b), t["p"], t["min_p"], side, level, unit, True, t["above"], t["below"])
    a = tuple(float(v) for v in a if v is not None)
    b = tuple(float(v) for v in b if v is not None)
    if not a or not b:
        raise ValueError("ranked() needs at least one finished run on each side")
    t = rank_test(list(a), list(b))
    return Ranked(a, b, t["p"], t["min_p"], t["side"], level, unit)
