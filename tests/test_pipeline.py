"""make's pipeline: interrupted builds resume without redoing finished notebooks, outputs are
never half-written, and a diverging run is recorded while the notebook still completes."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _sleep_notebook(path: Path, section: str, seconds: float) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {section} · Sleep {seconds}s"),
        nbformat.v4.new_code_cell('profile = "auto"\ndevice = "auto"\nout_dir = None', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})\nprint('slept')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path):
    """A copy of the pipeline with two fast notebooks, using this checkout's hwlib and environment."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):  # the environment rule names the lock
        shutil.copy2(ROOT / name, tmp_path / name)  # copy2 keeps mtimes: the environment stays up to date
    (tmp_path / "hwlib").symlink_to(ROOT / "hwlib")
    (tmp_path / "notebooks").mkdir()
    _sleep_notebook(tmp_path / "notebooks" / "9_1a_first.ipynb", "9-1a", 0.1)
    _sleep_notebook(tmp_path / "notebooks" / "9_1b_second.ipynb", "9-1b", 30)
    return tmp_path


def _make(project: Path, *targets: str, jobs: int = 1, **kw):
    venv = Path(sys.executable).parent.parent
    # a make of its own: not the job server of a `make test` this may run under
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.Popen(["make", "-C", str(project), f"VENV={venv}", "PROFILE=smoke", f"JOBS={jobs}", *targets],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env=env, **kw)


def test_interrupted_build_resumes_and_keeps_finished_work(project):
    executed = project / "report" / "executed"
    old_report = project / "report" / "report.html"
    old_report.parent.mkdir(parents=True, exist_ok=True)
    old_report.write_text("previous report")

    t0 = time.perf_counter()
    proc = _make(project, "report")
    first = executed / "9_1a_first.ipynb"
    while not first.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.perf_counter() - t0 < 120
        time.sleep(0.2)
    time.sleep(4)  # the second notebook is now running (it sleeps 30 s)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    interrupted_at = time.perf_counter() - t0

    assert first.exists() and not (executed / "9_1b_second.ipynb").exists()
    assert [p.name for p in executed.glob("*.ipynb")] == ["9_1a_first.ipynb"]
    assert old_report.read_text() == "previous report"  # untouched until a new one is complete
    mtime = first.stat().st_mtime

    # Resume: only the unfinished notebook runs again (shortened so the test stays quick).
    _sleep_notebook(project / "notebooks" / "9_1b_second.ipynb", "9-1b", 0.1)
    t1 = time.perf_counter()
    proc = _make(project, "html")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "9_1a_first" not in out.split("report:")[0], out  # not executed again
    assert "[2/2] 9_1b_second.ipynb" in out
    assert first.stat().st_mtime == mtime
    assert "Sleep 0.1s" in old_report.read_text()
    print(f"interrupted after {interrupted_at:.1f} s; resumed build took {time.perf_counter() - t1:.1f} s")


def test_failed_notebook_leaves_nothing_half_written(project):
    bad = project / "notebooks" / "9_1b_second.ipynb"
    nb = nbformat.read(bad, as_version=4)
    nb.cells[-1].source = "raise RuntimeError('boom')"
    nbformat.write(nb, bad)
    proc = _make(project, "notebooks")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert "RuntimeError: boom" in out
    executed = project / "report" / "executed"
    assert sorted(p.name for p in executed.glob("*.ipynb") if not p.name.startswith(".")) == ["9_1a_first.ipynb"]
    assert not list((executed / ".running").glob("*"))  # the partial copy moved to report/failed/
    assert (project / "report" / "failed" / "9_1b_second.ipynb").exists()


