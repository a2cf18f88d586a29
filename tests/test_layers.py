"""The task layer's shape: one module per sub-task, and no task module imports another, so that editing one
sub-task's figures or training never reruns a sibling (what two tasks share lives in a science module or in
hwlib/tasks/common.py and batch_models.py)."""

import ast
from pathlib import Path

TASKS = Path(__file__).resolve().parents[1] / "hwlib" / "tasks"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n.rsplit(".", 1)[-1] for n in names}


def test_no_task_imports_another_task():
    tasks = sorted(TASKS.glob("t1_*.py"))
    assert len(tasks) == 11
    stems = {p.stem for p in tasks}
    for path in tasks:
        assert not (_imported(path) & stems), f"{path.name} imports {sorted(_imported(path) & stems)}"


def test_the_check_sees_a_task_import(tmp_path):
    """The check above can fail: a module that imports a sibling task is caught."""
    bad = tmp_path / "t1_9z_example.py"
    bad.write_text("from . import t1_3d_sensitivity as t1_3d\nfrom .common import load_data\n")
    assert "t1_3d_sensitivity" in _imported(bad)
