"""ε-sharpness (Keskar et al. 2017, "On large-batch training for deep learning", Metric 2.1).

Around the trained parameters θ, the box
    C_ε = { z : |z_i| ≤ ε · (|θ_i| + 1) }
scales with each weight's magnitude (so the measure does not favour small-norm layers), and
    φ_ε = 100 · ( max_{z ∈ C_ε} L(θ + z) − L(θ) ) / ( 1 + L(θ) ).
It is ≥ 0 by definition (z = 0 is in the box) and can only grow with ε (the boxes are nested).

The inner maximum is approximated by projected sign-gradient ascent from a seeded random point
of the box (at an exact minimum the gradient is zero, so ascent cannot start from z = 0). The
best loss seen, including L(θ) itself, is kept: the estimate is a lower bound of the true
maximum and never below 0. Keskar et al. use 10 L-BFGS-B iterations; sign steps are the box's
natural steepest-ascent direction and need nothing beyond autograd.
"""

import torch


@torch.no_grad()
def _assign(params, origin, z):
    for p, o, d in zip(params, origin, z):
        p.copy_(o + d)


def epsilon_sharpness(model: torch.nn.Module, loss_fn, eps: float = 1e-3, steps: int = 20,
                      step_fraction: float = 0.25, seed: int = 0) -> dict:
    """φ_ε of model at its current parameters.

    loss_fn(model) -> scalar loss tensor (e.g. the full training loss, the model in eval mode).
    Each ascent step moves every coordinate by step_fraction of its box half-width. The
    model's parameters are restored on return.
    """
    if eps < 0:
        raise ValueError(f"eps={eps} must be >= 0")
    if steps < 0:
        raise ValueError(f"steps={steps} must be >= 0")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters to perturb")
    origin = [p.detach().clone() for p in params]
    width = [eps * (o.abs() + 1) for o in origin]
    generator = torch.Generator().manual_seed(int(seed))  # CPU draw: same box point on any device
    z = [(torch.rand(o.shape, generator=generator, dtype=o.dtype) * 2 - 1).to(o.device) * w
         for o, w in zip(origin, width)]

    with torch.no_grad():
        base = float(loss_fn(model))
    best = base
    try:
        for _ in range(steps):
            _assign(params, origin, z)
            loss = loss_fn(model)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            best = max(best, float(loss.detach()))
            z = [torch.clamp(d + step_fraction * w * (g.sign() if g is not None else 0), -w, w)
                 for d, w, g in zip(z, width, grads)]
        _assign(params, origin, z)
        with torch.no_grad():
            best = max(best, float(loss_fn(model)))
    finally:
        _assign(params, origin, [torch.zeros_like(o) for o in origin])
    return {"eps": eps, "sharpness": 100.0 * (best - base) / (1.0 + base), "loss": base, "max_loss": best}
