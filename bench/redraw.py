"""Edit a figure, see it in seconds: a clean `make report` against the rebuild after a display-only edit.

In a fresh clone of this repository (its committed state; the project's .venv is reused), side by side:
1. `make report` from nothing (every notebook computes);
2. `touch hwlib/wording.py` (every notebook imports it, so make reruns all of them), then `make report`:
   each notebook finds its saved results computed from the same inputs (hwlib/inputs.py) and redraws.
Prints both wall times, their ratio, and how many notebooks computed in the second build (none should).

    .venv/bin/python bench/redraw.py            # quick profile (minutes)
    .venv/bin/python bench/redraw.py smoke

Not run by `make bench`: it builds the report twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_report(clone: Path, profile: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    start = time.perf_counter()
    done = subprocess.run(["make", "-C", str(clone), f"VENV={ROOT / '.venv'}", f"PROFILE={profile}", "report"],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"make report failed in {clone}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main(argv: list[str]) -> int:
    profile = argv[0] if argv else "quick"
    import torch

    print(f"make report, profile {profile}: clean, then after `touch hwlib/wording.py` "
          f"(cpu, {os.cpu_count()} cores, torch {torch.__version__})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        clean, _ = make_report(clone, profile)
        (clone / "hwlib" / "wording.py").touch()
        redraw, log = make_report(clone, profile)
        saved = [json.loads(p.read_text()) for p in sorted((clone / "report" / "results").glob("*.json"))]
        computed = [r["section"] for r in saved if not r.get("redrawn")]
        reran = log.count(" done in ")
    print(f"  clean build            {clean:7.1f} s")
    print(f"  after touching wording {redraw:7.1f} s   {redraw / clean:.2f}× of the clean build; "
          f"{reran} notebooks rerun, {len(computed)} computed ({', '.join(computed) or 'none'}), the rest redrawn")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
