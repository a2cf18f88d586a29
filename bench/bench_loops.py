"""Each task's training loop against a bare loop of the same model and batch on the same device.

    python bench/bench_loops.py                          # or: make bench
    HWLIB_DEVICE=cpu BENCH_THREADS=1 python bench/bench_loops.py

One line per distinct training loop of the report, with the quick profile's model, batch size and data
of the task that uses it: ``hwlib.train.fit`` for 1-1b (its deepest CNN), 1-3a (the MLP on random
labels, with the task's hook that evaluates the training set every epoch, and without it) and 1-3d
(the BatchNorm CNN, batch 64 and 1024); ``hwlib.ensemble.train`` for 1-1a (4 MLPs at depth 3, full
batch, one function per model), 1-2a (8 MLPs, minibatches, snapshots), 1-2b (every step's loss and
gradient norm recorded; its 1-D function and its image MLP), 1-2c (100 MLPs, full batch) and 1-3b
(2 seeds of one width). hwlib's side is called as the task calls it (hooks, snapshots,
evaluations, checks, progress lines sent to a sink), for a few epochs instead of the task's many;
``fit``'s closing evaluation of the training and test sets, once per call, stays in its time.

The bare loop does the least the same training needs and nothing else:
- for ``fit``: a deep copy of the same initialization, the same minibatches (index slices of a
  device-side permutation drawn from a generator seeded the same way), forward, loss, backward and
  fused Adam (``torch.optim.Adam(fused=True)`` where the device has it);
- for ``ensemble.train``: the same flat (K, P) parameters, each model's minibatches drawn as the
  ensemble draws them, the same losses and gradient (``ensemble.step_gradient``, the function
  ``train`` calls: the written-out backward pass for an MLP, else autograd) and the same Adam update
  on the (K, P) matrix (``hwlib.flat_optim``).
Both sides take the same number of optimizer steps (checked: the benchmark stops otherwise). Each line
gives both medians per step (a run's median time over its steps), hwlib's speed as a fraction of the
bare loop's (bare time / hwlib time) against the target ≥ 0.8 (hwlib's bookkeeping costs at most 20 %),
and the device; an indented line gives the min–max of each side's runs and the ratio of the two
fastest runs (a second reading on a busy machine). On CUDA the bare loop is the same eager loop and
the line says so: a CUDA-graph bare loop, which the target is meant for there, is not written yet.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import math
import tempfile
from collections.abc import Callable

import torch
from common import bench_device, line, side_by_side, spread, target_text, threads_fixed
from torch import nn

from hwlib import data, ensemble, models
from hwlib.flat_optim import FlatOptimizer
from hwlib.labels import with_random_labels
from hwlib.params import resolve
from hwlib.tasks import batch_models
from hwlib.tasks import t1_1a_simulate_function as t1_1a
from hwlib.tasks import t1_1b_actual_task as t1_1b
from hwlib.tasks import t1_2a_optimization_process as t1_2a
from hwlib.tasks import t1_2b_gradient_norm as t1_2b
from hwlib.tasks import t1_2c_minimal_ratio as t1_2c
from hwlib.tasks import t1_3a_random_labels as t1_3a
from hwlib.tasks import t1_3b_parameters_vs_generalization as t1_3b
from hwlib.tasks import t1_3d_sensitivity as t1_3d
from hwlib.train import fit, loss_function

REPEATS = 5  # timed runs per side; the medians are compared
STEPS = 200  # about this many optimizer steps per run of fit (whole epochs)
# The ensembles' steps take 1-5 ms on a CPU: at 200 steps a run would last 0.2 s, shorter than a burst of load
# from something else on a shared machine, and the medians would swing with it.
ENSEMBLE_STEPS = 600
TARGET = 0.8  # hwlib's loop at ≥ 0.8 of the bare loop's speed: its bookkeeping costs at most 20 %


def quick(task, device: torch.device):
    """The task's quick-profile settings (its SPEC resolved as a notebook would), on ``device``."""
    return resolve(task.SPEC, {"profile": "quick", "device": str(device), "out_dir": tempfile.gettempdir()},
                   getattr(task, "checks", None))


def epochs_for(n: int, batch_size: int, steps: int | None = None) -> int:
    """Whole epochs of about ``steps`` (default STEPS) optimizer steps at this batch size."""
    return max(1, round((steps or STEPS) / math.ceil(n / batch_size)))


