"""Train a model until its training loss — in eval mode, over the whole training set — lies within
a band around one target.

Models compared for flatness or sensitivity (1-3c, 1-3d, 1-3e) must end equally trained, or every
measure also measures how far each was trained. Stopping at an epoch's end once the epoch's mean
minibatch loss (train mode) is under the target overshoots: a small batch runs many steps an epoch,
and at batch 16 the models ended anywhere from 0.024 to 0.045 against a target of 0.05. Here the
loss that decides is the one the report prints — eval mode, the whole training set — measured
between steps at a spacing read from the recorded curve:

- the next check is half the steps the last two checks predict to the target (the loss falling
  geometrically between them), so the checks close in on the band instead of stepping over it,
  and the spacing at most doubles from one check to the next;
- a check that lands below the band (the loss fell faster than predicted) restores the state of
  the check before it — weights, optimizer, data order — and bisects the steps between the two.
  A restored run continues exactly as it would have, so a model's weights are those of one
  uninterrupted run stopped at its final step. Only where one single step falls through the whole
  band does a model end outside it (on the side closer to the target, and ``reached`` says so).

A check costs one forward pass over the training set; 1-3d's quick models take about 15 to 40 of them.
"""

from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn

from .data import Dataset
from .progress import Progress
from .train import evaluate, evaluate_tensors, loss_function, make_optimizer

TOLERANCE = 0.10  # the band: every model ends within ±10 % of the target loss
FIRST_GAP = 10  # steps before the second check (the first is at step 0)


def band(target: float, tolerance: float = TOLERANCE) -> tuple[float, float]:
    return target * (1 - tolerance), target * (1 + tolerance)


def next_gap(curve: list[tuple[int, float]], target: float, gap: int) -> int:
    """Steps to the next check: half the steps the last two checks predict to the target, at least
    1, at most twice the last spacing (and twice the last spacing while the loss does not fall)."""
    (s0, l0), (s1, l1) = curve[-2], curve[-1]
    most = 2 * gap
    if not (0 < l1 < l0):
        return most
    rate = (math.log(l0) - math.log(l1)) / (s1 - s0)  # log-loss fallen per step
    return max(1, min(most, math.ceil(0.5 * (math.log(l1) - math.log(target)) / rate)))


class _Snapshot:
    """Everything the next steps depend on at one check: weights and buffers, optimizer state, the
    data order (the permutation, the place in it and the generator that draws the next one)."""

    def __init__(self, model, opt, gen, perm, pos, step):
        self.model = copy.deepcopy(model.state_dict())
        self.opt = copy.deepcopy(opt.state_dict())
        self.gen = gen.get_state()
        self.perm, self.pos, self.step = perm, pos, step

    def restore(self, model, opt, gen):
        model.load_state_dict(self.model)
        opt.load_state_dict(copy.deepcopy(self.opt))
        gen.set_state(self.gen)
        return self.perm, self.pos, self.step


def fit_to_loss(model: nn.Module, data: Dataset, *, batch_size: int, lr: float, optimizer: str, seed: int,
                target: float, max_steps: int, tolerance: float = TOLERANCE, label: str = "") -> dict:
    """Train ``model`` in place until its eval-mode training loss is within ±tolerance of ``target``,
    or ``max_steps``, or a non-finite loss. Returns the run's record: steps, whether it ended in the
    band (``reached``), the checks made and restores done, the curve of checks [(step, loss)], and
    the final train/test loss and accuracy (eval mode, whole sets)."""
    if max_steps < 1:
        raise ValueError(f"max_steps={max_steps} is not allowed: use a whole number ≥ 1")
    if not target > 0:
        raise ValueError(f"target={target} is not allowed: the target loss must be > 0")
    x, y = data.x_train, data.y_train
    n, device = len(x), x.device
    low, high = band(target, tolerance)
    model.to(device).train()
    opt = make_optimizer(optimizer, model.parameters(), lr)
    loss_fn = loss_function(data.kind)
    gen = torch.Generator(device=device).manual_seed(seed)  # the data order, as train.fit draws it
    progress = Progress(max_steps, label, enabled=False)  # only the 30 s heartbeat: callers print per model
    start = time.perf_counter()

    def check() -> float:
        return evaluate_tensors(model, x, y, data.kind)[0].item()

    perm, pos, step = None, n, 0  # pos = n: the first step draws a permutation

    def train_to(goal: int) -> None:
        nonlocal perm, pos, step
        while step < goal:
            if pos >= n:
                perm, pos = torch.randperm(n, device=device, generator=gen), 0
            idx = perm[pos:pos + batch_size]
            pos += batch_size
            loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            progress.beat(lambda: {"step": f"{step}/{max_steps}", "minibatch loss": loss.item(),
                                   "last check": curve[-1][1]})

    curve = [(0, check())]  # the checks that stand: (step, eval-mode training loss)
    gap, restores, diverged = FIRST_GAP, 0, False
    below = None  # (step, loss) of the earliest check known to lie below the band
    while curve[-1][1] > high and step < max_steps:
        goal = min(step + gap, max_steps, below[0] - 1 if below else max_steps)
        if goal <= step:  # the very next step falls through the whole band: keep the side closer to the target
            if abs(math.log(below[1] / target)) < abs(math.log(curve[-1][1] / target)):
                train_to(below[0])
                curve.append((step, check()))
            break
        snap = _Snapshot(model, opt, gen, perm, pos, step)
        train_to(goal)
        value = check()
        if not math.isfinite(value):
            diverged = True
            curve.append((step, value))
            break
        if value < low:  # stepped over the band: back to the last check, then bisect towards this one
            below = (step, value)
            perm, pos, step = snap.restore(model, opt, gen)
            gap, restores = max(1, (below[0] - step) // 2), restores + 1
            continue
        curve.append((step, value))
        gap = next_gap(curve, target, gap)
    tr_loss, tr_acc = evaluate(model, x, y, data.kind)
    te_loss, te_acc = evaluate(model, data.x_test, data.y_test, data.kind)
    reached = (not diverged) and low <= tr_loss <= high
    return {"batch_size": batch_size, "lr": lr, "seed": seed, "steps": step, "epochs": step / math.ceil(n / batch_size),
            "reached": reached, "diverged": diverged, "checks": len(curve) + restores, "restores": restores,
            "curve": [[s, v] for s, v in curve], "seconds": time.perf_counter() - start,
            "train_loss": tr_loss, "train_acc": tr_acc, "test_loss": te_loss, "test_acc": te_acc,
            "gap_loss": te_loss - tr_loss, "gap_acc": (tr_acc - te_acc) if tr_acc is not None else None}
