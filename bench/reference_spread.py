"""How far the pinned numbers move when only the rounding changes: the measurement behind the tolerances in
tests/support/reference.py (ACROSS_MACHINES and RULES).

Each task's pinned numbers are computed in a process of its own three ways, all on this machine: one
thread; two threads; one thread on ATen's and MKL's plainest kernels (ATEN_CPU_CAPABILITY=default
MKL_ENABLE_INSTRUCTIONS=SSE4_2, the sums an older CPU does). Each of the last two is compared with the
first under the across-machine tolerances: a line per task gives how many numbers moved at all, how many
moved beyond their tolerance (a rule to revisit), and the largest spread as a share of its tolerance.

    .venv/bin/python bench/reference_spread.py smoke            # every task, seconds each
    .venv/bin/python bench/reference_spread.py quick t1_2c_minimal_ratio t1_3d_sensitivity

Not run by `make bench`: the quick profile on the plainest kernels takes minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import reference as ref  # noqa: E402

CONFIGS = {"2 threads": ("2", {}),
           "plainest kernels": ("1", {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"})}
CHILD = """
import json, sys, tempfile, torch
from pathlib import Path
sys.path.insert(0, {tests!r})
from support import reference as ref
torch.set_num_threads(int(sys.argv[1]))
with tempfile.TemporaryDirectory() as tmp:
    print(json.dumps({{n: ref.pinned(n, {profile!r}, ref.run_task(n, {profile!r}, Path(tmp))) for n in sys.argv[2:]}}))
"""


def pinned(profile: str, names: list[str], threads: str, env: dict) -> dict:
    code = CHILD.format(tests=str(ROOT / "tests"), profile=profile)
    done = subprocess.run([sys.executable, "-c", code, threads, *names], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def share_of_tolerance(a, b, tol) -> float:
    """|b - a| over the tolerance allowed at a (0 where equal, inf where a verdict or a missing value changed)."""
    if a == b:
        return 0.0
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        return float("inf")
    rtol, atol = tol
    allowed = max(rtol * abs(a), atol)
    return abs(b - a) / allowed if allowed > 0 else float("inf")


def main(argv: list[str]) -> int:
    profile = argv[0] if argv else "smoke"
    names = argv[1:] or ref.tasks()
    print(f"pinned numbers of the {profile} profile, against one thread (cpu, {os.cpu_count()} cores here)")
    base = pinned(profile, names, "1", {})
    for label, (threads, env) in CONFIGS.items():
        other = pinned(profile, names, threads, env)
        for name in names:
            a, b = base[name], other[name]
            checked = {p: ref.tolerance(profile, name, p, same_machine=False) for p in a}
            moved = sum(a[p] != b.get(p) for p in a)
            beyond = ref.differences(a, b, lambda p, n=name: ref.tolerance(profile, n, p, False))
            worst = max((share_of_tolerance(a[p], b.get(p), t), p) for p, t in checked.items() if t is not None)
            print(f"{label:>16} | {name:<36} | {moved:>6}/{len(a):<6} moved | {len(beyond)} beyond tolerance | "
                  f"largest {worst[0]:.2f} of its tolerance ({worst[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
