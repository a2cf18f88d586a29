"""Principal components of a matrix's rows: an SVD of the centred rows, as scikit-learn's
``PCA(svd_solver="full")`` computes them, its sign convention included (each component's largest
entry in absolute value is positive), so results match it (tests/test_pca.py). Written out because
importing ``sklearn.decomposition`` took 2 s of each notebook that drew a PCA plane (1-2a, 1-2d).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PrincipalComponents:
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (n_components, D), orthonormal rows
    explained_variance_ratio: np.ndarray  # (n_components,): each one's share of the total variance

    def transform(self, rows: np.ndarray) -> np.ndarray:
        """Coordinates of rows (N, D) along the components: (N, n_components)."""
        return (rows - self.mean) @ self.components.T


def fit(matrix: np.ndarray, n_components: int) -> PrincipalComponents:
    """The first ``n_components`` principal components of the rows of ``matrix`` (N, D)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or not 1 <= n_components <= min(matrix.shape):
        raise ValueError(f"n_components={n_components} for a {matrix.shape} matrix: it must be between 1 and "
                         f"min(rows, columns)")
    mean = matrix.mean(0)
    _, s, vt = np.linalg.svd(matrix - mean, full_matrices=False)
    # scikit-learn's svd_flip(u_based_decision=False): each row of Vᵀ turned so its largest |entry| is positive
    largest = vt[np.arange(len(vt)), np.abs(vt).argmax(1)]
    vt *= np.where(largest < 0, -1.0, 1.0)[:, None]
    variance = s ** 2
    total = variance.sum()
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PrincipalComponents(mean, vt[:n_components], ratio[:n_components])
