"""1-2c What happens when the gradient is almost zero: minimal ratio vs loss over many runs.

Per run: (1) train a small ReLU MLP on a 1-D function, full batch, Adam on the MSE; (2) switch
the objective to ‖∇L‖² and descend it by double backprop until ‖∇L‖ < threshold (or a step
limit: such runs are counted, not hidden); (3) take the exact Hessian of the training loss —
all parameters, all cross-layer blocks, the whole training set — in float64, symmetrize it and
compute its eigenvalues; (4) minimal ratio = fraction of eigenvalues > tol. All runs go through
each stage together, as one vectorized ensemble.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from scipy.stats import spearmanr
from torch.func import hessian, vmap

from ..device import cpu_threads
from .. import curvature as cv
from .. import data, ensemble, models
from ..params import Param, ParamError, same
from ..progress import Progress
from ..results import envelope

NAME, SECTION = "1_2c_minimal_ratio", "1-2c"

SPEC = {
    "function": same("str", "sinc", choices=tuple(data.FUNCTIONS), doc="1-D function to fit on [-1, 1]"),
    "n_train": Param("int", 64, 256, 256, low=8, doc="training points (the Hessian covers all of them)"),
    "widths": Param("int_list", [6, 6], [10, 10], [10, 10], positive=True, doc="hidden widths of the ReLU MLP"),
    "runs": Param("int", 6, 100, 100, low=2, doc="independent runs (seeds 0 … runs-1)"),
    "epochs": Param("int", 150, 1500, 4000, positive=True, doc="phase 1: full-batch Adam epochs on the MSE"),
    "lr": same("float", 1e-2, positive=True, doc="phase 1 learning rate"),
    "grad_threshold": same("float", 1e-3, positive=True, doc="phase 2 stops once ‖∇L‖ is below this"),
    "phase_steps": Param("int", 300, 4000, 10000, positive=True, doc="phase 2 step limit (Adam on ‖∇L‖²)"),
    "phase_lr": same("float", 1e-3, positive=True, doc="phase 2 learning rate"),
    "tol": same("float", 1e-6, positive=True, doc="an eigenvalue counts as positive when > tol"),
    "tol_sweep": same("float_list", [1e-10, 1e-8, 1e-6, 1e-4], positive=True, doc="tolerances compared"),
    # Each Hessian already batches its ~141 tangent directions, so on a CPU stacking runs only adds memory
    # traffic: quick (the CPU default) takes one run per call, as vmapping 5 runs per call was 0.65× as fast
    # and 25 runs 0.42× (bench/bench_ensemble.py). On a GPU (full) larger chunks fill the device.
    "hessian_chunk": Param("int", 3, 1, 25, positive=True, doc="runs per vectorized Hessian call"),
}


def checks(P) -> None:
    if P.tol not in P.tol_sweep:
        raise ParamError(f"tol={P.tol} is not in tol_sweep={P.tol_sweep}: add it so the table shows the scatter's tolerance")


def make_model(P):
    return lambda: models.mlp(P.widths, in_dim=1, out_dim=1, activation="relu")


def hessians(loss64, theta64: torch.Tensor, chunk: int) -> torch.Tensor:
    """(K, P, P) exact Hessians, a few runs per vmapped call to bound memory."""
    h = vmap(hessian(loss64))
    return torch.cat([h(part) for part in theta64.split(chunk)])


def run(P) -> dict:
    start = time.perf_counter()
    ds = data.function_data(P.function, P.device, n_train=P.n_train)
    seeds = list(range(P.runs))
    ens = ensemble.build(make_model(P), seeds, P.device)
    info = models.describe(ens.model)
    timings = {}

    # Phase 1: ordinary training (all runs at once).
    t = time.perf_counter()
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.n_train, lr=P.lr, label="phase 1 (MSE)")
    timings["train"] = time.perf_counter() - t
    loss_of_theta = ens.loss_of_theta(ds.x_train, ds.y_train, ds.kind)
    grad_before = vmap(torch.func.grad(loss_of_theta))(ens.theta).norm(dim=1)
    loss_before = vmap(loss_of_theta)(ens.theta)

    # Phase 2: minimize ‖∇L‖² by double backprop, each run until its own ‖∇L‖ < threshold.
    t = time.perf_counter()
    with cpu_threads(1, P.device):
        phase = cv.grad_norm_phase(loss_of_theta, ens.theta, threshold=P.grad_threshold, max_steps=P.phase_steps,
                                   lr=P.phase_lr, progress=Progress(P.phase_steps, "phase 2 (‖∇L‖²)"))
    timings["grad_norm_phase"] = time.perf_counter() - t

    # Exact Hessians in float64 on the same training set, then eigenvalues of the symmetrized matrices.
    t = time.perf_counter()
    x64, y64 = ds.x_train.double(), ds.y_train.double()
    loss64 = ens.loss_of_theta(x64, y64, ds.kind)
    h = hessians(loss64, phase["theta"].double(), P.hessian_chunk)
    asym = float(((h - h.transpose(1, 2)).abs().amax((1, 2)) / h.abs().amax((1, 2)).clamp_min(1e-300)).max())
    eig = cv.hessian_eigenvalues(h)  # (K, P) ascending
    timings["hessian_eig"] = time.perf_counter() - t

    sweep = []
    for tol in P.tol_sweep:
        r_all = [cv.minimal_ratio(e, tol) for e in eig]
        r_nz = [cv.minimal_ratio(e, tol, over="nonzero") for e in eig]
        negligible = [(e.abs() <= tol).sum().item() for e in eig]
        sweep.append({"tol": tol, "ratio_all": r_all, "ratio_nonzero": r_nz, "negligible": negligible})
    main = next(s for s in sweep if s["tol"] == P.tol)
    final_loss = phase["loss"].double().cpu()
    summary = {
        "loss": quantiles(final_loss),
        "ratio_all": quantiles(main["ratio_all"]),
        "ratio_nonzero": quantiles(main["ratio_nonzero"]),
        "negligible": quantiles(main["negligible"]),
        "runs_with_negative": int((eig[:, 0] < -P.tol).sum()),  # a λ < -tol: a saddle direction
        "most_negative": float(eig[:, 0].min()),
        # rank correlation with the loss: negative means "higher ratio at lower loss"
        "spearman_all": spearmanr(final_loss, main["ratio_all"], nan_policy="omit").statistic,
        "spearman_nonzero": spearmanr(final_loss, main["ratio_nonzero"], nan_policy="omit").statistic,
        "sweep_median": [{"tol": s["tol"], "ratio_all": float(np.median(s["ratio_all"])),
                          "ratio_nonzero": float(np.nanmedian(s["ratio_nonzero"])),
                          "negligible": float(np.median(s["negligible"]))} for s in sweep],
    }
    return envelope(
        P, NAME, SECTION, time.perf_counter() - start,
        dataset=ds.describe(), model=info, n_params=info["params"],
        seeds=seeds, timings=timings,
        phase1={"loss": loss_before, "grad_norm": grad_before, "loss_curve_median": _median_curve(hist.train_loss)},
        phase2={"loss": phase["loss"], "grad_norm": phase["grad_norm"], "steps": phase["steps"],
                "reached": phase["reached"], "trace": _trace_sample(phase["trace"])},
        missed=int((~phase["reached"]).sum()),
        hessian={"max_relative_asymmetry": asym, "dtype": "float64"},
        eigenvalues=eig,
        ratio_all=main["ratio_all"], ratio_nonzero=main["ratio_nonzero"],
        sweep=sweep, summary=summary,
    )


def quantiles(values) -> dict:
    v = np.asarray(torch.as_tensor(values, dtype=torch.float64).cpu())
    q = np.nanquantile(v, [0, 0.25, 0.5, 0.75, 1])
    return dict(zip(("min", "q25", "median", "q75", "max"), q.tolist()))


def _median_curve(train_loss: list[list[float]]) -> list[float]:
    """Median over runs of the phase-1 loss, per epoch."""
    return torch.tensor(train_loss).median(dim=1).values.tolist()


def _trace_sample(trace: torch.Tensor, keep: int = 8) -> list[list[float]]:
    """‖∇L‖ per phase-2 step for the first few runs (NaN once a run stopped)."""
    return trace[:, :keep].T.tolist()
