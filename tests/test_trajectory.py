"""One PCA over all runs' snapshots, against scikit-learn and a plain numpy SVD."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from hwlib import models, trajectory


def fake_runs(k=4, t=7, d=12, seed=0):
    rng = np.random.default_rng(seed)
    # runs start at different places and drift: per-run PCAs would each centre on their own mean
    return [rng.normal(size=d) * 3 + np.cumsum(rng.normal(size=(t, d)), 0) for _ in range(k)]


def test_coordinates_match_sklearn_and_svd_on_the_stacked_matrix():
    runs = fake_runs()
    out = trajectory.joint_pca(runs)
    matrix = np.vstack(runs)
    ref = PCA(n_components=2).fit(matrix)
    np.testing.assert_allclose(np.vstack(out.coords), ref.transform(matrix), atol=1e-10)
    np.testing.assert_allclose(out.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-10)
    # Independent reference: SVD of the centred matrix; PCA axes are defined up to sign.
    centred = matrix - matrix.mean(0)
    u, s, _vt = np.linalg.svd(centred, full_matrices=False)
    svd_coords = u[:, :2] * s[:2]
    for j in range(2):
        sign = np.sign(svd_coords[:, j] @ np.vstack(out.coords)[:, j])
        np.testing.assert_allclose(np.vstack(out.coords)[:, j], sign * svd_coords[:, j], atol=1e-9)
    np.testing.assert_allclose(out.explained_variance_ratio, (s[:2] ** 2) / (s ** 2).sum(), rtol=1e-10)


def test_one_pca_for_all_runs():
    runs = fake_runs()
    out = trajectory.joint_pca(runs)
    assert [c.shape for c in out.coords] == [(7, 2)] * 4
    # each run's rows are the shared basis applied to that run: (X_run - global mean) @ components.T
    for run, c in zip(runs, out.coords):
        np.testing.assert_allclose(c, (run - out.mean) @ out.components.T, atol=1e-10)
    # and not a separate fit per run (which would centre every run on its own mean)
    own = PCA(n_components=2).fit(runs[0]).transform(runs[0])
    assert not np.allclose(np.abs(own), np.abs(out.coords[0]), atol=1e-3)
    np.testing.assert_allclose(np.vstack(out.coords).mean(0), 0, atol=1e-10)  # centred once, over all runs


def test_layer_columns_select_the_named_layer():
    torch.manual_seed(0)
    model = models.mlp([5, 4], in_dim=3, out_dim=2)
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    cols = trajectory.layer_columns(model, ["3.weight"])
    np.testing.assert_array_equal(flat.numpy()[cols], model[3].weight.detach().numpy().reshape(-1))
    snaps = [flat[None].repeat(2, 1), 2 * flat[None].repeat(2, 1)]
    per_run = trajectory.runs_from_snapshots(snaps, cols)
    assert len(per_run) == 2 and per_run[0].shape == (2, 20)
    np.testing.assert_allclose(per_run[1][1], 2 * model[3].weight.detach().double().numpy().reshape(-1))
    with pytest.raises(ValueError, match="layer="):
        trajectory.layer_columns(model, ["9.weight"])
