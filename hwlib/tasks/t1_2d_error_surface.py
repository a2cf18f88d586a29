"""1-2d Bonus: the error surface around a trained minimum, on two planes.

One MLP is trained with a snapshot of its parameters after every epoch. Plane 1 goes through the
final parameters θ* along two filter-normalized random directions (Li et al., 2018); plane 2 is
spanned by the first two principal components of the trajectory θ_t − θ*, and the trajectory is
projected on it. On each plane the training loss is evaluated on a grid, all grid points of a
chunk in one vmapped call.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .. import data, ensemble, landscape, models, train, wording
from ..device import cpu_threads
from ..params import Param, same
from ..results import envelope

NAME, SECTION = "1_2d_error_surface", "1-2d"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "data_root": same("str", "data", internal=True, doc="torchvision data folder (relative to the project)"),
    "train_limit": Param("int", 256, 0, 0, low=0, off=0, doc="keep the first n training images (0 = all)"),
    "surface_points": Param("int", 256, 0, 10000, low=0, off=0,
                            doc="training images the surface loss is averaged over (0 = all)"),
    "widths": Param("int_list", [16], [32, 32], [64, 64], positive=True, doc="hidden widths of the ReLU MLP"),
    "epochs": Param("int", 4, 30, 20, positive=True, doc="training epochs (one snapshot per epoch)"),
    "batch_size": same("int", 64, positive=True),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "lr": same("float", 1e-3, positive=True),
    "seed": same("int", 0, low=0, doc="initialization, data order and the random directions"),
    "grid": Param("int", 9, 31, 41, low=3, doc="grid points per axis"),
    "span": same("float", 1.0, positive=True, doc="random plane: α, β ∈ [-span, span]"),
    "grid_chunk": Param("int", 32, 64, 128, positive=True, internal=True, doc="grid points per vectorized evaluation"),
}


def _ring(grid: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float, width: float) -> float | None:
    """Mean loss over the grid points at distance radius ± width from the centre."""
    r = np.hypot(*np.meshgrid(a, b, indexing="ij"))
    mask = np.abs(r - radius) <= width
    return float(grid[mask].mean()) if mask.any() else None


def run(P) -> dict:
    start = time.perf_counter()
    ds = data.load(P.dataset, P.device, root=P.data_root, train_limit=P.train_limit or None)
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


# ------------------------------------------------------------------ comment
# The first principal component alone "makes the path nearly one-dimensional" above this share.
ONE_DIMENSIONAL = 0.8
# The plane "holds lower loss than the end point" when its grid minimum is below this fraction of it
# (a few per cent lower is within the grid's resolution and the end point's own noise).
LOWER = 0.9


def comment(R: dict) -> str:
    """The Comment section, every sentence decided by the numbers it states."""
    P, RP, PP = R["params"], R["random_plane"], R["pca_plane"]
    text = f"- **Random plane.** The loss at θ* is {RP['center_loss']:.3g}; "
    if RP["argmin"] == [0.0, 0.0]:
        text += "it is the lowest point of the grid: along these directions θ* sits at the bottom of a basin. "
    else:
        text += (f"the grid's lowest value, {RP['min_loss']:.3g}, is at (α, β) = ({RP['argmin'][0]:.2g}, "
                 f"{RP['argmin'][1]:.2g}): θ* is not the lowest point of this plane. ")
    if RP["ring_half"] is not None and RP["ring_full"] is not None:
        rise = PP["path_start_loss"] - RP["center_loss"]
        text += (f"Averaged over the circle of radius {0.5 * P['span']:g} the loss is {RP['ring_half']:.3g} "
                 f"({RP['ring_half'] / RP['center_loss']:.3g} times the centre), at radius {P['span']:g} "
                 f"{RP['ring_full']:.3g} ({RP['ring_full'] / RP['center_loss']:.3g} times)")
        if rise > 0:
            text += (f": moving every filter by {0.5 * P['span']:g} times its own norm in a random direction undoes "
                     f"{wording.pct((RP['ring_half'] - RP['center_loss']) / rise, 0)} of the loss decrease training "
                     "achieved (from the loss at initialization).")
        else:
            text += "; training did not lower the loss from its initial value, so there is no decrease to compare with."
    else:
        text += "The grid is too coarse to average the loss over circles around θ*."
    lines = [text]
    evr = PP["explained_variance_ratio"]
    text = (f"- **PCA plane.** Two components hold {wording.pct(sum(evr))} of the trajectory's variance (the first "
            f"alone {wording.pct(evr[0])})"
            + (", so the path is nearly one-dimensional at this scale" if evr[0] > ONE_DIMENSIONAL else "")
            + f"; the farthest a snapshot lies from the plane is {wording.pct(PP['max_off_plane'], 0)} of the distance "
            "from θ₀ to θ*, so the drawn path is its shadow on the plane. "
            f"The loss along the real path {'falls' if PP['path_end_loss'] < PP['path_start_loss'] else 'rises'} "
            f"from {PP['path_start_loss']:.3g} to {PP['path_end_loss']:.3g}. ")
    if PP["min_loss"] < LOWER * PP["path_end_loss"]:
        text += (f"The plane holds lower loss than the end point: {PP['min_loss']:.3g} at ({PP['argmin'][0]:.2g}, "
                 f"{PP['argmin'][1]:.2g})"
                 + (", ahead of it in the direction of the last step: training had not converged, it was still "
                    "descending a long valley." if PP["min_ahead"] else
                    ", not in the direction of the last step: the lower region lies off the path training took."))
    else:
        text += "No point of the plane is clearly lower than the end point: it sits at the bottom of the plane's valley."
    lines.append(text)
    return "\n".join(lines)
