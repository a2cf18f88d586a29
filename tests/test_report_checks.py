"""The smoke report as a reader meets it, checked in a real Chromium and by outside tools: axe-core and the
Nu HTML Checker find nothing; the PDF's bookmarks read as the headings, its links land on their targets'
pages, nothing is wider than the text, no page is left half empty but for a figure too tall for the rest
of it, no heading ends a page; the page reads on a desktop (contents in the body's font marking the section
in view, lines of about 80 characters, sharp figures) and on a phone (contents folded away, figures open at
full size, wide tables say that they scroll); and every file is readable under the usual umask."""

import os
import re
import stat

import pytest
from conftest import need_chromium
from support import pdf_layout

from hwlib.pipeline import checks

pytestmark = pytest.mark.slow
HALF = 0.5


def _available(call):
    """A checker's result; skipped with how to install it where it is missing, a failure in CI."""
    try:
        return call()
    except checks.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: .ci/run must install it")
        pytest.skip(str(exc))


def _headings(html: str) -> list[tuple[str, str, str]]:
    """(level, id, text) of every heading, the text as a reader sees it (no ¶, white space as one space)."""
    found = []
    for level, hid, inner in re.findall(r'<h([1-6]) id="([^"]+)">(.*?)</h\1>', html, re.S):
        inner = re.sub(r'<a class="anchor-link".*?</a>', "", inner)
        text = re.sub(r"<[^>]+>", "", inner).replace("&amp;", "&").replace("&#x27;", "'").replace("&lt;", "<")
        found.append((level, hid, " ".join(text.split())))
    return found


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def layout(smoke_report):
    need_chromium(smoke_report)
    return pdf_layout.pages(smoke_report.pdf)


@pytest.fixture(scope="module")
def browser(smoke_report):
    from playwright.sync_api import sync_playwright

    from hwlib.pipeline.pdf import CHROMIUM_ARGS

    chromium = need_chromium(smoke_report)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open(browser, report, width, height=800, fragment=""):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(report.html.resolve().as_uri() + fragment, wait_until="load")
    return context, page


def test_report_and_results_are_readable_under_the_users_umask(smoke_report):
    written = [smoke_report.html, *(smoke_report.out / "results").glob("*.json")]
    written += [smoke_report.pdf] if smoke_report.pdf else []
    assert len(written) >= 12
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert set(modes.values()) == {"0o644"}, modes


def test_axe_core_finds_no_violation_on_a_desktop_or_a_phone(smoke_report, browser):
    found = _available(lambda: checks.axe(smoke_report.html, browser=browser))
    assert set(found) == set(checks.WIDTHS)
    assert found == {w: [] for w in checks.WIDTHS}, found


def test_nu_html_checker_finds_no_error(smoke_report):
    errors = _available(lambda: checks.vnu(smoke_report.html))
    assert errors == []


def test_pdf_bookmarks_read_as_the_headings(smoke_report, layout):
    headings = [text for _, _, text in _headings(smoke_report.html.read_text())]
    titles = [title for title, _, _ in pdf_layout.outline(smoke_report.pdf)]
    assert len(titles) > 40 and titles == headings


def test_pdf_links_land_on_their_targets_page(smoke_report, layout):
    """Each link of the map (sections and figures) lands on the page where its heading or its figure is."""
    html = smoke_report.html.read_text()
    expected = {hid: text for _, hid, text in _headings(html)}
    for sec, hid in re.findall(r'<h1 id="([^"]+)"><span class="anchor" id="(sec-[^"]+)">', html):
        expected[hid] = expected[sec]
    for fid, number in re.findall(r'<figure class="figure" id="(fig-[^"]+)">.*?<b>Figure ([^<]+?)\.</b>', html, re.S):
        expected[fid] = f"Figure {number}."
    found = pdf_layout.links(smoke_report.pdf)
    targets = {target for _, target, _, _ in found}
    assert sum(t.startswith("sec-") for t in targets) == 11 and sum(t.startswith("fig-") for t in targets) > 20
    for page, target, lands, _ in found:
        assert target in expected, f"a link on page {page + 1} to #{target}, which is nowhere"
        assert lands >= 0, f"the link to #{target} lands nowhere"
        assert _squeezed(expected[target]) in _squeezed(layout[lands].text()), (
            f"the link to #{target} lands on page {lands + 1}, where {expected[target]!r} is not")