def test_diverging_run_is_recorded_and_the_notebook_completes(tmp_path):
    nb = ROOT / "notebooks" / "1_1a_simulate_function.ipynb"
    r = subprocess.run([sys.executable, "-m", "hwlib.pipeline.runner", "run", str(nb), str(tmp_path / "out.ipynb"),
                        "--profile", "smoke", "-p", "lr", "1e6", "-p", "optimizer", "sgd", "--out-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "results" / "1_1a_simulate_function.json").read_text())
    runs = [run for fn_runs in res["runs"].values() for run in fn_runs]
    assert runs and all(run["diverged"] is not None for run in runs)
    assert all(run["diverged"]["epoch"] >= 1 for run in runs)
    text = json.dumps(nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs)
    assert "diverged" in text


def test_notebooks_run_side_by_side_with_threads_split(project):
    """JOBS=2: two notebooks run at once (their run intervals overlap), each kernel told to use
    THREADS CPU threads, and every output line says which notebook it comes from."""
    for name, section in (("9_1a_first", "9-1a"), ("9_1b_second", "9-1b")):
        path = project / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells[-1].source = ("import os, time\n"
                               f"open('{project}/{name}.span', 'w').write(f'{{time.time()}} ')\n"
                               "time.sleep(2)\n"
                               f"open('{project}/{name}.span', 'a').write(f'{{time.time()}}')\n"
                               "print('threads', os.environ.get('OMP_NUM_THREADS'))")
        nbformat.write(nb, path)
    proc = _make(project, "notebooks", "THREADS=1", jobs=2)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    (a0, a1), (b0, b1) = ([float(t) for t in (project / f"{n}.span").read_text().split()]
                          for n in ("9_1a_first", "9_1b_second"))
    assert a0 < b1 and b0 < a1, "the two notebooks did not overlap"
    assert "9-1a | threads 1" in out and "9-1b | threads 1" in out, out


@pytest.mark.parametrize("setting", ["JOBS=0", "JOBS=two", "THREADS=0"])
def test_bad_jobs_or_threads_stop_make_with_one_line(project, setting):
    proc = _make(project, "report", setting)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    name, value = setting.split("=")
    assert f"{name}={value} is not allowed: use a whole number ≥ 1" in out, out
    assert not (project / "report" / "executed").exists()  # stopped before anything ran


def test_auto_profile_is_resolved_by_the_kernel_not_the_runner(tmp_path, monkeypatch, capsys):
    # the runner hands "auto" to the notebook (whose settings cell resolves it and records the outcome)
    # instead of importing torch in every build step to look for a GPU
    import papermill

    from hwlib.pipeline import runner
    seen = {}

    def fake_execute(source, destination, parameters=None, **kwargs):  # "runs" the notebook: copies it
        seen.update(parameters)
        shutil.copy(source, destination)

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    notebook = Path("notebooks/1_2a_optimization_process.ipynb").resolve()
    for profile, sent, shown in (("auto", "auto", "auto: full with CUDA, else quick"), ("smoke", "smoke", "smoke")):
        assert runner.run(notebook, tmp_path / "executed" / notebook.name, profile, {}, tmp_path) == 0
        assert seen["profile"] == sent
        assert f"(profile {shown})" in capsys.readouterr().out


def test_a_cold_build_trains_the_shared_models_first(tmp_path):
    """The first build (no timings yet) starts 1-3d's models before any notebook, and lists 1-3e, which waits
    for them, before the short notebooks: make comes back to a notebook whose product was still running only
    after the whole list, so where 1-3e stands decides whether it runs beside the others or alone at the end."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / "hwlib").symlink_to(ROOT / "hwlib")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    out = _make(tmp_path, "-n", "report").communicate()[0]
    runs = re.findall(r"hwlib\.pipeline\.runner run notebooks/(\S+)\.ipynb", out)
    product = [i for i, line in enumerate(out.splitlines()) if "hwlib.pipeline.runner product " in line]
    first_run = next(i for i, line in enumerate(out.splitlines()) if "hwlib.pipeline.runner run " in line)
    assert product and product[0] < first_run, out
    names = runs
    assert names.index("1_3e_sharpness") < names.index("1_2b_gradient_norm"), names
    assert names[0] == "1_1a_simulate_function", names
