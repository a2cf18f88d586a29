"""Weight snapshots of several runs → one 2-D PCA, fitted once over all of them.

Fitting one PCA per run would put each run in its own coordinates (its own mean and axes), so
paths could not be compared; here the snapshots of all runs are stacked into one matrix, the
PCA is fitted on it once, and each run's rows are read back in those shared coordinates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from . import pca
from .flat import param_spec


@dataclass
class JointPCA:
    coords: list[np.ndarray]  # per run: (n_snapshots, n_components)
    explained_variance_ratio: np.ndarray  # (n_components,)
    components: np.ndarray  # (n_components, D)
    mean: np.ndarray  # (D,)

    def to_dict(self) -> dict:
        return {"coords": [c.tolist() for c in self.coords],
                "explained_variance_ratio": self.explained_variance_ratio.tolist()}


def layer_columns(model: torch.nn.Module, names: list[str] | None) -> np.ndarray | slice:
    """Columns of the flat parameter vector that belong to the named parameters (None: all)."""
    if names is None:
        return slice(None)
    cols, start, known = [], 0, []
    for name, shape in param_spec(model):
        n = int(np.prod(shape))
        known.append(name)
        if name in names:
            cols.append(np.arange(start, start + n))
        start += n
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"layer={missing[0]!r} is not a parameter of the model: use one of {', '.join(known)}")
    return np.concatenate(cols)


def runs_from_snapshots(snapshots: list[torch.Tensor], columns=slice(None)) -> list[np.ndarray]:
    """Per-epoch (K, P) snapshots of an ensemble → per-run (n_snapshots, D) matrices."""
    stacked = torch.stack([s.detach().cpu() for s in snapshots], 1).double().numpy()  # (K, T, P)
    return [stacked[k][:, columns] for k in range(stacked.shape[0])]


def joint_pca(runs: list[np.ndarray], n_components: int = 2) -> JointPCA:
    """One PCA over the rows of all runs; each run's coordinates in that one basis."""
    if len(runs) < 1 or any(r.ndim != 2 for r in runs):
        raise ValueError("runs must be a non-empty list of (n_snapshots, D) matrices")
    matrix = np.vstack(runs)
    if matrix.shape[0] <= n_components:
        raise ValueError(f"{matrix.shape[0]} snapshots in all: a {n_components}-D PCA needs more")
    fitted = pca.fit(matrix, n_components)
    coords = fitted.transform(matrix)
    bounds = np.cumsum([0] + [len(r) for r in runs])
    return JointPCA([coords[a:b] for a, b in itertools.pairwise(bounds)], fitted.explained_variance_ratio,
                    fitted.components, fitted.mean)
