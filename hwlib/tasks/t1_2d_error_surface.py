"""1-2d Bonus: what does the error surface look like around a trained minimum, and along the path
that led there?

One MLP is trained with a snapshot of its parameters after every epoch. Plane 1 goes through the
final parameters θ* along two filter-normalized random directions (Li et al., 2018); plane 2 is
spanned by the first two principal components of the trajectory θ_t − θ*, and the trajectory is
projected on it. On each plane the training loss is evaluated on a grid, all grid points of a
chunk in one vmapped call. The answer reads where θ* lies on each grid, how fast the loss rises
on circles around it, and whether the trajectory's plane holds lower loss than the end point.
"""

from __future__ import annotations

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import cm
from matplotlib.ticker import MaxNLocator

from .. import ensemble, landscape, models, train, wording
from ..device import cpu_threads
from ..params import Param, ParamError, same
from ..plots import WIDTH, setup
from ..results import envelope
from ..tables import markdown_table
from . import common

NAME, SECTION = "1_2d_error_surface", "1-2d"

SPEC = {
    "dataset": common.DATASET,
    "data_root": common.DATA_ROOT,
    "train_limit": Param("int", smoke=256, quick=0, full=0, low=0, off=0, doc="keep the first n training images (0 = all)"),
    "surface_points": Param("int", smoke=256, quick=0, full=10000, low=0, off=0,
                            doc="training images the surface loss is averaged over (0 = all)"),
    "widths": Param("int_list", smoke=[16], quick=[32, 32], full=[64, 64], positive=True,
                    doc="hidden widths of the ReLU MLP"),
    "epochs": Param("int", smoke=4, quick=30, full=20, positive=True, doc="training epochs (one snapshot per epoch)"),
    "batch_size": same("int", 64, positive=True, doc="minibatch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate"),
    "seed": same("int", 0, low=0, doc="initialization, data order and the random directions"),
    "grid": Param("int", smoke=9, quick=31, full=41, low=3, doc="grid points per axis (odd: θ* is a grid point)"),
    "span": same("float", 1.0, positive=True, doc="random plane: α, β ∈ [-span, span] (1 moves a filter by its norm)"),
    "grid_chunk": Param("int", smoke=32, quick=64, full=128, positive=True, internal=True,
                        doc="grid points per vectorized evaluation"),
}


def checks(P) -> None:
    if P.grid % 2 == 0:  # the random plane's centre (θ*, α = β = 0) must be a grid point
        raise ParamError(f"grid={P.grid} is even: use an odd number (e.g. {P.grid + 1}) so θ* is a grid point")


def _ring(grid: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float, width: float) -> float | None:
    """Mean loss over the grid points at distance radius ± width from the centre."""
    r = np.hypot(*np.meshgrid(a, b, indexing="ij"))
    mask = np.abs(r - radius) <= width
    return float(grid[mask].mean()) if mask.any() else None


