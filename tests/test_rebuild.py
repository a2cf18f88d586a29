"""What make reruns: a notebook when an hwlib file its code imports changes, nothing when only the
build layer (PDF printer, template) changes. Checked with `make -n` on a copy of the project whose
notebooks are marked executed, so nothing is run."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
pytestmark = pytest.mark.slow


def _make(project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(["make", "-C", str(project), f"VENV={VENV}", "PROFILE=smoke", *args],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _reruns(project: Path) -> list[str]:
    """The notebooks and build steps `make -n report` would run."""
    out = _make(project, "-n", "report")
    ran = [line.split("run notebooks/")[1].split(".ipynb")[0] for line in out.splitlines() if "runner run " in line]
    steps = [s for s in ("pipeline.stitch", "pipeline.pdf") if s in out]
    return ran + steps


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _built(tmp_path_factory.mktemp("project"))


def _built(project: Path) -> Path:
    """A project copy (its own hwlib, so touching a file there changes nothing here) that looks fully built."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):  # the environment rule names the lock
        shutil.copy2(ROOT / name, project / name)  # copy2 keeps mtimes: the environment stays up to date
    shutil.copytree(ROOT / "hwlib", project / "hwlib", copy_function=shutil.copy2,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", project / "notebooks", copy_function=shutil.copy2)
    _make(project, "report/.stamp-settings")  # the real settings check
    env = {**os.environ, "PYTHONPATH": str(project)}  # the copy's hwlib, so the deps name the copy's files
    code = ("from pathlib import Path; from hwlib.pipeline.runner import write_deps\n"
            # 1-3d's models first, as make builds them before the notebooks, with their stamp and deps
            "stamp = Path('report/.products/1_3d_models'); stamp.parent.mkdir(parents=True); stamp.write_text('k')\n"
            "write_deps(Path('notebooks/1_3d_sensitivity.ipynb'), stamp, Path('report'), "
            "target='report/.products/1_3d_models')\n"
            "for nb in sorted(Path('notebooks').glob('*.ipynb')):\n"
            "    out = Path('report/executed') / nb.name; out.parent.mkdir(parents=True, exist_ok=True); out.touch()\n"
            "    write_deps(nb, out, Path('report'))\n")
    subprocess.run([sys.executable, "-c", code], cwd=project, env=env, check=True, timeout=120)
    for name in ("report.html", "report.pdf"):  # built after the notebooks
        time.sleep(0.01)
        (project / "report" / name).touch()
    return project


def _touch(path: Path) -> None:
    later = time.time() + 5  # newer than every output, whatever the clock's resolution
    os.utime(path, (later, later))


def test_nothing_changed_nothing_reruns(built):
    assert _reruns(built) == []


def test_build_layer_edits_rerun_no_notebook(built):
    _touch(built / "hwlib" / "pipeline" / "pdf.py")
    assert _reruns(built) == ["pipeline.pdf"]
    _touch(built / "hwlib" / "pipeline" / "template" / "report.css")
    assert _reruns(built) == ["pipeline.stitch", "pipeline.pdf"]


def test_a_summary_edit_restitches_and_reruns_no_notebook(tmp_path):
    built = _built(tmp_path)  # a copy of its own: the other tests' edits stay in theirs
    _touch(built / "hwlib" / "pipeline" / "summary.py")
    assert _reruns(built) == ["pipeline.stitch", "pipeline.pdf"]


def test_a_task_module_edit_reruns_its_notebook_only(built):
    _touch(built / "hwlib" / "tasks" / "t1_3a_random_labels.py")
    assert _reruns(built)[:-2] == ["1_3a_random_labels"]


def test_a_science_module_edit_reruns_the_notebooks_that_import_it(built):
    _touch(built / "hwlib" / "sensitivity.py")
    ran = _reruns(built)[:-2]
    assert {"1_3d_sensitivity", "1_3e_sharpness"} <= set(ran)
    # 1-3c imports no other task, so the sensitivity is not among its own files; a dry run still lists it, because
    # it waits for 1-3d's models, whose step reruns and which make cannot know will keep its stamp (a real build
    # reruns 1-3c only where the models' cache key, and so the stamp, changed: tests/test_products.py)
    assert "hwlib/sensitivity.py" not in (built / "report" / ".deps" / "1_3c_interpolation.d").read_text().split()
    assert not any(n.startswith("1_1") or n.startswith("1_2") for n in ran)


def test_a_file_gone_since_the_last_run_reruns_its_notebook_instead_of_stopping(built):
    deps = built / "report" / ".deps" / "1_2a_optimization_process.d"
    kept = deps.read_text()
    deps.write_text(kept.rstrip("\n") + " hwlib/tasks/t1_2a.py\n")  # a module renamed since that run
    try:
        assert "1_2a_optimization_process" in _reruns(built)
    finally:
        deps.write_text(kept)
