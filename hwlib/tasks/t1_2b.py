"""1-2b Observe the gradient norm during training.

The gradient norm is sqrt(Σ over all parameters of grad²) of the loss that is being minimized
at that iteration (the minibatch loss), taken after backward and before the optimizer step, and
recorded at every iteration together with that loss. A few seeds run together as an ensemble.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.stats import spearmanr

from ..device import cpu_threads
from .. import data, ensemble, models
from ..params import Param, same
from ..results import envelope

NAME, SECTION = "1_2b_gradient_norm", "1-2b"

SPEC = {
    "datasets": same("str_list", ["sinc", "digits"], choices=data.DATASETS,
                     doc="a 1-D function (full batch) and/or an image dataset (minibatches)"),
    "data_root": same("str", "data", doc="torchvision data folder (relative to the project)"),
    "train_limit": Param("int", 256, 0, 0, low=0, doc="image datasets: keep the first n training images (0 = all)"),
    "seeds": same("int", 3, low=1, doc="runs per dataset (seeds 0 … seeds-1)"),
    "function_widths": Param("int_list", [8, 8], [10, 10, 10], [10, 10, 10], positive=True,
                             doc="hidden widths of the MLP for a 1-D function"),
    "function_n_train": Param("int", 64, 256, 1000, low=8, doc="training points of a 1-D function"),
    "function_epochs": Param("int", 60, 3000, 20000, positive=True, doc="full-batch epochs = iterations"),
    "function_lr": same("float", 3e-3, positive=True),
    "image_widths": Param("int_list", [16], [32, 32], [128, 128], positive=True, doc="hidden widths, image MLP"),
    "image_epochs": Param("int", 2, 20, 10, positive=True),
    "image_batch_size": same("int", 64, positive=True),
    "image_lr": same("float", 1e-3, positive=True),
}


def _one(P, name: str) -> dict:
    is_function = name in data.FUNCTIONS
    if is_function:
        ds = data.function_data(name, P.device, n_train=P.function_n_train)
        widths, epochs, bs, lr = P.function_widths, P.function_epochs, P.function_n_train, P.function_lr
    else:
        ds = data.load(name, P.device, root=P.data_root, train_limit=P.train_limit or None)
        widths, epochs, bs, lr = P.image_widths, P.image_epochs, P.image_batch_size, P.image_lr
    make = lambda: models.mlp(widths, in_dim=math.prod(ds.input_shape), out_dim=ds.out_dim)
    ens = ensemble.build(make, list(range(P.seeds)), P.device)
    with cpu_threads(1, P.device):
        hist = ensemble.train(ens, ds, epochs=epochs, batch_size=bs, lr=lr, eval_every=epochs, label=name,
                              record_steps=True)
    gn, loss = hist.step_grad_norm.double().numpy(), hist.step_loss.double().numpy()  # (steps, K)
    runs = []
    for k, seed in enumerate(ens.seeds):
        g, l = gn[:, k], loss[:, k]
        runs.append({
            "seed": seed, "grad_norm": g, "loss": l,
            "peak_grad_norm": float(g.max()), "peak_iteration": int(g.argmax()) + 1,
            "first_grad_norm": float(g[0]), "final_grad_norm": float(g[-20:].mean()),
            "first_loss": float(l[0]), "final_loss": float(l[-20:].mean()),
            # do the two fall together? rank correlation over the iterations of this run
            "spearman_grad_loss": float(spearmanr(g, l).statistic),
            # largest change from one iteration to the next, in decades (|log10 of the ratio|)
            "max_jump_grad_norm": float(np.abs(np.diff(np.log10(g))).max()) if len(g) > 1 else 0.0,
            "max_jump_loss": float(np.abs(np.diff(np.log10(l))).max()) if len(l) > 1 else 0.0,
        })
    info = models.describe(ens.model)
    return {"dataset": ds.describe(), "kind": ds.kind, "full_batch": bs >= len(ds.x_train),
            "batch_size": min(bs, len(ds.x_train)), "epochs": epochs, "lr": lr, "steps": hist.steps,
            "optimizer": "adam", "model": info, "seconds": hist.seconds, "runs": runs}


def run(P) -> dict:
    start = time.perf_counter()
    per = {name: _one(P, name) for name in P.datasets}
    return envelope(P, NAME, SECTION, time.perf_counter() - start, per_dataset=per)

