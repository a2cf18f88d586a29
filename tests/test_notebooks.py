"""Every notebook executes headlessly with the smoke profile, writes its results, and the report
(HTML and PDF) built from them has every section and every figure."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hwlib.pipeline.stitch import figures_of, section_of

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.slow


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: first code cell is not tagged parameters"
        assert section_of(nb)[0] != "?", f"{path.name}: first markdown cell lacks '# <id> · <title>'"


def test_every_notebook_executes_and_writes_results(smoke_executed):
    out, failures = smoke_executed
    assert not failures, "\n".join(failures)
    for path in NOTEBOOKS:
        res = json.loads((out / "results" / f"{path.stem}.json").read_text())
        assert res["profile"] == "smoke" and res["name"] == path.stem
        assert {"section", "device", "environment", "params", "seconds"} <= set(res)
        nb = nbformat.read(out / "executed" / path.name, as_version=4)
        assert figures_of(nb), f"{path.name} shows no numbered figure"
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, path.name


def test_report_html_and_pdf_have_every_section_and_figure(smoke_report):
    out, html, pdf = smoke_report.out, smoke_report.html, smoke_report.pdf
    text = html.read_text()
    expected = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(out / "executed" / path.name, as_version=4)
        sec = section_of(nb)[0]
        expected[sec] = figures_of(nb)
        assert f'id="sec-{sec}"' in text and f'href="#sec-{sec}"' in text
        for fig in expected[sec]:
            assert f"<b>Figure {fig}.</b>" in text
    assert "Appendix: provenance" in text and "wall time" in text
    assert "<script src" not in text  # nothing to fetch: the page renders offline

    if pdf is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium on the CI machine: .ci/run must install it")
        pytest.skip("no Chromium here: install one (apt-get install chromium) to test the PDF")
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    pdf_text = "\n".join(page.extract_text() or "" for page in reader.pages)
    n_figures = sum(len(v) for v in expected.values())
    assert len(reader.pages) >= len(expected) + 3  # title, map, one page per section at least, appendix
    for figs in expected.values():
        for fig in figs:
            assert f"Figure {fig}." in pdf_text
    images = sum(len(page.images) for page in reader.pages)
    assert images >= n_figures


def test_bad_profile_stops_before_any_training(tmp_path):
    r = _run("-m", "hwlib.pipeline.runner", "check", "--profile", "nonsense", "--out-dir", str(tmp_path))
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        "error: profile='nonsense' is not allowed: profile must be one of smoke, quick, full or auto "
        "(e.g. make report PROFILE=quick)"]


def test_bad_parameter_value_named_in_one_line(tmp_path):
    r = _run("-m", "hwlib.pipeline.runner", "check", "--profile", "smoke", "-p", "epochs", "0", "--out-dir", str(tmp_path))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert lines and all("epochs='0' is not allowed" in line for line in lines)
    r = _run("-m", "hwlib.pipeline.runner", "check", "--profile", "smoke", "-p", "nosuch", "1", "--out-dir", str(tmp_path))
    assert r.returncode != 0 and "nosuch is not a setting of any notebook" in r.stderr


def test_summary_follows_the_title_page_and_links_every_section(smoke_report):
    text = smoke_report.html.read_text()
    title = text.index('<div class="title-page">')
    start, end = text.index('<div class="summary">'), text.index('id="map-questions-sections"')
    assert title < start < end  # after the title page, before the map and every section
    page = text[start:end]
    links = re.findall(r'href="#(sec-[^"]+)"', page)
    assert links == [f"sec-{section_of(nbformat.read(p, as_version=4))[0]}" for p in NOTEBOOKS]
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    assert set(links) <= ids  # each link lands on its section
    assert "Missing" not in page and "Not summarized" not in page  # every notebook's results were read
    assert "<b>Profile</b> smoke" in page.replace("<strong>", "<b>").replace("</strong>", "</b>")
