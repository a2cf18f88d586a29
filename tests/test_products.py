"""1-3d's models as a product of their own make rule: trained once by `runner product`, which stamps their cache
key (rewritten only when it changes); the notebooks that measure them load them; make builds the product
before 1-3d and 1-3e, which wait for it in make rather than in a job slot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwlib.pipeline import timings

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _runner(*args):
    return subprocess.run([sys.executable, "-m", "hwlib.pipeline.runner", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_product_trains_once_stamps_the_key_and_the_notebook_loads_them(tmp_path):
    first = _runner("product", "notebooks/1_3d_sensitivity.ipynb", "--profile", "smoke", "--threads", "1",
                    "--out-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("[models] 1_3d_models  (profile smoke")
    assert any(line.startswith("    1-3d models | models  10/10") for line in lines)  # its progress, tagged
    assert lines[-1].startswith("[models] 1_3d_models trained in ")
    stamp = tmp_path / ".products" / "1_3d_models"
    key = stamp.read_text().strip()
    assert len(list((tmp_path / "cache").glob(f"1_3d_models*{key}*"))) == 1
    assert "1_3d_models" in timings.load_timings(tmp_path, "smoke")
    deps = (tmp_path / ".deps" / "1_3d_models.d").read_text()  # what make reruns the step for
    assert deps.startswith("report/.products/1_3d_models: ") and "hwlib/train.py" in deps.split()
    assert "hwlib/pipeline/pdf.py" not in deps
    before = stamp.stat().st_mtime_ns

    again = _runner("product", "notebooks/1_3d_sensitivity.ipynb", "--profile", "smoke", "--out-dir", str(tmp_path))
    assert again.returncode == 0 and again.stdout.splitlines()[-1].startswith("[models] 1_3d_models loaded in ")
    assert stamp.stat().st_mtime_ns == before  # same key: make reruns nothing because of it

    out = tmp_path / "executed" / "1_3e_sharpness.ipynb"
    notebook = _runner("run", "notebooks/1_3e_sharpness.ipynb", str(out), "--profile", "smoke", "--out-dir",
                       str(tmp_path))
    assert notebook.returncode == 0, notebook.stderr
    assert "loaded the 10 trained models" in notebook.stdout and "models  10/10" not in notebook.stdout


def test_product_of_a_notebook_that_trains_none_is_one_line(tmp_path):
    done = _runner("product", "notebooks/1_2a_optimization_process.ipynb", "--profile", "smoke", "--out-dir",
                   str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: 1_2a_optimization_process.ipynb trains no models for other notebooks (its task has no train_models)"]


def test_make_builds_the_models_before_the_notebooks_that_measure_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(["make", "-C", str(ROOT), f"VENV={Path(sys.executable).parent.parent}", "PROFILE=smoke",
                           "-n", "-B", "notebooks"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stdout.splitlines() if "hwlib.pipeline.runner" in line]
    product = next(i for i, line in enumerate(steps) if " product notebooks/1_3d_sensitivity.ipynb" in line)
    for name in ("1_3d_sensitivity", "1_3e_sharpness"):
        assert product < next(i for i, line in enumerate(steps) if f"run notebooks/{name}.ipynb" in line)
