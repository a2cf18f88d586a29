"""Side-by-side timing shared by the benchmarks.

A comparison of A against B is measured in one process: A and B alternate (A B, then B A, …)
for several repeats after one untimed warm-up each, and the median of each side is kept. A
burst of load from something else on the machine then hits both sides alike and moves a
median far less than a mean or a single run. Every comparison prints one line:

    what | A: 0.812 s | B: 2.130 s | 2.62× (target ≥ 1.3×: met) | cpu
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/x.py` from a checkout without the editable install
    sys.path.insert(0, str(ROOT))

from hwlib.device import describe_device, resolve_device


def bench_device() -> torch.device:
    """The device every benchmark measures: HWLIB_DEVICE if set (cpu, cuda, cuda:1), else auto.
    BENCH_THREADS, if set, fixes torch's CPU thread count for the whole run (default: torch's own)."""
    if os.environ.get("BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    return resolve_device(os.environ.get("HWLIB_DEVICE", "auto"))


def threads_fixed() -> bool:
    """Whether the user fixed the thread count (then no benchmark changes it)."""
    return bool(os.environ.get("BENCH_THREADS"))


def where(device: torch.device) -> str:
    """The device as the result line names it; on a CPU with the thread count, which changes every CPU number."""
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu, {n} thread{'s' if n > 1 else ''}"
    return describe_device(device)


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so a timer read after it covers that work (CUDA is asynchronous)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    out = fn()
    synchronize(device)
    return time.perf_counter() - start, out


@dataclass
class Pair:
    """The samples of one side-by-side measurement; medians in seconds."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    a_out: object = None  # what the last call of each side returned (for sanity checks)
    b_out: object = None

    @property
    def a_median(self) -> float:
        return statistics.median(self.a)

    @property
    def b_median(self) -> float:
        return statistics.median(self.b)


def side_by_side(a: Callable[[], object], b: Callable[[], object], device: torch.device,
                 repeats: int = 5, warmup: int = 1) -> Pair:
    """Time ``a`` and ``b`` alternately, ``repeats`` times each after ``warmup`` untimed calls each.
    The order flips every round (AB, BA, AB, …) so neither side always runs on the heels of the other."""
    for _ in range(warmup):  # first calls pay for lazy initialization, allocator growth, caches
        a()
        b()
    pair = Pair()
    for r in range(repeats):
        order = (("a", a), ("b", b)) if r % 2 == 0 else (("b", b), ("a", a))
        for side, fn in order:
            seconds, out = timed(fn, device)
            getattr(pair, side).append(seconds)
            setattr(pair, f"{side}_out", out)
    return pair


def target_text(value: float, target: float | None, unit: str = "×", word: str = "") -> str:
    """'2.62× faster (target ≥ 1.3×: met)': the value, what it means, and the target it is held to."""
    text = f"{value:.2f}{unit}" + (f" {word}" if word else "")
    if target is not None:
        text += f" (target ≥ {target:g}{unit}: {'met' if value >= target else 'NOT met'})"
    return text


def line(what: str, a_label: str, a_value: str, b_label: str, b_value: str, ratio: str,
         device: torch.device) -> str:
    """One benchmark's result line, printed and returned."""
    text = f"{what} | {a_label}: {a_value} | {b_label}: {b_value} | {ratio} | {where(device)}"
    print(text, flush=True)
    return text


def report_pair(what: str, pair: Pair, device: torch.device, a_label: str = "A", b_label: str = "B",
                target: float | None = None) -> float:
    """Print the line of a speed comparison: how many times faster A is than B (B's median / A's)."""
    ratio = pair.b_median / pair.a_median
    line(what, a_label, f"{pair.a_median:.3f} s", b_label, f"{pair.b_median:.3f} s",
         target_text(ratio, target, word="faster"), device)
    return ratio


def spread(samples: list[float]) -> str:
    """min–max of the samples, for a verbose look at how noisy a measurement was."""
    return f"{min(samples):.3f}–{max(samples):.3f} s over {len(samples)} runs"
