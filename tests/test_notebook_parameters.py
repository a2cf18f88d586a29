"""Each notebook's parameters cell names exactly its task's settings, so papermill's -p and a user's
edit reach the task, and no setting is written in one place and missing from the other."""

import ast
from pathlib import Path

import nbformat
import pytest

from hwlib.params import PROFILES, resolve_task
from hwlib.pipeline.runner import task_module

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
COMMON = {"profile", "device", "out_dir"}  # every notebook's, resolved by hwlib.params itself


def parameters_cell(path: Path) -> dict[str, ast.expr]:
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    out = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, f"{path.name}: only plain assignments"
        out[node.targets[0].id] = node.value
    return out


def check(path: Path) -> None:
    task = task_module(path)
    assert task is not None, f"{path.name}: no task module found for it"
    names = parameters_cell(path)
    missing = set(task.SPEC) - set(names)
    extra = set(names) - set(task.SPEC) - COMMON
    assert not missing, f"{path.name}: settings of {task.__name__}.SPEC missing from the parameters cell: {sorted(missing)}"
    assert not extra, f"{path.name}: parameters not in {task.__name__}.SPEC: {sorted(extra)}"
    assert COMMON <= set(names), f"{path.name}: every notebook takes {sorted(COMMON)}"
    for name in task.SPEC:  # None = the profile's value; a literal here would silently override every profile
        assert isinstance(names[name], ast.Constant) and names[name].value is None, f"{path.name}: {name} must be None"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_the_task_spec(path):
    check(path)


@pytest.mark.parametrize("change", ["drop", "add"])
def test_the_check_fails_on_a_disagreement(tmp_path, change):
    path = NOTEBOOKS[0]
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    first = next(iter(task_module(path).SPEC))
    if change == "drop":
        cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith(f"{first} ="))
    else:
        cell.source += "\nnot_a_setting = None"
    copy = tmp_path / path.name
    nbformat.write(nb, copy)
    with pytest.raises(AssertionError, match=first if change == "drop" else "not_a_setting"):
        check(copy)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_profile_value_of_every_task_is_allowed(path, profile, tmp_path):
    # make's settings check reads the task modules only for settings given with -p: a profile's own values
    # are code, checked here, with each task's cross-setting checks
    task = task_module(path)
    P = resolve_task(task, profile=profile, device="cpu", out_dir=tmp_path)
    assert P.profile == profile and set(P.settings) == set(task.SPEC)
