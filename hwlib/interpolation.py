"""Linear interpolation between two trained models (Goodfellow et al. 2015; Keskar et al. 2017).

θ(α) = (1-α)·θ₁ + α·θ₂ over the *whole* state dict: parameters and buffers. BatchNorm running
means and variances belong to the network as much as the weights do; interpolating only
`parameters()` would pair θ(α)'s weights with θ₁'s statistics and invent a barrier.

Two details:
- The form (1-α)·θ₁ + α·θ₂ (not θ₁ + α·(θ₂-θ₁)) reproduces θ₁ at α=0 and θ₂ at α=1 bit for bit.
- Outside [0, 1] a running variance can extrapolate below zero (2·v₂ - v₁ at α=2); it is
  clipped at 0 (BatchNorm's eps keeps the division finite). Integer buffers (the
  num_batches_tracked counter) are not weights: they are taken from the nearer endpoint.

The running statistics of θ(α) can also be measured instead of interpolated
(``evaluate_path_recomputed``): θ(α)'s weights, with every BatchNorm layer's mean and variance
re-estimated from the training images. Nothing is extrapolated then, and the curve shows the
loss of the weights alone; the two curves side by side show how much of a bump the interpolated
statistics make.

Many α are evaluated at once: the states for a chunk of α are stacked and the network is run
with torch.func.vmap(functional_call), always in eval mode (BatchNorm uses the interpolated
running statistics, not the statistics of the evaluation batch). On a CPU, vmap turns a batch
of convolutions into one grouped convolution, which measured slower than one model per α
(2.9 s vs 1.6 s for 61 α of a small CNN on 1437 images), so there the default is a loop over
α that reuses one module and evaluates the data in large batches.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap


def _check_compatible(s1: dict, s2: dict) -> None:
    if s1.keys() != s2.keys():
        missing = sorted(set(s1) ^ set(s2))
        raise ValueError(f"the two models have different state keys (e.g. {missing[:3]}): interpolate models of one architecture")
    for k, a in s1.items():
        if a.shape != s2[k].shape:
            raise ValueError(f"state {k!r} has shapes {tuple(a.shape)} and {tuple(s2[k].shape)}: "
                             f"interpolate models of one architecture")


def interpolate_state(s1: dict, s2: dict, alpha: float) -> dict:
    """θ(α) for one α: a new state dict (the inputs are not modified)."""
    _check_compatible(s1, s2)
    out = {}
    for k, a in s1.items():
        b = s2[k]
        if a.is_floating_point():
            v = (1 - alpha) * a + alpha * b
            if k.endswith("running_var"):
                v = v.clamp_min(0)
            out[k] = v
        else:
            out[k] = (a if alpha < 0.5 else b).clone()
    return out


def stacked_states(s1: dict, s2: dict, alphas) -> dict:
    """θ(α) for every α, stacked along a new leading dimension (len(alphas), *shape)."""
    _check_compatible(s1, s2)
    any_tensor = next(iter(s1.values()))
    alphas = torch.as_tensor(alphas, dtype=torch.float32, device=any_tensor.device)
    out = {}
    for k, a in s1.items():
        b = s2[k]
        if a.is_floating_point():
            w = alphas.to(a.dtype).view(-1, *([1] * a.dim()))
            v = (1 - w) * a.unsqueeze(0) + w * b.unsqueeze(0)
            if k.endswith("running_var"):
                v = v.clamp_min(0)
            out[k] = v
        else:
            pick = (alphas >= 0.5).view(-1, *([1] * a.dim()))
            out[k] = torch.where(pick, b.unsqueeze(0), a.unsqueeze(0))
    return out


def clipped_variances(s1: dict, s2: dict, alphas) -> list[int]:
    """For each α, how many running-variance entries extrapolate below zero (and are clipped).

    Where this is > 0 the BatchNorm layer divides by about sqrt(eps): the loss there says more
    about the extrapolated statistics than about the weights, and figures mark those α.
    """
    _check_compatible(s1, s2)
    keys = [k for k in s1 if k.endswith("running_var")]
    out = []
    for a in alphas:
        out.append(sum(int(((1 - a) * s1[k] + a * s2[k] < 0).sum()) for k in keys))
    return out


def _split_state(model: torch.nn.Module, stacked: dict) -> tuple[dict, dict]:
    names = {n for n, _ in model.named_parameters()}
    params = {k: v for k, v in stacked.items() if k in names}
    buffers = {k: v for k, v in stacked.items() if k not in names}
    return params, buffers


@torch.no_grad()
def path_outputs(model1, model2, alphas, x: torch.Tensor, alpha_chunk: int = 4, batch_size: int = 512,
                 vectorize: bool | None = None) -> torch.Tensor:
    """Outputs of θ(α) on x for every α: a tensor (len(alphas), n, *out_shape).

    vectorize=True runs a chunk of α at once with vmap; False loads one α at a time into a
    single module; None picks vmap on accelerators and the loop on a CPU (see the module note).
    """
    alphas = [float(a) for a in alphas]
    if vectorize is None:
        vectorize = x.device.type != "cpu"
    template = copy.deepcopy(model1).eval()  # only its structure is used; its tensors are replaced
    s1, s2 = model1.state_dict(), model2.state_dict()

    def batched(fn):
        return torch.cat([fn(x[j:j + batch_size]) for j in range(0, len(x), batch_size)], dim=0)

    rows = []
    if not vectorize:
        for a in alphas:
            template.load_state_dict(interpolate_state(s1, s2, a))
            rows.append(batched(template).unsqueeze(0))
        return torch.cat(rows, dim=0)
    for i in range(0, len(alphas), alpha_chunk):
        params, buffers = _split_state(template, stacked_states(s1, s2, alphas[i:i + alpha_chunk]))

        def run(p, b, xb):
            return functional_call(template, (p, b), (xb,))

        outs = [vmap(run, in_dims=(0, 0, None))(params, buffers, x[j:j + batch_size])
                for j in range(0, len(x), batch_size)]
        rows.append(torch.cat(outs, dim=1))
    return torch.cat(rows, dim=0)


@torch.no_grad()
def evaluate_path(model1, model2, alphas, x, y, kind: str, alpha_chunk: int = 4, batch_size: int = 512,
                  vectorize: bool | None = None) -> dict:
    """Loss (mean over samples) and accuracy of θ(α) on (x, y) for every α.

    kind is "classification" (cross-entropy, accuracy) or "regression" (MSE, no accuracy).
    Returns {"alpha": [...], "loss": [...], "acc": [...] or None}.
    """
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind={kind!r} must be 'classification' or 'regression'")
    alphas = [float(a) for a in alphas]
    losses, accs = [], []
    for i in range(0, len(alphas), alpha_chunk):
        out = path_outputs(model1, model2, alphas[i:i + alpha_chunk], x, alpha_chunk=alpha_chunk,
                           batch_size=batch_size, vectorize=vectorize)
        for o in out:
            if kind == "classification":
                losses.append(F.cross_entropy(o, y).item())
                accs.append((o.argmax(1) == y).float().mean().item())
            else:
                losses.append(F.mse_loss(o, y).item())
    return {"alpha": alphas, "loss": losses, "acc": accs if kind == "classification" else None}


@torch.no_grad()
def evaluate_path_recomputed(model1, model2, alphas, x_stats: torch.Tensor, sets: dict, kind: str,
                             batch_size: int = 512) -> dict:
    """Loss and accuracy of θ(α) for every α, with each BatchNorm layer's running mean and variance
    re-estimated at that α from ``x_stats`` (the training images: a pass in training mode, averaging
    the statistics of batches of ``batch_size``) instead of interpolated.

    ``sets`` maps a name to (x, y); returns {name: {"loss": [...], "acc": [...] or None}}.
    """
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind={kind!r} must be 'classification' or 'regression'")
    model = copy.deepcopy(model1)
    s1, s2 = model1.state_dict(), model2.state_dict()
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    out = {name: {"loss": [], "acc": [] if kind == "classification" else None} for name in sets}
    for a in alphas:
        model.load_state_dict(interpolate_state(s1, s2, float(a)))
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches: every image counts once
        model.train()
        for j in range(0, len(x_stats), batch_size):
            model(x_stats[j:j + batch_size])
        model.eval()
        for name, (x, y) in sets.items():
            o = torch.cat([model(x[j:j + batch_size]) for j in range(0, len(x), batch_size)])
            if kind == "classification":
                out[name]["loss"].append(F.cross_entropy(o, y).item())
                out[name]["acc"].append((o.argmax(1) == y).float().mean().item())
            else:
                out[name]["loss"].append(F.mse_loss(o, y).item())
    return out
