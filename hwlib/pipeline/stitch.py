"""Stitch the executed notebooks into one HTML report: title page, summary, question map, sections, appendix.

Usage: python -m hwlib.pipeline.stitch [--executed report/executed] [--html report/report.html]

The sections are the executed notebooks in file-name order, code hidden and stdout (progress
lines) dropped: the report shows what the notebooks display — tables, figures, comments. The
title page and the appendix are built from the results files and papermill's metadata, never
typed by hand. The HTML is written to a temporary name and renamed, so an interrupted build
leaves the previous report intact.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html as html_mod
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat

from .. import environment, paths
from ..figure_size import DPI
from ..results import atomic_write_bytes, load_results
from ..tables import markdown_table
from ..wording import join
from . import summary, timings

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"  # package data: found from any install
CAPTION = re.compile(r'<p class="caption"><b>Figure ([^<]+?)\.</b>')
HEADING = re.compile(r"^#\s+(\S+)\s+·\s+(.+)$", re.M)
# nbconvert writes every Markdown heading as <hN id="…">text<a class="anchor-link" href="#…">¶</a></hN>, its
# id made from the text alone (so every "Comment" heading gets id="Comment"); the section markers built
# below say which section a heading belongs to.
RENDERED = re.compile(r'<h([1-6]) id="([^"]*)">(.*?)<a class="anchor-link" href="#[^"]*">¶</a></h\1>'
                      r'|<div class="(section-start[^"]*)" id="((?:sec-)?([^"]+))"></div>', re.S)
TAG = re.compile(r"<[^>]+>")
COURSE = ("Homework 1 of Machine Learning and Having It Deep and Structured (MLDS), National Taiwan University, "
          "spring 2018")
BUILD_GAP = 60.0  # s: a notebook that starts this long after the others ended ran in a later build
TOC_LEVELS = 2  # sections and their subsections: deeper headings would make the side list longer than a screen
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
    """The figure numbers a notebook shows, from its captions (Markdown, or HTML once stitched)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = data.get("text/markdown") or data.get("text/html") or ""
            found += CAPTION.findall(text if isinstance(text, str) else "".join(text))
    return found


def figure_id(number: str) -> str:
    """The HTML id of a figure: 'fig-1-2a-1' for Figure 1-2a.1 (the map links to it)."""
    return "fig-" + _slug(number)


def _caption_of(out) -> str | None:
    text = out.get("data", {}).get("text/markdown", "") if out.get("output_type") == "display_data" else ""
    text = text if isinstance(text, str) else "".join(text)
    return text.strip() if CAPTION.search(text) else None


def _png_width_in(png_b64: str) -> float | None:
    """The PNG's width at the DPI every figure is rendered at: the figure's size on paper. None if unreadable."""
    head = base64.b64decode(png_b64[:44])  # signature, IHDR length and type, then the width
    return int.from_bytes(head[16:20], "big") / DPI if head[:8] == b"\x89PNG\r\n\x1a\n" else None


def _figure(image, caption: str):
    """One output for a figure: the image, its caption as alt text, and the caption below it.

    plots.show displays a PNG then its caption; kept as two outputs, print could put a page break
    between them, and the image would carry no text for a screen reader. The image is printed at
    the size it was drawn at (figure_size.WIDTH at figure_size.DPI), so its fonts keep their point sizes.
    """
    png = image["data"]["image/png"]
    png = png if isinstance(png, str) else "".join(png)
    alt = html_mod.escape(" ".join(html_mod.unescape(TAG.sub("", caption)).split()), quote=True)
    width = _png_width_in(png)
    style = f' style="--print-width: {width:.2f}in"' if width else ""
    number = CAPTION.search(caption).group(1)  # a caption is one by its number (_caption_of)
    # the image is a link to the image at full size: report.js points it there when it is about to be followed
    html = (f'<figure class="figure" id="{figure_id(number)}"><a class="full-size" href="#{figure_id(number)}" '
            f'aria-label="Figure {number} at full size"><img src="data:image/png;base64,{png}" alt="{alt}"{style}>'
            f"</a><figcaption>{caption}</figcaption></figure>")
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": TAG.sub("", caption)})


