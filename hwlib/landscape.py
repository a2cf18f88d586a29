"""Loss surfaces on a 2-D plane of parameter space (Li et al., 2018, "Visualizing the loss landscape").

The plane through θ* spanned by two directions d₁, d₂ is sampled at θ* + α·d₁ + β·d₂ on a grid.
Random directions are *filter-normalized*: each filter (row of a weight matrix, output channel of
a convolution) of a Gaussian direction is rescaled to the norm of the same filter of θ*, so the
picture does not depend on the arbitrary scale of each layer (ReLU nets are invariant to scaling
one layer up and the next down). One-dimensional parameters (biases) get a zero direction, as in
the paper's default. The other plane is spanned by the first two principal components of a
training trajectory, with the trajectory projected on it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.func import vmap

from . import pca
from .flat import unflatten


def filter_normalized_direction(theta: torch.Tensor, spec, seed: int) -> torch.Tensor:
    """A random flat direction, each filter scaled to the norm of that filter of θ (biases: 0)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    d = torch.randn(theta.shape, generator=gen, dtype=theta.dtype).to(theta.device)
    parts_d, parts_w = unflatten(d, spec), unflatten(theta, spec)
    for name, _ in spec:
        dp, wp = parts_d[name], parts_w[name]
        if dp.dim() <= 1:
            dp.zero_()
        else:
            per_filter_d = dp.flatten(1).norm(dim=1)
            per_filter_w = wp.flatten(1).norm(dim=1)
            dp.mul_((per_filter_w / per_filter_d.clamp_min(1e-12)).view(-1, *[1] * (dp.dim() - 1)))
    return d  # the views above wrote into d


@torch.no_grad()
def grid_losses(loss_of_theta, center: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor,
                alphas, betas, chunk: int = 64) -> torch.Tensor:
    """Loss at center + α·d1 + β·d2 for every (α, β) of the grid, shape (len(alphas), len(betas)).

    ``loss_of_theta`` maps one flat θ to a scalar loss; grid points are evaluated ``chunk`` at a time
    in one vmapped call (a batch of parameter vectors), not one forward per Python iteration.
    """
    a = torch.as_tensor(alphas, dtype=center.dtype, device=center.device)
    b = torch.as_tensor(betas, dtype=center.dtype, device=center.device)
    aa, bb = torch.meshgrid(a, b, indexing="ij")
    coeff = torch.stack([aa.reshape(-1), bb.reshape(-1)], 1)  # (G, 2)
    batched = vmap(loss_of_theta)
    out = []
    for c in coeff.split(chunk):
        thetas = center + c[:, :1] * d1 + c[:, 1:] * d2
        out.append(batched(thetas))
    return torch.cat(out).view(len(a), len(b))


def project(points: torch.Tensor, center: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor) -> torch.Tensor:
    """(T, 2) coordinates (α, β) of points on the plane center + α·d1 + β·d2, by least squares
    (exact for points in the plane; d1 and d2 need not be orthogonal)."""
    basis = torch.stack([d1, d2], 1).double()  # (P, 2)
    rhs = (points - center).double().T  # (P, T)
    return torch.linalg.lstsq(basis, rhs).solution.T.to(points.dtype)


def pca_plane(path: torch.Tensor, center: torch.Tensor | None = None) -> dict:
    """The plane of a trajectory: first two principal components of the snapshots θ_t − θ_end.

    Returns unit directions d1, d2 (orthonormal), the explained-variance ratios and the path's
    coordinates relative to ``center`` (default: the last snapshot, which lands at (0, 0)).
    """
    center = path[-1] if center is None else center
    diffs = (path - center).detach().cpu().double().numpy()
    fitted = pca.fit(diffs, 2)
    d = torch.as_tensor(fitted.components, dtype=path.dtype, device=path.device)
    return {"d1": d[0], "d2": d[1], "explained_variance_ratio": fitted.explained_variance_ratio.tolist(),
            "coords": project(path, center, d[0], d[1])}


def axis_range(values, margin: float = 0.25, minimum: float = 1e-3) -> tuple[float, float]:
    """An interval holding all values with a relative margin on each side (for the PCA-plane grid)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = max((hi - lo) * margin, minimum)
    return lo - pad, hi + pad
