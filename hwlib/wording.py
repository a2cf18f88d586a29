"""How a comment compares numbers and says them.

A comment may call two settings different only when the runs say so: the gap between their means
must exceed what changing the seed alone does. The rule used everywhere is the plainest one that
holds with two or three seeds: **the seed ranges do not overlap** (every run of one side beats
every run of the other). With one run on a side the seed noise is unknown, and the comparison
says so instead of guessing. Where a comment calls one side **higher** or **lower**, ``ranked`` decides
it by an exact two-sided rank test at ``ALPHA`` and gives the words that print its p beside the verdict
(two seeds a side can give no p below 1/3, so complete separation of 2 against 2 is no verdict). The
remaining helpers turn counts and lists into English, so no comment prints "iteration(s)" or a Python
list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .ranks import rank_test

ALPHA = 0.05  # level of the exact rank test that alone may call one side higher or lower


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


def pct(x: float, digits: int = 1) -> str:
    """0.9833 -> '98.3 %' (a thin space before % as in the rest of the report's prose)."""
    return f"{100 * x:.{digits}f} %"


def spread(values: Sequence[float], fmt: str = ".3g") -> str:
    """'0.12' for one value, '0.12 (0.10–0.15 over 3 seeds)' for several: the mean and the seed range."""
    values = [v for v in values if v is not None]
    mean = sum(values) / len(values)
    if len(values) == 1:
        return format(mean, fmt)
    return f"{mean:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}} over {len(values)} seeds)"


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


def seeds_needed(level: float = ALPHA) -> int:
    """The fewest values a side at which the exact rank test of n against n can reach p < level."""
    return next(n for n in range(1, 50) if 2 / math.comb(2 * n, n) < level)


@dataclass(frozen=True)
class Ranked:
    """Side a against side b by the exact two-sided rank test (hwlib.ranks.rank_test)."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    p: float
    min_p: float
    side: int  # +1 where a ranks higher, -1 lower, 0 neither
    level: float
    unit: str

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
        name = f"exact two-sided rank test over the {self.unit}s"
        return {"floor": f"with {plural(len(self.a), self.unit)} against {len(self.b):,} the {name} cannot go "
                         f"below p = {self.min_p:.2g}, not below {self.level:g}",
                "tie": f"{name}, {p_text(self.p, self.level)}, not below {self.level:g}",
                "order": f"{name}, {p_text(self.p, self.level)}, but the means order the other way",
                }.get(self.verdict, f"{name}, {p_text(self.p, self.level)}, below {self.level:g}")


def ranked(a: Sequence[float], b: Sequence[float], level: float = ALPHA, unit: str = "seed") -> Ranked:
    """Compare two sides by the exact rank test; ``None`` values (diverged runs) are dropped."""
    a = tuple(float(v) for v in a if v is not None)
    b = tuple(float(v) for v in b if v is not None)
    if not a or not b:
        raise ValueError("ranked() needs at least one finished run on each side")
    t = rank_test(list(a), list(b))
    return Ranked(a, b, t["p"], t["min_p"], t["side"], level, unit)
