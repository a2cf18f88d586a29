"""Simple forms of hwlib's measures that only the tests call: one interpolated model at a time (the
reference the batched path of hwlib.interpolation is checked against), the logits' input-Jacobian norms
alone, and a summary of per-sample norms over an evaluation set."""

from __future__ import annotations

import copy

import torch

from hwlib.interpolation import interpolate_state
from hwlib.sensitivity import jacobian_norms


def interpolated_model(model1: torch.nn.Module, model2: torch.nn.Module, alpha: float) -> torch.nn.Module:
    """A fresh module (deep copy of model1's architecture) holding θ(α), in eval mode."""
    model = copy.deepcopy(model1)
    model.load_state_dict(interpolate_state(model1.state_dict(), model2.state_dict(), alpha))
    return model.eval()


def input_jacobian_norms(model: torch.nn.Module, x: torch.Tensor, chunk_size: int = 256) -> torch.Tensor:
    """‖∂ logits(x_i) / ∂ x_i‖_F for every row x_i of x: a tensor of shape (n,)."""
    return jacobian_norms(model, x, chunk_size=chunk_size)["logits"]


def summary(norms: torch.Tensor) -> dict:
    """Mean, standard deviation over samples and median of per-sample norms."""
    return {"mean": norms.mean().item(), "std": norms.std().item() if len(norms) > 1 else 0.0,
            "median": norms.median().item(), "n": len(norms)}


def sensitivity(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, chunk_size: int = 256) -> dict:
    """{output: summary} for each output measured (see hwlib.sensitivity.jacobian_norms)."""
    return {k: summary(v) for k, v in jacobian_norms(model, x, y, chunk_size=chunk_size).items()}
