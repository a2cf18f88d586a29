"""Every function that writes prose fits on one screen (40 lines): a task's ``comment`` and each function
of its module it reaches, and every function of the summary page. One sentence or paragraph per function
keeps the rule behind each sentence readable beside the property test that re-derives it."""

import ast
from pathlib import Path

import pytest

HWLIB = Path(__file__).resolve().parents[1] / "hwlib"
LONGEST = 40


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}


def _reached(functions: dict[str, ast.FunctionDef], start: str) -> set[str]:
    """``start`` and the module's functions it names, directly or through those."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)]
    return seen


def _too_long(functions: dict[str, ast.FunctionDef], names) -> list[str]:
    lengths = {name: functions[name].end_lineno - functions[name].lineno + 1 for name in names}
    return sorted(f"{name}: {n} lines" for name, n in lengths.items() if n > LONGEST)


@pytest.mark.parametrize("task", sorted(HWLIB.glob("tasks/t*.py")), ids=lambda p: p.stem)
def test_a_comment_is_written_by_short_functions(task):
    functions = _functions(task)
    assert "comment" in functions
    assert _too_long(functions, _reached(functions, "comment")) == []


def test_the_summary_is_written_by_short_functions():
    functions = _functions(HWLIB / "pipeline" / "summary.py")
    assert _too_long(functions, functions) == []
