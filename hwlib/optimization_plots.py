"""Figures of Part 2 (optimization), drawn from the results dicts of hwlib.tasks.t1_2a … t1_2d.

Legends go below the axes (fig.legend "outside"): the paths, traces and scatters fill their
panels, so no corner is reliably free. Runs are told apart by colour AND marker or line style,
since eight colours of one palette are too alike to read on paper.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .plots import figure, palette, setup

LINESTYLES = ("-", "--", ":", "-.")


def _arr(values) -> np.ndarray:
    """Results lists (None for NaN after JSON) as a float array."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ----------------------------------------------------------------------------- 1-2c

def phase2_traces(R: dict):
    """How the point is found: ‖∇L‖ per step of the ‖∇L‖² descent for a few runs, and the threshold."""
    fig, ax = figure(height=3.4)
    colors = plt.get_cmap("tab10").colors  # ten clearly different hues, and a line style on top
    for i, tr in enumerate(R["phase2"]["trace"]):
        t = _arr(tr)
        ax.plot(np.arange(1, len(t) + 1), t, lw=1.0, color=colors[i % len(colors)], ls=LINESTYLES[i % len(LINESTYLES)],
                marker="." if np.isfinite(t).sum() < 3 else None, label=f"seed {R['seeds'][i]}")
    ax.axhline(R["params"]["grad_threshold"], color="k", ls=(0, (6, 3)), lw=1.2, label="threshold")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("step of the ‖∇L‖² descent")
    ax.set_ylabel("‖∇L‖")
    fig.legend(loc="outside lower center", ncols=5, fontsize="x-small")
    return fig


def ratio_vs_loss(R: dict):
    """Minimal ratio against the training loss, over all eigenvalues and over the non-negligible ones."""
    fig, axes = figure(ncols=2, height=3.3, sharey=True)
    loss = _arr(R["phase2"]["loss"])
    reached = np.array(R["phase2"]["reached"], dtype=bool)
    tol = R["params"]["tol"]
    for ax, key, title in ((axes[0, 0], "ratio_all", "over all eigenvalues"),
                           (axes[0, 1], "ratio_nonzero", f"over |λ| > {tol:g}")):
        r = _arr(R[key])
        ax.scatter(loss[reached], r[reached], s=16, alpha=0.7, label=f"reached ‖∇L‖ < threshold ({reached.sum()} runs)")
        if (~reached).any():
            ax.scatter(loss[~reached], r[~reached], s=28, marker="x", color="C3",
                       label=f"missed it: lowest ‖∇L‖ kept ({(~reached).sum()} runs)")
        ax.set_xscale("log")
        ax.set_xlabel("training loss (MSE)")
        ax.set_title(title, fontsize=10)
    axes[0, 0].set_ylabel(f"minimal ratio (λ > {tol:g})")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="x-small")
    return fig


def spectra(R: dict, picks: list[int]):
    """Sorted Hessian eigenvalues of a few runs (symmetric log scale: zeros and both signs visible)."""
    fig, ax = figure(height=3.4)
    tol = R["params"]["tol"]
    loss = _arr(R["phase2"]["loss"])
    for j, i in enumerate(picks):
        lam = _arr(R["eigenvalues"][i])
        ax.plot(np.arange(1, len(lam) + 1), lam, marker="o^sD"[j % 4], ms=2.5, lw=0.8, ls=LINESTYLES[j % len(LINESTYLES)],
                label=f"seed {R['seeds'][i]} (loss {loss[i]:.2g})")
    ax.set_yscale("symlog", linthresh=tol)
    ax.axhspan(-tol, tol, color="0.85", zorder=0, label=f"|λ| ≤ {tol:g}")
    ax.set_xlabel("eigenvalue index (ascending)")
    ax.set_ylabel("eigenvalue λ")
    fig.legend(loc="outside lower center", ncols=len(picks) + 1, fontsize="x-small")
    return fig