@contextlib.contextmanager
def sink():
    """Progress lines go nowhere (they are still formatted and written, as in the task)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# ------------------------------------------------------------------ fit and its bare loop

def adam(params, lr: float) -> torch.optim.Optimizer:
    """torch's Adam with its fused kernel where the device has one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr)


def bare_fit(model: nn.Module, ds: data.Dataset, *, epochs: int, batch_size: int, lr: float, seed: int) -> int:
    """Forward, loss, backward, fused Adam on the minibatches ``fit`` draws; nothing else. Returns the steps."""
    x, y, n = ds.x_train, ds.y_train, len(ds.x_train)
    model.train()
    loss_fn = loss_function(ds.kind)
    opt = adam(model.parameters(), lr)
    gen = torch.Generator(device=x.device).manual_seed(seed)
    steps = 0
    for _ in range(epochs):
        if batch_size >= n:
            batches = [(x, y)]
        else:
            perm = torch.randperm(n, device=x.device, generator=gen)
            batches = ((x.index_select(0, idx), y.index_select(0, idx)) for idx in perm.split(batch_size))
        for xb, yb in batches:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    return steps


def fit_pair(model: nn.Module, ds: data.Dataset, *, epochs: int, batch_size: int, lr: float, seed: int,
             hooks: Callable[[], list] = list, **fit_kw) -> tuple[Callable[[], int], Callable[[], int]]:
    """(hwlib, bare): each trains a deep copy of ``model`` and returns its optimizer steps."""

    def hwlib_side() -> int:
        with sink():
            h = fit(copy.deepcopy(model), ds, epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam",
                    seed=seed, hooks=hooks(), **fit_kw)
        return h.steps

    def bare_side() -> int:
        return bare_fit(copy.deepcopy(model), ds, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)

    return hwlib_side, bare_side


# ------------------------------------------------------------------ ensemble.train and its bare loop

def bare_ensemble(base: ensemble.Ensemble, ds: data.Dataset, *, epochs: int, batch_size: int, lr: float,
                  per_model_y: bool = False) -> int:
    """The ensemble's step and nothing else: the K losses and their gradient, Adam on the (K, P) matrix,
    on the minibatches each model draws in ``ensemble.train``. Returns the steps."""
    x, y, kind = ds.x_train, ds.y_train, ds.kind
    device, n = x.device, len(x)
    theta = base.theta.detach().clone()
    full_batch = batch_size >= n
    loss_and_grad = ensemble.step_gradient(base, kind, full_batch)  # the step ensemble.train takes
    gens = ensemble.generators(base, device)
    opt = FlatOptimizer("adam", theta, lr)
    steps = 0
    for _ in range(epochs):
        for xb, yb in ensemble.minibatches(x, y, gens, batch_size, per_model_y):
            _, g = loss_and_grad(theta, xb, yb)
            opt.step(theta, g)
            steps += 1
    return steps


def ensemble_pair(make, seeds: list[int], ds: data.Dataset, device: torch.device, *, epochs: int,
                  batch_size: int, lr: float, distinct: bool = True, per_model_y: bool = False,
                  **train_kw) -> tuple[Callable[[], int], Callable[[], int], ensemble.Ensemble]:
    """(hwlib, bare, the ensemble): both start from the same (K, P) initialization, copied per run."""
    base = ensemble.build(make, seeds, device, distinct=distinct)
    start = base.theta.detach().clone()

    def hwlib_side() -> int:
        ens = dataclasses.replace(base, theta=start.clone())
        with sink():
            h = ensemble.train(ens, ds, epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam",
                               per_model_y=per_model_y, **train_kw)
        return h.steps

    def bare_side() -> int:
        return bare_ensemble(dataclasses.replace(base, theta=start.clone()), ds, epochs=epochs,
                             batch_size=batch_size, lr=lr, per_model_y=per_model_y)

    return hwlib_side, bare_side, base


# ------------------------------------------------------------------ the lines

