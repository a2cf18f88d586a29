"""hwlib.plots: the report's theme, written out without seaborn, is seaborn's theme to the last bit."""

import subprocess
import sys

import matplotlib
import pytest
from matplotlib.colors import colorConverter

from hwlib import plots

CODES = "bgrmyckw"


def _theme() -> tuple[dict, dict]:
    return dict(matplotlib.rcParams), {c: tuple(colorConverter.to_rgb(c)) for c in CODES}


def test_theme_is_seaborns_set_theme():
    sns = pytest.importorskip("seaborn")
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
        matplotlib.rcParams.update({"figure.dpi": plots.DPI, "savefig.dpi": plots.DPI, "axes.titleweight": "bold",
                                    "legend.frameon": True, "legend.framealpha": 0.85})
        theirs, their_codes = _theme()
        matplotlib.rcdefaults()
        sns.set_color_codes("reset")
        plots.setup()
        ours, our_codes = _theme()
    # seaborn's default colour map is its own "rocket", registered by importing seaborn; every figure of the
    # report names its map, so plots leaves matplotlib's default in place
    assert theirs.pop("image.cmap") == "rocket"
    ours.pop("image.cmap")
    assert {k: v for k, v in ours.items() if theirs[k] != v} == {}
    assert ours == theirs  # == on floats: bit for bit
    assert our_codes == their_codes and our_codes["k"] == (0.1, 0.1, 0.1)


def test_palette_is_seaborns_colorblind_palette():
    sns = pytest.importorskip("seaborn")
    for n in (1, 2, 3, 10, 13):
        assert plots.palette(n) == [tuple(c) for c in sns.color_palette("colorblind", n)]


def test_plots_loads_neither_seaborn_nor_pyplot_until_a_figure_is_drawn():
    code = ("import sys, hwlib.plots as p; print(sorted(m for m in ('seaborn', 'pandas', 'scipy', 'matplotlib.pyplot') "
            "if m in sys.modules)); p.figure(); print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.split() == ["[]", "True"]


def test_figures_are_palette_pngs_at_twice_a_screens_resolution_and_look_the_same():
    """A figure is drawn at 300 dpi (sharp where a high-density screen shows it) and stored with a palette of
    256 colours, which keeps every pixel within a few levels of the full-colour drawing."""
    import io

    import numpy as np
    from PIL import Image

    fig, ax = plots.figure()
    x = np.linspace(0, 1, 200)
    for i in range(6):
        ax.plot(x, np.sin(6 * x + i), label=f"run {i}")
    ax.imshow(np.outer(x, x), extent=(0, 1, -1, 1), cmap="viridis", aspect="auto", alpha=0.5)
    ax.legend()
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=plots.DPI, bbox_inches="tight")
    data = plots.png(fig)
    with Image.open(io.BytesIO(data)) as ours, Image.open(full) as theirs:
        assert ours.mode == "P" and ours.size == theirs.size
        assert abs(ours.size[0] - plots.WIDTH * plots.DPI) < 0.05 * plots.WIDTH * plots.DPI and plots.DPI >= 300
        diff = np.abs(np.asarray(ours.convert("RGB"), int) - np.asarray(theirs.convert("RGB"), int)).max(axis=2)
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 16  # of 255 levels
    assert len(data) < 0.6 * len(full.getvalue())
