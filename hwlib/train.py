"""The training loop: device-resident minibatches, per-epoch records, hooks, early stops.

Data already lives on the device (``hwlib.data``); a minibatch is an index slice of an
on-device permutation, so there is no DataLoader, no worker process and no host→device copy
per step. Metrics accumulate as device tensors and are read back (a sync) only when a
progress line, a plateau check or the divergence check needs them — every ``check_every``
epochs — so a GPU is never stalled once per step.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .data import Dataset
from .flat_optim import OPTIMIZERS
from .losses import LOSSES
from .progress import Progress

EVAL_CHUNK = 8192  # rows per forward pass in evaluation: bounded memory, still few passes


def loss_function(kind: str):
    """Mean squared error for regression, cross-entropy (on logits) for classification: torch's own functions."""
    return LOSSES[kind].one


def divergence(losses: list[float]) -> tuple[int, dict, str] | None:
    """None while the last of a run's epoch losses is finite; else (the epochs it trained before its loss first
    became NaN or infinite, the record of where, why it stopped)."""
    if math.isfinite(losses[-1]):
        return None
    bad = next(i for i, v in enumerate(losses) if not math.isfinite(v))
    finite = [v for v in losses[:bad] if math.isfinite(v)]
    return (bad, {"epoch": bad + 1, "last_finite_loss": finite[-1] if finite else None},
            f"diverged: the training loss became {losses[bad]} at epoch {bad + 1}")


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """The optimizer with its fused kernel where the device has one: one kernel updates every
    parameter tensor instead of ~10 small ops per tensor per step. The update is the same up to
    float rounding; it buys 2.1x instead of 1.45x over a DataLoader loop for a 575-parameter MLP
    at batch 64 (bench/bench_train.py), and ~15 % of an MNIST-shaped epoch on a CPU."""
    params = list(params)  # a generator would be spent by a first, refused attempt
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is unknown: use one of {', '.join(OPTIMIZERS)}")
    try:
        return _optimizer(name, params, lr, fused=True)
    except RuntimeError:  # a device (or a torch before 2.4 on CPU) without fused kernels
        return _optimizer(name, params, lr, fused=None)


def _optimizer(name: str, params: list, lr: float, fused: bool | None) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, fused=fused)
    momentum = 0.9 if name == "sgd_momentum" else 0.0
    return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=fused)


@torch.no_grad()
def evaluate_tensors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str,
                     batch_size: int = EVAL_CHUNK) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mean loss and accuracy over (x, y) in eval mode, as device scalars (no sync)."""
    was_training = model.training
    model.eval()
    loss_fn = loss_function(kind)
    total = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        total += loss_fn(out, yb, reduction="sum") / (out.shape[1] if kind == "regression" else 1)
        if kind == "classification":
            correct += (out.argmax(1) == yb).sum()
    model.train(was_training)
    n = max(len(x), 1)
    return total / n, (correct / n if kind == "classification" else None)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str,
             batch_size: int = EVAL_CHUNK) -> tuple[float, float | None]:
    loss, acc = evaluate_tensors(model, x, y, kind, batch_size)
    return loss.item(), (acc.item() if acc is not None else None)


@dataclass
class Plateau:
    """Stop when the best training loss of the last ``window`` epochs is not at least ``rel_tol``
    (relative) below the best loss before them."""

    window: int = 1000
    rel_tol: float = 0.01

    def describe(self) -> str:
        return (f"stop when the best training loss of the last {self.window} epochs is less than "
                f"{self.rel_tol:.0%} below the best before them")

    def reached(self, losses: list[float]) -> bool:
        if len(losses) <= self.window:
            return False
        before = min(losses[:-self.window])
        recent = min(losses[-self.window:])
        return recent > before * (1 - self.rel_tol)


@dataclass
class History:
    label: str = ""
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    eval_epoch: list[int] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epochs_planned: int = 0
    stopped: str | None = None  # why training ended before epochs_planned (target, plateau, divergence)
    target_epoch: int | None = None  # the check epoch at which the epoch's training loss reached target_loss
    diverged: dict | None = None  # {"epoch", "last_finite_loss"} when the loss became NaN/Inf
    final: dict = field(default_factory=dict)  # train/test loss and accuracy, eval mode, at the end
    seconds: float = 0.0
    steps: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def check_interval(steps_per_epoch: int) -> int:
    """Epochs between the read-backs of the metrics (a device sync) and the plateau and divergence
    checks: every epoch when an epoch is 10 steps or more; every 25 epochs for tiny problems of a
    step or two per epoch, which run thousands of epochs. The checks fall on fixed epochs, never
    on the clock, so where a run stops does not depend on the machine's speed."""
    return 1 if steps_per_epoch >= 10 else 25


def _call_all(hooks, name):
    return [getattr(h, name) for h in hooks if hasattr(h, name)]


