"""1-1b Train on an actual task: shallow vs deep CNNs at one parameter count on image data."""

from __future__ import annotations

import time
import torch

from .. import data, models, train
from ..params import Param, ParamError, same
from ..results import envelope

NAME, SECTION = "1_1b_actual_task", "1-1b"

SPEC = {
    "datasets": Param("str_list", ["digits"], ["digits"], ["mnist", "cifar10"], choices=data.IMAGE_DATASETS,
                      doc="image datasets (quick: the embedded digits)"),
    "budget": Param("int", 3000, 20000, 100000, low=100, doc="parameter budget of the shallowest CNN"),
    "depths": Param("int_list", [1, 2], [1, 2, 4], [1, 2, 4], low=1, high=8, min_len=2,
                    doc="conv blocks of each CNN; deeper ones matched to the first's count"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "lr": same("float", 1e-3, positive=True),
    "epochs": Param("int", 2, 20, 20, low=1),
    "batch_size": Param("int", 64, 64, 128, low=1),
    "train_limit": Param("int", 300, 0, 0, low=0, doc="keep the first n training images (0: all)"),
    "seed": same("int", 0, low=0),
    # Without it the 4-block CNN of a 100k-parameter CIFAR-10-sized family stayed at chance on 2,000
    # random images (loss 2.30 after 8 epochs; with BatchNorm 0.34, all memorized).
    # tests/test_tasks_part1.py fails without it.
    "batchnorm": same("bool", True, doc="BatchNorm after every conv (lets the deepest CNN train)"),
    "data_root": same("str", "data", doc="torchvision data folder (relative to the project)"),
}


def checks(P) -> None:
    if len(set(P.depths)) < 2:
        raise ParamError(f"depths={P.depths!r} compares nothing: give at least 2 different depths")


def model_name(depth: int) -> str:
    return f"{depth}-block CNN"


def family(P, ds: data.Dataset) -> list:
    """The CNNs compared, one per depth, all within 1 % of one parameter count."""
    torch.manual_seed(P.seed)
    try:
        return models.cnn_family(P.budget, P.depths, ds.input_shape, ds.n_classes, batchnorm=P.batchnorm)
    except ValueError as exc:
        raise ParamError(str(exc)) from None


def run(P) -> dict:
    start = time.perf_counter()
    runs, table = [], []
    for name in P.datasets:
        ds = data.load(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
        for depth, model in zip(P.depths, family(P, ds)):
            info = models.describe(model)
            table.append({"dataset": name, "model": model_name(depth), "channels": info["widths"],
                          "params": info["params"], "structure": info["structure"]})
            h = train.fit(model.to(P.device), ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr,
                          optimizer=P.optimizer, seed=P.seed, label=f"{name} {model_name(depth)}")
            runs.append({"dataset": name, "model": model_name(depth), "depth": depth, "params": info["params"],
                         "history": h.to_dict()})
    return envelope(P, NAME, SECTION, time.perf_counter() - start, models=table, runs=runs)
