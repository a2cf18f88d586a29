"""The HTML report checked by two outside tools: axe-core (accessibility rules, run in a real Chromium, at a
desktop's and a phone's width) and the Nu HTML Checker (vnu.jar: HTML and CSS against the standards).

Usage: python -m hwlib.pipeline.checks [--html report/report.html]

Both come from the npm registry at the versions package-lock.json pins; `make checkers` installs them into
node_modules/ (npm ci, no install scripts run). The Nu HTML Checker runs on Java, which is not installed by
this project: without it that check is skipped and says so. Standard library and Playwright only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from .. import paths

NODE_MODULES = paths.project_root() / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
WIDTHS = (1280, 400)  # a desktop window and a phone, in CSS pixels


class Unavailable(RuntimeError):
    """A checker, or what it runs on, is not installed; the message says how to get it."""


def axe(html: Path, chromium: str | None = None, widths=WIDTHS, browser=None) -> dict[int, list[dict]]:
    """axe-core's violations of the page at each width: {width: [{id, impact, help, nodes}, …]}, in the
    Playwright ``browser`` given, else in the ``chromium`` binary started for it."""
    if not AXE.exists():
        raise Unavailable(f"axe-core is not installed ({AXE} is missing): run `make checkers`")
    if browser is None:
        from playwright.sync_api import sync_playwright

        from .pdf import CHROMIUM_ARGS

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                return axe(html, widths=widths, browser=browser)
            finally:
                browser.close()
    found = {}
    for width in widths:
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(Path(html).resolve().as_uri(), wait_until="load")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found[width] = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                         "nodes": [n["html"][:200] for n in v["nodes"]]} for v in result["violations"]]
        page.close()
    return found


def vnu(html: Path) -> list[dict]:
    """The Nu HTML Checker's errors in the page, its inline CSS included: [{message, extract}, …]."""
    java = shutil.which("java")
    if java is None:
        raise Unavailable("the Nu HTML Checker needs Java, and there is none on PATH (e.g. apt-get install "
                          "default-jre-headless)")
    if not VNU.exists():
        raise Unavailable(f"the Nu HTML Checker is not installed ({VNU} is missing): run `make checkers`")
    done = subprocess.run([java, "-jar", str(VNU), "--format", "json", "--errors-only", str(html)],
                          capture_output=True, text=True, timeout=300)
    try:
        messages = json.loads(done.stderr or done.stdout)["messages"]
    except (ValueError, KeyError) as exc:
        raise RuntimeError(f"the Nu HTML Checker gave no report (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout)[-500:]}") from exc
    return [{"message": m.get("message", ""), "extract": m.get("extract", "")} for m in messages
            if m.get("type") in ("error", "non-document-error") or m.get("subType") == "fatal"]


def main(argv: list[str] | None = None) -> int:
    from .pdf import find_chromium

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=paths.in_project, default=paths.out_dir() / "report.html")
    args = ap.parse_args(argv)
    if not args.html.exists():
        print(f"checks: {args.html} does not exist: build it first with `make html`", file=sys.stderr)
        return 2
    failed = False
    try:
        chromium = find_chromium()
        if chromium is None:
            raise Unavailable("no Chromium found (apt-get install chromium, or HWLIB_CHROMIUM=/path)")
        for width, violations in axe(args.html, chromium).items():
            print(f"axe-core at {width} px: {len(violations)} violation(s)")
            for v in violations:
                print(f"  {v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), e.g. {v['nodes'][0]}")
            failed |= bool(violations)
    except Unavailable as exc:
        print(f"axe-core: skipped: {exc}")
    try:
        errors = vnu(args.html)
        print(f"Nu HTML Checker: {len(errors)} error(s)")
        for e in errors:
            print(f"  {e['message']}: {' '.join(e['extract'].split())[:120]}")
        failed |= bool(errors)
    except Unavailable as exc:
        print(f"Nu HTML Checker: skipped: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
