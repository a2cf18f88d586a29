"""The report's numbers, pinned: stored reference results that a fresh run must reproduce.

Two references live in ``tests/reference/``:

- ``smoke/<task>.json``: every number of each task's smoke-profile results (settings included;
  times, memory figures and the environment's description left out), checked by
  ``tests/test_reference.py`` on every ``make test``;
- ``quick.json``: each task's headline numbers in the quick profile (the few its comment quotes,
  ``HEADLINES``), checked by the same file's slow quick test.

A change that moves a number fails those tests, naming each number that moved, until the reference is
refreshed on purpose (``make reference``); the diff of ``tests/reference/`` then shows what moved.

Tolerances: on the machine the reference was made on (``machine()``) every number must come out exactly,
since the code is deterministic there. Another CPU picks other vector kernels in MKL and ATen, sums in
another order, and training carries that rounding forward: there ``ACROSS_MACHINES`` and ``RULES`` hold,
set from that spread as measured (``bench/reference_spread.py``; README, "Reproducing") with headroom.

Run as ``PYTHONPATH=tests python -m support.reference refresh [smoke|quick [task ...]]`` (what
``make reference`` does, for every task, or for the tasks ``TASKS`` names).
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = ROOT / "tests" / "reference"
# measurements of the machine or the run, not results: left out of every reference
SKIP = re.compile(r"second|time|timing|duration|wall|memory|^environment$|^device$", re.IGNORECASE)

# On the machine the reference was made on (the same CPU model, vector extensions, torch and numpy: ``machine()``)
# every number must come out exactly: the code is deterministic there, run after run. On another machine the
# default (rtol, atol) below holds, except for the fields RULES name. Both were set from the spread measured
# between one thread, two threads, and one thread with ATen's and MKL's plainest kernels
# (ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2), each against the one-thread run; the largest
# spread of the fields they cover is in each comment (README, "Reproducing").
ACROSS_MACHINES = {"smoke": (1e-2, 1e-5), "quick": (3e-2, 1e-5)}  # largest spread elsewhere: 1.2e-3 and 1.0e-2
# (profile or "*", "task:path" regex, rtol, atol, why); rtol None: compared on the reference's machine only
RULES: list[tuple[str, str, float | None, float, str]] = [
    ("*", r":(.*/)?\w*acc(/|$)", 1e-2, 0.02,
     "an accuracy moves by whole images: 1 of 256 training images (smoke), 3 of 360 test images (quick)"),
    ("*", r"^t1_3c_\w+:cases/\d+/curvature/", None, 0,
     "a second difference of the loss at a model: rounding moved it by 4 % (smoke) and 241 % (quick)"),
    ("smoke", r"^t1_2c_\w+:(phase2|eigenvalues)/", None, 0,
     "phase 2 descends ‖∇L‖² from where phase 1 stopped: its best step moved by 71 of 300, eigenvalues by 16 %"),
    ("smoke", r"^t1_2c_\w+:.*ratio_(all|nonzero)", 0, 0.05,
     "a minimal ratio counts eigenvalues above a tolerance: one of 61 crossing it moved a ratio by 0.016, "
     "one of 27 by 0.037"),
    ("smoke", r"^t1_2c_\w+:summary/rho_", None, 0, "a rank correlation over 6 runs: 0.0 against -0.2"),
    ("quick", r"^t1_1a_\w+:runs/", None, 0,
     "a run's stopping epoch (the plateau rule) moved by 35 %, its final-window median loss with it by up to 2.4×"),
    ("quick", r"^t1_2b_\w+:per_dataset/\w+/runs/\d+/(end_grad_norm|spearman_grad_loss|max_jump_grad_norm)", None, 0,
     "the gradient norm at the end of training is at its noise floor: 2.3× apart (sinc), its ρ with the loss 0.22"),
    ("quick", r"^t1_2c_\w+:missed$", 0, 3, "runs that missed the gradient threshold out of 100: 3 against 5"),
    ("quick", r"^t1_2c_\w+:summary/rho_all/(rho|low|high)$", 0, 0.1,
     "a rank correlation over 100 runs and its interval: moved by 0.025"),
    ("quick", r"^t1_1b_\w+:paired/\d+/loss/", 0, 3e-3,
     "a paired mean loss difference of nets within 1 % of each other: moved by up to 0.00095"),
    ("quick", r"^t1_1b_\w+:paired/\d+/accuracy/only_", 0, 2, "images one net gets right and the other not"),
    ("quick", r"^t1_1b_\w+:paired/\d+/accuracy/p$", None, 0,
     "McNemar's p of a few discordant images: one image more or less moves it by a factor of 2"),
    ("*", r"^t1_3a_\w+:test_paired/only_", 0, 3,
     "images one of the two nets gets right and the other not: each moves with the accuracies, by whole images"),
    ("*", r"^t1_3a_\w+:test_paired/p$", None, 0,
     "McNemar's p of the two nets: one discordant image more or less moves it by a factor of about 2"),
    ("quick", r"^t1_3d_\w+:models/\d+/(train_loss|sensitivity_\w+)$", 0.22, 0,
     "a model stops at the first check inside the ±10 % band around the target: on another machine one stopped "
     "a check apart, its training loss 7 % and its sensitivity 6 % away (two ends of the band are 22 % apart)"),
    ("quick", r"^t1_3[de]_\w+:(trends|correlations|partial|batch_trends)/", None, 0,
     "rank correlations over 10 models a rounding apart: ρ moved by 0.10, an interval's end by 0.17"),
]

# Each task's headline numbers in the quick profile: the ones its comment quotes and its conclusions rest
# on ("*" is every element of a list or every key of a dict, "-1" the last element).
HEADLINES = {
    "t1_1a_simulate_function": ["runs/*/*/train_loss", "runs/*/*/test_loss", "runs/*/*/epochs_run"],
    "t1_1b_actual_task": ["runs/*/history/final/test_acc", "runs/*/history/final/train_acc",
                          "runs/*/history/final/train_loss", "paired/*/accuracy/only_deep",
                          "paired/*/accuracy/only_shallow", "paired/*/accuracy/p", "paired/*/loss/mean",
                          "paired/*/loss/low", "paired/*/loss/high"],
    "t1_2a_optimization_process": ["pair_distance/start", "pair_distance/end", "pca/whole/explained_variance_ratio",
                                   "pca/layer/explained_variance_ratio", "step_length/*/0", "step_length/*/-1"],
    "t1_2b_gradient_norm": ["per_dataset/*/runs/*/start_loss", "per_dataset/*/runs/*/end_loss",
                            "per_dataset/*/runs/*/start_grad_norm", "per_dataset/*/runs/*/end_grad_norm",
                            "per_dataset/*/runs/*/spearman_grad_loss", "per_dataset/*/runs/*/max_jump_grad_norm"],
    "t1_2c_minimal_ratio": ["summary/ratio_all/median", "summary/ratio_nonzero/median", "summary/negligible/median",
                            "summary/runs_with_negative", "summary/rho_all/rho", "summary/rho_all/low",
                            "summary/rho_all/high", "missed"],
    "t1_2d_error_surface": ["random_plane/center_loss", "random_plane/min_loss", "random_plane/ring_half",
                            "pca_plane/explained_variance_ratio", "pca_plane/path_end_loss", "pca_plane/min_loss"],
    "t1_3a_random_labels": ["runs/0/epochs_to_target", "runs/0/final/train_acc", "runs/0/final/test_acc",
                            "runs/1/final/test_acc", "runs/1/epochs_to_target", "runs/0/best_test_acc",
                            "test_paired/only_true", "test_paired/only_random", "test_paired/p"],
    "t1_3b_parameters_vs_generalization": ["runs/*/test_acc", "runs/*/train_acc", "runs/*/test_loss",
                                           "summary/best/width", "summary/best/test_acc"],
    "t1_3c_interpolation": ["cases/*/mid/train_loss", "cases/*/mid/test_loss", "cases/*/barrier",
                            "cases/*/curvature/model1", "cases/*/curvature/model2", "cases/*/min_train_acc_inside",
                            "cases/*/models/*/train_loss", "cases/*/models/*/top_eigenvalue",
                            "cases/*/test_paired/only_a", "cases/*/test_paired/only_b", "cases/*/test_paired/p"],
    "t1_3d_sensitivity": ["models/*/sensitivity_softmax", "models/*/steps", "models/*/train_loss",
                          "trends/softmax/batch_size/rho", "trends/softmax/test_loss/rho", "trends/softmax/test_loss/low",
                          "trends/softmax/test_loss/high", "partial/*/rho", "partial/*/low", "partial/*/high"],
    "t1_3e_sharpness": ["correlations/*/gap_loss/rho", "correlations/*/gap_loss/low", "correlations/*/gap_loss/high",
                        "models/*/gap_loss", "batch_trends/*/partial/rho", "batch_trends/*/plain/rho"],
}


def tasks() -> list[str]:
    import hwlib.tasks

    return sorted(m.name for m in pkgutil.iter_modules(hwlib.tasks.__path__) if m.name.startswith("t1_"))


def numbers(value, prefix: str = "") -> dict[str, float | int | bool | None]:
    """Every number of a results payload by its path ('runs/0/final/test_acc'); strings and the fields SKIP
    names are left out. None stands for a NaN or an infinity (JSON has neither)."""
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            if not SKIP.search(str(key)):
                found.update(numbers(item, f"{prefix}{key}/"))
        return found
    if isinstance(value, list):
        found = {}
        for i, item in enumerate(value):
            found.update(numbers(item, f"{prefix}{i}/"))
        return found
    if value is None or isinstance(value, (bool, int, float)):
        return {prefix.rstrip("/"): value}
    return {}


def select(payload: dict, patterns: list[str]) -> dict:
    """The numbers at the given paths ('*' any key or index, '-1' a list's last element), by their real path.
    A pattern that matches nothing is an error: a renamed field must not leave a headline unchecked."""
    found = {}
    for pattern in patterns:
        matched = _walk(payload, pattern.split("/"), "")
        if not matched:
            raise KeyError(f"headline {pattern!r} matches no field of the results")
        found.update(matched)
    return found


def _walk(value, parts: list[str], prefix: str) -> dict:
    if not parts:
        return numbers(value, prefix) if isinstance(value, (dict, list)) else {prefix.rstrip("/"): value}
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        return {k: v for key in keys for k, v in _walk(value[key], rest, f"{prefix}{key}/").items()}
    if isinstance(value, list):
        if head == "*":
            idx = range(len(value))
        elif re.fullmatch(r"-?\d+", head) and -len(value) <= int(head) < len(value):
            idx = [int(head) % len(value)]
        else:
            idx = []
        return {k: v for i in idx for k, v in _walk(value[i], rest, f"{prefix}{i}/").items()}
    return {}


def tolerance(profile: str, task: str, path: str, same_machine: bool) -> tuple[float, float] | None:
    """(rtol, atol) for one number; None when it is compared on the reference's machine only."""
    if same_machine:
        return 0.0, 0.0
    for rule_profile, pattern, rtol, atol, _why in RULES:
        if rule_profile in ("*", profile) and re.search(pattern, f"{task}:{path}"):
            return None if rtol is None else (rtol, atol)
    return ACROSS_MACHINES[profile]


def differences(reference: dict, fresh: dict, tol) -> list[str]:
    """Each number that moved beyond its tolerance (``tol(path)`` → (rtol, atol) or None to skip it), or that
    appeared or disappeared, one line each."""
    lines = []
    for path in sorted(set(reference) | set(fresh)):
        if path not in fresh:
            lines.append(f"{path}: gone (reference {reference[path]!r})")
        elif path not in reference:
            lines.append(f"{path}: new ({fresh[path]!r}), not in the reference")
        elif (t := tol(path)) is not None and not close(reference[path], fresh[path], *t):
            lines.append(f"{path}: {fresh[path]!r}, reference {reference[path]!r}")
    return lines


def close(ref, new, rtol: float, atol: float) -> bool:
    if isinstance(ref, bool) or isinstance(new, bool) or ref is None or new is None:
        return ref == new  # a verdict or a missing value does not move a little
    return math.isclose(new, ref, rel_tol=rtol, abs_tol=atol)


def machine() -> dict:
    """What decides the rounding of a CPU run: the CPU model and its vector extensions (MKL and ATen pick their
    kernels by them), the kernels ATen chose, and the versions of torch and numpy. Tests run one thread."""
    import platform

    import numpy
    import torch

    model, flags = platform.processor(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine()):
                model = value.strip()
            if key.strip() == "flags":
                flags = sorted(f for f in value.split() if f.startswith(("avx", "fma", "amx", "sse4")))
                break
    except OSError:
        pass
    return {"cpu": model, "vector": " ".join(flags), "aten": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__, "numpy": numpy.__version__}


def run_task(name: str, profile: str, out_dir: Path) -> dict:
    """One task's results as its notebook saves them, computed in this process on the CPU."""
    from hwlib.params import resolve_task
    from hwlib.results import plain

    task = importlib.import_module(f"hwlib.tasks.{name}")
    return plain(task.run(resolve_task(task, profile=profile, device="cpu", out_dir=out_dir / name)))


def pinned(name: str, profile: str, payload: dict) -> dict:
    """What the reference keeps of a task's results: every number (smoke) or its headlines (quick)."""
    return numbers(payload) if profile == "smoke" else select(payload, HEADLINES[name])


def reference_path(profile: str, name: str | None = None) -> Path:
    return REFERENCE_DIR / "smoke" / f"{name}.json" if profile == "smoke" else REFERENCE_DIR / "quick.json"


def load(profile: str, name: str) -> tuple[dict, dict]:
    """(the machine the reference was made on, its numbers) for one task."""
    data = json.loads(reference_path(profile, name).read_text())
    return data["machine"], data["numbers"] if profile == "smoke" else data["tasks"][name]


def compare(name: str, profile: str, out_dir: Path) -> tuple[bool, list[str]]:
    """Run one task and compare it with its reference: (same machine as the reference, the numbers that moved)."""
    made_on, reference = load(profile, name)
    same = made_on == machine()
    fresh = pinned(name, profile, run_task(name, profile, out_dir))
    return same, differences(reference, fresh, lambda path: tolerance(profile, name, path, same))


def refresh(profile: str, out_dir: Path, only: list[str] | None = None) -> None:
    """Recompute the reference of every task, or of the tasks ``only`` names (the others' are kept)."""
    import torch

    torch.set_num_threads(1)  # as the tests run them
    unknown = sorted(set(only or []) - set(tasks()))
    if unknown:
        raise SystemExit(f"error: no task {', '.join(unknown)}: the tasks are {', '.join(tasks())}")
    quick_path = reference_path("quick")
    quick = json.loads(quick_path.read_text())["tasks"] if profile == "quick" and quick_path.exists() else {}
    for name in only or tasks():
        print(f"reference ({profile}): {name}", flush=True)
        values = pinned(name, profile, run_task(name, profile, out_dir))
        if profile == "smoke":
            path = reference_path(profile, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"machine": machine(), "numbers": values}, indent=0, sort_keys=True) + "\n")
        else:
            quick[name] = values
    if profile == "quick":
        # one file for all tasks, made on one machine: refreshing some tasks on another machine would mix two
        if only and quick_path.exists() and json.loads(quick_path.read_text())["machine"] != machine():
            raise SystemExit("error: quick.json was made on another machine: refresh every task (make reference)")
        quick_path.write_text(json.dumps({"machine": machine(), "tasks": quick}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {reference_path(profile, '*').relative_to(ROOT)}: git diff tests/reference shows which numbers moved")


def main(argv: list[str]) -> int:
    import tempfile

    if len(argv) < 1 or argv[0] != "refresh" or argv[1:] and argv[1] not in ACROSS_MACHINES:
        print("usage: PYTHONPATH=tests python -m support.reference refresh [smoke|quick [task ...]]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        refresh(argv[1] if len(argv) > 1 else "smoke", Path(tmp), argv[2:] or None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
