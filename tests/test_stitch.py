"""hwlib.pipeline.stitch, the stitched report: unique heading ids, a side table of contents, figures with their caption as
alt text (image and caption in one block), and the appendix's seeds in words."""

import base64
import re
from pathlib import Path

import nbformat
import pytest

from hwlib import plots, results
from hwlib.pipeline import stitch


def _png() -> str:
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0])
    return base64.b64encode(plots.png(fig)).decode()


def _notebook(path: Path, section: str, caption: str) -> Path:
    figure = nbformat.v4.new_code_cell("show(...)")
    figure.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="epoch 1/2\n"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Image>"}),
        nbformat.v4.new_output("display_data", data={
            "text/markdown": f'<p class="caption"><b>Figure {section}.1.</b> {caption}</p>', "text/plain": "<Md>"}),
    ]
    comment = nbformat.v4.new_code_cell("display(Markdown(task.comment(R)))")
    comment.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "- **a**: no clear difference"})]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {section} · Title of {section}"), nbformat.v4.new_markdown_cell("## Models"),
        figure, nbformat.v4.new_markdown_cell("## Comment"), comment])
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def stitched(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    paths = [_notebook(tmp / "9_1a.ipynb", "9-1a", "Loss of the <i>wide</i> net & the narrow one."),
             _notebook(tmp / "9_1b.ipynb", "9-1b", "Accuracy per epoch.")]
    nb = stitch.build(paths, tmp)
    return nb, stitch.to_html(nb)


def test_every_heading_id_is_unique_and_named_after_its_section(stitched):
    _, html = stitched
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    heading_ids = re.findall(r'<h[1-6] id="([^"]+)"', html)
    assert {"9-1a-comment", "9-1b-comment", "9-1a-models", "9-1a-title-of-9-1a", "appendix-provenance"} <= set(heading_ids)
    for hid in heading_ids:  # each heading's own link points at itself
        assert f'<a class="anchor-link" href="#{hid}">' in html


def test_side_table_of_contents_links_every_section_and_subsection(stitched):
    _, html = stitched
    toc = re.search(r"<nav\b[^>]*class=\"toc\"[^>]*>(.*?)</nav>", html, re.S).group(1)
    links = re.findall(r'href="#([^"]+)"', toc)
    assert links[:6] == ["summary-the-answers", "summary-limitations", "map-questions-sections", "9-1a-title-of-9-1a",
                         "9-1a-models", "9-1a-comment"]
    assert "appendix-provenance" in links and "9-1b-comment" in links
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert set(links) <= ids  # no link into nothing
    css = (stitch.TEMPLATE_DIR / "report.css").read_text()
    assert re.search(r"@media print \{[^@]*nav\.toc(, [^{]*)? \{ display: none; \}", css, re.S)  # not in the PDF


def test_every_image_has_its_caption_as_alt_text_in_one_figure(stitched):
    nb, html = stitched
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == 2
    alts = [re.search(r'alt="([^"]*)"', img).group(1) for img in imgs]
    assert alts == ["Figure 9-1a.1. Loss of the wide net &amp; the narrow one.", "Figure 9-1b.1. Accuracy per epoch."]
    assert html.count("<figure") == 2 and all(re.search(r"<figure[^>]*>\s*<a [^>]*>\s*<img", html) for _ in imgs)
    widths = re.findall(r"--print-width: ([0-9.]+)in", html)
    assert len(widths) == 2 and all(6.0 < float(w) <= plots.WIDTH + 0.3 for w in widths)  # drawn size, in inches
    assert stitch.figures_of(nb) == ["9-1a.1", "9-1b.1"]  # still counted once joined
    assert "epoch 1/2" not in html  # progress lines stay in the log


def test_figures_of_reads_notebooks_as_plots_show_leaves_them(tmp_path):
    nb = nbformat.read(_notebook(tmp_path / "9_1a.ipynb", "9-1a", "x"), as_version=4)
    assert stitch.figures_of(nb) == ["9-1a.1"]


@pytest.mark.parametrize("res,text", [
    ({"params": {"seeds": 2}, "runs": {"sinc": [{"seed": 0}, {"seed": 1}]}}, "seeds 0 and 1"),
    ({"params": {"seeds": [0, 1]}, "runs": [{"seed": 1}, {"seed": 0}], "summary": {"w2": {"seeds": 2}}},
     "seeds 0 and 1"),  # a count under "seeds" is not a seed
    ({"params": {"runs": 100}, "seeds": list(range(100))}, "seeds 0 to 99"),
    ({"params": {"seeds": 3}}, "seeds 0, 1 and 2"),  # a count, the runs not recording theirs
    ({"params": {"seeds": [0, 1]}}, "seeds 0 and 1"),
    ({"params": {"seed": 0, "label_seed": 0}}, "seed 0, label seed 0"),
    ({"params": {"seed": 0, "inits": ["shared"]}, "pairs": [{"seed": 0}, {"seed": 1}]}, "seeds 0 and 1"),
    ({"params": {"epochs": 3}}, "—"),
    ({}, "—"),
])
def test_seeds_in_words(res, text):
    assert stitch.seeds_of(res) == text


def test_appendix_names_the_seeds_without_python_debris():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 1-2a · Visualize")])
    res = {"profile": "quick", "device": "cpu", "params": {"runs": 8, "seed_like": True},
           "runs": [{"seed": s} for s in range(8)]}
    text = stitch.appendix([(Path("a.ipynb"), nb)], [res])
    assert "seeds 0 to 7" in text
    assert "seeds=" not in text and "[" not in text and "True" not in text


def test_title_page_and_appendix_name_the_environment_the_results_recorded(tmp_path):
    nb = _notebook(tmp_path / "9_1a.ipynb", "9-1a", "A caption.")
    locked = {"lock": "requirements.lock sha256 0123456789ab", "matches_lock": True, "differs": [], "n_differ": 0}
    results.save("9_1a", {"profile": "quick", "environment": locked}, tmp_path)
    title = stitch.build([nb], tmp_path).cells[0].source
    assert ('<th scope="row">Environment</th><td>requirements.lock sha256 0123456789ab (the installed packages '
            'match it)</td>') in title
    other = {**locked, "matches_lock": False, "differs": ["torch 2.15.0 (lock: 2.14.1)"], "n_differ": 1}
    nb2 = _notebook(tmp_path / "9_1b.ipynb", "9-1b", "Another caption.")
    results.save("9_1b", {"profile": "quick", "environment": other}, tmp_path)
    built = stitch.build([nb, nb2], tmp_path)
    assert "1 installed package differs from it: torch 2.15.0 (lock: 2.14.1)" in built.cells[0].source
    assert "the notebooks ran in different environments" in built.cells[0].source
    assert "Environment: requirements.lock sha256 0123456789ab" in built.cells[-1].source  # the appendix


def test_map_links_each_section_and_figure_to_where_it_starts(stitched):
    """The map's links point into the headings and figures themselves: an empty marker before a heading
    stays at the foot of a page when the heading moves on to the next, and a link to it landed there."""
    _, html = stitched
    assert re.search(r'<h1 id="9-1a-title-of-9-1a"><span class="anchor" id="sec-9-1a"></span>9-1a · Title', html)
    assert not re.search(r'<div class="section-start[^"]*" id=', html)  # no marker holds an id any more
    mapped = re.search(r'<h1 id="map-questions-sections">.*?</table>', html, re.S).group(0)
    assert re.findall(r'href="#(fig-[^"]+)"', mapped) == ["fig-9-1a-1", "fig-9-1b-1"]
    assert re.findall(r'href="#(sec-[^"]+)"', mapped) == ["sec-9-1a", "sec-9-1b"]
    for fid in ("fig-9-1a-1", "fig-9-1b-1"):
        figure = re.search(rf'<figure class="figure" id="{fid}">(.*?)</figure>', html, re.S).group(1)
        link = re.search(r'<a ([^>]*)>\s*<img', figure).group(1)  # the image: a link to itself at full size
        assert 'class="full-size"' in link and f'href="#{fid}"' in link


def test_title_page_names_the_course_and_the_build_time_in_a_table_with_row_headers(stitched):
    nb, html = stitched
    title = nb.cells[0].source
    assert stitch.COURSE in title and "Homework 1" in stitch.COURSE
    assert '<th scope="row">Build time</th><td>' in title
    assert "<th></th>" not in html and not re.search(r"<th>\s*</th>", html)  # no header without text


def _timed(start: str, seconds: float):
    nb = nbformat.v4.new_notebook()
    begin = stitch.dt.datetime.fromisoformat(start)
    end = begin + stitch.dt.timedelta(seconds=seconds)
    nb.metadata["papermill"] = {"start_time": begin.isoformat(), "end_time": end.isoformat(), "duration": seconds}
    return Path("x.ipynb"), nb


def test_build_time_spans_the_notebooks_of_the_last_build():
    one = [_timed("2026-01-01T10:00:00+00:00", 100), _timed("2026-01-01T10:00:00+00:00", 40),
           _timed("2026-01-01T10:00:41+00:00", 70)]  # two side by side: 111 s of wall time, 210 s of work
    assert stitch.build_time(one) == ("1 min 51 s, from the first notebook's start to the last one's end (the "
                                      "notebooks' own times add up to 3 min 30 s)")
    # a later build reran one notebook: only it is timed, and the rest is said
    later = one + [_timed("2026-01-02T09:00:00+00:00", 12)]
    assert stitch.build_time(later) == ("12 s, from the first notebook's start to the last one's end (the "
                                        "notebooks' own times add up to 12 s); this build ran 1 of the 4 "
                                        "notebooks, the others ran before it")
    # notebooks waiting for a product (1-3d's models) are still one build
    waited = [_timed("2026-01-01T10:00:00+00:00", 10), _timed("2026-01-01T10:05:00+00:00", 10)]
    assert "this build ran" in stitch.build_time(waited)
    assert "this build ran" not in stitch.build_time(waited, waited=300)
    assert stitch.build_time([(Path("x.ipynb"), nbformat.v4.new_notebook())]) == "—"


def test_inlined_notebook_stylesheet_is_valid_css():
    """JupyterLab's stylesheet, as nbconvert inlines it, holds four things the Nu HTML Checker calls CSS
    errors; valid_css removes those and nothing else."""
    import nbconvert  # noqa: F401  (its templates are installed beside it)
    from jupyter_core.paths import jupyter_path

    css = next(Path(p, "nbconvert", "templates", "lab", "static", "index.css") for p in jupyter_path()
               if Path(p, "nbconvert", "templates", "lab", "static", "index.css").exists()).read_text()
    bad = ("::-webkit-scrollbar-track:horizontal", "::-webkit-scrollbar-track:vertical", "box-shadow: '",
           "overflow: overlay")
    assert all(b in css for b in bad)  # still there upstream: else this filter has nothing to do
    cleaned = stitch.valid_css(css)
    assert not any(b in cleaned for b in bad)
    assert 0 < len(css) - len(cleaned) < 400  # those few declarations and rules only
    assert ".jp-scrollbar-tiny::-webkit-scrollbar-thumb" in cleaned and "overflow: auto;" in cleaned


def test_tables_scroll_in_a_named_box_and_the_page_has_its_script(stitched):
    _, html = stitched
    tables = html.count("<table")
    boxes = re.findall(r'<div ([^>]*class="table-scroll"[^>]*)><table', html)
    assert tables >= 3 and len(boxes) == tables
    assert all('role="group"' in b and 'tabindex="0"' in b for b in boxes)
    names = [re.search(r'aria-label="([^"]+)"', b).group(1) for b in boxes]
    assert len(set(names)) == len(names) and "Table: Map: questions → sections" in names  # each named apart
    assert "IntersectionObserver" in html and '<a class="to-top" href="#top">' in html and 'id="top"' in html
    assert "<script src" not in html
    assert re.search(r'<nav [^>]*id="top"[^>]*>\s*<details>\s*<summary', html)


# the selector rule as first written: correct, but it rescanned the text from every position (22 s a report)
_PLAIN_SCROLLBAR_RULE = re.compile(r"[^{}]*::-webkit-scrollbar-track:(?:horizontal|vertical) *\{[^}]*\}\s*")


def test_scrollbar_rule_filter_removes_what_the_plain_pattern_removes():
    """valid_css tries the scrollbar-track rule only after a brace, a space or the start; on stylesheets drawn
    from the pieces that matter, it removes exactly what the pattern tried from every position removes."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from([".a", " ", "\n", "{", "}", "x: 1;", "::-webkit-scrollbar-track:vertical ",
                              "::-webkit-scrollbar-track:horizontal", "::-webkit-scrollbar-thumb", ",", "@media p ",
                              ".a::-webkit-scrollbar-track:vertical {x: 1;}", ".b {x: 1;}"])

    @settings(max_examples=400, deadline=None)
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(css):
        assert stitch.INVALID_CSS[0][0].sub("", css) == _PLAIN_SCROLLBAR_RULE.sub("", css)

    check()
