"""The notebooks opened interactively: `make lab` serves them with the project's kernel, and each
one runs top to bottom with Run All from notebooks/, with no papermill parameters injected (the
profile is then `auto`: quick on this CPU)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from hwlib.pipeline.stitch import figures_of

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.slow

# Run All as JupyterLab does it: the stored notebook, its own kernelspec, the kernel in its folder
RUN_ALL = """
import sys
import nbformat
from nbclient import NotebookClient
from hwlib.pipeline.kernels import socket_kernel_manager

path, out = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
with socket_kernel_manager() as manager:
    NotebookClient(nb, timeout=None, kernel_manager_class=manager,
                   resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, out)
"""


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    """A fresh copy of the project's notebooks beside this checkout's hwlib: what Run All writes
    (results, the trained-model cache) lands in the copy's report/, not in this checkout's."""
    copy = tmp_path_factory.mktemp("project")
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "hwlib").symlink_to(ROOT / "hwlib")
    shutil.copytree(ROOT / "notebooks", copy / "notebooks")
    return copy


def test_every_notebook_runs_all_from_the_notebooks_folder(project_copy):
    folder = project_copy / "notebooks"
    executed = project_copy / "executed"
    executed.mkdir()

    # two notebooks side by side, one thread each: oversubscribed torch threads on 2 cores run many times slower
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run_all(nb: Path):
        return nb, subprocess.run([sys.executable, "-c", RUN_ALL, str(folder / nb.name), str(executed / nb.name),
                                   str(folder)], cwd=folder, env=env, capture_output=True, text=True, timeout=1200)

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(run_all, NOTEBOOKS))
    failures = [f"{nb.name}: {r.stderr.strip()[-3000:]}" for nb, r in done if r.returncode != 0]
    assert not failures, "\n".join(failures)
    for nb in NOTEBOOKS:
        ran = nbformat.read(executed / nb.name, as_version=4)
        code = [c for c in ran.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{nb.name}: not every cell ran"
        assert not any("injected-parameters" in c.metadata.get("tags", []) for c in ran.cells)
        assert figures_of(ran), f"{nb.name} shows no figure"
        # the default out_dir is the project's report/, found from notebooks/
        res = json.loads((project_copy / "report" / "results" / f"{nb.stem}.json").read_text())
        assert res["profile"] == "quick" and res["device"] == "cpu"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def test_make_lab_serves_the_notebooks_with_the_project_kernel(tmp_path):
    venv = Path(sys.executable).parent.parent
    port, token = _free_port(), "hw1-test"
    # the kernelspec goes to a folder of the test's own, not the user's
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), HOME=str(tmp_path))
    lab = subprocess.Popen(["make", "-C", str(ROOT), f"VENV={venv}", "lab",
                            f"LAB_ARGS=--no-browser --port={port} --ServerApp.token={token} --ServerApp.ip=127.0.0.1"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                status, _ = _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if lab.poll() is not None or time.time() > deadline:
                    pytest.fail(f"make lab did not serve (exit {lab.poll()}):\n{lab.stdout.read()[-3000:]}")
                time.sleep(1)
        assert status == 200
        status, page = _get(f"{base}/lab?token={token}")
        assert status == 200 and "JupyterLab" in page
        _, specs = _get(f"{base}/api/kernelspecs?token={token}")
        assert "HW1 (.venv)" in json.loads(specs)["kernelspecs"]["hw1"]["spec"]["display_name"]
        _, listing = _get(f"{base}/api/contents?token={token}")
        served = {item["name"] for item in json.loads(listing)["content"]}
        assert {nb.name for nb in NOTEBOOKS} <= served
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=60)