def compare(what: str, sides: tuple[Callable[[], int], Callable[[], int]], device: torch.device,
            one_thread: bool, repeats: int | None = None) -> float:
    """Time hwlib's loop against the bare loop, alternating; print the line; return bare / hwlib per step.
    ``one_thread``: the task runs this loop with one CPU thread (unless BENCH_THREADS fixes the count)."""
    before = torch.get_num_threads()
    if one_thread and device.type == "cpu" and not threads_fixed():
        torch.set_num_threads(1)
    try:
        pair = side_by_side(*sides, device, repeats=repeats or REPEATS)
        steps_a, steps_b = pair.a_out, pair.b_out
        if steps_a != steps_b:  # the same work, or the comparison means nothing
            raise RuntimeError(f"{what}: hwlib took {steps_a} optimizer steps, the bare loop {steps_b}")
        ms_a, ms_b = 1e3 * pair.a_median / steps_a, 1e3 * pair.b_median / steps_b
        ratio = ms_b / ms_a
        bare = "bare loop" if device.type == "cpu" else "bare loop (eager, not a CUDA graph)"
        # printed before the thread count is restored: the line names the count the loops ran with
        line(what, "hwlib", f"{ms_a:.3f} ms/step", bare, f"{ms_b:.3f} ms/step",
             target_text(ratio, TARGET, unit="", word="of the bare loop's speed"), device)
        print(f"    hwlib {spread(pair.a)}; bare {spread(pair.b)}; {steps_a} Adam steps each; fastest runs' "
              f"ratio {min(pair.b) / min(pair.a):.2f}", flush=True)
    finally:
        torch.set_num_threads(before)
    return ratio


