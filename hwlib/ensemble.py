"""K models of one architecture trained at once, as one vectorized computation.

Each model is a row of a (K, P) matrix of flat parameters. How the K models compute is chosen once,
when the ensemble is made (``backend``): for an MLP, ``hwlib.batched_mlp`` runs each layer of all K
models as one batched product and writes out the backward pass; for any other model the forward
pass is ``vmap(functional_call)`` over the rows (torch.func) and the backward pass is ordinary
autograd on the sum of the K losses (the models share nothing, so row k of that gradient is model
k's own gradient). The optimizer (``hwlib.flat_optim``) steps the whole matrix at once. The per-step
Python and kernel-launch overhead is then paid once for all K models instead of K times — the point
on a CPU, where tiny models are overhead-bound.

Every model has its own seed: it sets the initialization (the model is built right after
``torch.manual_seed(seed)``) and the data order (a generator seeded the same way, drawing a
permutation each epoch exactly as ``hwlib.train.fit`` does). The ensemble therefore
reproduces K separate ``fit`` runs, which tests/test_ensemble.py checks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import vmap

from . import batched_mlp, flat
from .data import Dataset
from .flat_optim import FlatOptimizer
from .losses import LOSSES
from .progress import Progress
from .train import Plateau, check_interval, divergence


def per_model_loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """(K,) mean loss of each model's outputs (K, B, ...) against shared y (B, ...) or its own y (K, B, ...)."""
    return LOSSES[kind].per_model(out, y)


@dataclass(frozen=True)
class Backend:
    """How an ensemble computes, chosen once for its model: every method of ``Ensemble`` runs through these three."""
    name: str
    outputs: Callable  # (Θ, x, per_model_x) -> (K, B, out)
    loss_and_grad: Callable  # (Θ, x, y, kind, per_model_x) -> (losses (K,), ∇ (K, P))
    grad_and_hvp: Callable  # (Θ, x, y, kind, per_model_x, v) -> (losses (K,), ∇ (K, P), H v (K, P))


def backend(model: nn.Module, batched: bool = True) -> Backend:
    """An MLP of ReLU or tanh layers: ``hwlib.batched_mlp``'s batched forward pass and its written-out derivatives.
    Any other MLP (GELU): its batched forward pass, differentiated by autograd. Any other model, or ``batched``
    off (the tests' reference): ``vmap(functional_call)`` over the rows, differentiated by autograd."""
    fast = batched_mlp.forward(model) if batched else None
    written_out = batched_mlp.loss_and_grad(model) if batched else None
    if written_out is not None:
        return Backend("written out", fast, written_out, batched_mlp.grad_and_hvp(model))
    if fast is not None:
        return Backend("batched forward, autograd", fast, *_by_autograd(fast))
    one = flat.flat_forward(model)
    vmapped = lambda theta, x, per_model_x=False: vmap(one, in_dims=(0, 0 if per_model_x else None))(theta, x)
    return Backend("vmap, autograd", vmapped, *_by_autograd(vmapped))


def _by_autograd(outputs: Callable) -> tuple[Callable, Callable]:
    """loss_and_grad and grad_and_hvp of ``Backend`` by autograd on the sum of the K losses: the models share
    nothing, so row k of its gradient is model k's own gradient (and likewise for H v)."""

    def loss_and_grad(theta, x, y, kind, per_model_x=False):
        leaf = theta.detach().requires_grad_(True)  # the gradient of these K losses, not of what made Θ
        losses = LOSSES[kind].per_model(outputs(leaf, x, per_model_x), y)
        (g,) = torch.autograd.grad(losses.sum(), leaf)
        return losses.detach(), g

    def grad_and_hvp(theta, x, y, kind, per_model_x=False, v=None):
        leaf = theta.detach().requires_grad_(True)
        losses = LOSSES[kind].per_model(outputs(leaf, x, per_model_x), y)
        (g,) = torch.autograd.grad(losses.sum(), leaf, create_graph=True)
        (hv,) = torch.autograd.grad((g * (g.detach() if v is None else v)).sum(), leaf)
        return losses.detach(), g.detach(), hv

    return loss_and_grad, grad_and_hvp


