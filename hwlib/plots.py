"""One look for every figure, sized for the PDF page, shown as PNG with a numbered caption.

Figures are rendered to PNG here (not by the notebook's inline backend) so the size and
resolution in the report do not depend on the backend's settings: 6.8 in wide fills the
printable width of an A4 page, and at 300 dpi (2,040 pixels) a figure stays sharp on a
high-density screen, where the HTML report shows it up to about 900 CSS pixels wide (two
device pixels to each), and when it is opened at full size.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # headless: figures are rendered to PNG explicitly, never to a window

import numpy as np  # noqa: E402
from matplotlib.colors import colorConverter, to_rgb  # noqa: E402

from .figure_size import DPI, WIDTH  # noqa: E402

# The report's theme is seaborn's set_theme(context="paper", style="whitegrid", palette="colorblind",
# font_scale=1.1), written out here: importing seaborn (with pandas and scipy.stats) took 2 s of every
# notebook's start, and none of its plotting is used. tests/test_plots.py checks these against
# seaborn's own values, bit for bit, so the figures do not change.
# seaborn's "colorblind" palette, in its order: the colour cycle and palette(n)
COLORBLIND = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494", "#ECE133",
              "#56B4E9")
# matplotlib's one-letter colours as that theme redefines them ("colorblind6", and "k" a near-black):
# the figures' "k" edges and contours are this dark grey
COLOR_CODES = dict(zip("bgrmyck", ("#0173B2", "#029E73", "#D55E00", "#CC78BC", "#ECE133", "#56B4E9", (.1, .1, .1))))
# the "paper" context: seaborn's "notebook" sizes × 0.8, the font sizes then × 1.1, in seaborn's order of
# operations (the same floats to the last bit)
_FONT_SIZES = {"font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11,
               "ytick.labelsize": 11, "legend.fontsize": 11, "legend.title_fontsize": 12}
_SIZES = {"axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6,
          "patch.linewidth": 1, "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.width": 1,
          "ytick.minor.width": 1, "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4,
          "ytick.minor.size": 4, **_FONT_SIZES}
_CONTEXT = {k: v * 0.8 for k, v in _SIZES.items()}
_CONTEXT.update({k: _CONTEXT[k] * 1.1 for k in _FONT_SIZES})
# the "whitegrid" style with a sans-serif font, as seaborn.axes_style writes it, but for its default
# colour map ("rocket", which only importing seaborn registers): every figure here names its map
_STYLE = {"figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
          "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-",
          "text.color": ".15", "font.family": "sans-serif",
          "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
          "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
          "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8",
          "grid.color": ".8", "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
          "axes.spines.top": True, "xtick.bottom": False, "ytick.left": False}


def setup() -> None:
    """The report's one theme."""
    from cycler import cycler

    matplotlib.rcParams.update(_CONTEXT)
    matplotlib.rcParams.update(_STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = cycler("color", palette(len(COLORBLIND)))
    for code, colour in COLOR_CODES.items():
        colorConverter.colors[code] = to_rgb(colour)
    matplotlib.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold",
                                "legend.frameon": True, "legend.framealpha": 0.85})


def figure(ncols: int = 1, nrows: int = 1, height: float | None = None, **kw):
    """A figure the width of the page; the height follows the number of rows unless given."""
    import matplotlib.pyplot as plt  # here, not above: pyplot loads only where a figure is drawn

    setup()
    height = height or (3.0 * nrows if ncols > 1 or nrows > 1 else 3.4)
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height), squeeze=False if (ncols > 1 or nrows > 1) else True,
                        constrained_layout=True, **kw)


def png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return indexed(buf.getvalue())


def indexed(data: bytes) -> bytes:
    """The PNG with a palette of at most 256 colours instead of 8-bit RGBA: a plot's flat colours, colour
    maps and anti-aliased edges fit in it, and the file shrinks to about a third, so a figure at 300 dpi
    costs less than one at 150 dpi did. The fast octree palette: on 1-3e's figure a pixel moves by 1.1 of
    255 on average (at most 14), in 0.07 s; median cut with an optimized file moved it by 0.01 but took
    0.45 s, which over a report's figures was seconds of every build (one thread, side by side)."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG")
    return out.getvalue()


def show(fig, number: str, caption: str) -> None:
    """Display ``fig`` and its caption "Figure <number> — caption" in the notebook output."""
    from IPython.display import Image, Markdown, display

    display(Image(png(fig)))
    display(Markdown(f'<p class="caption"><b>Figure {number}.</b> {caption}</p>'))


def palette(n: int) -> list[tuple[float, float, float]]:
    """n colours of the report's palette as RGB, repeating after its 10 (as seaborn.color_palette does)."""
    return [to_rgb(COLORBLIND[i % len(COLORBLIND)]) for i in range(n)]


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


def whole_number_ticks(axis) -> None:
    """Ticks at whole numbers only, for a count such as epochs: over a few epochs matplotlib's own ticks
    fall at 1.2, 1.4, …, epochs that do not exist."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def log_ticks_at(ax, values) -> None:
    """A log x axis ticked at exactly ``values`` (e.g. the batch sizes run), written plainly: matplotlib's
    own minor labels (2×10¹, 3×10¹, …) run into each other when the values span less than two decades."""
    from matplotlib.ticker import NullLocator

    values = sorted(set(values))
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(values, labels=[f"{v:g}" for v in values])
