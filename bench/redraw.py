"""Edit a figure, see it in seconds: a clean `make report` against the rebuild after a display-only edit.

In a fresh clone of this repository (its committed state), side by side:
1. `make report` from nothing (every notebook computes);
2. `touch hwlib/wording.py` (every notebook imports it, so make reruns all of them), then `make report`:
   each notebook finds its saved results computed from the same inputs (hwlib/inputs.py) and redraws.
Prints both wall times, their ratio, and how many notebooks computed in the second build (none should).

    .venv/bin/python bench/redraw.py            # quick profile (minutes)
    .venv/bin/python bench/redraw.py smoke
    BENCH_KEEP=/tmp/quick-report .venv/bin/python bench/redraw.py   # keep the clean build's report/ there

Not run by `make bench`: it builds the report twice. The clone gets a virtual environment of its own that sees
the project's installed packages (a .pth line) and installs the clone's hwlib, before the clock starts: the
project's own .venv is left pointing at the project.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def overlay_venv(clone: Path) -> None:
    """clone/.venv: the project's packages through a .pth line (nothing downloaded), the clone's hwlib installed
    in it, so `make` in the clone neither reinstalls the project's .venv nor imports the project's hwlib."""
    subprocess.run([sys.executable, "-m", "venv", str(clone / ".venv")], check=True)
    site = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert finds its templates under the environment's prefix (share/jupyter), not through sys.path
    (clone / ".venv" / "share").mkdir(exist_ok=True)
    (clone / ".venv" / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    subprocess.run(["make", "-C", str(clone), "venv"], check=True, capture_output=True, env=ENV)


def make_report(clone: Path, profile: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(["make", "-C", str(clone), f"PROFILE={profile}", "report"],
                          capture_output=True, text=True, env=ENV)
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
        overlay_venv(clone)
        clean, _ = make_report(clone, profile)
        if os.environ.get("BENCH_KEEP"):  # the fresh clone's report, to read or grade afterwards
            shutil.copytree(clone / "report", os.environ["BENCH_KEEP"], dirs_exist_ok=True)
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