@dataclass
class Ensemble:
    model: nn.Module  # lends its structure to functional_call; its own weights are not used
    theta: torch.Tensor  # (K, P) flat parameters, one row per model
    seeds: list[int]
    batched: bool = True  # hwlib.batched_mlp where the model allows it (False: vmap and autograd, the tests' reference)
    backend: Backend = field(init=False, repr=False)

    def __post_init__(self):
        self.backend = backend(self.model, self.batched)

    @property
    def k(self) -> int:
        return self.theta.shape[0]

    @property
    def spec(self) -> list[tuple[str, torch.Size]]:
        return flat.param_spec(self.model)

    def outputs(self, theta: torch.Tensor, x: torch.Tensor, per_model_x: bool = False) -> torch.Tensor:
        """(K, B, out): every model on x (B, ...) shared, or on its own x (K, B, ...)."""
        return self.backend.outputs(theta, x, per_model_x)

    def loss_of_theta(self, x: torch.Tensor, y: torch.Tensor, kind: str):
        """θ -> scalar mean loss of ONE model on (x, y), torch's own loss: what curvature's functions differentiate."""
        f, loss_fn = flat.flat_forward(self.model), LOSSES[kind].one
        return lambda theta: loss_fn(f(theta, x), y)

    def losses_of_theta(self, x: torch.Tensor, y: torch.Tensor, kind: str):
        """Θ (K, P) -> (K,) mean loss of every model on (x, y) at once."""
        return lambda theta: per_model_loss(self.outputs(theta, x), y, kind)

    def grad_norm_step(self, x: torch.Tensor, y: torch.Tensor, kind: str):
        """Θ (K, P) -> (∇‖∇L‖² (K, P), ‖∇L‖² (K,)) of every model on (x, y): the step of
        ``curvature.grad_norm_phase``. The gradient of ‖∇L‖² is 2 H ∇L, a Hessian-vector product."""

        def step(theta: torch.Tensor):
            _, g, hg = self.backend.grad_and_hvp(theta, x, y, kind)
            return 2 * hg, (g * g).sum(1)

        return step

    def hessians(self, x: torch.Tensor, y: torch.Tensor, kind: str, theta: torch.Tensor, chunk: int = 1) -> torch.Tensor:
        """(K, P, P) exact Hessians of every row's mean loss on (x, y), ``chunk`` rows per call to bound memory.
        Row j of each is H e_j: P Hessian-vector products with the unit vectors, every row of a chunk in one pass."""
        p = theta.shape[1]
        eye = torch.eye(p, dtype=theta.dtype, device=theta.device)
        out = []
        for part in theta.split(chunk):
            _, _, hv = self.backend.grad_and_hvp(part.repeat_interleave(p, 0), x, y, kind, False, eye.repeat(len(part), 1))
            out.append(hv.view(len(part), p, p))
        return torch.cat(out)


def build(make_model, seeds: list[int], device: torch.device | str, dtype: torch.dtype = torch.float32,
          distinct: bool = True, batched: bool = True) -> Ensemble:
    """Build one model per seed, each right after ``torch.manual_seed(seed)`` (its own init).
    ``distinct=False`` allows a seed twice, for models that differ in their targets (``per_model_y``);
    ``batched=False`` computes through vmap and autograd whatever the model (``backend``)."""
    if not seeds:
        raise ValueError("seeds=[] : an ensemble needs at least one seed")
    if distinct and len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={seeds}: seeds must be distinct, or the 'independent' runs coincide")
    rows, model = [], None
    for s in seeds:
        torch.manual_seed(s)
        m = make_model().to(device=device, dtype=dtype)
        rows.append(flat.flatten(m))
        model = m if model is None else model
    if any(True for _ in model.buffers()):
        raise ValueError("the model has buffers (e.g. BatchNorm): the flat-parameter ensemble supports "
                         "buffer-free models only")
    return Ensemble(model, torch.stack(rows), list(seeds), batched)


