import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _few_threads():
    # Tiny tensors: more threads only add contention on the shared 2-core machine.
    torch.set_num_threads(1)
    yield


def run_python(*args, cwd=ROOT):
    """A module of the project run as make runs it, under the usual umask 022 (what files it writes get)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                          preexec_fn=lambda: os.umask(0o022))


@pytest.fixture(scope="session")
def smoke_executed(tmp_path_factory):
    """Every notebook executed with the smoke profile into one report folder: (folder, failures)."""
    out = tmp_path_factory.mktemp("report")
    failures = []
    for nb in NOTEBOOKS:
        r = run_python("-m", "hwlib.pipeline.runner", "run", str(nb), str(out / "executed" / nb.name), "--profile",
                       "smoke", "--out-dir", str(out))
        if r.returncode != 0:
            failures.append(f"{nb.name}: {r.stderr.strip()[-2000:]}")
    return out, failures


@pytest.fixture(scope="session")
def smoke_report(smoke_executed):
    """The smoke report as make builds it: report.html, and report.pdf where a Chromium is found (else None)."""
    from hwlib.pipeline.pdf import find_chromium

    out, failures = smoke_executed
    if failures:
        pytest.fail("\n".join(failures))
    html, pdf = out / "report.html", out / "report.pdf"
    r = run_python("-m", "hwlib.pipeline.stitch", "--executed", str(out / "executed"), "--out-dir", str(out),
                   "--html", str(html))
    assert r.returncode == 0, r.stderr
    chromium = find_chromium()
    if chromium is not None:
        r = run_python("-m", "hwlib.pipeline.pdf", "--html", str(html), "--pdf", str(pdf), "--no-install")
        assert r.returncode == 0, r.stderr
    return SimpleNamespace(out=out, html=html, pdf=pdf if chromium else None, chromium=chromium)


def need_chromium(report) -> str:
    """The Chromium to test with: skipped (with how to get one) where there is none, a failure in CI."""
    if report.chromium is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium on the CI machine: .ci/run must install it")
        pytest.skip("no Chromium here: install one (apt-get install chromium) to test the PDF and the page")
    return report.chromium
