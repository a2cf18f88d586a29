"""A task's computation digest: unchanged by display code, changed by anything run computes from; and
common.run redrawing from saved results exactly when the digest matches."""

import shutil

import pytest

from hwlib import inputs, sources
from hwlib.params import resolve_task
from hwlib.tasks import common
from hwlib.tasks import t1_2a_optimization_process as cheap
from hwlib.tasks import t1_3d_sensitivity as t1_3d

SETTINGS = {"a": 1}


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of hwlib the digest reads instead of the real one, to edit freely."""
    copy = tmp_path / "hwlib"
    shutil.copytree(sources.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sources, "PACKAGE", copy)
    return copy


def _digest(settings=SETTINGS):
    return inputs.digest(t1_3d, settings, "quick", "cpu")


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_display_code_does_not_change_the_digest(package):
    base = _digest()
    task = package / "tasks" / "t1_3d_sensitivity.py"
    _edit(task, "def comment(R: dict) -> str:\n", "def comment(R: dict) -> str:\n    # edited\n")
    _edit(task, "ALPHA = 0.05", "ALPHA = 0.01")  # a constant only the comment reads
    _edit(task, 'caption = ("Left:', 'caption = ("Edited. Left:')
    for name in ("wording.py", "plots.py", "tables.py"):
        (package / name).write_text((package / name).read_text() + "\n# edited\n")
    assert _digest() == base
    # the device's type only: the numbers do not depend on which GPU of a box ran them
    assert inputs.digest(t1_3d, SETTINGS, "quick", "cuda:0") == inputs.digest(t1_3d, SETTINGS, "quick", "cuda:1")
    assert inputs.digest(t1_3d, SETTINGS, "quick", "cuda:0") != base


@pytest.mark.parametrize("file,old,new", [
    ("tasks/t1_3d_sensitivity.py", "def run(P) -> dict:\n", "def run(P) -> dict:\n    # edited\n"),
    ("tasks/t1_3d_sensitivity.py", "    if len(values) < 2:\n        return None",
     "    if len(values) < 3:\n        return None"),
    ("tasks/t1_3d_sensitivity.py", 'PRIMARY = "softmax"', 'PRIMARY = "loss"'),  # a constant run reads
    ("ranks.py", "N_BOOT = 2000", "N_BOOT = 2001"),  # a module run's names come from
    ("train.py", "EVAL_CHUNK = 8192", "EVAL_CHUNK = 4096"),  # imported by hwlib.to_target
    ("to_target.py", "TOLERANCE = 0.10", "TOLERANCE = 0.05"),
])
def test_what_run_computes_from_changes_the_digest(package, file, old, new):
    base = _digest()
    _edit(package / file, old, new)
    assert _digest() != base


def test_settings_change_the_digest():
    assert _digest() != _digest({"a": 2})
    assert inputs.digest(t1_3d, SETTINGS, "quick", "cpu") != inputs.digest(t1_3d, SETTINGS, "smoke", "cpu")


def test_a_local_name_does_not_reach_the_module_level_one():
    statements, modules = inputs.reached("hwlib.tasks.t1_1a_simulate_function")
    assert not any(s.startswith("def table") or s.startswith("def comment") for s in statements)
    assert not set(inputs.DISPLAY_MODULES) & modules


@pytest.fixture
def P(tmp_path):
    return resolve_task(cheap, profile="smoke", device="cpu", out_dir=tmp_path)


def test_common_run_redraws_only_from_the_same_inputs(P, monkeypatch, capsys):
    first = common.run(cheap, P)
    assert first["redrawn"] is False and first["inputs"] == inputs.digest(cheap, P.settings, P.profile, P.device)

    def no_training(P):
        raise AssertionError("computed, where the saved results should have been redrawn")

    real_run = cheap.run
    monkeypatch.setattr(cheap, "run", no_training)
    again = common.run(cheap, P)
    assert again["redrawn"] is True and "redrawn from" in capsys.readouterr().out
    assert {k: v for k, v in again.items() if k != "redrawn"} == {k: v for k, v in first.items() if k != "redrawn"}

    calls = []
    monkeypatch.setattr(cheap, "run", lambda P: calls.append(1) or real_run(P))
    monkeypatch.setenv("HWLIB_RECOMPUTE", "1")
    assert common.run(cheap, P)["redrawn"] is False and calls == [1]
    monkeypatch.delenv("HWLIB_RECOMPUTE")
    other = resolve_task(cheap, profile="smoke", device="cpu", out_dir=P.out_dir, epochs=P.epochs + 1)
    assert common.run(cheap, other)["redrawn"] is False and calls == [1, 1]  # another setting: computed


def test_the_report_says_which_notebooks_were_redrawn():
    import nbformat

    from hwlib.pipeline import stitch

    def nb(section):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {section} · A title")])

    from pathlib import Path

    notebooks = [(Path("a.ipynb"), nb("1-2a")), (Path("b.ipynb"), nb("1-3d"))]
    results = [{"redrawn": False, "seconds": 3.0}, {"redrawn": True, "seconds": 40.0}]
    assert stitch._computed(notebooks, results).startswith("redrawn from results an earlier run computed")
    assert ": 1-3d;" in stitch._computed(notebooks, results)
    assert "Redrawn from saved results" in stitch.appendix(notebooks, results) and "took 40.0 s" in \
        stitch.appendix(notebooks, results)
    fresh = [{"redrawn": False, "seconds": 3.0}] * 2
    assert stitch._computed(notebooks, fresh) == "every notebook computed its results in this build"
    assert "Redrawn" not in stitch.appendix(notebooks, fresh)
