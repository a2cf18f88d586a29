"""Adam, SGD and SGD with momentum on a (K, P) matrix of flat parameters, one row per model.

The update rules are torch.optim's with its defaults, operation for operation as its single-tensor
implementation (``foreach=False``) runs them, so the rows move bitwise as K separate ``torch.optim``
optimizers would (tests/test_flat_optim.py). ``hwlib.train.fit`` keeps torch.optim itself, with the fused
kernel where the device has one: that kernel rounds differently, so a fitted model and an ensemble's row
agree to rounding, not bitwise (tests/test_ensemble.py).
"""

from __future__ import annotations

import math

import torch

OPTIMIZERS = ("adam", "sgd", "sgd_momentum")
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults
MOMENTUM = 0.9  # "sgd_momentum": torch.optim.SGD(momentum=0.9)


class FlatOptimizer:
    """One optimizer for every row of Θ. ``step(Θ, ∇, rows)`` may update some rows only: every row it updates
    must have taken the same number of steps as the others (the bias corrections are one per step), as when
    rows stop one by one and never restart."""

    def __init__(self, name: str, theta: torch.Tensor, lr: float):
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer={name!r} is unknown: use one of {', '.join(OPTIMIZERS)}")
        self.name, self.lr, self.t = name, lr, 0
        self.m = torch.zeros_like(theta)  # Adam's first moment, or SGD's momentum buffer
        self.v = torch.zeros_like(theta) if name == "adam" else None

    @torch.no_grad()
    def step(self, theta: torch.Tensor, g: torch.Tensor, rows: torch.Tensor | None = None) -> None:
        """Θ (or its ``rows``) one step along the gradient g (one row of g per updated row), in place."""
        self.t += 1
        if rows is None:
            self._update(theta, g, self.m, self.v)
            return
        th, m, v = theta[rows], self.m[rows], None if self.v is None else self.v[rows]
        self._update(th, g, m, v)
        theta[rows], self.m[rows] = th, m
        if v is not None:
            self.v[rows] = v

    def _update(self, theta: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor | None) -> None:
        if self.name == "sgd":
            theta.add_(g, alpha=-self.lr)
        elif self.name == "sgd_momentum":  # buf = momentum · buf + g, the first step's buf = g
            if self.t == 1:
                m.copy_(g)
            else:
                m.mul_(MOMENTUM).add_(g)
            theta.add_(m, alpha=-self.lr)
        else:
            b1, b2 = ADAM_BETAS
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(ADAM_EPS)
            theta.addcdiv_(m, denom, value=-self.lr / (1 - b1 ** self.t))
