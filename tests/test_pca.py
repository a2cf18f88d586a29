"""Principal components against scikit-learn's PCA(svd_solver="full"), which they replace."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from hwlib import pca


@pytest.mark.parametrize("shape, rank", [
    ((9, 40), None),  # few snapshots of many parameters, as 1-2a and 1-2d have them
    ((40, 6), None),  # many rows of few columns
    ((12, 30), 3),  # rank-deficient: the third and later components carry (almost) nothing
])
def test_matches_sklearn(shape, rank):
    rng = np.random.default_rng(sum(shape))
    m = rng.normal(size=shape) * np.linspace(3, 0.5, shape[1]) + rng.normal(size=shape[1]) * 5
    if rank is not None:
        m = rng.normal(size=(shape[0], rank)) @ rng.normal(size=(rank, shape[1])) + 2.0
    for n in (1, 2, 3):
        ours = pca.fit(m, n)
        ref = PCA(n_components=n, svd_solver="full").fit(m)
        np.testing.assert_allclose(ours.mean, ref.mean_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-9, atol=1e-12)
        kept = ours.explained_variance_ratio > 1e-9  # a null component's direction is arbitrary
        np.testing.assert_allclose(ours.components[kept], ref.components_[kept], atol=1e-9)  # signs included
        np.testing.assert_allclose(ours.transform(m)[:, kept], ref.transform(m)[:, kept], atol=1e-8)
        np.testing.assert_allclose(ours.components @ ours.components.T, np.eye(n), atol=1e-12)


def test_sign_convention_and_bad_input():
    m = np.array([[0.0, 0.0], [1.0, -3.0], [2.0, -6.0]])  # one direction, mostly along −y
    c = pca.fit(m, 1).components[0]
    assert c[np.abs(c).argmax()] > 0  # its largest entry is made positive, as scikit-learn does
    np.testing.assert_allclose(c, np.array([-1.0, 3.0]) / np.sqrt(10), atol=1e-12)
    for n in (0, 3):
        with pytest.raises(ValueError, match="n_components"):
            pca.fit(m, n)


def test_the_pca_notebooks_do_not_import_sklearn():
    import subprocess
    import sys
    code = ("import sys, hwlib.trajectory, hwlib.landscape, hwlib.tasks.t1_2a_optimization_process, "
            "hwlib.tasks.t1_2d_error_surface; print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
