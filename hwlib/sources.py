"""Which of hwlib's source files a piece of code runs: the static closure of its imports.

make reruns a notebook when a file it depends on changes, and the trained-model cache drops models
when the code that trained them changes. Both need "the files this code imports", no more: a
notebook that never imports the PDF printer must not rerun when the printer is edited. The imports
are read with ``ast`` (nothing is executed), following ``from . import x``, ``from ..m import y``
and ``import hwlib.m`` through the package, with each package's ``__init__.py`` (it runs on import).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT_NAME = PACKAGE.name  # "hwlib"


def _module_file(dotted: str) -> Path | None:
    """hwlib.tasks.t1_3c -> .../hwlib/tasks/t1_3c.py (or the package's __init__.py); None outside hwlib."""
    parts = dotted.split(".")
    if not parts or parts[0] != ROOT_NAME:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _dotted_of(path: Path) -> str:
    rel = path.resolve().relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    """The package a file's relative imports start from."""
    dotted = _dotted_of(path)
    return dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]


def imported_modules(tree: ast.AST, package: str | None) -> set[str]:
    """Dotted names of the hwlib modules (and candidate submodules) a syntax tree imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)  # `from hwlib import data`: a submodule
    return {n for n in names if n == ROOT_NAME or n.startswith(ROOT_NAME + ".")}


def closure(modules: set[str]) -> set[Path]:
    """Every hwlib file that importing ``modules`` runs, packages' __init__.py included."""
    files: set[Path] = set()
    todo = list(modules)
    while todo:
        dotted = todo.pop()
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__, a/b/__init__ first
            path = _module_file(".".join(parts[:i]))
            if path is None or path in files:
                continue
            files.add(path)
            todo.extend(imported_modules(ast.parse(path.read_text()), _package_of(path)))
    return files


def of_code(sources: list[str]) -> set[Path]:
    """The hwlib files that running these code strings (e.g. a notebook's code cells) imports."""
    modules: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:  # a cell with IPython syntax (magics): its imports cannot be read
            continue
        modules |= imported_modules(tree, None)
    return closure(modules)


def of_module(dotted: str) -> set[Path]:
    """The hwlib files that importing one module runs (itself included)."""
    return closure({dotted})
