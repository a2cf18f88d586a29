"""Where things landed in a printed PDF, read with pypdf: each page's text lines and images with their
heights on the page, the bookmarks and the internal links with the page and height they point at.

Heights are PDF points from the page's bottom edge. The printable area is the page less the margins
hwlib/pipeline/pdf.py prints with; the footer ("page n of m") lies in the bottom margin and is left out.

  python -m support.pdf_layout report/report.pdf     # each page's fill, and what is amiss
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

MM = 72 / 25.4
# the ligatures Chromium's fonts set ("ﬁnal"), read back as their letters
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl"})
TOP_MARGIN, BOTTOM_MARGIN = 14 * MM, 16 * MM  # as hwlib/pipeline/pdf.py prints


@dataclass
class Item:
    kind: str  # "text" or "image"
    top: float
    bottom: float
    text: str = ""


@dataclass
class Page:
    height: float
    items: list[Item] = field(default_factory=list)

    @property
    def area(self) -> tuple[float, float]:
        """(top, bottom) of the printable area."""
        return self.height - TOP_MARGIN, BOTTOM_MARGIN

    @property
    def body(self) -> list[Item]:
        return [i for i in self.items if i.top > BOTTOM_MARGIN - 1]

    @property
    def fill(self) -> float:
        """How far down the printable area the page's content reaches: 0 empty, 1 to the bottom margin."""
        top, bottom = self.area
        lowest = min((i.bottom for i in self.body), default=top)
        return max(0.0, min(1.0, (top - lowest) / (top - bottom)))

    @property
    def free(self) -> float:
        """Points left free below the page's content."""
        return min((i.bottom for i in self.body), default=self.area[0]) - self.area[1]

    def first(self) -> Item | None:
        return max(self.body, key=lambda i: i.top, default=None)

    def text(self) -> str:
        return " ".join(i.text for i in sorted(self.body, key=lambda i: -i.top) if i.kind == "text")


def pages(path: Path) -> list[Page]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    found = []
    for pdf_page in reader.pages:
        page = Page(float(pdf_page.mediabox.height))

        def on_text(text, cm, tm, font, size, page=page):
            if not text.strip():
                return
            # the text's baseline on the page: the text matrix placed by the current transformation
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = abs(cm[3] * tm[3]) or 1.0
            height = (size or 10) * scale
            page.items.append(Item("text", y + 0.8 * height, y - 0.2 * height, text.strip().translate(LIGATURES)))

        def on_operator(op, args, cm, tm, page=page):
            if op == b"Do":  # an image (or form) drawn into the unit square the matrix maps
                ys = (cm[5], cm[5] + cm[3], cm[5] + cm[1], cm[5] + cm[1] + cm[3])
                if abs(cm[0] * cm[3] - cm[1] * cm[2]) > 100:  # more than a speck: a figure
                    page.items.append(Item("image", max(ys), min(ys)))

        pdf_page.extract_text(visitor_text=on_text, visitor_operand_before=on_operator)
        found.append(page)
    return found


def outline(path: Path) -> list[tuple[str, int, float]]:
    """(title, page index, height) of every bookmark, in order."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item), float(item.top or 0)))

    walk(reader.outline)
    return out


def links(path: Path) -> list[tuple[int, str, int, float]]:
    """(page index of the link, the id it points to, page index and height of where it lands)."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    named = reader.named_destinations
    index = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    out = []
    for i, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if annot.get("/Subtype") != "/Link" or dest is None or not isinstance(dest, str):
                continue
            target = named.get(dest) or named.get(dest.lstrip("/"))
            if target is None:
                out.append((i, dest.lstrip("/"), -1, 0.0))
                continue
            out.append((i, dest.lstrip("/"), index[target.page.idnum], float(target.top or 0)))
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    found = pages(path)
    for n, page in enumerate(found, 1):
        first = page.first()
        print(f"page {n:2}: fill {page.fill:.2f}, free {page.free:5.0f} pt; "
              f"first: {first.kind if first else '-'} {first.text[:50] if first else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
