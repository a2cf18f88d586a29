"""The same profile, settings and seeds give the same numbers on CPU: every task, run twice."""

import importlib
import pkgutil
import re

import pytest

import hwlib.tasks
from hwlib.params import resolve_task
from hwlib.results import plain

TASKS = sorted(m.name for m in pkgutil.iter_modules(hwlib.tasks.__path__) if m.name.startswith("t1_"))
TIMING = re.compile(r"second|time|timing|duration|wall|memory", re.I)  # measurements of the machine, not results
pytestmark = pytest.mark.slow


def _numbers(value):
    """The payload without wall-clock and memory fields, which legitimately differ between runs."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items() if not TIMING.search(k)}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


@pytest.mark.parametrize("name", TASKS)
def test_task_is_deterministic_on_cpu(name, tmp_path):
    task = importlib.import_module(f"hwlib.tasks.{name}")
    # two output folders: a second run in the first one would load cached models (1-3d, 1-3e), not train
    first = _numbers(plain(task.run(resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path / "a"))))
    second = _numbers(plain(task.run(resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path / "b"))))
    assert first == second
