"""How a comment compares numbers and says them.

A comment may call two settings different only when the runs say so: the gap between their means
must exceed what changing the seed alone does. The rule used everywhere is the plainest one that
holds with two or three seeds: **the seed ranges do not overlap** (every run of one side beats
every run of the other). With one run on a side the seed noise is unknown, and the comparison
says so instead of guessing. The remaining helpers turn counts and lists into English, so no
comment prints "iteration(s)" or a Python list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


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


def distinct_pct_digits(values: Sequence[float], most: int = 3) -> int:
    """The fewest decimals (up to ``most``) at which percentages that differ print differently: labels of
    0.9937 and 0.9951 that both read "99 %" say nothing about which run ended higher."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    for digits in range(most + 1):
        if len({pct(v, digits) for v in values}) == len({round(100 * v, most) for v in values}):
            return digits
    return most


def spread(values: Sequence[float], fmt: str = ".3g") -> str:
    """'0.12' for one value, '0.12 (0.10–0.15 over 3 seeds)' for several: the mean and the seed range."""
    values = [v for v in values if v is not None]
    mean = sum(values) / len(values)
    if len(values) == 1:
        return format(mean, fmt)
    return f"{mean:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}} over {len(values)} seeds)"
