"""1-3d Flatness vs generalization, part 2: input sensitivity of models trained with different batch sizes.

The same BatchNorm CNN is trained with several log-spaced batch sizes; everything else
(learning rate, epochs, initialization, data order, optimizer) is fixed, so the number of
steps shrinks as the batch grows, as in Keskar et al. After training, the sensitivity of each
model is the Frobenius norm of the Jacobian of its logits with respect to its input, per
sample, averaged over one fixed evaluation set (the first n_eval test images, the same for
every model); the same number of training images is measured as a second view.
"""

from __future__ import annotations

import time

import torch
from scipy.stats import spearmanr

from .. import cache, data, models, train
from ..params import Param, ParamError, same
from ..progress import Progress
from ..results import envelope
from ..sensitivity import input_jacobian_norms
from .t1_3a import load_data

NAME, SECTION = "1_3d_sensitivity", "1-3d"

SPEC = {
    "dataset": Param("str", "digits", "digits", "mnist", choices=data.IMAGE_DATASETS, doc="image dataset"),
    "train_limit": Param("int", 512, 0, 0, low=0, off=0, doc="keep the first n training images (0: all)"),
    "channels": Param("int_list", [4, 8], [16, 32], [32, 64], positive=True, doc="conv channels of the BatchNorm CNN"),
    "batch_sizes": Param("int_list", [16, 32, 64, 128, 512], [16, 32, 64, 128, 256, 512, 1024],
                         [16, 64, 256, 1024, 4096], positive=True, min_len=5, doc="log-spaced, one model each"),
    "epochs": Param("int", 1, 20, 10, low=1, doc="training epochs, the same for every batch size"),
    "lr": same("float", 1e-3, positive=True, doc="learning rate, the same for every batch size"),
    "optimizer": same("str", "adam", choices=train.OPTIMIZERS),
    "seed": same("int", 0, low=0, doc="initialization and data order, the same for every batch size"),
    "n_eval": Param("int", 128, 360, 2000, low=1, doc="evaluation images for the sensitivity"),
    "chunk_size": Param("int", 64, 128, 128, low=1, internal=True, doc="samples per vectorized Jacobian chunk (result unchanged)"),
    "data_root": same("str", "data", internal=True, doc="torchvision data folder (relative to the project)"),
}


def checks(P) -> None:
    if sorted(set(P.batch_sizes)) != list(P.batch_sizes):
        raise ParamError(f"batch_sizes={P.batch_sizes!r} must be distinct and increasing, e.g. [16, 64, 256, 1024, 4096]")


def build(P, ds: data.Dataset):
    torch.manual_seed(P.seed)
    return models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True).to(P.device)


# the settings that decide the trained models (n_eval and chunk_size only change the measuring)
TRAINING = ("dataset", "train_limit", "channels", "batch_sizes", "epochs", "lr", "optimizer", "seed", "data_root")
MODELS = "1_3d_models"  # cache name of the trained models, shared with 1-3e


def train_models(P, ds: data.Dataset) -> tuple[list[tuple], bool]:
    """One model per batch size, all from one initialization: ([(model, record)], loaded). The
    models are cached (hwlib.cache): whichever of 1-3d and 1-3e runs second with the same
    settings loads them instead of training again, and ``loaded`` says so."""
    key = cache.key({k: getattr(P, k) for k in TRAINING}, P.device)
    stored = cache.load(MODELS, key, P.out_dir)
    if stored is not None:
        out = []
        for state, record in stored:
            model = build(P, ds)
            model.load_state_dict(state)
            out.append((model, record))
        print(f"loaded the {len(out)} trained models from {cache.path(MODELS, key, P.out_dir)}", flush=True)
        return out, True
    out = []
    progress = Progress(len(P.batch_sizes), "batch sizes")
    for i, batch in enumerate(P.batch_sizes):
        model = build(P, ds)
        h = train.fit(model, ds, epochs=P.epochs, batch_size=batch, lr=P.lr, optimizer=P.optimizer, seed=P.seed,
                      label=f"batch {batch}", log=False)
        out.append((model, {"batch_size": batch, "steps": h.steps, "seconds": h.seconds, **h.final,
                            "gap_loss": h.final["test_loss"] - h.final["train_loss"],
                            "gap_acc": h.final["train_acc"] - h.final["test_acc"]}))
        progress.update(i + 1, batch=batch, test_acc=h.final["test_acc"])
    progress.done()
    cache.save(MODELS, key, [(m.state_dict(), dict(r)) for m, r in out], P.out_dir)
    return out, False


def eval_sets(P, ds: data.Dataset) -> dict:
    n = min(P.n_eval, len(ds.x_test), len(ds.x_train))
    return {"test": ds.x_test[:n], "train": ds.x_train[:n]}


def model_info(P, ds: data.Dataset) -> dict:
    with torch.device("meta"):
        info = models.describe(models.cnn(ds.input_shape, ds.n_classes, P.channels, batchnorm=True))
    return {"channels": info["widths"], "structure": info["structure"], "params": info["params"], "batchnorm": True}


def run(P) -> dict:
    start = time.perf_counter()
    ds = load_data(P)
    sets = eval_sets(P, ds)
    # the common starting point: how sensitive the network is before any training
    init = input_jacobian_norms(build(P, ds), sets["test"], chunk_size=P.chunk_size).mean().item()
    rows = []
    trained, loaded = train_models(P, ds)
    for model, record in trained:
        for name, x in sets.items():
            norms = input_jacobian_norms(model, x, chunk_size=P.chunk_size)
            record[f"sensitivity_{name}"] = norms.mean().item()
            record[f"sensitivity_{name}_std"] = norms.std().item()
        rows.append(record)
        print(f"batch {record['batch_size']}: test acc {record['test_acc']:.4f}, "
              f"sensitivity {record['sensitivity_test']:.4g}", flush=True)
    return envelope(P, NAME, SECTION, time.perf_counter() - start,
                    dataset=ds.describe(), n_train=len(ds.x_train), n_test=len(ds.x_test),
                    n_eval=len(sets["test"]), model=model_info(P, ds), sensitivity_of="logits", models=rows,
                    sensitivity_at_init=init, models_loaded=loaded,
                    spearman=trends(rows))


def trends(rows: list[dict]) -> dict:
    """Spearman ρ across the models: sensitivity against batch size, test loss and the loss gap."""
    s = [r["sensitivity_test"] for r in rows]

    def rho(other: str) -> float:
        return float(spearmanr(s, [r[other] for r in rows]).statistic)

    return {"batch_size": rho("batch_size"), "test_loss": rho("test_loss"), "gap_loss": rho("gap_loss"),
            "test_acc": rho("test_acc")}
