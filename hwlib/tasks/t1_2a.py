"""1-2a Visualize the optimization process: 8 runs of one architecture in one PCA plane.

The runs differ only in their seed (initialization and data order) and train together as one
vectorized ensemble. Every ``snapshot_every`` epochs all parameters are copied, with the loss and
accuracy on the whole training set at that moment. One PCA (scikit-learn) is fitted over the
snapshots of all runs together — once for the whole parameter vector, once for one layer.
"""

from __future__ import annotations

import math
import time

from ..device import cpu_threads
from .. import data, ensemble, models, train, trajectory
from ..params import Param, ParamError, same
from ..results import envelope

NAME, SECTION = "1_2a_optimization_process", "1-2a"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "data_root": same("str", "data", doc="torchvision data folder (relative to the project)"),
    "train_limit": Param("int", 256, 0, 0, low=0, doc="keep the first n training images (0 = all)"),
    "widths": Param("int_list", [16], [32, 32], [64, 64], positive=True, doc="hidden widths of the ReLU MLP"),
    "layer": same("str", "1.weight", doc="the single layer shown in its own PCA (a parameter name)"),
    "runs": same("int", 8, low=2, doc="runs (seeds 0 … runs-1)"),
    "epochs": Param("int", 6, 30, 30, positive=True, doc="training epochs"),
    "snapshot_every": same("int", 3, positive=True, doc="epochs between weight snapshots"),
    "batch_size": same("int", 64, positive=True, doc="minibatch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "lr": same("float", 1e-3, positive=True),
}


def checks(P) -> None:
    if P.snapshot_every > P.epochs:
        raise ParamError(f"snapshot_every={P.snapshot_every} exceeds epochs={P.epochs}: use at most {P.epochs}")


def run(P) -> dict:
    start = time.perf_counter()
    ds = data.load(P.dataset, P.device, root=P.data_root, train_limit=P.train_limit or None)
    in_dim = math.prod(ds.input_shape)
    make = lambda: models.mlp(P.widths, in_dim=in_dim, out_dim=ds.n_classes)
    seeds = list(range(P.runs))
    ens = ensemble.build(make, seeds, P.device)
    try:
        columns = trajectory.layer_columns(ens.model, [P.layer])
    except ValueError as exc:
        raise ParamError(str(exc)) from None
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                              snapshot_every=P.snapshot_every, eval_every=P.epochs, label="8 runs")
    whole = trajectory.joint_pca(trajectory.runs_from_snapshots(hist.snapshots))
    layer = trajectory.joint_pca(trajectory.runs_from_snapshots(hist.snapshots, columns))
    runs = [{"seed": s, "epoch": hist.snapshot_epoch,
             "loss": [row[k] for row in hist.snapshot_loss], "acc": [row[k] for row in hist.snapshot_acc],
             "test_loss": hist.test_loss[-1][k], "test_acc": hist.test_acc[-1][k]} for k, s in enumerate(seeds)]
    info = models.describe(ens.model)
    return envelope(
        P, NAME, SECTION, time.perf_counter() - start,
        dataset=ds.describe(), model=info, n_params=info["params"], layer_params=len(columns),
        snapshots_per_run=len(hist.snapshot_epoch), train_seconds=hist.seconds,
        runs=runs, pca={"whole": whole.to_dict(), "layer": layer.to_dict()},
    )
