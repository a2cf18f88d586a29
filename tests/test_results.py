import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from hwlib import results


def test_save_and_load_roundtrip_plain_types(tmp_path):
    payload = {"t": torch.tensor([1.0, 2.0]), "n": np.float32(0.5), "nan": math.nan, "nested": {"a": (1, 2)}}
    path = results.save("x", results.plain(payload), tmp_path)
    assert path == tmp_path / "results" / "x.json"
    assert results.load_results("x", tmp_path) == {"t": [1.0, 2.0], "n": 0.5, "nan": None, "nested": {"a": [1, 2]}}
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


def test_save_refuses_results_holding_a_tensor(tmp_path):
    # what a task returns reaches its figures: a CUDA tensor there fails in matplotlib on a GPU box
    # only, so the CPU run must fail too, naming where the tensor is
    payload = {"predictions": {"sinc": {"x": [0.0, 0.5], "by_depth": {"3": torch.zeros(2)}}}}
    with pytest.raises(TypeError, match=r"x: results must be plain host data, but "
                                        r"R\['predictions'\]\['sinc'\]\['by_depth'\]\['3'\] is a torch.Tensor"):
        results.save("x", payload, tmp_path)
    assert not (tmp_path / "results" / "x.json").exists()
    assert results.host_data_problem({"a": [1, 2.5, None, "s", True], "b": (1,)}) is None
    assert "numpy.ndarray" in results.host_data_problem({"a": [np.zeros(2)]})


def test_envelope_hands_figures_plain_host_data():
    from types import SimpleNamespace

    P = SimpleNamespace(profile="smoke", device=torch.device("cpu"), settings={"epochs": 1})
    R = results.envelope(P, "x", "9-9a", 1.0, curve=torch.arange(3.0), nested={"v": np.float64(2.0)})
    assert results.host_data_problem(R) is None
    assert R["curve"] == [0.0, 1.0, 2.0] and R["nested"]["v"] == 2.0 and R["device"] == "cpu"


def test_truncated_file_reads_as_missing(tmp_path):
    path = results.save("x", {"a": list(range(100))}, tmp_path)
    path.write_text(path.read_text()[:50])
    assert results.load_results("x", tmp_path) is None
    assert results.load_results("absent", tmp_path) is None


def test_failed_write_keeps_previous_file(tmp_path):
    results.save("x", {"a": 1}, tmp_path)
    try:
        results.save("x", {"a": object()}, tmp_path)  # not JSON-serializable: fails before the rename
    except TypeError:
        pass
    assert json.loads((tmp_path / "results" / "x.json").read_text()) == {"a": 1}


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_are_readable_as_the_umask_allows(tmp_path, umask, mode):
    """A results file (and the report, written the same way) gets the mode any new file gets under the
    user's umask, not the private 0600 of a temporary file; and no temporary file is left beside it."""
    old = os.umask(umask)
    try:
        path = results.save("x", {"a": 1}, tmp_path)
        results.atomic_write_bytes(tmp_path / "report.html", b"<html></html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["report.html", "x.json"]


def test_thin_keeps_ends_and_bounds_size():
    xs = list(range(1, 20001))
    out = results.thin(xs, [1 / x for x in xs], n=300)
    assert out["x"][0] == 1 and out["x"][-1] == 20000 and len(out["x"]) <= 301
    assert out["x"] == sorted(out["x"])


def test_markdown_table_escapes_pipes_in_headers_and_cells():
    from hwlib.tables import markdown_table

    text = markdown_table([{"median #|λ| ≤ tol": "a|b", "n": 3}])
    header, rule, row = text.splitlines()
    assert header.count(" | ") == 1 and "\\|λ\\|" in header
    assert rule == "|---|---|" and row == "| a\\|b | 3 |"


def test_gpu_peak_memory_only_when_a_gpu_was_used(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert results.peak_gpu_memory_mib() is None
    # a process that used two GPUs: the larger peak, in MiB
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda i: [3 * 2**20, 1536 * 2**20][i])
    assert results.peak_gpu_memory_mib() == 1536.0


def test_appendix_shows_gpu_memory_only_for_gpu_runs():
    import nbformat

    from hwlib.pipeline import stitch as report

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 1-1a · Simulate a function")])
    cpu = {"profile": "quick", "device": "cpu", "peak_memory_mib": 800.0, "peak_gpu_memory_mib": None}
    assert "GPU memory" not in report.appendix([(Path("a.ipynb"), nb)], [cpu])
    gpu = dict(cpu, device="cuda:0 (A100)", peak_gpu_memory_mib=2048.0)
    text = report.appendix([(Path("a.ipynb"), nb)], [gpu])
    assert "peak GPU memory (MiB)" in text and "2048" in text
