"""The whole report: wall time of `make report PROFILE=quick` from a warm environment, and the peak
memory of the largest notebook.

    python bench/bench_report.py            # takes minutes; runs in a temporary copy
    BENCH_PROFILE=full python bench/bench_report.py   # the full report (a GPU box with MNIST/CIFAR-10)
    BENCH_JOBS=1 python bench/bench_report.py         # notebooks one at a time (default: the Makefile's JOBS)
    BENCH_BASE=HEAD~5 python bench/bench_report.py    # also the report of an earlier revision, first, side by side

The pipeline runs in a throwaway folder, never in this checkout (whose report/ may be in use):
the Makefile, pyproject.toml and notebooks/ are copied there (modification times kept, so make
sees an installed environment as up to date), hwlib/ is linked, and the
existing environment is reused with VENV=. Warm means the environment exists and Python's
caches are filled; nothing in the copy has been executed yet, so every notebook runs.
Each results file records its notebook kernel's peak resident memory; the largest is reported.
One line each for time and memory against the targets; with BENCH_BASE=<revision> the same report
of that revision (a git worktree, its own hwlib through PYTHONPATH, the same environment) runs first
on the same machine, and a line gives this revision's time as a multiple of it, each notebook's wall
time beside its earlier one. Runs that far apart in time see different background load: run it on
a quiet machine.
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
# this revision's quick report against f3322b8's (BENCH_BASE=f3322b8), same machine and run: the extra seeds
# are paid for by speed elsewhere
TARGET_RATIO = 1.2
DONE = re.compile(r"^\[\d+/\d+\] (\S+)\.ipynb done in ([\d.]+) s$", re.MULTILINE)  # hwlib.pipeline.runner's closing line


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def makefile_jobs() -> str:
    """The Makefile's own default JOBS on this machine, asked of make rather than computed again here."""
    done = subprocess.run(["make", "-s", "-C", str(ROOT), "--no-print-directory",
                           "--eval", "print-jobs: ; @echo $(JOBS)", "print-jobs"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def prepare(tmp: Path, source: Path, stamp_time: float) -> None:
    """A runnable copy of the project at ``source`` (this checkout, or a worktree of another revision)."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):  # the lock: what make venv installs, if any
        if (source / name).exists():
            shutil.copy2(source / name, tmp / name)
    # pyproject.toml older than the environment's stamp: make must not pip-install from the copy (that
    # would re-point the editable install there)
    for name in ("pyproject.toml", "requirements.lock"):
        if (tmp / name).exists():
            os.utime(tmp / name, (stamp_time - 1, stamp_time - 1))
    shutil.copytree(source / "notebooks", tmp / "notebooks", copy_function=shutil.copy2)
    os.symlink(source / "hwlib", tmp / "hwlib")


def run_report(source: Path, venv: Path, profile: str, jobs: str, stamp_time: float) -> dict | None:
    """make report in a fresh copy of ``source``; its kernels import ``source``'s hwlib (PYTHONPATH)."""
    with tempfile.TemporaryDirectory(prefix="hw1-bench-report-") as name:
        tmp = Path(name)
        prepare(tmp, source, stamp_time)
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        env["PYTHONPATH"] = str(source)
        cmd = ["make", "-C", str(tmp), f"VENV={venv}", f"PROFILE={profile}", f"JOBS={jobs}", "report"]
        print(f"running: {' '.join(cmd)}  (hwlib from {source})", flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, env=env)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-4000:], file=sys.stderr)
            print(f"error: make report failed (exit {done.returncode}) after {seconds:.0f} s", file=sys.stderr)
            return None
        out = {"seconds": seconds, "peaks": {}, "gpu_peaks": {}, "compute": {},
               "wall": {stem: float(sec) for stem, sec in DONE.findall(done.stdout)}}
        for path in sorted((tmp / "report" / "results").glob("*.json")):
            results = json.loads(path.read_text())
            out["peaks"][path.stem] = results.get("peak_memory_mib")
            out["gpu_peaks"][path.stem] = results.get("peak_gpu_memory_mib")  # None unless the notebook used a GPU
            out["compute"][path.stem] = results.get("seconds")
        return out


def main() -> int:
    venv = Path(os.environ.get("VENV", ROOT / ".venv"))
    stamp = venv / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        print(f"error: the environment {venv} is missing or older than pyproject.toml: run `make venv` first",
              file=sys.stderr)
        return 2
    device = bench_device()
    profile = os.environ.get("BENCH_PROFILE", "quick")
    jobs = os.environ.get("BENCH_JOBS") or makefile_jobs()
    base = os.environ.get("BENCH_BASE")
    quick = profile == "quick"
    runs = {}
    with tempfile.TemporaryDirectory(prefix="hw1-bench-base-") as wt:
        if base:  # the previous revision first, then this one, on the same machine in the same run
            worktree = Path(wt) / "base"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(worktree), base], check=True)
            try:
                runs[base] = run_report(worktree, venv, profile, jobs, stamp.stat().st_mtime)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False)
            if runs[base] is None:
                return 1
        runs["this revision"] = now = run_report(ROOT, venv, profile, jobs, stamp.stat().st_mtime)
    if now is None:
        return 1
    minutes = now["seconds"] / 60
    line(f"make report PROFILE={profile} JOBS={jobs} (warm environment, fresh outputs)", "wall time", f"{minutes:.2f} min",
         "notebooks", str(len(now["peaks"])),
         f"target ≤ {TARGET_MINUTES:g} min: {met(minutes <= TARGET_MINUTES)}" if quick else "no target", device)
    if base:
        before = runs[base]["seconds"]
        ratio = now["seconds"] / before
        line(f"make report PROFILE={profile}, this revision against {base}", "this", f"{minutes:.2f} min",
             base, f"{before / 60:.2f} min", f"{ratio:.2f}× the time (target ≤ {TARGET_RATIO:g}×: "
             f"{met(ratio <= TARGET_RATIO)})", device)
    known = {k: v for k, v in now["peaks"].items() if v is not None}
    if known:
        largest = max(known, key=known.get)
        gib = known[largest] / 1024
        line("peak memory of the largest notebook kernel", "notebook", largest, "peak RSS", f"{gib:.2f} GiB",
             f"target ≤ {TARGET_GIB:g} GiB: {met(gib <= TARGET_GIB)}", device)
    for stem in sorted(now["peaks"]):  # wall: the notebook's whole run (kernel start, plots); compute: its task's work
        sec = now["compute"].get(stem)
        gpu = f", GPU peak {now['gpu_peaks'][stem]} MiB" if now["gpu_peaks"].get(stem) is not None else ""
        was = f" (at {base}: {runs[base]['wall'].get(stem, float('nan')):.1f} s wall)" if base else ""
        print(f"    {stem}: {now['wall'].get(stem, float('nan')):.1f} s wall{was}, "
              f"{sec if sec is None else round(sec, 1)} s computing, peak {now['peaks'][stem]} MiB{gpu}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
