"""Markdown tables for settings and results (rendered by nbconvert in the HTML and PDF)."""

from __future__ import annotations


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
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


def settings_table(settings: dict) -> str:
    """A two-column table of a notebook's resolved settings."""
    return markdown_table([{"setting": k, "value": v} for k, v in settings.items()])
