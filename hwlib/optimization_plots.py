"""Figures of Part 2 (optimization), drawn from the results dicts of hwlib.tasks.t1_2a … t1_2d."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm
from matplotlib.colors import LogNorm

from .plots import figure, palette


def _arr(values) -> np.ndarray:
    """Results lists (None for NaN after JSON) as a float array."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ----------------------------------------------------------------------------- 1-2a

def pca_paths(R: dict, which: str, color_by: str = "loss"):
    """Snapshots of every run in one PCA plane: a line per run, points coloured by loss (or accuracy)."""
    P = R["pca"][which]
    fig, ax = figure(height=4.4)
    values = np.concatenate([_arr(r[color_by]) for r in R["runs"]])
    norm = LogNorm(vmin=np.nanmin(values), vmax=np.nanmax(values)) if color_by == "loss" else None
    cmap = "viridis_r" if color_by == "loss" else "viridis"
    markers = "osD^v<>Pp*hX"
    for i, run in enumerate(R["runs"]):
        xy = np.array(P["coords"][i])
        ax.plot(xy[:, 0], xy[:, 1], color="0.6", lw=0.8, zorder=1)
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=_arr(run[color_by]), cmap=cmap, norm=norm, s=22,
                        marker=markers[i % len(markers)], edgecolor="k", linewidth=0.3, zorder=2,
                        label=f"seed {run['seed']}")
        acc = _arr(run["acc"])[-1] if run.get("acc") else None  # the end point is labelled with its accuracy
        text = f"{run['seed']}" + (f": {acc:.0%}" if acc is not None and np.isfinite(acc) else "")
        ax.annotate(text, xy[-1], xytext=(3, 3), textcoords="offset points", fontsize=7)
        ax.scatter(*xy[0], s=40, facecolor="none", edgecolor="C3", linewidth=0.8, zorder=3)
    evr = P["explained_variance_ratio"]
    ax.set_xlabel(f"PC 1 ({evr[0]:.1%} of variance)")
    ax.set_ylabel(f"PC 2 ({evr[1]:.1%} of variance)")
    fig.colorbar(sc, ax=ax, label=("training loss" if color_by == "loss" else "training accuracy"))
    ax.legend(fontsize=7, ncol=2, loc="best", markerscale=0.8)
    return fig


# ----------------------------------------------------------------------------- 1-2b

def grad_norm_and_loss(R: dict):
    """Two aligned panels sharing the iteration axis: ‖∇L‖ on top, the loss below (log y)."""
    fig, axes = figure(nrows=2, ncols=1, height=5.2, sharex=True)
    colors = palette(len(R["runs"]))
    for run, c in zip(R["runs"], colors):
        it = np.arange(1, len(run["grad_norm"]) + 1)
        axes[0, 0].plot(it, run["grad_norm"], color=c, lw=0.6, alpha=0.85, label=f"seed {run['seed']}")
        axes[1, 0].plot(it, run["loss"], color=c, lw=0.6, alpha=0.85)
    axes[0, 0].set_ylabel("gradient norm ‖∇L‖")
    axes[1, 0].set_ylabel("training loss" + ("" if R.get("full_batch") else " (minibatch)"))
    axes[1, 0].set_xlabel("iteration")
    for ax in axes[:, 0]:
        ax.set_yscale("log")
    axes[0, 0].legend(fontsize=7, ncol=min(len(R["runs"]), 4))
    return fig


# ----------------------------------------------------------------------------- 1-2c

def phase2_traces(R: dict):
    """How the point is found: ‖∇L‖ per step of the ‖∇L‖² descent for a few runs, and the threshold."""
    fig, ax = figure(height=3.0)
    for i, tr in enumerate(R["phase2"]["trace"]):
        t = _arr(tr)
        ax.plot(np.arange(1, len(t) + 1), t, lw=0.9, marker="." if np.isfinite(t).sum() < 3 else None,
                label=f"seed {R['seeds'][i]}")
    ax.axhline(R["params"]["grad_threshold"], color="k", ls="--", lw=0.8, label="threshold")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("step of the ‖∇L‖² descent")
    ax.set_ylabel("‖∇L‖")
    ax.legend(fontsize=7, ncol=3)
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
        ax.scatter(loss[reached], r[reached], s=16, alpha=0.8, label=f"‖∇L‖ < threshold ({reached.sum()})")
        if (~reached).any():
            ax.scatter(loss[~reached], r[~reached], s=28, marker="x", color="C3",
                       label=f"missed the threshold ({(~reached).sum()})")
        ax.set_xscale("log")
        ax.set_xlabel("training loss (MSE)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel(f"minimal ratio (λ > {tol:g})")
    return fig


def spectra(R: dict, picks: list[int]):
    """Sorted Hessian eigenvalues of a few runs (symmetric log scale: zeros and both signs visible)."""
    fig, ax = figure(height=3.4)
    tol = R["params"]["tol"]
    loss = _arr(R["phase2"]["loss"])
    for i in picks:
        lam = _arr(R["eigenvalues"][i])
        ax.plot(np.arange(1, len(lam) + 1), lam, marker=".", ms=3, lw=0.8,
                label=f"seed {R['seeds'][i]} (loss {loss[i]:.2g})")
    ax.set_yscale("symlog", linthresh=tol)
    ax.axhspan(-tol, tol, color="0.85", zorder=0, label=f"|λ| ≤ {tol:g}")
    ax.set_xlabel("eigenvalue index (ascending)")
    ax.set_ylabel("eigenvalue λ")
    ax.legend(fontsize=7)
    return fig


# ----------------------------------------------------------------------------- 1-2d

def surface(R: dict, key: str, path: bool = False):
    """Contour map (left) and 3-D view (right) of the loss on a plane; optionally the trajectory."""
    S = R[key]
    a, b = np.array(S["alphas"]), np.array(S["betas"])
    z = np.log10(np.array(S["loss"]))
    A, B = np.meshgrid(a, b, indexing="ij")
    fig = plt.figure(figsize=(6.8, 3.3), constrained_layout=True)
    ax = fig.add_subplot(1, 2, 1)
    cs = ax.contourf(A, B, z, levels=25, cmap="viridis")
    ax.contour(A, B, z, levels=12, colors="k", linewidths=0.3)
    fig.colorbar(cs, ax=ax, label="log₁₀ training loss")
    if path:
        xy = np.array(S["path"])
        ax.plot(xy[:, 0], xy[:, 1], color="w", lw=1.2, marker=".", ms=4)
        ax.scatter(*xy[0], color="C3", zorder=3, s=30, label="start")
        ax.scatter(*xy[-1], color="C1", marker="*", zorder=3, s=60, label="end")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel(S["xlabel"])
    ax.set_ylabel(S["ylabel"])
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    ax3.plot_surface(A, B, z, cmap=cm.viridis, linewidth=0, antialiased=True, alpha=0.95)
    ax3.set_xlabel(S["xlabel"], fontsize=7)
    ax3.set_ylabel(S["ylabel"], fontsize=7)
    ax3.set_zlabel("log₁₀ loss", fontsize=7)
    ax3.tick_params(labelsize=6)
    ax3.view_init(elev=35, azim=-60)
    return fig
