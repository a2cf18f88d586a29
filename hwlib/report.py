"""Stitch the executed notebooks into one HTML report: title page, question map, sections, appendix.

Usage: python -m hwlib.report [--executed report/executed] [--html report/report.html]

The sections are the executed notebooks in file-name order, code hidden and stdout (progress
lines) dropped: the report shows what the notebooks display — tables, figures, comments. The
title page and the appendix are built from the results files and papermill's metadata, never
typed by hand. The HTML is written to a temporary name and renamed, so an interrupted build
leaves the previous report intact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat

from . import paths
from . import results as results_mod
from .results import atomic_write_bytes
from .tables import markdown_table

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "report" / "template"
CAPTION = re.compile(r'<p class="caption"><b>Figure ([^<]+?)\.</b>')
HEADING = re.compile(r"^#\s+(\S+)\s+·\s+(.+)$", re.M)
PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert")


def section_of(nb) -> tuple[str, str]:
    """('1-2a', 'Visualize the optimization process') from the notebook's first heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = HEADING.search(cell.source)
            if m:
                return m.group(1), m.group(2).strip()
    return "?", "untitled"


def figures_of(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")
            found += CAPTION.findall(text if isinstance(text, str) else "".join(text))
    return found


def _revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=paths.project_root(), timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=paths.project_root(), timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return (rev + (" with uncommitted changes" if dirty else "")) if rev else "unknown (not a git checkout)"


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return f"Python {platform.python_version()}, " + ", ".join(found)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _markdown(text: str, **meta):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata.update(meta)
    return cell


def _clean(cell):
    """Keep what a notebook displays (tables, figures, comments, errors); drop stdout/stderr
    (progress lines belong to the log, not to the report)."""
    if cell.cell_type == "code":
        cell.outputs = [o for o in cell.outputs if o.output_type != "stream"]
    return cell


def build(executed: list[Path], out_dir: Path) -> nbformat.NotebookNode:
    """One notebook: title page, question map, every executed notebook as a section, appendix."""
    notebooks = [(p, nbformat.read(p, as_version=4)) for p in executed]
    results = [results_mod.load(p.stem, out_dir) or {} for p, _ in notebooks]
    profiles = sorted({r.get("profile") for r in results if r.get("profile")})
    devices = sorted({r.get("device") for r in results if r.get("device")})
    datasets = sorted({str(v) for r in results for k in ("dataset", "datasets", "functions", "function")
                       for v in _as_list(r.get("params", {}).get(k))})
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    cells = [_markdown(
        '<div class="title-page">\n\n'
        "# HW1 — Deep vs Shallow, Optimization, Generalization\n\n"
        "A reproducible report: every figure and number below was computed by the executed notebooks "
        "listed in the appendix (with each one's profile, device and wall time); `make report` reruns "
        "a notebook whenever its code or settings change.\n\n"
        + markdown_table([
            {"": "Profile", " ": ", ".join(profiles) or "—"},
            {"": "Datasets / functions", " ": "; ".join(datasets) or "—"},
            {"": "Device", " ": ", ".join(devices) or "—"},
            {"": "Date", " ": now},
            {"": "Revision", " ": _revision()},
            {"": "Software", " ": _versions()},
        ]) + "\n\n</div>")]

    rows = []
    for (path, nb), res in zip(notebooks, results):
        sec, title = section_of(nb)
        figs = figures_of(nb)
        rows.append({"HW question": sec, "title": f'<a href="#sec-{sec}">{title}</a>',
                     "figures": ", ".join(figs) or "—", "notebook": path.name})
    cells.append(_markdown('<div class="section-start"></div>\n\n# Map: questions → sections\n\n'
                           + markdown_table(rows)))

    for path, nb in notebooks:
        sec, _ = section_of(nb)
        cells.append(_markdown(f'<div class="section-start" id="sec-{sec}"></div>'))
        cells += [_clean(c) for c in nb.cells]

    cells.append(_markdown(appendix(notebooks, results)))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # unique across the stitched notebooks (some sources carry none)
    merged = nbformat.v4.new_notebook(cells=cells)
    merged.metadata = notebooks[0][1].metadata if notebooks else {}
    merged.metadata["title"] = "HW1 report"
    return merged


def appendix(notebooks, results) -> str:
    rows, total = [], 0.0
    used_gpu = any(r.get("peak_gpu_memory_mib") is not None for r in results)
    for (path, nb), res in zip(notebooks, results):
        pm = nb.metadata.get("papermill", {})
        seconds = pm.get("duration") or 0.0
        total += seconds
        params = res.get("params", {})
        seeds = {k: v for k, v in params.items() if "seed" in k}
        rows.append({"section": section_of(nb)[0], "notebook": path.name, "wall time (s)": round(seconds, 1),
                     "peak memory (MiB)": res.get("peak_memory_mib", "—"),
                     **({"peak GPU memory (MiB)": res.get("peak_gpu_memory_mib") or "—"} if used_gpu else {}),
                     "profile": res.get("profile", "—"), "device": res.get("device", "—"),
                     "seeds": ", ".join(f"{k}={v}" for k, v in seeds.items()) or "—"})
    cuda = any("cuda" in str(r.get("device", "")) for r in results)
    note = ("On CUDA, some kernels (cuDNN convolution algorithms, atomic additions in reductions) are not "
            "deterministic: rerunning on a GPU can change the last digits of the numbers. "
            if cuda else "All notebooks ran on the CPU, where the same profile, parameters and seeds give the "
            "same numbers. ")
    return ('<div class="section-start" id="appendix"></div>\n\n# Appendix: provenance\n\n'
            + markdown_table(rows) + f"\n\nSum of the notebook wall times: {total:.1f} s (make runs notebooks "
            "side by side, so the build itself can take less). " + note
            + f"\n\nSoftware: {_versions()}. Platform: {platform.platform()}. Revision: {_revision()}.\n\n"
            "Each notebook's full settings are in its settings table and in "
            "`report/results/<notebook>.json`; its executed copy with all logs is in `report/executed/`.")


def to_html(nb: nbformat.NotebookNode) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="template", extra_template_basedirs=[str(TEMPLATE_DIR.parent)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    css = (TEMPLATE_DIR / "report.css").read_text()
    html, _ = exporter.from_notebook_node(nb, resources={"report_css": css})
    return html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executed", type=paths.in_project, default=paths.out_dir() / "executed")
    ap.add_argument("--out-dir", type=paths.in_project, default=paths.out_dir(), help="where results/ lives")
    ap.add_argument("--html", type=paths.in_project, default=paths.out_dir() / "report.html")
    args = ap.parse_args(argv)
    executed = sorted(p for p in args.executed.glob("*.ipynb") if not p.name.startswith("."))
    if not executed:
        print(f"report: no executed notebooks in {args.executed}: run `make report` (or `make notebooks`) first",
              file=sys.stderr)
        return 2
    html = to_html(build(executed, args.out_dir))
    atomic_write_bytes(args.html, html.encode())
    print(f"report: wrote {args.html} ({len(html) / 1e6:.1f} MB, {len(executed)} sections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
