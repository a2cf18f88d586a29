"""What each notebook cost the last time it ran, per profile: the order make starts them in, and the
cost a user is told before a long build.

The runner records each successful notebook's wall time in ``<out_dir>/.timings/<profile>/<name>``
(one small file each, so notebooks finishing side by side never write the same file); a product
that a rule of its own builds (1-3d's trained models) is recorded under its own name. Make starts
the most expensive first, by the last run of the same profile, so the full profile is not scheduled
by the quick profile's timings; a notebook never timed in that profile keeps its place in the
written order, ahead of the timed ones (its cost is unknown, and a long one started last would run
alone at the end).

  python -m hwlib.pipeline.timings order --profile quick NAME ...   # the names, most expensive first

Standard library only: make calls it while reading the Makefile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths

# what a notebook's cost includes besides its own run: the product a rule of its own builds for it
PRODUCTS = {"1_3d_sensitivity": "1_3d_models", "1_3e_sharpness": "1_3d_models"}


def folder(out_dir: Path, profile: str) -> Path:
    return Path(out_dir) / ".timings" / profile


def record(out_dir: Path, profile: str, name: str, seconds: float) -> None:
    path = folder(out_dir, profile) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{seconds:.1f}\n")


def load_timings(out_dir: Path, profile: str) -> dict[str, float]:
    found = {}
    for path in sorted(folder(out_dir, profile).glob("*")):
        try:
            found[path.name] = float(path.read_text())
        except (OSError, ValueError):
            continue  # a file being written or damaged: that notebook counts as never timed
    return found


def cost(name: str, seconds: dict[str, float]) -> float | None:
    """A notebook's recorded cost with the product built for it (None when it was never timed)."""
    if name not in seconds:
        return None
    return seconds[name] + seconds.get(PRODUCTS.get(name, ""), 0.0)


def order(names: list[str], seconds: dict[str, float]) -> list[str]:
    """Never-timed notebooks first, in the given (written) order, then the timed ones, most expensive first."""
    untimed = [n for n in names if cost(n, seconds) is None]
    timed = sorted((n for n in names if cost(n, seconds) is not None), key=lambda n: -cost(n, seconds))
    return untimed + timed


def work(names: list[str], seconds: dict[str, float]) -> list[float] | None:
    """The build's pieces of work: each notebook's own time, and each product once (1-3d's models are trained
    once for both notebooks); None when one of them was never timed."""
    pieces = names + sorted({PRODUCTS[n] for n in names if n in PRODUCTS})
    if any(p not in seconds for p in pieces):
        return None
    return [seconds[p] for p in pieces]


def expected_wall(costs: list[float], jobs: int) -> float:
    """The build's wall time with ``jobs`` notebooks side by side, longest first: each goes to the slot free
    first (the schedule make follows, when the notebooks are independent)."""
    slots = [0.0] * max(jobs, 1)
    for c in sorted(costs, reverse=True):
        slots[slots.index(min(slots))] += c
    return max(slots)


def in_words(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="notebooks ordered by their recorded cost, most expensive first")
    ap.add_argument("command", choices=["order"])
    ap.add_argument("--profile", required=True)
    ap.add_argument("--out-dir", type=paths.in_project, default=paths.out_dir())
    ap.add_argument("names", nargs="*")
    args = ap.parse_intermixed_args(argv)  # the names come after --profile
    print(" ".join(order(args.names, load_timings(args.out_dir, args.profile))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
