"""A model's trainable parameters as one flat vector, and the model as a function of that vector.

Exact Hessians, ensembles (one row per model), PCA of weight trajectories and loss surfaces all see
a model as a point θ in R^P. ``flat_forward`` turns a module into f(θ, x) with ``functional_call``,
so θ can be differentiated, vmapped over, or held in another precision than the module.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call


def param_spec(model: nn.Module) -> list[tuple[str, torch.Size]]:
    """Names and shapes of the trainable parameters, in ``named_parameters`` order."""
    return [(name, p.shape) for name, p in model.named_parameters() if p.requires_grad]


def flatten(model: nn.Module) -> torch.Tensor:
    """All trainable parameters as one detached flat vector (a copy)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad])


def unflatten(flat: torch.Tensor, spec: list[tuple[str, torch.Size]]) -> dict[str, torch.Tensor]:
    """Views of a flat vector, one per parameter, as ``functional_call`` wants them."""
    out, start = {}, 0
    for name, shape in spec:
        n = math.prod(shape)
        out[name] = flat[start:start + n].view(shape)
        start += n
    if start != flat.shape[-1]:
        raise ValueError(f"flat has {flat.shape[-1]} entries but the model has {start} parameters")
    return out


def flat_forward(model: nn.Module):
    """f(θ, x): the model's output with its parameters replaced by the flat vector θ.

    The module only lends its structure (and buffers); θ can be float64 while the module is
    float32, which is how the exact Hessians below are taken in double precision.
    """
    spec = param_spec(model)

    def f(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, unflatten(theta, spec), (x,))

    return f


def load_flat(model: nn.Module, flat: torch.Tensor) -> nn.Module:
    """Copy a flat vector back into the model's parameters (in place)."""
    with torch.no_grad():
        for p, v in zip([p for p in model.parameters() if p.requires_grad], unflatten(flat, param_spec(model)).values()):
            p.copy_(v)
    return model
