"""The report's two losses, each defined in one record: mean squared error (regression) and cross-entropy on
logits (classification).

A record holds every form a loss is computed in: torch's functional loss for one model (what ``fit`` trains
with, and what autograd differentiates), the K mean losses of an ensemble's outputs (its evaluation), and, for
the backward passes written out in ``hwlib.batched_mlp``, the K losses with their gradient with respect to
the outputs, and that gradient's derivative along a change of the outputs (Hessian-vector products). The
written-out form computes its losses from the same intermediate values as its gradient (the logsumexp, the
residual), so it rounds differently from the other two; the tests hold all forms to each other in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Loss:
    one: Callable  # (out (B, ...), y (B, ...), reduction="mean") -> one model's loss: torch's own function
    per_model: Callable  # (out (K, B, ...), y shared (B, ...) or per model (K, B, ...)) -> (K,) mean losses
    with_output_grad: Callable  # (out (K, n_out, B), y) -> ((K,) mean losses, dL/d(out), a new tensor)
    output_grad_derivative: Callable  # (out, r_out (K, n_out, B)) -> the derivative of dL/d(out) along r_out


def _squared_error_per_model(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((out - y) ** 2).flatten(1).mean(1)


def _squared_error_with_output_grad(out: torch.Tensor, y: torch.Tensor):
    _, n_out, b = out.shape
    r = out - y.transpose(-1, -2)  # y: (B, out) shared or (K, B, out) per model
    losses = r.square().sum((1, 2)) / (n_out * b)
    return losses, r.mul_(2.0 / (n_out * b))


def _squared_error_output_grad_derivative(out: torch.Tensor, r_out: torch.Tensor) -> torch.Tensor:
    _, n_out, b = out.shape
    return r_out * (2.0 / (n_out * b))


def _cross_entropy_per_model(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    k = out.shape[0]
    targets = y.flatten() if y.dim() == 2 else y.repeat(k)
    return nn.functional.cross_entropy(out.flatten(0, 1), targets, reduction="none").view(k, -1).mean(1)


def _cross_entropy_with_output_grad(out: torch.Tensor, y: torch.Tensor):
    k, _, b = out.shape
    target = (y if y.dim() == 2 else y.expand(k, b))[:, None, :]  # (K, 1, B) class indices
    lse = torch.logsumexp(out, 1, keepdim=True)  # (K, 1, B)
    losses = (lse - out.gather(1, target)).mean((1, 2))
    d = (out - lse).exp_()  # the softmax
    d.scatter_add_(1, target, torch.full(target.shape, -1.0, dtype=d.dtype, device=d.device))
    return losses, d.div_(b)


def _cross_entropy_output_grad_derivative(out: torch.Tensor, r_out: torch.Tensor) -> torch.Tensor:
    b = out.shape[2]
    prob = torch.softmax(out, 1)  # the softmax's Jacobian: diag(p) − p pᵀ, per sample
    return prob * (r_out - (prob * r_out).sum(1, keepdim=True)) / b


LOSSES = {
    "regression": Loss(nn.functional.mse_loss, _squared_error_per_model, _squared_error_with_output_grad,
                       _squared_error_output_grad_derivative),
    "classification": Loss(nn.functional.cross_entropy, _cross_entropy_per_model, _cross_entropy_with_output_grad,
                           _cross_entropy_output_grad_derivative),
}