def test_pdf_nothing_is_wider_than_the_text(smoke_report, browser):
    """Laid out for print at the printable width of A4 (the PDF's margins), no table, figure or image
    reaches past the text's right edge, and nothing is cut off by a box that would scroll on screen."""
    width = round((210 - 24) / 25.4 * 96)  # A4 less the 12 mm margins each side, in CSS pixels
    context, page = _open(browser, smoke_report, width, 1000)
    page.emulate_media(media="print")
    wide = page.evaluate("""(w) => {
      const out = [];
      for (const el of document.querySelectorAll('main table, main figure, main img')) {
        const r = el.getBoundingClientRect();
        if (r.width && (r.right > w + 0.5 || r.left < -0.5)) out.push(el.tagName + ' ' + Math.round(r.right));
      }
      for (const el of document.querySelectorAll('main *')) {
        const s = getComputedStyle(el);
        if (el.clientWidth && el.scrollWidth > el.clientWidth + 1 && s.overflowX !== 'visible')
          out.push('cut: ' + el.className + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
      }
      return out; }""", width)
    context.close()
    assert wide == []


def test_pdf_no_page_is_left_half_empty_but_for_a_figure_too_tall_for_it(layout):
    assert len(layout) > 10
    for n, (page, following) in enumerate(zip(layout, layout[1:]), 1):
        if page.fill >= HALF:
            continue
        if n == 1 and any("Summary: the answers" in i.text for i in following.body if i.kind == "text"):
            continue  # the title page is a page of its own: the summary starts the next one
        # the next page starts with a figure (under its heading, kept with it) that the rest did not hold
        body = sorted(following.body, key=lambda i: -i.top)
        image = next((i for i in body if i.kind == "image"), None)
        before = [i for i in body if image and i.top > image.top + 1]
        assert image is not None and len(before) <= 2 and image.top - image.bottom > page.free, (
            f"page {n} is {page.fill:.0%} full, and page {n + 1} starts with "
            f"{body[0].kind} {body[0].text[:40]!r}, which would have fitted")


def _heading_lines(page, title: str, top: float) -> list:
    """The text items that make up a heading on its page (one per line where it wrapped), in order."""
    texts = [i for i in page.body if i.kind == "text"]
    whole = _squeezed(title)
    for start, item in enumerate(texts):
        if abs(item.top - top) > 12 or not whole.startswith(_squeezed(item.text)):
            continue
        lines, read = [item], _squeezed(item.text)
        for following in texts[start + 1:]:
            if read == whole or not whole.startswith(read + _squeezed(following.text)):
                break
            lines.append(following)
            read += _squeezed(following.text)
        if read == whole:
            return lines
    return []


def test_pdf_no_heading_ends_a_page(smoke_report, layout):
    for title, index, top in pdf_layout.outline(smoke_report.pdf):
        page = layout[index]
        lines = _heading_lines(page, title, top)
        assert lines, f"bookmark {title!r} points at nothing on page {index + 1}"
        bottom = min(line.bottom for line in lines)
        below = [i for i in page.body if i.top < bottom - 1 and all(i is not line for line in lines)]
        assert below, f"heading {title!r} ends page {index + 1}"
    labels = 0
    for n, page in enumerate(layout, 1):  # nor does a table's label ("Settings (profile smoke, …)")
        for label in (i for i in page.body if i.kind == "text" and i.text == "Settings"):
            labels += 1
            assert any(i.top < label.bottom - 1 for i in page.body), f"the label 'Settings' ends page {n}"
    assert labels == 11


def test_title_page_names_the_course_and_the_build_time(layout):
    first = layout[0].text()
    assert "Homework 1 of" in first and "Build time" in first and "from the first notebook's start" in first


