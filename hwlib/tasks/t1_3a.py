"""1-3a Can the network fit random labels? An MLP memorizes seeded random training labels.

Every training label is replaced by a seeded random class; the test labels stay true. A fully
connected net with far more parameters than training images is trained on them and, for
reference, the identical net (same initialization, same data order) on the true labels. The
training set is evaluated in eval mode after every epoch, so "epochs to 99 %" is measured on
fixed weights, not on a running average over an epoch of changing weights.
"""

from __future__ import annotations

import math
import time

import torch

from .. import data, models, train
from ..labels import agreement, with_random_labels
from ..params import Param, same
from ..results import envelope

NAME, SECTION = "1_3a_random_labels", "1-3a"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "train_limit": Param("int", 256, 0, 0, low=0, doc="keep the first n training images (0: all)"),
    "widths": Param("int_list", [128], [512, 512], [700, 700, 700], positive=True, doc="hidden widths of the MLP"),
    "epochs": Param("int", 4, 80, 150, low=1),
    "batch_size": Param("int", 64, 64, 100, low=1),
    "lr": Param("float", 1e-3, 1e-3, 1e-4, positive=True, doc="learning rate"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "seed": same("int", 0, low=0, doc="initialization and data order"),
    "label_seed": same("int", 0, low=0, doc="seed of the random labels"),
    "true_labels_reference": same("bool", True, doc="also train the same net on the true labels"),
    "target_acc": same("float", 0.99, low=0.0, high=1.0, doc="training accuracy that counts as memorized"),
    "data_root": same("str", "data", doc="torchvision data folder (relative to the project)"),
}


def load_data(P) -> data.Dataset:
    return data.load(P.dataset, P.device, root=P.data_root, train_limit=P.train_limit or None)


class TrainSetMonitor:
    """end_epoch hook: loss and accuracy on the (possibly random-labelled) training set, eval
    mode. Kept as device tensors and read back once at the end (no per-epoch sync)."""

    def __init__(self, ds: data.Dataset):
        self.ds = ds
        self.values = []

    def end_epoch(self, model, epoch, metrics):
        self.values.append(train.evaluate_tensors(model, self.ds.x_train, self.ds.y_train, self.ds.kind))

    def lists(self) -> tuple[list[float], list[float]]:
        return [float(v[0]) for v in self.values], [float(v[1]) for v in self.values]


def first_epoch_reaching(acc: list[float], target: float) -> int | None:
    """1-based epoch at which the accuracy first reaches ``target``, or None."""
    return next((i + 1 for i, a in enumerate(acc) if a >= target), None)


def train_one(P, ds: data.Dataset, label: str):
    torch.manual_seed(P.seed)  # same initialization for the random- and the true-label run
    model = models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes).to(P.device)
    monitor = TrainSetMonitor(ds)
    h = train.fit(model, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                  seed=P.seed, hooks=[monitor], label=label)
    train_loss, train_acc = monitor.lists()
    return model, {
        "label": label,
        "epoch": list(range(1, len(train_loss) + 1)), "train_loss": train_loss, "train_acc": train_acc,
        "eval_epoch": h.eval_epoch, "test_loss": h.test_loss, "test_acc": h.test_acc,
        "final": h.final, "seconds": h.seconds, "steps": h.steps, "stopped": h.stopped,
        "epochs_to_target": first_epoch_reaching(train_acc, P.target_acc),
        "best_test_acc": max(h.test_acc) if h.test_acc else None,
        "min_test_loss_epoch": h.eval_epoch[min(range(len(h.test_loss)), key=h.test_loss.__getitem__)]
        if h.test_loss else None,
    }


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    noisy = with_random_labels(ds, seed=P.label_seed)
    model, random_run = train_one(P, noisy, "random labels")
    runs = [random_run]
    if P.true_labels_reference:
        runs.append(train_one(P, ds, "true labels")[1])
    info = models.describe(model)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    chance=1 / ds.n_classes, label_agreement=agreement(noisy.y_train, ds.y_train),
                    model={"widths": info["widths"], "structure": info["structure"], "params": info["params"]},
                    steps_per_epoch=math.ceil(len(ds.x_train) / P.batch_size), runs=runs)
