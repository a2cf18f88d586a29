"""Notebook kernels start reliably side by side (make runs JOBS notebooks at once), and a kernel
that dies while starting is said in one line and started once more, never silently."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hwlib.pipeline import kernels

ROOT = Path(__file__).resolve().parents[1]
KERNELS_AT_ONCE, ROUNDS = 6, 3


def _transport_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 9-9k · Kernel start"),
        nbformat.v4.new_code_cell('profile = "auto"\ndevice = "auto"\nout_dir = None', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import json\nfrom ipykernel.connect import get_connection_info\n"
                                  "print('transport', json.loads(get_connection_info())['transport'])"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.slow
@pytest.mark.skipif(not kernels.SOCKETS_WORK, reason="Unix sockets only")
def test_many_kernels_started_at_once_all_run(tmp_path):
    notebook = tmp_path / "9_9k_kernel.ipynb"
    _transport_notebook(notebook)
    failures, outputs = [], 0
    for round_ in range(ROUNDS):
        procs = [subprocess.Popen([sys.executable, "-m", "hwlib.pipeline.runner", "run", str(notebook),
                                   str(tmp_path / f"r{round_}" / f"{i}.ipynb"), "--profile", "smoke",
                                   "--out-dir", str(tmp_path / f"r{round_}")],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for i in range(KERNELS_AT_ONCE)]
        for i, proc in enumerate(procs):
            out, _ = proc.communicate(timeout=600)
            if proc.returncode != 0 or "starting it once more" in out:
                failures.append(f"round {round_} kernel {i} (exit {proc.returncode}): {out[-1500:]}")
                continue
            executed = nbformat.read(tmp_path / f"r{round_}" / f"{i}.ipynb", as_version=4)
            text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
            assert "transport ipc" in text, text  # on Unix sockets: no TCP port to race for
            outputs += 1
    assert not failures, f"{len(failures)} of {KERNELS_AT_ONCE * ROUNDS} kernels failed:\n" + "\n".join(failures)
    assert outputs == KERNELS_AT_ONCE * ROUNDS


def test_kernel_that_dies_while_starting_is_said_and_started_once_more():
    said, calls = [], []

    def execute(kernel_manager_class, on_cell_start):
        calls.append(kernel_manager_class)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        on_cell_start(cell=None, cell_index=0)

    kernels.execute_with_one_retry(execute, said.append)
    assert len(calls) == 2 and len(said) == 1
    assert said[0] == ("the kernel died while starting (RuntimeError: Kernel died before replying to kernel_info); "
                       "starting it once more")


def test_a_kernel_that_dies_twice_while_starting_fails():
    said = []

    def execute(kernel_manager_class, on_cell_start):
        raise TimeoutError("Kernel didn't respond in 60 seconds")

    with pytest.raises(kernels.KernelStartError, match=r"^the kernel died while starting, twice "
                                                       r"\(TimeoutError: Kernel didn't respond in 60 seconds\)$"):
        kernels.execute_with_one_retry(execute, said.append)
    assert len(said) == 1


def test_a_failure_after_a_cell_started_is_never_retried():
    calls = []

    def execute(kernel_manager_class, on_cell_start):
        calls.append(1)
        on_cell_start(cell=None, cell_index=0)
        raise RuntimeError("the notebook's own error")

    with pytest.raises(RuntimeError, match="own error"):
        kernels.execute_with_one_retry(execute, print)
    assert calls == [1]


@pytest.mark.skipif(not kernels.SOCKETS_WORK, reason="Unix sockets only")
def test_socket_folder_is_private_and_removed():
    with kernels.socket_kernel_manager() as manager:
        km = manager(kernel_name="python3")
        assert km.transport == "ipc" and Path(km.ip).parent.is_dir()
        folder = Path(km.ip).parent
        assert len(str(km.ip)) < 60  # Unix socket paths are limited to ~100 characters
    assert not folder.exists()


@pytest.mark.slow
def test_runner_says_in_one_line_when_the_kernel_cannot_start(tmp_path):
    # a python3 kernelspec whose process exits at once, found first on JUPYTER_PATH
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text('{"argv": ["/bin/false", "{connection_file}"], "display_name": "broken", '
                                      '"language": "python"}')
    notebook = tmp_path / "9_9k_kernel.ipynb"
    _transport_notebook(notebook)
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter")}
    r = subprocess.run([sys.executable, "-m", "hwlib.pipeline.runner", "run", str(notebook), str(tmp_path / "out.ipynb"),
                        "--profile", "smoke", "--out-dir", str(tmp_path)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert r.stdout.count("the kernel died while starting (") == 1 and "starting it once more" in r.stdout
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: 9_9k_kernel.ipynb: the kernel died while starting, twice (")
    assert not (tmp_path / "out.ipynb").exists()
