"""The models Part 3's flatness tasks share: the BatchNorm CNN (1-3c, 1-3d, 1-3e), its settings, and the
grid of models one per (seed, batch size), each trained to one training loss (hwlib.to_target), that 1-3d
measures for sensitivity and 1-3e for sharpness; 1-3c loads the ones it needs from the grid's cache
(``grid_models``) rather than training the same models again.

The grid is cached (hwlib.cache): whichever of 1-3d and 1-3e comes second with the same settings loads the
models instead of training them again; ``make`` trains them once, in a rule of its own before both notebooks
(``python -m hwlib.pipeline.runner product``, which calls ``train_models`` and records ``cache_key``).
"""

from __future__ import annotations

import torch

from .. import cache, data, models, train
from ..params import Param, ParamError, resolve, same
from ..progress import Progress
from ..to_target import fit_to_loss
from . import common

CHANNELS = Param("int_list", smoke=[4, 8], quick=[16, 32], full=[32, 64], positive=True,
                 doc="conv channels of the BatchNorm CNN")
TARGET_LOSS = Param("float", smoke=1.2, quick=0.05, full=0.05, positive=True,
                    doc="train each model until its training loss (eval mode, whole training set) is within ±10 % of this")
MAX_STEPS = Param("int", smoke=150, quick=2000, full=20000, low=1,
                  doc="step limit of a model that does not reach the target loss")

# the settings of the grid of models 1-3d and 1-3e share
SPEC = {
    "dataset": common.DATASET,
    "train_limit": common.train_limit(smoke=512),
    "channels": CHANNELS,
    "batch_sizes": Param("int_list", smoke=[16, 32, 64, 128, 512], quick=[16, 32, 64, 256, 1024],
                         full=[16, 64, 256, 1024, 4096], positive=True, min_len=5,
                         doc="log-spaced, one model per seed each"),
    "seeds": Param("int_list", smoke=[0, 1], quick=[0, 1], full=[0, 1, 2], low=0,
                   doc="initialization and data order; every batch size is trained once per seed"),
    "target_loss": TARGET_LOSS,
    "max_steps": MAX_STEPS,
    "lr": same("float", 1e-3, positive=True, doc="learning rate, the same for every batch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS, doc="optimizer of every model"),
    "n_eval": Param("int", smoke=128, quick=360, full=2000, low=1, doc="evaluation images for the sensitivity"),
    "chunk_size": Param("int", smoke=64, quick=128, full=128, low=1, internal=True,
                        doc="samples per vectorized Jacobian chunk (result unchanged)"),
    "data_root": common.DATA_ROOT,
}


def checks(P) -> None:
    if sorted(set(P.batch_sizes)) != list(P.batch_sizes):
        raise ParamError(f"batch_sizes={P.batch_sizes!r} must be distinct and increasing, e.g. [16, 64, 256, 1024, 4096]")
    if len(set(P.seeds)) != len(P.seeds):
        raise ParamError(f"seeds={P.seeds!r} must be distinct, e.g. [0, 1, 2]")


def build(P, ds: data.Dataset, seed: int):
    """The BatchNorm CNN with P.channels, initialized from ``seed``, on P.device."""
    torch.manual_seed(seed)
    return models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True).to(P.device)


def model_info(P, ds: data.Dataset) -> dict:
    with torch.device("meta"):
        info = models.describe(models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True))
    return {"channels": info["widths"], "structure": info["structure"], "params": info["params"], "batchnorm": True}


def eval_set(P, ds: data.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed evaluation set: the first n_eval test images, the same for every model."""
    n = min(P.n_eval, len(ds.x_test))
    return ds.x_test[:n], ds.y_test[:n]


# the settings that decide the trained models (n_eval and chunk_size only change the measuring)
TRAINING = ("dataset", "train_limit", "channels", "batch_sizes", "seeds", "target_loss", "max_steps", "lr",
            "optimizer", "data_root")
# the science modules the models are built and trained with: their files are in the cache key
TRAINING_MODULES = ("hwlib.data", "hwlib.models", "hwlib.train", "hwlib.to_target")
MODELS = "1_3d_models"  # cache name of the trained models (and make's product of the same name)


def cache_key(P) -> str:
    """The trained models' cache key (hwlib.cache): the training settings, and the text of the code that
    loads the data, builds and trains the models with the files of TRAINING_MODULES; not the tasks' figures or
    comments, so editing those keeps the models."""
    return cache.key({k: getattr(P, k) for k in TRAINING}, P.device,
                     functions=(common.load_data, build, train_models, cache_key), modules=TRAINING_MODULES)


def _rebuilt(P, ds: data.Dataset, stored: list) -> list[tuple]:
    """[(model, record)] from the cache's [(state dict, record)]: each model built anew and its state loaded."""
    out = []
    for state, record in stored:
        model = build(P, ds, record["seed"])
        model.load_state_dict(state)
        out.append((model, record))
    return out


def train_models(P, ds: data.Dataset) -> tuple[list[tuple], bool]:
    """One model per (seed, batch size): ([(model, record)], loaded). The models are cached
    (hwlib.cache): whichever of 1-3d and 1-3e comes second with the same settings loads them instead of
    training again (waiting while the other trains them), and ``loaded`` says so."""
    key = cache_key(P)
    with cache.lock(MODELS, P.out_dir):  # 1-3d and 1-3e may run side by side: one trains, the other waits and loads
        stored = cache.load(MODELS, key, P.out_dir)
        if stored is not None:
            out = _rebuilt(P, ds, stored)
            print(f"loaded the {len(out)} trained models from {cache.path(MODELS, key, P.out_dir)}", flush=True)
            return out, True
        out = []
        progress = Progress(len(P.batch_sizes) * len(P.seeds), "models")
        for seed in P.seeds:
            for batch in P.batch_sizes:
                model = build(P, ds, seed)
                record = fit_to_loss(model, ds, batch_size=batch, lr=P.lr, optimizer=P.optimizer, seed=seed,
                                     target=P.target_loss, max_steps=P.max_steps, label=f"batch {batch}, seed {seed}")
                out.append((model, record))
                progress.update(len(out), batch=batch, seed=seed, steps=record["steps"], train_loss=record["train_loss"])
        progress.done()
        cache.save(MODELS, key, [(m.state_dict(), dict(r)) for m, r in out], P.out_dir)
        return out, False


# the training settings a task shares with the grid: where they agree, its models at the grid's batch sizes,
# learning rate and seeds are the grid's (the same build and the same training)
SHARED = ("dataset", "train_limit", "channels", "target_loss", "max_steps", "optimizer", "data_root")


def grid_models(P, ds: data.Dataset) -> dict:
    """{(batch size, lr, seed): (model, record)}: the grid's trained models, for a task whose SHARED settings are
    P's, from the cache make's product writes before 1-3c, 1-3d and 1-3e run; {} where no cache holds them
    (a notebook run on its own, or other settings), and the task trains its models itself."""
    G = resolve(SPEC, {k: getattr(P, k) for k in SHARED}, checks, profile=P.profile, device=str(P.device),
                out_dir=str(P.out_dir))
    key = cache_key(G)
    with cache.lock(MODELS, P.out_dir):
        stored = cache.load(MODELS, key, P.out_dir)
    if stored is None:
        return {}
    out = {(r["batch_size"], r["lr"], r["seed"]): (m, dict(r)) for m, r in _rebuilt(G, ds, stored)}
    print(f"{len(out)} trained models of the batch-size grid found in {cache.path(MODELS, key, P.out_dir)}", flush=True)
    return out
