"""One look for every figure, sized for the PDF page, shown as PNG with a numbered caption.

Figures are rendered to PNG here (not by the notebook's inline backend) so the size and
resolution in the report do not depend on the backend's settings: 6.8 in wide at 150 dpi
fills the printable width of an A4 page sharply.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # headless: figures are rendered to PNG explicitly, never to a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import seaborn as sns  # noqa: E402

WIDTH = 6.8  # inches: the printable width of A4 with the report's margins
DPI = 150


def setup() -> None:
    """The report's one theme."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold",
                         "legend.frameon": True, "legend.framealpha": 0.85})


def figure(ncols: int = 1, nrows: int = 1, height: float | None = None, **kw):
    """A figure the width of the page; the height follows the number of rows unless given."""
    setup()
    height = height or (3.0 * nrows if ncols > 1 or nrows > 1 else 3.4)
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height), squeeze=False if (ncols > 1 or nrows > 1) else True,
                        constrained_layout=True, **kw)


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def show(fig, number: str, caption: str) -> None:
    """Display ``fig`` and its caption "Figure <number> — caption" in the notebook output."""
    from IPython.display import Image, Markdown, display

    display(Image(png(fig)))
    display(Markdown(f'<p class="caption"><b>Figure {number}.</b> {caption}</p>'))


def palette(n: int):
    return sns.color_palette("colorblind", n)


# Line styles to pair with colours: runs are told apart by colour AND style, since several colours of
# one palette are too alike to read on paper.
LINESTYLES = ("-", "--", ":", "-.")


def _arr(values) -> np.ndarray:
    """A results list (None where JSON could not hold a NaN) as a float array with NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def means_by(rows: list[dict], x: str, y: str) -> tuple[list, list[float], list[tuple]]:
    """Per value of ``x`` in increasing order: the mean of ``y`` over the rows (e.g. over seeds), and
    every (x, y) point, for a line of means over the dots of the single runs."""
    groups: dict = {}
    for r in sorted(rows, key=lambda r: r[x]):
        groups.setdefault(r[x], []).append(r[y])
    return list(groups), [float(np.mean(v)) for v in groups.values()], [(r[x], r[y]) for r in rows]


def legend_below(fig, axes, **kw) -> None:
    """One legend below the panels for the labelled lines of every axis in ``axes`` (twin axes
    too), each label once: where curves span a panel's whole width and height, no corner inside
    it is free of data. ``kw`` goes to ``fig.legend`` (ncols, fontsize)."""
    handles, labels = [], []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", **kw)


def log_ticks_at(ax, values) -> None:
    """A log x axis ticked at exactly ``values`` (e.g. the batch sizes run), written plainly: matplotlib's
    own minor labels (2×10¹, 3×10¹, …) run into each other when the values span less than two decades."""
    from matplotlib.ticker import NullLocator

    values = sorted(set(values))
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(values, labels=[f"{v:g}" for v in values])
