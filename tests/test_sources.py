"""hwlib.sources: the hwlib files a notebook or module imports, read statically."""

from pathlib import Path

import nbformat

from hwlib import sources
from hwlib.pipeline.runner import task_module

ROOT = Path(__file__).resolve().parents[1]
HW = ROOT / "hwlib"
BUILD_LAYER = set((HW / "pipeline").glob("*.py"))


def test_module_closure_follows_relative_and_package_imports():
    task = min((HW / "tasks").glob("t1_1a*.py"))  # 1-1a's task module, whatever its long name
    files = sources.of_module(f"hwlib.tasks.{task.stem}")
    assert {task, HW / "__init__.py", HW / "tasks" / "__init__.py", HW / "ensemble.py",
            HW / "models.py", HW / "train.py", HW / "flat.py"} <= files  # flat: through ensemble
    assert not files & BUILD_LAYER


def test_code_imports_absolute_and_from_forms():
    files = sources.of_code(["from hwlib import wording\nimport hwlib.labels", "%matplotlib inline", "x = 1"])
    assert {HW / "wording.py", HW / "labels.py", HW / "__init__.py"} <= files
    assert sources.of_code(["import numpy as np"]) == set()


def test_every_notebook_depends_on_its_task_and_never_on_the_build_layer():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        files = sources.of_code([c.source for c in nb.cells if c.cell_type == "code"])
        assert Path(task_module(path).__file__).resolve() in files, path.name
        assert not files & BUILD_LAYER, path.name


def test_closure_of_a_throwaway_package(tmp_path, monkeypatch):
    pkg = tmp_path / "hwlib"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\nfrom .sub.c import thing\n")
    (pkg / "b.py").write_text("import os\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from ..b import x\nthing = 1\n")
    (pkg / "unused.py").write_text("")
    monkeypatch.setattr(sources, "PACKAGE", pkg)
    got = sources.of_module("hwlib.a")
    assert got == {pkg / "__init__.py", pkg / "a.py", pkg / "b.py", pkg / "sub" / "__init__.py", pkg / "sub" / "c.py"}
