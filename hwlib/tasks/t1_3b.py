"""1-3b Number of parameters vs generalization: one family of models, only the width changes.

Every model has the same layers; only the width w changes (an MLP with ``depth`` hidden layers
of w units, or a CNN with channels [w, w, 2w, 2w]). Each width is trained from several seeds
with identical settings; the final train/test loss and accuracy are measured in eval mode on
the whole training and test sets.
"""

from __future__ import annotations

import math
import time

import torch

from .. import data, models, train
from ..params import Param, ParamError, same
from ..progress import Progress
from ..results import envelope
from .t1_3a import load_data

NAME, SECTION = "1_3b_parameters_vs_generalization", "1-3b"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "train_limit": Param("int", 256, 0, 0, low=0, doc="keep the first n training images (0: all)"),
    "family": Param("str", "mlp", "mlp", "cnn", choices=("mlp", "cnn"), doc="model family"),
    "depth": same("int", 2, low=1, doc="hidden layers of the MLP family"),
    "widths": Param("int_list", [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], [2, 4, 8, 12, 16, 32, 64, 128, 256, 512],
                    [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96], positive=True, min_len=2,
                    doc="widths w, increasing"),
    "seeds": Param("int_list", [0], [0, 1], [0, 1], low=0, doc="one run per seed and width"),
    "epochs": Param("int", 2, 40, 10, low=1),
    "batch_size": Param("int", 128, 64, 128, low=1),
    "lr": same("float", 1e-3, positive=True, doc="learning rate"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "data_root": same("str", "data", doc="torchvision data folder (relative to the project)"),
}


def checks(P) -> None:
    if sorted(set(P.widths)) != list(P.widths):
        raise ParamError(f"widths={P.widths!r} must be distinct and increasing, e.g. [2, 4, 8, 16]")
    if len(set(P.seeds)) != len(P.seeds):
        raise ParamError(f"seeds={P.seeds!r} must be distinct, e.g. [0, 1]")


def build(P, ds: data.Dataset, width: int):
    if P.family == "mlp":
        return models.mlp([width] * P.depth, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes)
    return models.cnn(ds.input_shape, ds.n_classes, [width, width, 2 * width, 2 * width])


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    table, runs = [], []
    progress = Progress(len(P.widths) * len(P.seeds), "widths × seeds")
    for width in P.widths:
        with torch.device("meta"):  # structure and count without allocating weights
            info = models.describe(build(P, ds, width))
        table.append({"width": width, "params": info["params"], "structure": info["structure"]})
        for seed in P.seeds:
            torch.manual_seed(seed)
            model = build(P, ds, width).to(P.device)
            h = train.fit(model, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                          seed=seed, label=f"width {width} seed {seed}", log=False)
            runs.append({"width": width, "seed": seed, "params": info["params"], **h.final,
                         "seconds": h.seconds, "diverged": h.diverged})
            progress.update(len(runs), width=width, test_acc=h.final["test_acc"])
    progress.done()
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    models=table, runs=runs, summary=summarize(runs))


def summarize(runs: list[dict]) -> dict:
    """Per width: mean/min/max over seeds of every final metric; the best and worst widths."""
    by_width = {}
    for w in sorted({r["width"] for r in runs}):
        rs = [r for r in runs if r["width"] == w]
        row = {"width": w, "params": rs[0]["params"], "seeds": len(rs)}
        for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
            vals = [r[k] for r in rs]
            row[k] = sum(vals) / len(vals)
            row[f"{k}_min"], row[f"{k}_max"] = min(vals), max(vals)
        by_width[str(w)] = row
    rows = list(by_width.values())
    best = max(rows, key=lambda r: r["test_acc"])
    worst = min(rows, key=lambda r: r["test_acc"])
    return {"by_width": by_width, "best": best, "worst": worst,
            "orders_of_magnitude": math.log10(rows[-1]["params"] / rows[0]["params"])}
