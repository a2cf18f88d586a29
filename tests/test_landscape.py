"""Loss-surface tools against per-point loops and hand-built planes."""

import numpy as np
import torch

from hwlib import flat, landscape, models


def model_and_data():
    torch.manual_seed(0)
    model = models.mlp([6, 5], in_dim=3, out_dim=2).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 3, generator=g, dtype=torch.float64)
    y = torch.randn(30, 2, generator=g, dtype=torch.float64)
    f = flat.flat_forward(model)
    return model, (lambda theta: ((f(theta, x) - y) ** 2).mean()), x, y


def test_filter_normalized_direction():
    model, _, _, _ = model_and_data()
    theta, spec = flat.flatten(model), flat.param_spec(model)
    d = landscape.filter_normalized_direction(theta, spec, seed=3)
    parts_d, parts_w = flat.unflatten(d, spec), flat.unflatten(theta, spec)
    for name, shape in spec:
        if len(shape) == 1:
            assert torch.all(parts_d[name] == 0), name  # biases are left out
        else:  # every row (filter) has the norm of the same row of the weights
            torch.testing.assert_close(parts_d[name].norm(dim=1), parts_w[name].norm(dim=1))
    assert torch.equal(d, landscape.filter_normalized_direction(theta, spec, seed=3))
    assert not torch.equal(d, landscape.filter_normalized_direction(theta, spec, seed=4))


def test_grid_losses_match_a_loop_over_loaded_models():
    model, loss, x, y = model_and_data()
    theta, spec = flat.flatten(model), flat.param_spec(model)
    d1 = landscape.filter_normalized_direction(theta, spec, 0)
    d2 = landscape.filter_normalized_direction(theta, spec, 1)
    alphas, betas = [-1.0, 0.0, 0.5], [-0.5, 0.0, 0.25, 1.0]
    grid = landscape.grid_losses(loss, theta, d1, d2, alphas, betas, chunk=5)  # chunks cut across rows
    assert grid.shape == (3, 4)
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            m = flat.load_flat(models.mlp([6, 5], in_dim=3, out_dim=2).double(), theta + a * d1 + b * d2)
            ref = ((m(x) - y) ** 2).mean()
            torch.testing.assert_close(grid[i, j], ref.detach())
    torch.testing.assert_close(grid[1, 1], loss(theta))  # the centre is the model itself


def test_projection_recovers_plane_coordinates():
    g = torch.Generator().manual_seed(2)
    center, d1, d2 = (torch.randn(50, generator=g, dtype=torch.float64) for _ in range(3))
    coords = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.3, 0.7]], dtype=torch.float64)
    points = center + coords[:, :1] * d1 + coords[:, 1:] * d2  # d1, d2 not orthogonal
    torch.testing.assert_close(landscape.project(points, center, d1, d2), coords)


def test_pca_plane_of_a_path():
    g = torch.Generator().manual_seed(3)
    u, v = torch.linalg.qr(torch.randn(40, 2, generator=g, dtype=torch.float64))[0].T
    t = torch.linspace(0, 1, 12, dtype=torch.float64)[:, None]
    path = 5 + (1 - t) * 3 * u + torch.sin(6 * t) * 0.5 * v  # a curve inside one plane, ending at t = 1
    plane = landscape.pca_plane(path)
    assert sum(plane["explained_variance_ratio"]) > 1 - 1e-9  # the path lies in the plane
    torch.testing.assert_close(plane["coords"][-1], torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0)
    # coordinates are dot products with the orthonormal directions
    torch.testing.assert_close(plane["d1"] @ plane["d2"], torch.tensor(0.0, dtype=torch.float64), atol=1e-12, rtol=0)
    ref = (path - path[-1]) @ torch.stack([plane["d1"], plane["d2"]], 1)
    torch.testing.assert_close(plane["coords"], ref)
    lo, hi = landscape.axis_range(plane["coords"][:, 0].numpy())
    assert lo < plane["coords"][:, 0].min() and hi > plane["coords"][:, 0].max()
    assert np.isfinite([lo, hi]).all()