def _join_figures(outputs: list) -> list:
    joined, i = [], 0
    while i < len(outputs):
        out = outputs[i]
        caption = _caption_of(outputs[i + 1]) if i + 1 < len(outputs) else None
        if "image/png" in out.get("data", {}) and caption:
            joined.append(_figure(out, caption))
            i += 2
        else:
            joined.append(out)
            i += 1
    return joined


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


def _environment(results: list[dict]) -> str:
    """The lock the notebooks' environment was installed from, as their results files recorded it; every
    distinct one when they differ (a notebook run before a `make venv` that changed the packages)."""
    seen = [r["environment"] for r in results if r.get("environment")]
    distinct = [e for i, e in enumerate(seen) if e not in seen[:i]]
    if not distinct:
        return environment.in_words()  # results from before the environment was recorded: this process's
    return "; ".join(environment.in_words(e) for e in distinct) + (
        " (the notebooks ran in different environments)" if len(distinct) > 1 else "")


def _computed(notebooks, results) -> str:
    """Whether every notebook computed its results in this build, or which redrew saved ones."""
    redrawn = [section_of(nb)[0] for (_, nb), res in zip(notebooks, results) if res.get("redrawn")]
    if not redrawn:
        return "every notebook computed its results in this build"
    return (f"redrawn from results an earlier run computed from the same settings and code: {', '.join(redrawn)}; "
            "the others computed in this build")


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _markdown(text: str, **meta):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata.update(meta)
    return cell


