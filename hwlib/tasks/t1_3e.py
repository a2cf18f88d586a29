"""1-3e Another measure of flatness: top Hessian eigenvalue and ε-sharpness vs the generalization gap.

The models of 1-3d: loaded from the model cache when 1-3d ran first with the same settings,
else trained here exactly as 1-3d trains them (same seed, same data order; hwlib.cache). For
each one:
- the top eigenvalue of the Hessian of the training loss (Lanczos on Hessian-vector products,
  hwlib.curvature);
- the ε-sharpness of Keskar et al. at the ε values given (hwlib.sharpness);
- the input sensitivity of 1-3d, for comparison.
Each measure is rank-correlated (Spearman) with the generalization gap across the models. The
loss is taken on a fixed set of training images with the model in eval mode (BatchNorm on its
running statistics), so it is one deterministic function of the weights.
"""

from __future__ import annotations

import time

import torch.nn.functional as F
from scipy.stats import spearmanr

from ..curvature import top_hessian_eigenvalue
from ..params import Param, same
from ..results import envelope
from ..sensitivity import input_jacobian_norms
from ..sharpness import epsilon_sharpness
from . import t1_3d
from .t1_3a import load_data

NAME, SECTION = "1_3e_sharpness", "1-3e"

SPEC = {
    **t1_3d.SPEC,
    "n_curvature": Param("int", 256, 512, 2000, low=1, doc="training images in the loss whose curvature is measured"),
    "eps": same("float_list", [1e-3, 5e-4], positive=True, doc="box sizes ε of the ε-sharpness (Keskar et al.)"),
    "ascent_steps": Param("int", 5, 20, 20, low=0, doc="sign-gradient ascent steps inside the ε-box"),
    "lanczos_iters": Param("int", 20, 40, 100, low=2, doc="Lanczos steps at most (top eigenvalue)"),
}

checks = t1_3d.checks

GAPS = {"gap_loss": "test − train loss", "gap_acc": "train − test accuracy", "test_loss": "test loss",
        "test_acc": "test accuracy", "batch_size": "batch size"}


def measure_names(P) -> dict:
    return {"top_eigenvalue": "top Hessian eigenvalue",
            **{f"sharpness_{e:g}": f"ε-sharpness (ε = {e:g})" for e in P.eps},
            "sensitivity_test": "input sensitivity"}


def rank_correlations(rows: list[dict], measures: dict, gaps: dict) -> list[dict]:
    """Spearman ρ (and its two-sided p-value) of every measure against every gap, across models.
    A constant column (e.g. a train accuracy of 1.0 everywhere) has no ranking: ρ is NaN there."""
    out = []
    for key, name in measures.items():
        row = {"measure": name, "key": key}
        for g in gaps:
            res = spearmanr([r[key] for r in rows], [r[g] for r in rows])
            row[g] = float(res.statistic)
            row[f"{g}_p"] = float(res.pvalue)
        out.append(row)
    return out


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    n = min(P.n_curvature, len(ds.x_train))
    x, y = ds.x_train[:n], ds.y_train[:n]
    x_eval = t1_3d.eval_sets(P, ds)["test"]

    def loss_fn(model):
        return F.cross_entropy(model(x), y)

    rows = []
    trained, loaded = t1_3d.train_models(P, ds)
    for model, record in trained:
        model.eval()
        t = time.perf_counter()
        record["curvature_loss"] = loss_fn(model).item()
        record["top_eigenvalue"] = top_hessian_eigenvalue(model, loss_fn, iters=P.lanczos_iters, seed=P.seed)
        for e in P.eps:
            record[f"sharpness_{e:g}"] = epsilon_sharpness(model, loss_fn, eps=e, steps=P.ascent_steps,
                                                           seed=P.seed)["sharpness"]
        record["sensitivity_test"] = input_jacobian_norms(model, x_eval, chunk_size=P.chunk_size).mean().item()
        record["measure_seconds"] = time.perf_counter() - t
        rows.append(record)
        print(f"batch {record['batch_size']}: top eigenvalue {record['top_eigenvalue']:.4g}, "
              + ", ".join(f"ε-sharpness({e:g}) {record[f'sharpness_{e:g}']:.4g}" for e in P.eps), flush=True)
    measures = measure_names(P)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    n_curvature=n, n_eval=len(x_eval), model=t1_3d.model_info(P, ds), models_loaded=loaded,
                    measures=measures, gaps=GAPS, models=rows,
                    correlations=rank_correlations(rows, {"batch_size": "batch size", **measures}, GAPS))