def test_desktop_contents_in_the_body_font_mark_the_section_in_view(smoke_report, browser):
    context, page = _open(browser, smoke_report, 1280, fragment="#1-2b-comment")
    page.wait_for_function("document.querySelector('nav.toc a.current')")
    state = page.evaluate("""() => ({
      open: document.querySelector('nav.toc details').open,
      toc: getComputedStyle(document.querySelector('nav.toc a')).fontFamily,
      body: getComputedStyle(document.querySelector('main .jp-RenderedMarkdown p')).fontFamily,
      current: document.querySelector('nav.toc a.current').getAttribute('href'),
      aria: document.querySelector('nav.toc a.current').getAttribute('aria-current'),
      part: [...document.querySelectorAll('nav.toc a.current-part')].map(a => a.getAttribute('href')) })""")
    assert state["open"] and state["toc"] == state["body"]
    assert state["current"] == "#1-2b-comment" and state["aria"] == "location"
    assert state["part"] == ["#1-2b-observe-the-gradient-norm-during-training"]
    page.evaluate("document.getElementById('1-3a-model-and-task').scrollIntoView()")
    page.wait_for_function("document.querySelector('nav.toc a.current').getAttribute('href') === '#1-3a-model-and-task'")
    context.close()


def test_desktop_lines_are_about_80_characters(smoke_report, browser):
    context, page = _open(browser, smoke_report, 1280)
    per_line = page.evaluate("""() => [...document.querySelectorAll('main .jp-RenderedMarkdown p')]
      .filter(p => p.textContent.length > 400)
      .map(p => { const lines = Math.round(p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight));
                  return p.textContent.length / lines; })""")
    context.close()
    assert len(per_line) > 5
    assert all(60 <= n <= 95 for n in per_line), per_line


def test_map_figure_numbers_link_to_their_figures(smoke_report, browser):
    context, page = _open(browser, smoke_report, 1280)
    targets = page.evaluate("""() => [...document.querySelectorAll('main table a[href^="#fig-"]')]
      .map(a => { const t = document.getElementById(a.getAttribute('href').slice(1));
                  return [a.textContent, t ? t.tagName : null, t ? t.querySelector('b').textContent : null]; })""")
    context.close()
    assert len(targets) > 20
    assert all(tag == "FIGURE" and caption == f"Figure {number}." for number, tag, caption in targets), targets


def test_figures_are_sharp_on_a_high_density_screen(smoke_report, browser):
    """At a desktop's width each figure's image has at least two pixels for each CSS pixel it covers."""
    context, page = _open(browser, smoke_report, 1280)
    ratios = page.evaluate("""() => [...document.querySelectorAll('figure.figure img')]
      .map(img => img.naturalWidth / img.getBoundingClientRect().width)""")
    context.close()
    assert len(ratios) > 20 and min(ratios) >= 2.0, ratios


def test_phone_contents_fold_away_and_the_report_starts_on_the_first_screen(smoke_report, browser):
    context, page = _open(browser, smoke_report, 400, 800)
    state = page.evaluate("""() => ({
      open: document.querySelector('nav.toc details').open,
      title: document.querySelector('main h1').getBoundingClientRect().top,
      overflow: document.documentElement.scrollWidth })""")
    assert not state["open"] and state["title"] < 200 and state["overflow"] <= 400, state
    page.click("nav.toc summary")  # one control opens them, and a chosen entry folds them again
    assert page.evaluate("document.querySelector('nav.toc details').open")
    page.click('nav.toc a[href="#1-2a-comment"]')
    assert not page.evaluate("document.querySelector('nav.toc details').open")
    context.close()


def test_phone_wide_tables_say_they_scroll(smoke_report, browser):
    context, page = _open(browser, smoke_report, 400, 800)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.table-scroll')].map(box => ({
      scrolls: box.scrollWidth > box.clientWidth + 1, marked: box.parentElement.classList.contains('more-right'),
      hint: box.parentElement.querySelector('.scroll-hint').offsetHeight > 0, tab: box.tabIndex }))""")
    wide = [b for b in boxes if b["scrolls"]]
    assert len(wide) >= 3
    assert all(b["marked"] and b["hint"] and b["tab"] == 0 for b in wide), wide
    assert all(not b["hint"] and b["tab"] == -1 for b in boxes if not b["scrolls"])
    context.close()


def test_phone_figure_opens_at_full_size(smoke_report, browser):
    context, page = _open(browser, smoke_report, 400, 800)
    assert page.locator("figure.figure a.full-size").count() == page.locator("figure.figure img").count() > 20
    link = page.locator("figure.figure a.full-size").nth(2)
    shown = link.locator("img").evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
    with context.expect_page() as opened:
        link.click()
    full = opened.value
    full.wait_for_load_state()
    natural = full.evaluate("() => [document.contentType, document.images[0].naturalWidth]")
    context.close()
    assert natural == ["image/png", shown[0]] and shown[0] > 2 * shown[1]
