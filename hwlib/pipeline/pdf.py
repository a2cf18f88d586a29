"""Print the HTML report to PDF with a Chromium driven by Playwright.

Usage: python -m hwlib.pipeline.pdf [--html report/report.html] [--pdf report/report.pdf] [--no-install]

A Chromium already on the machine is used first (HWLIB_CHROMIUM, then chromium,
chromium-browser, google-chrome on PATH, then Playwright's own browser). When none is found it
tries, in order, Playwright's browser download and (as root) the system package manager;
if both fail it stops with one line saying how to get one. The PDF is written to a temporary
name and renamed, so an interrupted build keeps the previous PDF.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import paths
from ..results import atomic_write_bytes

# Flags for a headless Chromium in a sandboxed, offline machine: no sandbox (runs as root in
# containers), no GPU, and no background services that would try the network at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#666">'
          'HW1 report · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')


class NoChromium(RuntimeError):
    pass


def _playwright_browser() -> str | None:
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if path and Path(path).exists() else None
    except Exception:  # no driver, no browser: simply not available
        return None


def find_chromium() -> str | None:
    env = os.environ.get("HWLIB_CHROMIUM")
    if env:
        if Path(env).exists():
            return env
        raise NoChromium(f"HWLIB_CHROMIUM={env!r} does not exist: point it at a Chromium binary or unset it")
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return _playwright_browser()


def _try(cmd: list[str], what: str) -> bool:
    print(f"pdf: no Chromium found; trying {what}: {' '.join(cmd)}", flush=True)
    try:
        return subprocess.run(cmd, timeout=900).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def obtain_chromium() -> str | None:
    """Playwright's browser download first (no root needed), then apt-get when running as root."""
    if _try([sys.executable, "-m", "playwright", "install", "chromium"], "Playwright's browser download"):
        found = find_chromium()
        if found:
            return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        if _try(["sh", "-c", "apt-get update -qq && apt-get install -y -qq chromium"], "the system package manager"):
            return find_chromium()
    return None


# Each heading's text as a reader sees it: without the ¶ of its own link, white space as one space.
HEADINGS_JS = """() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'), h => {
  const copy = h.cloneNode(true);
  copy.querySelectorAll('.anchor-link').forEach(a => a.remove());
  return copy.textContent.replace(/\\s+/g, ' ').trim();
})"""


def _squeezed(text: str) -> str:
    return "".join(text.split())


def outline_items(node):
    """Every item of a PDF outline (a /First, /Next tree) in document order, as mutable dictionaries."""
    item = node.get("/First")
    while item is not None:
        obj = item.get_object()
        yield obj
        yield from outline_items(obj)
        item = obj.get("/Next")


def fix_outline(data: bytes, headings: list[str]) -> bytes:
    """The PDF with each bookmark titled as its heading reads. Chromium builds a bookmark's title from the
    heading's lines as laid out and drops the space where a heading wrapped ("Optimization,Generalization");
    a bookmark whose title is a heading's text less some white space gets that heading's text. The PDF is
    updated incrementally: what Chromium wrote (tags, links, pages) stays byte for byte."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    outlines = writer.root_object.get("/Outlines")
    if outlines is None:
        return data
    changed, start = 0, 0
    for item in outline_items(outlines.get_object()):
        title = str(item.get("/Title", ""))
        # headings in document order, as the bookmarks are: look from the last one matched onward
        for i in range(start, len(headings)):
            if _squeezed(headings[i]) == _squeezed(title):
                start = i + 1
                if headings[i] != title:
                    item[NameObject("/Title")] = TextStringObject(headings[i])
                    changed += 1
                break
    if not changed:
        return data
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_pdf(html: Path, pdf: Path, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            headings = page.evaluate(HEADINGS_JS)
            # outline: bookmarks from the headings (a PDF reader's side panel); tagged: a structured
            # PDF that screen readers can follow, with the figures' alt text
            data = page.pdf(format="A4", print_background=True, display_header_footer=True,
                            header_template="<span></span>", footer_template=FOOTER, outline=True, tagged=True,
                            margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()
    data = fix_outline(data, headings)
    atomic_write_bytes(pdf, data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=paths.in_project, default=paths.out_dir() / "report.html")
    ap.add_argument("--pdf", type=paths.in_project, default=paths.out_dir() / "report.pdf")
    ap.add_argument("--no-install", action="store_true", help="never download or install a Chromium")
    args = ap.parse_args(argv)
    if not args.html.exists():
        print(f"pdf: {args.html} does not exist: build it first with `make html`", file=sys.stderr)
        return 2
    try:
        chromium = find_chromium() or (None if args.no_install else obtain_chromium())
    except NoChromium as exc:
        print(f"pdf: {exc}", file=sys.stderr)
        return 2
    if not chromium:
        print(f"pdf: no Chromium found, so {args.pdf} was not written (the HTML report is ready at {args.html}): "
              "install one (`apt-get install chromium` or `python -m playwright install chromium`) or set "
              "HWLIB_CHROMIUM=/path/to/chromium, then run `make pdf`", file=sys.stderr)
        return 3
    size = print_pdf(args.html, args.pdf, chromium)
    print(f"pdf: wrote {args.pdf} ({size / 1e6:.1f} MB) with {chromium}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