def run(P) -> dict:
    start = time.perf_counter()
    ds = common.load_data(P)
    make = lambda: models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes)
    ens = ensemble.build(make, [P.seed], P.device)
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                              snapshot_every=1, eval_every=P.epochs, label="training")
    path = torch.stack([s[0] for s in hist.snapshots]).to(P.device)  # (epochs + 1, P)
    center = ens.theta[0].detach()
    n = P.surface_points or len(ds.x_train)
    loss = ens.loss_of_theta(ds.x_train[:n], ds.y_train[:n], ds.kind)
    timings = {"train": hist.seconds}

    # Plane 1: filter-normalized random directions through θ*.
    t = time.perf_counter()
    d1 = landscape.filter_normalized_direction(center, ens.spec, seed=2 * P.seed + 1)
    d2 = landscape.filter_normalized_direction(center, ens.spec, seed=2 * P.seed + 2)
    axis = np.linspace(-P.span, P.span, P.grid)
    random_grid = landscape.grid_losses(loss, center, d1, d2, axis, axis, chunk=P.grid_chunk).cpu().numpy()
    cos = float(d1 @ d2 / (d1.norm() * d2.norm()))
    timings["random_plane"] = time.perf_counter() - t

    # Plane 2: the PCA plane of the trajectory, the trajectory drawn on it.
    t = time.perf_counter()
    plane = landscape.pca_plane(path, center)
    xy = plane["coords"].cpu().numpy()
    a = np.linspace(*landscape.axis_range(xy[:, 0]), P.grid)
    b = np.linspace(*landscape.axis_range(xy[:, 1]), P.grid)
    pca_grid = landscape.grid_losses(loss, center, plane["d1"], plane["d2"], a, b, chunk=P.grid_chunk).cpu().numpy()
    # how far the 2-D picture is from the real path: distance of each snapshot from the plane
    residual = (path - center) - plane["coords"] @ torch.stack([plane["d1"], plane["d2"]])
    off_plane = float(residual.norm(dim=1).max() / (path[0] - center).norm().clamp_min(1e-12))
    timings["pca_plane"] = time.perf_counter() - t

    c = P.grid // 2
    i, j = np.unravel_index(np.argmin(random_grid), random_grid.shape)
    pi, pj = np.unravel_index(np.argmin(pca_grid), pca_grid.shape)
    path_loss = [float(loss(p)) for p in path]
    info = models.describe(ens.model)
    return envelope(
        P, NAME, SECTION, time.perf_counter() - start,
        dataset=ds.describe(), model=info, n_params=info["params"], surface_points=n, timings=timings,
        final={"train_loss": hist.snapshot_loss[-1][0], "train_acc": hist.snapshot_acc[-1][0],
               "test_loss": hist.test_loss[-1][0], "test_acc": hist.test_acc[-1][0]},
        random_plane={"alphas": axis, "betas": axis, "loss": random_grid, "cosine_d1_d2": cos,
                      "xlabel": "α (random direction 1)", "ylabel": "β (random direction 2)",
                      "center_loss": float(random_grid[c, c]), "min_loss": float(random_grid.min()),
                      "argmin": [float(axis[i]), float(axis[j])],
                      "ring_half": _ring(random_grid, axis, axis, 0.5 * P.span, P.span / P.grid),
                      "ring_full": _ring(random_grid, axis, axis, P.span, P.span / P.grid),
                      "max_loss": float(random_grid.max())},
        pca_plane={"alphas": a, "betas": b, "loss": pca_grid, "path": xy, "path_loss": path_loss,
                   "explained_variance_ratio": plane["explained_variance_ratio"],
                   "xlabel": "PC 1 of the trajectory", "ylabel": "PC 2 of the trajectory",
                   # largest distance of a snapshot from the plane, relative to ‖θ₀ − θ*‖
                   "max_off_plane": off_plane,
                   "min_loss": float(pca_grid.min()), "argmin": [float(a[pi]), float(b[pj])],
                   # is the plane's lowest point ahead of the end point, along the last step's direction?
                   "min_ahead": bool(np.dot([a[pi] - xy[-1, 0], b[pj] - xy[-1, 1]], xy[-1] - xy[-2]) > 0)
                   if len(xy) > 1 else False, "path_start_loss": path_loss[0], "path_end_loss": path_loss[-1]},
    )


# ------------------------------------------------------------------ table and figures

def table(R: dict) -> str:
    """The model and the data in a sentence, then the trained model's loss and accuracy."""
    m, F, P = R["model"], R["final"], R["params"]
    seconds = R["timings"]["random_plane"] + R["timings"]["pca_plane"]
    head = (f"Model: {m['structure']} with ReLU, **{R['n_params']:,} parameters**; data: {R['dataset']}. "
            f"Surfaces: {P['grid']} × {P['grid']} grids, the loss over {R['surface_points']:,} training images; "
            f"{seconds:.1f} s for both.")
    rows = [{f"after {wording.plural(P['epochs'], 'epoch')}": "training set", "loss": F["train_loss"],
             "accuracy": wording.pct(F["train_acc"])},
            {f"after {wording.plural(P['epochs'], 'epoch')}": "test set", "loss": F["test_loss"],
             "accuracy": wording.pct(F["test_acc"])}]
    return head + "\n\n" + markdown_table(rows)