def fit_lines(device: torch.device) -> None:
    # 1-1b: the deepest CNN of the quick family on digits, batch 64, evaluated on the test set every epoch
    P = quick(t1_1b, device)
    ds = data.load_dataset(P.datasets[0], device, root=P.data_root, train_limit=P.train_limit or None)  # as run() loads it
    depth = max(P.depths)
    model = t1_1b.family(P, ds)[P.depths.index(depth)].to(device)
    epochs = epochs_for(len(ds.x_train), P.batch_size)
    compare(f"1-1b fit: {depth}-block CNN ({models.count_params(model):,} params, BatchNorm), {P.datasets[0]} "
            f"{len(ds.x_train)} images, batch {P.batch_size}, {epochs} epochs, test set every epoch",
            fit_pair(model, ds, epochs=epochs, batch_size=P.batch_size, lr=P.lr, seed=P.seed,
                     label="1-1b"), device, one_thread=False)

    # 1-3a: the MLP on random labels, its hook evaluating the whole training set every epoch
    P = quick(t1_3a, device)
    ds = with_random_labels(t1_3a.common.load_data(P), seed=P.label_seed)
    torch.manual_seed(P.seed)
    model = models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes).to(device)
    epochs = epochs_for(len(ds.x_train), P.batch_size)
    widths = "-".join(str(w) for w in [math.prod(ds.input_shape), *P.widths, ds.n_classes])
    compare(f"1-3a fit: MLP {widths} ({models.count_params(model):,} params), random labels, batch {P.batch_size}, "
            f"{epochs} epochs, test set and (hook) training set every epoch",
            fit_pair(model, ds, epochs=epochs, batch_size=P.batch_size, lr=P.lr, seed=P.seed, label="1-3a",
                     hooks=lambda: [t1_3a.TrainSetMonitor(ds)]), device, one_thread=False)
    # the same without the hook: what fit's own bookkeeping costs, apart from the task's measurement
    compare("1-3a fit alone: as above without the hook (test set every epoch)",
            fit_pair(model, ds, epochs=epochs, batch_size=P.batch_size, lr=P.lr, seed=P.seed, label="1-3a"),
            device, one_thread=False)

    # the BatchNorm CNN of 1-3c/1-3d in train.fit (1-3d trains it with hwlib.to_target, whose checks are whole
    # evaluation passes; this line measures the loop's steps); the target out of reach: both sides run every step
    P = quick(t1_3d, device)
    ds = t1_3d.common.load_data(P)
    seed = P.seeds[0]
    for batch, steps in ((64, STEPS), (1024, STEPS // 5)):  # a step at 1024 is ~10× one at 64
        model = batch_models.build(P, ds, seed)
        epochs = epochs_for(len(ds.x_train), batch, steps)
        compare(f"1-3d CNN fit: BatchNorm CNN {P.channels} ({models.count_params(model):,} params), batch {batch}, "
                f"{epochs} epochs, loss-target check every epoch (target out of reach: both sides run every step)",
                fit_pair(model, ds, epochs=epochs, batch_size=batch, lr=P.lr, seed=seed, log=False,
                         target_loss=1e-30, check_every=1, eval_every=epochs), device, one_thread=False)


def ensemble_lines(device: torch.device) -> None:
    # 1-1a: the functions × seeds of depth 3 as one ensemble, each model its own targets, full batch
    P = quick(t1_1a, device)
    depth = 3
    _, pairs, both = t1_1a.stacked_functions(P)
    make = lambda: models.mlp_for_budget(P.budget, depth, activation=P.activation)
    hw, bare, ens = ensemble_pair(make, [s for _, s in pairs], both, device, epochs=ENSEMBLE_STEPS, batch_size=P.batch_size,
                                  lr=P.lr, distinct=False, per_model_y=True, plateau=t1_1a.plateau(P), label="1-1a")
    compare(f"1-1a ensemble: K = {ens.k} MLPs × {models.count_params(ens.model)} params, depth {depth}, "
            f"{P.n_train} points, full batch, {ENSEMBLE_STEPS} steps, one function per model, plateau rule",
            (hw, bare), device, one_thread=True)

    # 1-2a: 8 runs of the image MLP, minibatches, snapshots of every parameter (and the training-set loss)
    P = quick(t1_2a, device)
    ds = t1_2a.common.load_data(P)
    make = lambda: models.mlp(P.widths, in_dim=math.prod(ds.input_shape), out_dim=ds.n_classes)
    epochs = max(1, epochs_for(len(ds.x_train), P.batch_size, ENSEMBLE_STEPS) // P.snapshot_every) * P.snapshot_every
    hw, bare, ens = ensemble_pair(make, list(range(P.runs)), ds, device, epochs=epochs, batch_size=P.batch_size,
                                  lr=P.lr, snapshot_every=P.snapshot_every, eval_every=epochs, label="1-2a")
    compare(f"1-2a ensemble: K = {ens.k} MLPs × {models.count_params(ens.model):,} params, batch {P.batch_size}, "
            f"{epochs} epochs, snapshot every {P.snapshot_every}", (hw, bare), device, one_thread=True)

    # 1-2b: every step's loss and gradient norm recorded, on the 1-D function (full batch) and on images
    P = quick(t1_2b, device)
    for name in P.datasets:
        if name in data.FUNCTIONS:
            ds = data.function_data(name, device, n_train=P.function_n_train)
            widths, bs, lr, epochs = P.function_widths, P.function_n_train, P.function_lr, ENSEMBLE_STEPS
        else:
            ds = data.load_dataset(name, device, root=P.data_root, train_limit=P.train_limit or None)
            widths, bs, lr = P.image_widths, P.image_batch_size, P.image_lr
            epochs = epochs_for(len(ds.x_train), bs, ENSEMBLE_STEPS)
        make = lambda widths=widths, ds=ds: models.mlp(widths, in_dim=math.prod(ds.input_shape), out_dim=ds.out_dim)
        hw, bare, ens = ensemble_pair(make, list(range(P.seeds)), ds, device, epochs=epochs, batch_size=bs, lr=lr,
                                      eval_every=epochs, record_steps=True, label=name)
        batch = "full batch" if bs >= len(ds.x_train) else f"batch {bs}"
        compare(f"1-2b ensemble: K = {ens.k} MLPs × {models.count_params(ens.model):,} params, {name} "
                f"{len(ds.x_train)}, {batch}, {epochs} epochs, every step's loss and ‖∇L‖ recorded",
                (hw, bare), device, one_thread=True)

    # 1-2c: phase 1, 100 MLPs full batch
    P = quick(t1_2c, device)
    ds = data.function_data(P.function, device, n_train=P.n_train)
    hw, bare, ens = ensemble_pair(t1_2c.make_model(P), list(range(P.runs)), ds, device, epochs=ENSEMBLE_STEPS,
                                  batch_size=P.n_train, lr=P.lr, label="phase 1 (MSE)")
    compare(f"1-2c ensemble: K = {ens.k} MLPs × {models.count_params(ens.model)} params, {P.function} {P.n_train} "
            f"points, full batch, {ENSEMBLE_STEPS} steps", (hw, bare), device, one_thread=True)

    # 1-3b: the seeds of one width of the MLP family (every width trains the same way)
    P = quick(t1_3b, device)
    ds = t1_3b.common.load_data(P)
    width = 32
    epochs = epochs_for(len(ds.x_train), P.batch_size, ENSEMBLE_STEPS)
    hw, bare, ens = ensemble_pair(lambda: t1_3b.build(P, ds, width), list(P.seeds), ds, device, epochs=epochs,
                                  batch_size=P.batch_size, lr=P.lr, log=False)
    compare(f"1-3b ensemble: K = {ens.k} seeds of the width-{width} MLP ({models.count_params(ens.model):,} params), "
            f"batch {P.batch_size}, {epochs} epochs", (hw, bare), device, one_thread=False)


def main() -> None:
    device = bench_device()
    fit_lines(device)
    ensemble_lines(device)


if __name__ == "__main__":
    main()
