"""Curvature of the training loss: exact Hessians, Lanczos, the grad-norm phase.

Two routes to the Hessian H of a loss L(θ):
- small models (a few hundred parameters): the exact, full matrix — all parameters, every
  cross-layer block — from ``torch.func.hessian`` of L written as a function of ONE flat
  parameter vector (hwlib.flat), symmetrized and diagonalized in float64 (float32 ``eigvalsh`` fails to
  converge on some ReLU Hessians, and rounding noise would blur the near-zero eigenvalues); for an
  ensemble of MLPs ``Ensemble.hessians`` takes the same matrices as written-out Hessian-vector products;
- larger models: Hessian-vector products by double backward and Lanczos for the top eigenvalue.

The "gradient almost zero" point of 1-2c is found in two phases: ordinary training that ends at a point
whose ‖∇L‖ is still well above the target (``train_keeping_last_above``), so that the second phase is what
brings it under; then minimizing g(θ) = ‖∇L(θ)‖² with its own
gradient ∇g = 2·H·∇L, obtained by differentiating through the gradient (double backprop), or for
an ensemble of MLPs from ``batched_mlp.grad_and_hvp`` (the same numbers, written out).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import hessian, vmap

from .flat_optim import FlatOptimizer

# ----------------------------------------------------------------------------- exact Hessian

def exact_hessian(loss_of_theta, theta: torch.Tensor) -> torch.Tensor:
    """The full (P, P) Hessian of a scalar function of a flat vector (forward-over-reverse)."""
    return hessian(loss_of_theta)(theta)


def hessian_eigenvalues(h: torch.Tensor) -> torch.Tensor:
    """Eigenvalues (ascending) of the symmetrized matrix, in float64; works on a batch (..., P, P)."""
    h = h.to(torch.float64)
    return torch.linalg.eigvalsh(0.5 * (h + h.transpose(-1, -2)))


def minimal_ratio(eigenvalues, tol: float, over: str = "all") -> float:
    """Fraction of Hessian eigenvalues that are > tol.

    over="all": among all P eigenvalues (the homework's definition);
    over="nonzero": among the non-negligible ones, |λ| > tol, so that the exact zeros of a
    ReLU network (dead units, piecewise linearity) do not count as "not positive".
    """
    if tol < 0:
        raise ValueError(f"tol={tol} must be ≥ 0")
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64).reshape(-1)
    positive = int((lam > tol).sum())
    if over == "all":
        total = lam.numel()
    elif over == "nonzero":
        total = int((lam.abs() > tol).sum())
    else:
        raise ValueError(f"over={over!r}: use 'all' or 'nonzero'")
    return positive / total if total else float("nan")


# ----------------------------------------------------------------------------- Hessian-vector products

def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def _hvp_closure(model: nn.Module, loss_fn):
    """v -> H v, reusing one graph of the gradient (built once with create_graph)."""
    params = _params(model)
    grads = torch.autograd.grad(loss_fn(model), params, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])

    def hvp(v: torch.Tensor) -> torch.Tensor:
        v = v.to(flat_grad)
        hv = torch.autograd.grad(flat_grad @ v, params, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    return hvp, flat_grad.numel()


def hessian_vector_product(model: nn.Module, loss_fn, v: torch.Tensor) -> torch.Tensor:
    """H v for the loss ``loss_fn(model)`` (a scalar tensor with graph), v flat over all parameters."""
    hvp, _ = _hvp_closure(model, loss_fn)
    return hvp(v).detach()


def lanczos_top(hvp, n: int, iters: int = 100, tol: float = 1e-4, seed: int = 0, device=None) -> tuple[float, int]:
    """Largest (algebraic) eigenvalue of a symmetric operator by Lanczos with full reorthogonalization.

    Stops when the top Ritz value changes by less than tol (relative) between steps, or after
    min(iters, n) steps. The Krylov basis is kept in float64. Returns (eigenvalue, steps).
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    v = torch.randn(n, generator=gen, dtype=torch.float64).to(device)
    v /= v.norm()
    basis, alphas, betas = [v], [], []
    top_prev, top = None, float("nan")
    steps = min(iters, n)
    for j in range(steps):
        w = hvp(basis[j]).to(torch.float64)
        alphas.append(float(w @ basis[j]))
        # Full reorthogonalization (twice, "twice is enough") keeps the Ritz values honest.
        q = torch.stack(basis)
        for _ in range(2):
            w = w - q.T @ (q @ w)
        t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if betas:
            off = torch.tensor(betas, dtype=torch.float64)
            t += torch.diag(off, 1) + torch.diag(off, -1)
        top = float(torch.linalg.eigvalsh(t)[-1])
        if top_prev is not None and abs(top - top_prev) <= tol * max(abs(top), 1e-12):
            return top, j + 1
        top_prev = top
        beta = float(w.norm())
        if beta < 1e-10:  # invariant subspace found: the Ritz values are exact
            return top, j + 1
        betas.append(beta)
        basis.append(w / beta)
    return top, steps


def top_hessian_eigenvalue(model: nn.Module, loss_fn, iters: int = 100, tol: float = 1e-4, seed: int = 0) -> float:
    """Largest eigenvalue of the Hessian of ``loss_fn(model)`` w.r.t. all trainable parameters.

    ``loss_fn(model)`` returns the scalar loss over the whole evaluation set (with graph).
    Hessian-vector products come from double backward; the eigenvalue from Lanczos, which
    needs far fewer products than power iteration and returns the largest *algebraic*
    eigenvalue (the sharpness), not the largest in magnitude.
    """
    hvp, n = _hvp_closure(model, loss_fn)
    device = next(model.parameters()).device
    top, _ = lanczos_top(lambda v: hvp(v).detach(), n, iters=iters, tol=tol, seed=seed, device=device)
    return top


# ----------------------------------------------------------------------------- the grad-norm phase

def train_keeping_last_above(loss_and_grad, theta: torch.Tensor, *, steps: int, lr: float, above: float,
                             progress=None) -> dict:
    """Full-batch Adam on the loss for a stack of K models for ``steps`` steps, each model ending at the LAST
    point it passed whose ‖∇L‖ ≥ ``above`` (at the last point of all when none was).

    Why not stop at the first point under ``above``: under Adam at a fixed learning rate ‖∇L‖ swings by a
    decade from step to step, so it first dips under 10 × 1-2c's threshold after a tenth of the budget,
    long before the loss has settled (measured: quick profile, 135 of 1,500 epochs, median loss 0.0068
    against 0.0045), and ‖∇L‖² descent from there missed the threshold in 87 of 100 runs. The last point
    above keeps the whole budget's training (median 15 steps before the end) and still leaves the next
    phase a decade to go.

    ``loss_and_grad(Θ) -> (losses (K,), ∇L (K, P))``; the gradient each step needs is the test's too, so
    the test costs one masked copy a step. The step is ``ensemble.train``'s own Adam (``hwlib.flat_optim``).
    Returns the kept θ, the
    loss and ‖∇L‖ there (as measured on the way), the steps each model had taken to its kept point, and
    the loss at every step (steps + 1, K).
    """
    theta = theta.detach().clone()
    k = theta.shape[0]
    adam = FlatOptimizer("adam", theta, lr)
    kept = theta.clone()
    kept_loss = torch.full((k,), float("nan"), dtype=theta.dtype, device=theta.device)
    kept_norm = torch.full_like(kept_loss, float("nan"))
    kept_step = torch.full((k,), -1, dtype=torch.long, device=theta.device)  # -1: no point above yet
    curve = torch.zeros(steps + 1, k, dtype=torch.float64, device=theta.device)
    for t in range(steps + 1):
        losses, g = loss_and_grad(theta)  # at θ after t steps
        curve[t] = losses
        norm = torch.linalg.vector_norm(g, dim=1)
        take = norm >= above
        # torch.where with out= and masked_fill_: no host sync, no index list: the test adds microseconds
        torch.where(take[:, None], theta, kept, out=kept)
        torch.where(take, losses.to(theta.dtype), kept_loss, out=kept_loss)
        torch.where(take, norm, kept_norm, out=kept_norm)
        kept_step.masked_fill_(take, t)
        if t == steps:
            break
        adam.step(theta, g)
        if progress is not None and t + 1 < steps and progress.due(t + 1):  # the last line comes from done()
            progress.update(t + 1, median_loss=float(losses.median()))
    never = kept_step < 0  # never above: such a model ends where the budget left it
    kept[never], kept_loss[never], kept_norm[never] = theta[never], losses[never].to(theta.dtype), norm[never]
    kept_step[never] = steps
    if progress is not None:
        progress.done(steps, median_loss=float(kept_loss.median()))
    return {"theta": kept, "loss": kept_loss, "grad_norm": kept_norm, "steps": kept_step, "loss_curve": curve}


def grad_norm_phase(loss_of_theta, theta: torch.Tensor, *, threshold: float, max_steps: int,
                    lr: float = 1e-3, progress=None, batched_loss=None, batched_step=None) -> dict:
    """Minimize ‖∇L(θ)‖² for a stack of K models at once, each stopping at its own threshold.

    loss_of_theta(θ) -> scalar loss of ONE model (flat θ); theta is (K, P). The objective's
    gradient is taken through the gradient (double backprop) and fed to Adam (``hwlib.flat_optim``, as
    training uses it; only the rows still above the threshold step). A model whose
    ‖∇L‖ is below ``threshold`` at an evaluated point is frozen there, so the point we keep
    is exactly the one that was measured. A model that never gets below it keeps its BEST
    point — the lowest ‖∇L‖ it was evaluated at, not where the step limit left it (Adam on
    ‖∇L‖² oscillates, and the last point can be far worse than one passed on the way).
    Returns theta, ‖∇L‖ and loss at the kept point of each model, the steps each took, the
    step its kept point was reached at (0 = the start), whether it reached the threshold, and
    the ‖∇L‖ trace of every step. ``batched_loss(Θ) -> (K,)``, if given, computes every row's loss at
    once (``Ensemble.losses_of_theta``); it must equal ``vmap(loss_of_theta)``, which is the default.
    ``batched_step(Θ) -> (∇‖∇L‖² (K, P), ‖∇L‖² (K,))``, if given, replaces the double backprop below
    (``Ensemble.grad_norm_step``: the same numbers, written out for an MLP).
    """
    if threshold <= 0:
        raise ValueError(f"threshold={threshold} must be > 0")
    loss_fn = batched_loss or vmap(loss_of_theta)

    def step_fn(theta):
        if batched_step is not None:
            return batched_step(theta)
        # Reverse-over-reverse on the stacked parameters: the models are independent, so the
        # gradient of the summed loss w.r.t. row k is model k's gradient, and the same holds for
        # the summed ‖∇L‖² (faster here than nesting torch.func.grad inside vmap).
        th = theta.detach().requires_grad_()
        (g,) = torch.autograd.grad(loss_fn(th).sum(), th, create_graph=True)
        sq = (g * g).sum(1)
        (d,) = torch.autograd.grad(sq.sum(), th)
        return d, sq.detach()

    theta = theta.detach().clone()
    k = theta.shape[0]
    adam = FlatOptimizer("adam", theta, lr)
    rows = torch.arange(k, device=theta.device)  # the models still descending
    steps = torch.zeros(k, dtype=torch.long, device=theta.device)
    trace = torch.full((max_steps + 1, k), float("nan"), dtype=theta.dtype, device=theta.device)
    # the lowest-‖∇L‖ point each model has been evaluated at, and the step it was reached at
    best_theta, best_norm = theta.clone(), torch.full((k,), float("inf"), dtype=theta.dtype, device=theta.device)
    best_step = torch.zeros(k, dtype=torch.long, device=theta.device)

    def remember(at_rows, norm, step):
        better = norm < best_norm[at_rows]
        idx = at_rows[better]
        best_theta[idx], best_norm[idx], best_step[idx] = theta[idx], norm[better], step

    t = 0
    for t in range(1, max_steps + 1):
        # Only the rows still above the threshold are computed: most models stop early, and
        # the stragglers should not make every finished model pay for their steps.
        d, sq = step_fn(theta[rows])
        norm = sq.clamp_min(0).sqrt()
        trace[t - 1, rows] = norm
        remember(rows, norm, t - 1)  # the point evaluated here is θ after t − 1 steps
        keep = norm >= threshold
        rows, d = rows[keep], d[keep]
        if rows.numel() == 0:
            break
        adam.step(theta, d, rows)  # every active row has taken t - 1 steps before this one
        steps[rows] = t
        if progress is not None and t < max_steps and progress.due(t):  # the last line comes from done()
            progress.update(t, active=int(rows.numel()), max_grad_norm=float(norm.max()))
    if rows.numel():  # the step limit was hit: the point the last step led to is a candidate too
        _, sq = step_fn(theta[rows])
        remember(rows, sq.clamp_min(0).sqrt(), t)
    theta = best_theta
    _, sq = step_fn(theta)  # re-measured at the kept points, so the stored norm is the true one there
    final_norm = sq.clamp_min(0).sqrt()
    if progress is not None:
        progress.done(t, active=int(rows.numel()), max_grad_norm=float(final_norm.max()))
    return {
        "theta": theta,
        "grad_norm": final_norm,
        "loss": loss_fn(theta).detach(),
        "steps": steps,
        "best_step": best_step,
        "reached": final_norm < threshold,
        "trace": trace[:t],  # (steps, K): ‖∇L‖ at each evaluated point, NaN once a model stopped
    }