def facts_table(rows: list[tuple[str, str]]) -> str:
    """A two-column table of named facts, each name a row header (a table with an empty header row
    leaves a screen reader nothing to announce)."""
    body = "".join(f'<tr><th scope="row">{html_mod.escape(name)}</th><td>{html_mod.escape(value)}</td></tr>'
                   for name, value in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def duration_text(seconds: float) -> str:
    """45.3 -> '45 s'; 134 -> '2 min 14 s'; 5000 -> '1 h 23 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def product_seconds(out_dir: Path, profiles: list[str]) -> float:
    """How long the products a rule of its own builds (1-3d's models) took in the last build of these
    profiles: while they train, the notebooks that need them wait, so a build's notebooks can be that
    far apart."""
    return sum(timings.load_timings(out_dir, p).get(name, 0.0) for p in profiles for name in set(timings.PRODUCTS.values()))


def build_time(notebooks, waited: float = 0.0) -> str:
    """The wall time of the build that ran the notebooks, from papermill's records: the first notebook's
    start to the last one's end. A build reruns only what changed, so the notebooks may come from several
    builds: those that ran within BUILD_GAP (plus ``waited``, the products' time) of the one before are
    one build, and only the last is timed, with how many notebooks it ran."""
    runs = []
    for _, nb in notebooks:
        pm = nb.metadata.get("papermill", {})
        try:
            runs.append((dt.datetime.fromisoformat(pm["start_time"]), dt.datetime.fromisoformat(pm["end_time"]),
                         float(pm.get("duration") or 0.0)))
        except (KeyError, TypeError, ValueError):
            continue
    if not runs:
        return "—"
    runs.sort()
    builds = [[runs[0]]]
    for run in runs[1:]:
        last_end = max(r[1] for r in builds[-1])
        if (run[0] - last_end).total_seconds() > BUILD_GAP + waited:
            builds.append([])
        builds[-1].append(run)
    last = builds[-1]
    wall = (max(r[1] for r in last) - min(r[0] for r in last)).total_seconds()
    own = sum(r[2] for r in last)
    text = (f"{duration_text(wall)}, from the first notebook's start to the last one's end (the notebooks' own "
            f"times add up to {duration_text(own)})")
    if len(last) < len(notebooks):
        text += f"; this build ran {len(last)} of the {len(notebooks)} notebooks, the others ran before it"
    return text


def _clean(cell):
    """Keep what a notebook displays (tables, figures, comments, errors); drop stdout/stderr
    (progress lines belong to the log, not to the report)."""
    if cell.cell_type == "code":
        cell.outputs = _join_figures([o for o in cell.outputs if o.output_type != "stream"])
    return cell


def build(executed: list[Path], out_dir: Path) -> nbformat.NotebookNode:
    """One notebook: title page, question map, every executed notebook as a section, appendix."""
    notebooks = [(p, nbformat.read(p, as_version=4)) for p in executed]
    results = [load_results(p.stem, out_dir) or {} for p, _ in notebooks]
    profiles = sorted({r.get("profile") for r in results if r.get("profile")})
    devices = sorted({r.get("device") for r in results if r.get("device")})
    datasets = sorted({str(v) for r in results for k in ("dataset", "datasets", "functions", "function")
                       for v in _as_list(r.get("params", {}).get(k))})
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    cells = [_markdown(
        '<div class="title-page">\n\n'
        "# HW1 — Deep vs Shallow, Optimization, Generalization\n\n"
        f'<p class="course">{COURSE}</p>\n\n'
        "A reproducible report: every figure and number below was computed by the executed notebooks "
        "listed in the appendix (with each one's profile, device and wall time); `make report` reruns "
        "a notebook whenever its code or settings change.\n\n"
        + facts_table([
            ("Profile", ", ".join(profiles) or "—"),
            ("Datasets / functions", "; ".join(datasets) or "—"),
            ("Device", ", ".join(devices) or "—"),
            ("Date", now),
            ("Build time", build_time(notebooks, product_seconds(out_dir, profiles))),
            ("Revision", _revision()),
            ("Software", _versions()),
            ("Environment", _environment(results)),
            ("Results", _computed(notebooks, results)),
        ]) + "\n\n</div>")]

    # the answers on one page of their own, read from the results files (summary.py), each linked to its section
    sections = {section_of(nb)[0] for _, nb in notebooks}
    cells.append(_markdown('<div class="section-start new-page" id="summary"></div>\n\n'
                           + summary.render(out_dir, sections)))

    rows = []
    for (path, nb), res in zip(notebooks, results):
        sec, title = section_of(nb)
        figs = figures_of(nb)
        rows.append({"HW question": sec, "title": f'<a href="#sec-{sec}">{title}</a>',
                     "figures": ", ".join(f'<a href="#{figure_id(f)}">{f}</a>' for f in figs) or "—",
                     "notebook": path.name})
    cells.append(_markdown('<div class="section-start"></div>\n\n# Map: questions → sections\n\n'
                           + markdown_table(rows)))

    for path, nb in notebooks:
        sec, _ = section_of(nb)
        # the sections follow on from the map (the summary, after the title page, starts the page they begin
        # on), so a section's last, part-filled page does not cost a page per section
        cells.append(_markdown(f'<div class="section-start" id="sec-{sec}"></div>'))
        cells += [_clean(c) for c in nb.cells]

    cells.append(_markdown(appendix(notebooks, results)))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # unique across the stitched notebooks (some sources carry none)
    merged = nbformat.v4.new_notebook(cells=cells)
    merged.metadata = notebooks[0][1].metadata if notebooks else {}
    merged.metadata["title"] = "HW1 report"
    return merged


def _seed_values(value) -> set[int]:
    """Every seed recorded in a results dict outside its settings ("params"): the seeds the runs
    actually used, whatever the settings call their count ("seeds", "runs")."""
    found: set[int] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "params":
                continue
            # "seed": one run's seed; "seeds": a list of them, or else a count (summaries say "seeds": 2)
            values = [item] if key == "seed" else item if key == "seeds" and isinstance(item, list) else []
            found |= {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
            found |= _seed_values(item)
    elif isinstance(value, list):
        for item in value:
            found |= _seed_values(item)
    return found


def seed_text(seeds) -> str:
    """[0] -> 'seed 0'; [0, 1] -> 'seeds 0 and 1'; [0, …, 99] -> 'seeds 0 to 99'."""
    seeds = sorted(set(seeds))
    if not seeds:
        return "—"
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if len(seeds) > 3 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]} to {seeds[-1]}"
    return "seeds " + join([str(s) for s in seeds])


def seeds_of(res: dict) -> str:
    """The seeds a notebook's runs used, in words; other seeds (e.g. of the random labels) by name."""
    params = res.get("params", {})
    used = _seed_values(res)
    if not used:  # the runs did not record their seeds: the settings say them
        seeds = params.get("seeds")
        used = ({params["seed"]} if isinstance(params.get("seed"), int) else set()) | (
            set(seeds) if isinstance(seeds, list) else set(range(seeds)) if isinstance(seeds, int) else set())
    other = [f"{k.removesuffix('_seed').replace('_', ' ')} seed {v}" for k, v in params.items()
             if k.endswith("_seed") and isinstance(v, int)]
    return ", ".join(([seed_text(used)] if used else []) + other) or "—"


def appendix(notebooks, results) -> str:
    rows, total = [], 0.0
    used_gpu = any(r.get("peak_gpu_memory_mib") is not None for r in results)
    for (path, nb), res in zip(notebooks, results):
        pm = nb.metadata.get("papermill", {})
        seconds = pm.get("duration") or 0.0
        total += seconds
        # a redrawn notebook's numbers were computed by an earlier run: its computing time is in the results
        computed = "redrawn" if res.get("redrawn") else "computed"
        rows.append({"section": section_of(nb)[0], "notebook": path.name, "results": computed,
                     "wall time (s)": round(seconds, 1),
                     "peak memory (MiB)": res.get("peak_memory_mib", "—"),
                     **({"peak GPU memory (MiB)": res.get("peak_gpu_memory_mib") or "—"} if used_gpu else {}),
                     "profile": res.get("profile", "—"), "device": res.get("device", "—"),
                     "seeds": seeds_of(res)})
    cuda = any("cuda" in str(r.get("device", "")) for r in results)
    note = ("On CUDA, some kernels (cuDNN convolution algorithms, atomic additions in reductions) are not "
            "deterministic: rerunning on a GPU can change the last digits of the numbers. "
            if cuda else "All notebooks ran on the CPU, where the same profile, parameters and seeds give the "
            "same numbers. ")
    redrawn = [section_of(nb)[0] for (_, nb), res in zip(notebooks, results) if res.get("redrawn")]
    redraw = (f"Redrawn from saved results, computed by an earlier run from the same settings and code: "
              f"{', '.join(redrawn)} (their computation took {sum(r['seconds'] for r in results if r.get('redrawn')):.1f} s "
              "then). " if redrawn else "")
    return ('<div class="section-start" id="appendix"></div>\n\n# Appendix: provenance\n\n'
            + markdown_table(rows) + f"\n\nSum of the notebook wall times: {total:.1f} s (make runs notebooks "
            "side by side, so the build itself can take less). " + redraw + note
            + f"\n\nSoftware: {_versions()}. Environment: {_environment(results)}. Platform: {platform.platform()}. "
            f"Revision: {_revision()}.\n\n"
            "Each notebook's settings table shows the settings that shape its results; all of them, internal "
            "ones such as the data folder and chunk sizes included, are in `report/results/<notebook>.json`, "
            "and its executed copy with all logs is in `report/executed/`.")


# JupyterLab's stylesheet, inlined by nbconvert, holds a few things that are not CSS (the Nu HTML Checker
# reports each as an error, and browsers drop them): scrollbar-track states of WebKit's own, a quoted
# box-shadow, and overflow: overlay (an old WebKit alias of auto). For the parts of JupyterLab's interface
# they style, none of which the report has.
# A rule is tried only from just after a brace or a space (or the start), where the leftmost match starts
# anyway: from every other position the selector's [^{}]* rescans the same text, and the 1.4 MB stylesheet
# took 22 s instead of 0.1 s.
INVALID_CSS = ((re.compile(r"(?:^|(?<=[{}\s]))[^{}]*::-webkit-scrollbar-track:(?:horizontal|vertical) *\{[^}]*\}\s*"), ""),
               (re.compile(r"box-shadow: *'[^'\n]*'; *\n?"), ""),
               (re.compile(r"overflow: *overlay;"), "overflow: auto;"))


def valid_css(text: str) -> str:
    for pattern, replacement in INVALID_CSS:
        text = pattern.sub(replacement, text)
    return text


def to_html(nb: nbformat.NotebookNode) -> str:
    from markupsafe import Markup
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="template", extra_template_basedirs=[str(TEMPLATE_DIR.parent)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_filter("valid_css", lambda text: Markup(valid_css(str(text))))
    css = (TEMPLATE_DIR / "report.css").read_text()
    js = (TEMPLATE_DIR / "report.js").read_text()
    html, _ = exporter.from_notebook_node(nb, resources={"report_css": css, "report_js": js})
    return scrolling_tables(with_toc(*unique_heading_ids(html)))


LONG_TABLE_ROWS = 16  # rows (with the header's) from which a table may break across pages in print
TABLE_OR_HEADING = re.compile(r'<h([1-6]) id="[^"]*">(.*?)</h\1>|<table\b.*?</table>', re.S)


def scrolling_tables(html: str) -> str:
    """Each table in a box of its own that scrolls sideways when the table is wider than the screen (a phone),
    named for a screen reader after the section and heading above it; report.js shades the side there is
    more on, and leaves only the boxes that scroll as tab stops."""
    section, heading, n = "", "title page", 0

    def wrap(m: re.Match) -> str:
        nonlocal section, heading, n
        if m.group(1):
            heading, n = " ".join(html_mod.unescape(TAG.sub("", m.group(2).replace("¶", ""))).split()), 0
            if m.group(1) == "1":
                section = heading.split(" · ")[0] + ", " if " · " in heading else ""
            return m.group(0)
        n += 1
        label = html_mod.escape(f"Table{f' {n}' if n > 1 else ''}: {section}{heading}", quote=True)
        # a long table may run on to the next page (its header repeated there) rather than leave a page half empty
        long = " long" if m.group(0).count("<tr") > LONG_TABLE_ROWS else ""
        return (f'<div class="table-wrap{long}"><div class="table-scroll" role="group" tabindex="0" '
                f'aria-label="{label}">{m.group(0)}</div></div>')

    return TABLE_OR_HEADING.sub(wrap, html)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-") or "heading"


def unique_heading_ids(html: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every heading an id of its own: "<section>-<slug>" below a section's first heading
    (1-1a-comment), the slug alone elsewhere, with -2, -3 … where one would repeat. A section
    marker's id (sec-1-1a, what the map links to) moves into the section's first heading: on the
    empty marker a link landed where the marker stood, at the foot of the page before the one the
    heading was pushed to. Returns the HTML and the headings as (level, id, text) in order."""
    seen: set[str] = set()
    headings: list[tuple[int, str, str]] = []
    section, marker = "", ""

    def rename(m: re.Match) -> str:
        nonlocal section, marker
        if m.group(6) is not None:  # a section marker: headings up to the next one belong to it
            section = "" if m.group(6) == "appendix" else _slug(m.group(6))
            marker = m.group(5)
            return f'<div class="{m.group(4)}"></div>'
        level, inner = int(m.group(1)), m.group(3)
        if marker:
            inner, marker = f'<span class="anchor" id="{marker}"></span>{inner}', ""
        text = " ".join(html_mod.unescape(TAG.sub("", inner)).split())
        base = _slug(text) if level == 1 or not section else f"{section}-{_slug(text)}"
        hid, n = base, 1
        while hid in seen:
            n += 1
            hid = f"{base}-{n}"
        seen.add(hid)
        headings.append((level, hid, text))
        return f'<h{level} id="{hid}">{inner}<a class="anchor-link" href="#{hid}">¶</a></h{level}>'

    return RENDERED.sub(rename, html), headings


def with_toc(html: str, headings: list[tuple[int, str, str]]) -> str:
    """Fill the template's side table of contents with the sections and their subsections."""
    items, open_sub = [], False
    for level, hid, text in headings[1:]:  # the first heading is the report's title
        if level > TOC_LEVELS:
            continue
        if level == 1 and open_sub:
            items.append("</ul></li>")
            open_sub = False
        elif level > 1 and not open_sub:
            items[-1:] = [items[-1].removesuffix("</li>") + "<ul>"] if items else ["<li><ul>"]
            open_sub = True
        items.append(f'<li><a href="#{hid}">{html_mod.escape(text)}</a></li>')
    items.append("</ul></li>" if open_sub else "")
    return html.replace("<!--TOC-->", "<ul>" + "".join(items) + "</ul>", 1)


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
