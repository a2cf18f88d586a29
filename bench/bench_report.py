"""The whole report: wall time of `make report PROFILE=quick` from a warm environment, and the peak
memory of the largest notebook.

    python bench/bench_report.py            # takes minutes; runs in a temporary copy
    BENCH_PROFILE=full python bench/bench_report.py   # the full report (a GPU box with MNIST/CIFAR-10)
    BENCH_JOBS=1 python bench/bench_report.py         # notebooks one at a time (default: the Makefile's JOBS)

The pipeline runs in a throwaway folder, never in this checkout (whose report/ may be in use):
the Makefile, pyproject.toml and notebooks/ are copied there (modification times kept, so make
sees an installed environment as up to date), hwlib/ is linked, and the
existing environment is reused with VENV=. Warm means the environment exists and Python's
caches are filled; nothing in the copy has been executed yet, so every notebook runs.
Each results file records its notebook kernel's peak resident memory; the largest is reported.
A single measurement, not a comparison: one line each for time and memory against the targets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, bench_device, line

TARGET_MINUTES = 8.0  # for the quick profile on a 2-core CPU; the full profile's lines carry no target
TARGET_GIB = 3.0
DONE = re.compile(r"^\[\d+/\d+\] (\S+)\.ipynb done in ([\d.]+) s$", re.MULTILINE)  # hwlib.pipeline.runner's closing line


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def makefile_jobs() -> str:
    """The Makefile's own default JOBS on this machine, asked of make rather than computed again here."""
    done = subprocess.run(["make", "-s", "-C", str(ROOT), "--no-print-directory",
                           "--eval", "print-jobs: ; @echo $(JOBS)", "print-jobs"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def prepare(tmp: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp / name)  # copy2 keeps mtimes: pyproject.toml stays older than the venv stamp
    shutil.copytree(ROOT / "notebooks", tmp / "notebooks", copy_function=shutil.copy2)
    os.symlink(ROOT / "hwlib", tmp / "hwlib")


def main() -> int:
    venv = Path(os.environ.get("VENV", ROOT / ".venv"))
    stamp = venv / ".installed"
    # Without an up-to-date stamp make would pip-install from the copy, re-pointing the editable install there.
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        print(f"error: the environment {venv} is missing or older than pyproject.toml: run `make venv` first",
              file=sys.stderr)
        return 2
    device = bench_device()
    profile = os.environ.get("BENCH_PROFILE", "quick")
    jobs = os.environ.get("BENCH_JOBS") or makefile_jobs()
    with tempfile.TemporaryDirectory(prefix="hw1-bench-report-") as name:
        tmp = Path(name)
        prepare(tmp)
        cmd = ["make", "-C", str(tmp), f"VENV={venv}", f"PROFILE={profile}", f"JOBS={jobs}", "report"]
        print(f"running: {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-4000:], file=sys.stderr)
            print(f"error: make report failed (exit {done.returncode}) after {seconds:.0f} s", file=sys.stderr)
            return 1
        peaks, gpu_peaks, compute = {}, {}, {}
        for path in sorted((tmp / "report" / "results").glob("*.json")):
            results = json.loads(path.read_text())
            peaks[path.stem] = results.get("peak_memory_mib")
            gpu_peaks[path.stem] = results.get("peak_gpu_memory_mib")  # None unless the notebook used a GPU
            compute[path.stem] = results.get("seconds")
        wall = {stem: float(sec) for stem, sec in DONE.findall(done.stdout)}
    known = {k: v for k, v in peaks.items() if v is not None}
    largest = max(known, key=known.get) if known else None
    minutes = seconds / 60
    quick = profile == "quick"
    line(f"make report PROFILE={profile} JOBS={jobs} (warm environment, fresh outputs)", "wall time", f"{minutes:.2f} min",
         "notebooks", str(len(peaks)),
         f"target ≤ {TARGET_MINUTES:g} min: {met(minutes <= TARGET_MINUTES)}" if quick else "no target", device)
    if largest is not None:
        gib = known[largest] / 1024
        line("peak memory of the largest notebook kernel", "notebook", largest, "peak RSS", f"{gib:.2f} GiB",
             f"target ≤ {TARGET_GIB:g} GiB: {met(gib <= TARGET_GIB)}", device)
    for stem in sorted(peaks):  # wall: the notebook's whole run (kernel start, plots); compute: its task's work
        sec = compute.get(stem)
        gpu = f", GPU peak {gpu_peaks[stem]} MiB" if gpu_peaks.get(stem) is not None else ""
        print(f"    {stem}: {wall.get(stem, float('nan')):.1f} s wall, "
              f"{sec if sec is None else round(sec, 1)} s computing, peak {peaks[stem]} MiB{gpu}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