def figures(R: dict) -> list:
    """The random plane around θ*, then the trajectory's PCA plane with the path."""
    P, evr = R["params"], R["pca_plane"]["explained_variance_ratio"]
    return [
        (_surface(R["random_plane"]),
         ("Training loss (log₁₀) on the plane through the final parameters along two filter-normalized random "
          f"directions, α and β from −{P['span']:g} to {P['span']:g}; contour map (left) and 3-D view (right).")),
        (_surface(R["pca_plane"], path=True),
         ("Training loss (log₁₀) on the plane of the first two principal components of the trajectory "
          f"({wording.pct(evr[0])} and {wording.pct(evr[1])} of its variance), with the "
          f"{wording.plural(len(R['pca_plane']['path']), 'snapshot')} (the initialization and one per epoch, white "
          "line) projected on it; contour map (left) and 3-D view (right).")),
    ]


# the 3-D view's axis names: the full ones are on the contour map beside it
SHORT = {"α (random direction 1)": "α", "β (random direction 2)": "β",
         "PC 1 of the trajectory": "PC 1", "PC 2 of the trajectory": "PC 2"}


def _surface(S: dict, path: bool = False):
    """Contour map (left) and 3-D view (right) of the loss on a plane; optionally the trajectory.

    The 3-D view keeps four ticks per axis with padded labels and short axis names, so its tick
    labels do not run into each other. The path's legend goes below the axes: the path crosses
    the map, so no corner is reliably free.
    """
    a, b = np.array(S["alphas"]), np.array(S["betas"])
    z = np.log10(np.array(S["loss"]))
    A, B = np.meshgrid(a, b, indexing="ij")
    setup()
    fig = plt.figure(figsize=(WIDTH, 3.6), constrained_layout=True)
    ax = fig.add_subplot(1, 2, 1)
    cs = ax.contourf(A, B, z, levels=25, cmap="viridis")
    ax.contour(A, B, z, levels=12, colors="k", linewidths=0.3)
    fig.colorbar(cs, ax=ax, label="log₁₀ training loss")
    if path:
        xy = np.array(S["path"])
        ax.plot(xy[:, 0], xy[:, 1], color="w", lw=1.2, marker=".", ms=4, label="path (one point per epoch)")
        ax.scatter(*xy[0], color="C3", zorder=3, s=30, label="start")
        ax.scatter(*xy[-1], color="C1", marker="*", zorder=3, s=60, label="end")
        fig.legend(loc="outside lower center", ncols=3, fontsize="x-small", facecolor="0.75")
    ax.set_xlabel(S["xlabel"])
    ax.set_ylabel(S["ylabel"])
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    ax3.plot_surface(A, B, z, cmap=cm.viridis, linewidth=0, antialiased=True, alpha=0.95)
    ax3.set_xlabel(SHORT.get(S["xlabel"], S["xlabel"]), fontsize=8, labelpad=2)
    ax3.set_ylabel(SHORT.get(S["ylabel"], S["ylabel"]), fontsize=8, labelpad=2)
    ax3.set_zlabel("log₁₀ loss", fontsize=8, labelpad=4)
    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax3.tick_params(labelsize=7, pad=1)
    ax3.view_init(elev=30, azim=-50)
    return fig


# ------------------------------------------------------------------ comment
# The first principal component alone "makes the path nearly one-dimensional" above this share (as printed).
ONE_DIMENSIONAL = 0.8
# A grid point is "lower" than θ* (or than the end point) when its loss is below this fraction of it
# (a few per cent lower is within the grid's resolution and the end point's own noise).
LOWER = 0.9
MARGIN = wording.pct(1 - LOWER, 0)


def _random_plane(R: dict) -> str:
    """Where θ* lies on the random plane's grid, and how the loss rises on circles around it."""
    RP, c = R["random_plane"], R["random_plane"]["center_loss"]
    where = f"(α, β) = ({RP['argmin'][0]:.2g}, {RP['argmin'][1]:.2g})"
    text = f"- **Random plane.** The loss at θ* is {c:.3g}; "
    if RP["min_loss"] >= c:
        text += "no point of the grid is lower. "
    elif RP["min_loss"] >= LOWER * c:
        text += (f"the grid's lowest value, {RP['min_loss']:.3g} at {where}, is within {MARGIN} of it, as fine "
                 "as this grid resolves. ")
    else:
        text += (f"the grid's lowest value, {RP['min_loss']:.3g} at {where}, is more than {MARGIN} below it: θ* "
                 "is not the lowest point of this plane. ")
    return text + _rings(R, lowest=RP["min_loss"] >= LOWER * c)


