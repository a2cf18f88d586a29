"""1-3c Flatness vs generalization, part 1: the loss along the line between two solutions.

Two pairs of models differ in one training choice each: the batch size (small vs large, same
learning rate) and the learning rate (small vs large, same batch size). The net is a small CNN
with BatchNorm, so its state holds running statistics besides the weights, and θ(α) is taken
over the whole state (hwlib.interpolation). Each pair is trained twice: from one shared
initialization (same seed, same data order: only the studied choice differs) and from two
independent initializations (model 2 uses the next seed).
"""

from __future__ import annotations

import time

import torch

from .. import data, models, train
from ..interpolation import clipped_variances, evaluate_path
from ..params import Param, ParamError, same
from ..results import envelope
from .t1_3a import load_data

NAME, SECTION = "1_3c_interpolation", "1-3c"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "train_limit": Param("int", 512, 0, 0, low=0, off=0, doc="keep the first n training images (0: all)"),
    "channels": Param("int_list", [4, 8], [16, 32], [32, 64], positive=True, doc="conv channels of the BatchNorm CNN"),
    "epochs": Param("int", 2, 20, 10, low=1, doc="training epochs, the same for both models of a pair"),
    "batch_sizes": same("int_list", [64, 1024], positive=True, min_len=2, doc="the batch-size pair (at base_lr)"),
    "lrs": same("float_list", [1e-3, 1e-2], positive=True, min_len=2, doc="the learning-rate pair (at base_batch)"),
    "base_lr": same("float", 1e-3, positive=True, doc="learning rate of the batch-size pair"),
    "base_batch": same("int", 64, low=1, doc="batch size of the learning-rate pair"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "inits": same("str_list", ["shared", "independent"], choices=("shared", "independent"),
                  doc="shared: one seed for both models; independent: seed and seed + 1"),
    "seed": same("int", 0, low=0, doc="seed of model 1 (initialization and data order)"),
    "alpha_min": same("float", -1.0),
    "alpha_max": same("float", 2.0),
    "n_alpha": Param("int", 31, 61, 61, low=31, doc="α points (0, 0.5 and 1 are always added)"),
    "data_root": same("str", "data", internal=True, doc="torchvision data folder (relative to the project)"),
}


def checks(P) -> None:
    if len(P.batch_sizes) != 2 or len(P.lrs) != 2:
        raise ParamError(f"batch_sizes={P.batch_sizes!r} and lrs={P.lrs!r} must each hold two values, e.g. [64, 1024]")
    if not (P.alpha_min < 0 and P.alpha_max > 1):
        raise ParamError(f"alpha_min={P.alpha_min}, alpha_max={P.alpha_max}: the range must hold [0, 1] strictly "
                         f"inside, e.g. -1 and 2")


def build(P, ds: data.Dataset, seed: int):
    torch.manual_seed(seed)
    return models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True).to(P.device)


def pairs(P) -> list[dict]:
    """The two studied choices: a name and the (batch size, lr) of model 1 and of model 2."""
    return [{"name": "batch size", "values": list(P.batch_sizes), "settings": [(b, P.base_lr) for b in P.batch_sizes]},
            {"name": "learning rate", "values": list(P.lrs), "settings": [(P.base_batch, lr) for lr in P.lrs]}]


def alpha_grid(P) -> list[float]:
    grid = torch.linspace(P.alpha_min, P.alpha_max, P.n_alpha, dtype=torch.float64).tolist()
    return sorted({round(a, 10) for a in grid} | {0.0, 0.5, 1.0})  # endpoints and midpoint always present


def near(alphas: list[float], a: float) -> int:
    return min(range(len(alphas)), key=lambda i: abs(alphas[i] - a))


def rise_beyond_ends(alphas: list[float], loss: list[float], unclipped: list[float], step: float = 0.2) -> dict | None:
    """Change of the loss one equal step δ·‖θ₂ − θ₁‖ beyond each end (δ ≤ step), staying where no
    running variance is clipped: which end sits in the sharper region along this line.
    None when no such step exists on both sides of the grid."""
    delta = min(step, -unclipped[0], unclipped[1] - 1)
    i0, i1, j0, j1 = near(alphas, -delta), near(alphas, 1 + delta), alphas.index(0.0), alphas.index(1.0)
    if delta <= 0 or i0 == j0 or i1 == j1 or abs((alphas[j0] - alphas[i0]) - (alphas[i1] - alphas[j1])) > 1e-9:
        return None
    return {"delta": alphas[j0] - alphas[i0], "model1": loss[i0] - loss[j0], "model2": loss[i1] - loss[j1]}


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    alphas = alpha_grid(P)
    trained = {}  # (batch, lr, seed) -> (model, record): a model shared by several cases is trained once

    def trained_model(batch: int, lr: float, seed: int):
        if (batch, lr, seed) not in trained:
            model = build(P, ds, seed)
            h = train.fit(model, ds, epochs=P.epochs, batch_size=batch, lr=lr, optimizer=P.optimizer, seed=seed,
                          label=f"batch {batch}, lr {lr:g}, seed {seed}", log=False)
            trained[batch, lr, seed] = model, {"batch_size": batch, "lr": lr, "seed": seed, "steps": h.steps,
                                               "seconds": h.seconds, **h.final}
        return trained[batch, lr, seed]

    cases = []
    for pair in pairs(P):
        for init in P.inits:
            seeds = (P.seed, P.seed) if init == "shared" else (P.seed, P.seed + 1)
            (m1, r1), (m2, r2) = [trained_model(b, lr, s) for (b, lr), s in zip(pair["settings"], seeds)]
            tr = evaluate_path(m1, m2, alphas, ds.x_train, ds.y_train, ds.kind)
            te = evaluate_path(m1, m2, alphas, ds.x_test, ds.y_test, ds.kind)
            at = {a: i for i, a in enumerate(alphas)}
            inside = [i for i, a in enumerate(alphas) if 0 <= a <= 1]
            case = {"pair": pair["name"], "values": pair["values"], "init": init, "models": [r1, r2],
                    "alpha": alphas, "train_loss": tr["loss"], "train_acc": tr["acc"],
                    "test_loss": te["loss"], "test_acc": te["acc"],
                    "mid": {k: v[at[0.5]] for k, v in (("train_loss", tr["loss"]), ("test_loss", te["loss"]),
                                                        ("train_acc", tr["acc"]), ("test_acc", te["acc"]))},
                    # how far the training loss rises above the worse endpoint between α = 0 and α = 1
                    "barrier": max(tr["loss"][i] for i in inside) - max(tr["loss"][at[0.0]], tr["loss"][at[1.0]]),
                    "min_train_acc_inside": min(tr["acc"][i] for i in inside)}
            case["clipped_variances"] = clipped_variances(m1.state_dict(), m2.state_dict(), alphas)
            clean = [a for a, n in zip(alphas, case["clipped_variances"]) if n == 0]
            case["unclipped_range"] = [min(clean), max(clean)]  # [0, 1] is always inside
            case["rise"] = rise_beyond_ends(alphas, tr["loss"], case["unclipped_range"])
            cases.append(case)
            print(f"{pair['name']} ({init} init): train loss at α=0.5 {case['mid']['train_loss']:.4g}, "
                  f"ends {tr['loss'][at[0.0]]:.3g} and {tr['loss'][at[1.0]]:.3g}", flush=True)
    with torch.device("meta"):
        shape = models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True)
    info = models.describe(shape)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    model={"channels": info["widths"], "structure": info["structure"], "params": info["params"],
                           "batchnorm": True},
                    buffers=[k for k, _ in shape.named_buffers()], cases=cases)