@torch.no_grad()
def evaluate(ens: Ensemble, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, kind: str,
             chunk: int = 4096, per_model_y: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mean loss (K,) and accuracy (K,) of every model on (x, y), as device tensors.
    ``per_model_y``: y is (K, n, ...), model k's own targets for the shared inputs x."""
    total = torch.zeros(ens.k, device=x.device, dtype=torch.float64)
    correct = torch.zeros(ens.k, device=x.device, dtype=torch.float64)
    for i in range(0, len(x), chunk):
        # (K, B, out), contiguous: argmax over batched_mlp's transposed view is a slow strided case
        out = ens.outputs(theta, x[i:i + chunk]).contiguous()
        yb = y[:, i:i + chunk] if per_model_y else y[i:i + chunk]
        total += per_model_loss(out, yb, kind) * out.shape[1]  # the chunk's summed loss, per model
        if kind == "classification":
            correct += (out.argmax(-1) == yb).sum(1)
    n = max(len(x), 1)
    return total / n, (correct / n if kind == "classification" else None)


def generators(ens: Ensemble, device: torch.device | str) -> list[torch.Generator]:
    """One generator per model, seeded with its seed: the data order ``fit(seed=...)`` would draw."""
    return [torch.Generator(device=device).manual_seed(s) for s in ens.seeds]


def minibatches(x: torch.Tensor, y: torch.Tensor, gens: list[torch.Generator], batch_size: int,
                per_model_y: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch's batches: the whole shared set when batch_size ≥ n, else (K, B, ...) batches of each
    model's own permutation (``torch.randperm`` from its generator, as ``fit`` draws them)."""
    n = len(x)
    if batch_size >= n:
        return [(x, y)]
    perm = torch.stack([torch.randperm(n, device=x.device, generator=g) for g in gens])  # (K, n)
    rows = torch.arange(len(gens), device=x.device)[:, None]  # model k's row, to gather its own targets
    return [(x[idx], y[rows, idx] if per_model_y else y[idx]) for idx in perm.split(batch_size, dim=1)]


@dataclass
class EnsembleHistory:
    epoch: list[int] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)  # per epoch, per model (mean of its minibatches)
    eval_epoch: list[int] = field(default_factory=list)
    test_loss: list[list[float]] = field(default_factory=list)
    test_acc: list[list[float]] = field(default_factory=list)
    step_loss: torch.Tensor | None = None  # (steps, K): minibatch loss at every iteration
    step_grad_norm: torch.Tensor | None = None  # (steps, K): ‖∇L‖ over all parameters, every iteration
    snapshot_epoch: list[int] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)  # (K, P) on the CPU, per snapshot epoch
    snapshot_loss: list[list[float]] = field(default_factory=list)  # whole training set, at the snapshot
    snapshot_acc: list[list[float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    # per model, as fit's History has them: epochs it trained (its rows of train_loss beyond are not its
    # own: its parameters were set back to where it stopped), why it stopped early, where it diverged
    epochs_run: list[int] = field(default_factory=list)
    stopped: list[str | None] = field(default_factory=list)
    diverged: list[dict | None] = field(default_factory=list)

    def curve(self, i: int) -> list[float]:
        """Model i's training loss per epoch, up to where it stopped."""
        return [row[i] for row in self.train_loss[:self.epochs_run[i]]]


def step_gradient(ens: Ensemble, kind: str, full_batch: bool):
    """(Θ, xb, yb) -> (the K losses (K,), their gradient (K, P)): one training step's, as ``train`` takes it.
    xb is shared (full batch) or per model, and yb shared or per model, as ``minibatches`` gives them."""
    loss_and_grad = ens.backend.loss_and_grad
    return lambda th, xb, yb: loss_and_grad(th.detach(), xb, yb, kind, not full_batch)


def train(ens: Ensemble, data: Dataset, *, epochs: int, batch_size: int, lr: float, optimizer: str = "adam",
          eval_every: int = 0, snapshot_every: int = 0, record_steps: bool = False,
          label: str = "", log: bool = True, plateau: Plateau | None = None, check_every: int | None = None,
          per_model_y: bool = False) -> EnsembleHistory:
    """Train all K models in place (``ens.theta`` is updated) and return their history.

    Minibatches: model k draws ``torch.randperm(n)`` each epoch from its own generator seeded with
    ``ens.seeds[k]`` (as ``fit(seed=...)`` does); a batch size ≥ n is full-batch. Snapshots of all
    parameters (with the loss/accuracy on the whole training set) are taken at epoch 0 and every
    ``snapshot_every`` epochs; ``record_steps`` keeps each iteration's loss and gradient norm.

    Early stops are fit's, model by model, at the same checkpoints (``check_interval``): a model whose
    loss became NaN/Inf, or that met ``plateau``, stops there. Its row keeps being computed with the
    others (that costs nothing extra in one vectorized step) but is set back to its state at the stop,
    so every model ends as its own ``fit`` run would; the loop ends when every model has stopped.
    ``per_model_y``: ``data.y_train``/``y_test`` are (K, n, ...), model k's own targets for the
    shared inputs (e.g. one function per model).
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value < 1:
            raise ValueError(f"{name}={value} is not allowed: {name} must be ≥ 1")
    if not lr > 0:
        raise ValueError(f"lr={lr} is not allowed: lr must be > 0")
    x, y, kind = data.x_train, data.y_train, data.kind
    device, n, k = x.device, len(x), ens.k
    full_batch = batch_size >= n
    gens = generators(ens, device)
    theta = ens.theta
    opt = FlatOptimizer(optimizer, theta, lr)
    loss_and_grad = step_gradient(ens, kind, full_batch)
    hist = EnsembleHistory()
    steps_per_epoch = math.ceil(n / batch_size)
    step_loss = torch.zeros(epochs * steps_per_epoch if record_steps else 0, k, device=device, dtype=theta.dtype)
    step_norm = torch.zeros_like(step_loss)
    epoch_loss = torch.zeros(epochs, k, device=device, dtype=torch.float64)
    progress = Progress(epochs, label, enabled=log)
    start, step = time.perf_counter(), 0
    check_every = check_every or check_interval(steps_per_epoch)
    kept = theta.detach().clone()  # row i: model i's parameters at its stop
    active = [True] * k
    hist.epochs_run, hist.stopped, hist.diverged = [epochs] * k, [None] * k, [None] * k
    host_loss: list[list[float]] = [[] for _ in range(k)]  # read back at checkpoints only (a sync)

    def check(epoch: int) -> None:
        new = (epoch_loss[len(host_loss[0]):epoch] / n).T.tolist()
        for i in range(k):
            host_loss[i] += new[i]
            if not active[i]:
                continue
            losses = host_loss[i]
            if (found := divergence(losses)) is not None:
                hist.epochs_run[i], hist.diverged[i], hist.stopped[i] = found
            elif plateau is not None and plateau.reached(losses):
                hist.stopped[i] = f"plateau at epoch {epoch}: {plateau.describe()}"
                hist.epochs_run[i] = epoch
            else:
                continue
            active[i] = False
            kept[i] = theta.detach()[i]

    def snapshot(epoch):
        tl, ta = evaluate(ens, theta.detach(), x, y, kind, per_model_y=per_model_y)
        hist.snapshot_epoch.append(epoch)
        hist.snapshots.append(theta.detach().cpu().clone())
        hist.snapshot_loss.append(tl.tolist())
        hist.snapshot_acc.append(ta.tolist() if ta is not None else [])

    if snapshot_every:
        snapshot(0)
    for epoch in range(1, epochs + 1):
        for xb, yb in minibatches(x, y, gens, batch_size, per_model_y):
            losses, g = loss_and_grad(theta, xb, yb)  # (K,), (K, P)
            opt.step(theta, g)
            if record_steps:
                step_loss[step] = losses
                torch.linalg.vector_norm(g, dim=1, out=step_norm[step])  # not Tensor.norm, whose Python wrapper outweighs it
            epoch_loss[epoch - 1].add_(losses, alpha=n if full_batch else xb.shape[1])  # one op, in float64
            step += 1
        if eval_every and (epoch % eval_every == 0 or epoch == epochs):
            tl, ta = evaluate(ens, theta.detach(), data.x_test, data.y_test, kind, per_model_y=per_model_y)
            hist.eval_epoch.append(epoch)
            hist.test_loss.append(tl.tolist())
            hist.test_acc.append(ta.tolist() if ta is not None else [])
        if snapshot_every and epoch % snapshot_every == 0:
            snapshot(epoch)
        if epoch % check_every == 0 or epoch == epochs:
            check(epoch)
            if not any(active):
                break
        if epoch < epochs and progress.due(epoch):  # the last line comes from done()
            progress.update(epoch, median_loss=float(epoch_loss[epoch - 1].median() / n))
    with torch.no_grad():
        done = torch.tensor([not a for a in active], device=device)
        theta[done] = kept[done]
    last = epoch
    hist.epoch = list(range(1, last + 1))
    hist.train_loss = (epoch_loss[:last] / n).tolist()
    hist.step_loss = step_loss.cpu() if record_steps else None
    hist.step_grad_norm = step_norm.cpu() if record_steps else None
    hist.steps = step
    hist.seconds = time.perf_counter() - start
    finals = [host_loss[i][hist.epochs_run[i] - 1] for i in range(k) if hist.epochs_run[i] >= 1]
    progress.done(last, median_loss=float(torch.tensor(finals).median()) if finals else float("nan"))
    return hist
