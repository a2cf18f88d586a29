"""Markdown tables for settings and results (rendered by nbconvert in the HTML and PDF).

Cells are written for a reader, not a Python prompt: yes/no for booleans, "1 × 8 × 8" for a shape
(a tuple), "a, b" for a list, "—" for nothing.
"""

from __future__ import annotations


def shape(dims) -> str:
    """(1, 8, 8) -> '1 × 8 × 8'; (1,) -> '1'."""
    return " × ".join(str(d) for d in dims)


def _cell(value) -> str:
    if isinstance(value, bool):  # before numbers: True is an int too
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return shape(value)
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if value is None:
        return "—"
    return str(value).replace("|", "\\|")


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """One row per dict; columns default to the keys of the first row, in order."""
    if not rows:
        return ""
    columns = columns or list(rows[0])
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


SIDE_BY_SIDE = 7  # settings from which the table is set in two halves side by side: a dozen short rows
# in one narrow column left most of the page's width empty and cost the PDF about a page in all


def settings_table(settings: dict) -> str:
    """A table of a notebook's resolved settings, read down the left half, then the right one.

    Settings that ``params.resolve`` marked hidden (internal knobs, or a knob at its "off" value,
    e.g. train_limit 0) are left out: they do not change what the section shows, and the results
    file keeps every one of them.
    """
    hidden = getattr(settings, "hidden", frozenset())
    items = [(k, v) for k, v in settings.items() if k not in hidden]
    if len(items) < SIDE_BY_SIDE:
        return markdown_table([{"setting": k, "value": v} for k, v in items])
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:] + [("", "")] * (2 * half - len(items))
    lines = ["| setting | value | setting | value |", "|---|---|---|---|"]
    lines += [f"| {_cell(a)} | {_cell(x)} | {_cell(b)} | {_cell(y)} |" for (a, x), (b, y) in zip(left, right)]
    return "\n".join(lines)