def _rings(R: dict, lowest: bool) -> str:
    """Mean loss on the circles of radius span/2 and span, against θ*'s and against the initial loss."""
    RP, span, start = R["random_plane"], R["params"]["span"], R["pca_plane"]["path_start_loss"]
    c, half, full = RP["center_loss"], RP["ring_half"], RP["ring_full"]
    if half is None or full is None:
        return "The grid is too coarse to average the loss over circles around θ*."
    times = lambda v: f" ({v / c:.3g} times θ*'s)" if c > 0 else ""
    above = lambda v: v > c and (c == 0 or float(f"{v / c:.3g}") > 1)  # as the ratio prints
    text = (f"Averaged over the circle of radius {0.5 * span:g} the loss is {half:.3g}{times(half)}, at radius "
            f"{span:g} {full:.3g}{times(full)}")
    if lowest and above(half) and above(full):
        text += "; both are above θ*'s, so along these directions θ* sits at the bottom of a basin"
    if start <= c:
        return text + "; training did not lower the loss from its initial value, so there is no decrease to compare with."
    if not above(half):
        return text + (f". On the circle of radius {0.5 * span:g} the loss is not above θ*'s, so such a move undoes "
                       "none of the decrease training achieved.")
    return text + (f". Moving every filter by about {0.5 * span:g} times its own norm in a random direction of this "
                   f"plane undoes {wording.pct((half - c) / (start - c), 0)} of the decrease training achieved "
                   f"(from {start:.3g} at initialization).")


def _pca_plane(R: dict) -> str:
    """How flat the trajectory is, how the loss went along it, and whether the plane holds lower loss."""
    PP = R["pca_plane"]
    evr, s, e, m = PP["explained_variance_ratio"], PP["path_start_loss"], PP["path_end_loss"], PP["min_loss"]
    one_d = float(wording.pct(evr[0]).split()[0]) > 100 * ONE_DIMENSIONAL
    text = (f"- **PCA plane.** Two components hold {wording.pct(sum(evr))} of the trajectory's variance (the first "
            f"alone {wording.pct(evr[0])}"
            + (f", more than {wording.pct(ONE_DIMENSIONAL, 0)}: the path is nearly one-dimensional at this scale"
               if one_d else "")
            + f"); the farthest a snapshot lies from the plane is {wording.pct(PP['max_off_plane'], 0)} of the "
            "distance from θ₀ to θ*, so the drawn path is its shadow on the plane. The loss along the real path "
            + (f"{'falls' if e < s else 'rises'} from {s:.3g} to {e:.3g}. " if e != s else f"stays at {s:.3g}. "))
    if m >= LOWER * e:
        return text + (f"No point of the plane is more than {MARGIN} below the end point's loss (the lowest: "
                       f"{m:.3g}), so to within {MARGIN} no lower region lies on this plane.")
    return text + (f"The plane holds loss more than {MARGIN} below the end point's: {m:.3g} at "
                   f"({PP['argmin'][0]:.2g}, {PP['argmin'][1]:.2g}), "
                   + ("ahead of it along the direction of the last step, which suggests training had not finished "
                      "descending." if PP["min_ahead"] else "not ahead of it along the direction of the last step.")
                   + (" It lies on the edge of the grid drawn, so the plane's lowest point may lie farther out."
                      if _on_edge(PP) else ""))


def _on_edge(PP: dict) -> bool:
    """Whether the plane's lowest grid point is on the grid's border (the true minimum may lie beyond)."""
    a, b = PP["argmin"]
    return a in (PP["alphas"][0], PP["alphas"][-1]) or b in (PP["betas"][0], PP["betas"][-1])


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    return "\n".join([_random_plane(R), _pca_plane(R)])