def fit(model: nn.Module, data: Dataset, *, epochs: int, batch_size: int, lr: float, optimizer: str = "adam",
        seed: int = 0, hooks=(), eval_every: int = 1, plateau: Plateau | None = None, label: str = "",
        log: bool = True, check_every: int | None = None, target_loss: float | None = None) -> History:
    """Train ``model`` on ``data`` in place and return its History.

    Minibatches follow a permutation drawn each epoch from a generator seeded with ``seed``, so
    the data order is reproducible and independent of the model's initialization (seed the
    model yourself before building it). A batch size ≥ the training set is full-batch (no
    permutation). The test set is evaluated every ``eval_every`` epochs and at the end.
    Training stops early on ``plateau``, when the loss becomes NaN/Inf (recorded in
    ``history.diverged``; the run is kept, not raised), or once an epoch's mean minibatch loss
    is at most ``target_loss`` (``history.target_epoch``). Like the others, the target is
    checked only on check epochs, where the metrics are read back anyway: no extra sync.
    """
    if epochs < 1:
        raise ValueError(f"epochs={epochs} is not allowed: epochs must be ≥ 1")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} is not allowed: batch_size must be ≥ 1")
    if not lr > 0:
        raise ValueError(f"lr={lr} is not allowed: lr must be > 0")
    x, y = data.x_train, data.y_train
    device, n = x.device, len(x)
    model.to(device).train()
    opt = make_optimizer(optimizer, model.parameters(), lr)
    loss_fn = loss_function(data.kind)
    classify = data.kind == "classification"
    full_batch = batch_size >= n
    gen = torch.Generator(device=device).manual_seed(seed)
    after_backward = _call_all(hooks, "after_backward")
    end_epoch = _call_all(hooks, "end_epoch")
    steps_per_epoch = math.ceil(n / batch_size)
    check_every = check_every or check_interval(steps_per_epoch)

    hist = History(label=label, epochs_planned=epochs)
    # losses are summed in the model's own precision: a float64 model's loss overflows at float64's limit, not float32's
    dtype = next(model.parameters()).dtype
    train_loss_t = torch.zeros(epochs, device=device, dtype=dtype)
    train_acc_t = torch.zeros(epochs, device=device)
    test_t: list[tuple[int, torch.Tensor, torch.Tensor | None]] = []
    progress = Progress(epochs, label, enabled=log)
    synced = 0  # epochs already copied into hist lists
    step = 0
    start = time.perf_counter()

    def sync(upto: int) -> None:
        nonlocal synced
        if upto > synced:
            hist.epoch += list(range(synced + 1, upto + 1))
            hist.train_loss += train_loss_t[synced:upto].tolist()
            if classify:
                hist.train_acc += train_acc_t[synced:upto].tolist()
            synced = upto

    epoch = 0
    for epoch in range(1, epochs + 1):
        total = torch.zeros((), device=device, dtype=dtype)
        correct = torch.zeros((), device=device)
        perm = None if full_batch else torch.randperm(n, device=device, generator=gen)
        for i in range(0, n, batch_size):
            if full_batch:
                xb, yb = x, y
            else:
                idx = perm[i:i + batch_size]
                xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for hook in after_backward:
                hook(model, step)
            opt.step()
            step += 1
            # a line when 30 s passed without one, inside the epoch too: one epoch of a small batch on MNIST
            # runs thousands of steps, minutes on a CPU (a time check costs ~0.1 us, a step far more)
            progress.beat(lambda: {"epoch": f"{epoch}/{epochs}", "step": f"{step - (epoch - 1) * steps_per_epoch}"
                                   f"/{steps_per_epoch}", "minibatch loss": loss.item()})
            total += loss.detach() * len(xb)
            if classify:
                correct += (out.detach().argmax(1) == yb).sum()
        train_loss_t[epoch - 1] = total / n
        metrics = {"train_loss": train_loss_t[epoch - 1]}
        if classify:
            train_acc_t[epoch - 1] = correct / n
            metrics["train_acc"] = train_acc_t[epoch - 1]
        if epoch % eval_every == 0 or epoch == epochs:
            tl, ta = evaluate_tensors(model, data.x_test, data.y_test, data.kind)
            test_t.append((epoch, tl, ta))
            metrics.update(test_loss=tl, test_acc=ta)
        for hook in end_epoch:
            hook(model, epoch, metrics)
        checkpoint = epoch % check_every == 0 or epoch == epochs
        if checkpoint or progress.due(epoch):
            sync(epoch)
            if checkpoint and (found := divergence(hist.train_loss)) is not None:
                bad, hist.diverged, hist.stopped = found
                del hist.epoch[bad:], hist.train_loss[bad:], hist.train_acc[bad:]
                break
            if checkpoint and target_loss is not None and hist.train_loss[-1] <= target_loss:
                hist.target_epoch = epoch
                hist.stopped = f"target at epoch {epoch}: the epoch's training loss {hist.train_loss[-1]:.4g} ≤ {target_loss:g}"
                break
            if checkpoint and plateau is not None and plateau.reached(hist.train_loss):
                hist.stopped = f"plateau at epoch {epoch}: {plateau.describe()}"
                break
            if epoch < epochs:  # the closing line below reports the last epoch
                progress.update(epoch, loss=hist.train_loss[-1],
                                **({"acc": hist.train_acc[-1]} if classify else {}))

    sync(epoch)
    last = hist.epoch[-1] if hist.epoch else 0
    for e, tl, ta in test_t:
        if e <= last:
            hist.eval_epoch.append(e)
            hist.test_loss.append(tl.item())
            if ta is not None:
                hist.test_acc.append(ta.item())
    hist.steps = step
    tr_loss, tr_acc = evaluate(model, x, y, data.kind)
    te_loss, te_acc = evaluate(model, data.x_test, data.y_test, data.kind)
    hist.final = {"train_loss": tr_loss, "train_acc": tr_acc, "test_loss": te_loss, "test_acc": te_acc}
    hist.seconds = time.perf_counter() - start
    progress.done(last, loss=hist.final["train_loss"], test_loss=te_loss,
                  **({"acc": tr_acc, "test_acc": te_acc} if classify else {}))
    if hist.stopped and log:
        print(f"{label}: {hist.stopped}", flush=True)
    return hist
