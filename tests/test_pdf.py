"""Finding a Chromium for the PDF, and the one-line stop when there is none."""

import pytest

from hwlib.pipeline import pdf


def test_env_override_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("HWLIB_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(pdf.NoChromium, match="HWLIB_CHROMIUM=.*does not exist"):
        pdf.find_chromium()
    fake = tmp_path / "chromium"
    fake.write_text("")
    monkeypatch.setenv("HWLIB_CHROMIUM", str(fake))
    assert pdf.find_chromium() == str(fake)


def test_no_chromium_stops_after_html_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HWLIB_CHROMIUM", raising=False)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    monkeypatch.setattr(pdf, "_playwright_browser", lambda: None)
    html = tmp_path / "report.html"
    html.write_text("<html></html>")
    code = pdf.main(["--html", str(html), "--pdf", str(tmp_path / "report.pdf"), "--no-install"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1
    assert "no Chromium found" in err[0] and "apt-get install chromium" in err[0] and "make pdf" in err[0]
    assert not (tmp_path / "report.pdf").exists()


def test_obtain_tries_playwright_then_package_manager(monkeypatch):
    tried = []
    monkeypatch.setattr(pdf, "_try", lambda cmd, what: tried.append(what) or False)
    monkeypatch.setattr(pdf.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    assert pdf.obtain_chromium() is None
    assert tried == ["Playwright's browser download", "the system package manager"]


def test_missing_html_is_a_clear_error(tmp_path, capsys):
    assert pdf.main(["--html", str(tmp_path / "none.html"), "--pdf", str(tmp_path / "r.pdf")]) == 2
    assert "make html" in capsys.readouterr().err


@pytest.mark.slow
def test_pdf_has_bookmarks_from_the_headings_and_is_tagged(tmp_path):
    chromium = pdf.find_chromium()
    if chromium is None:
        pytest.skip("no Chromium here: install one (apt-get install chromium) to test the PDF")
    from pypdf import PdfReader

    long = "1-2c · What happens when the gradient is almost zero, and what the Hessian says there"
    html = tmp_path / "r.html"
    html.write_text('<html><head><style>a.anchor-link { display: none }</style></head><body>'
                    '<h1 id="a">1-1a · Simulate</h1><h2 id="a-c">Comment</h2><p>text</p>'
                    '<h1 id="b">1-1b · Train</h1><img alt="Figure 1." src="data:image/gif;base64,'
                    'R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=">'
                    f'<h1 style="width: 12em">{long}<a class="anchor-link" href="#c">¶</a></h1></body></html>')
    pdf.print_pdf(html, tmp_path / "r.pdf", chromium)
    data = (tmp_path / "r.pdf").read_bytes()
    assert b"/Outlines" in data and b"/StructTreeRoot" in data  # bookmarks; tags for screen readers

    def titles(items):
        return [t for i in items for t in (titles(i) if isinstance(i, list) else [i.title])]

    # a heading that wraps keeps the spaces at its line ends (Chromium's own title drops them)
    assert titles(PdfReader(tmp_path / "r.pdf").outline) == ["1-1a · Simulate", "Comment", "1-1b · Train", long]


def test_fix_outline_gives_bookmarks_their_headings_text_and_leaves_the_rest():
    """On a PDF whose bookmark lost its spaces, only that title changes; the PDF is updated incrementally."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(200, 200)
    writer.add_outline_item(title="HW1 — Deep vs Shallow, Optimization,Generalization", page_number=0)
    writer.add_outline_item(title="Comment", page_number=1)
    writer.add_outline_item(title="almostzero", page_number=1)
    buf = io.BytesIO()
    writer.write(buf)
    data = buf.getvalue()
    headings = ["HW1 — Deep vs Shallow, Optimization, Generalization", "Comment", "Map", "almost zero"]
    fixed = pdf.fix_outline(data, headings)
    assert fixed.startswith(data)  # the original bytes, then the update
    assert [o.title for o in PdfReader(io.BytesIO(fixed)).outline] == [headings[0], "Comment", "almost zero"]
    assert pdf.fix_outline(data, ["something else"]) == data
