"""Curvature math against independent references: finite differences, numpy, exact matrices."""

import numpy as np
import pytest
import torch
from torch import nn

from hwlib import curvature as cv
from hwlib import flat


def tiny_net(seed=0, act=nn.Tanh):
    # Smooth activation: central differences of the gradient are then accurate to O(h²).
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 4), act(), nn.Linear(4, 3), act(), nn.Linear(3, 1)).double()


def data(n=20, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g, dtype=torch.float64) * 2 - 1
    return x, torch.sin(3 * x)


def flat_loss(model, x, y):
    f = flat.flat_forward(model)
    return lambda theta: ((f(theta, x) - y) ** 2).mean()


def test_exact_hessian_matches_finite_differences_and_numpy():
    model = tiny_net()
    x, y = data()
    loss = flat_loss(model, x, y)
    theta = flat.flatten(model)
    h = cv.exact_hessian(loss, theta)
    p = theta.numel()
    assert h.shape == (p, p)
    # Central differences of the autograd gradient, one column per parameter.
    g = torch.func.grad(loss)
    eps = 1e-5
    fd = torch.stack([(g(theta + eps * e) - g(theta - eps * e)) / (2 * eps) for e in torch.eye(p, dtype=theta.dtype)], 1)
    assert torch.allclose(h, fd, atol=1e-7, rtol=1e-5)
    # The cross-layer blocks are really there (first-layer × last-layer entries are not zero).
    assert h[:4, -4:].abs().max() > 1e-4
    lam = cv.hessian_eigenvalues(h)
    ref = np.linalg.eigvalsh(0.5 * (h.numpy() + h.numpy().T))
    assert lam.dtype == torch.float64
    np.testing.assert_allclose(lam.numpy(), ref, atol=1e-10, rtol=1e-9)


def test_minimal_ratio_on_quadratic_with_known_signs():
    # L(θ) = ½ θᵀ A θ with A = Q diag(λ) Qᵀ: the Hessian is A, its eigenvalues are λ.
    lam = torch.tensor([3.0, 1.0, 0.5, 0.0, 0.0, -2.0, -0.25, 0.0], dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    a = q @ torch.diag(lam) @ q.T
    h = cv.exact_hessian(lambda t: 0.5 * t @ a @ t, torch.randn(8, dtype=torch.float64))
    eig = cv.hessian_eigenvalues(h)
    torch.testing.assert_close(eig, lam.sort().values, atol=1e-12, rtol=0)
    assert cv.minimal_ratio(eig, tol=1e-8) == 3 / 8  # 3 positive among all 8
    assert cv.minimal_ratio(eig, tol=1e-8, over="nonzero") == 3 / 5  # among the 5 with |λ| > tol
    assert cv.minimal_ratio(eig, tol=0.75) == 2 / 8  # the tolerance matters: 0.5 no longer counts
    assert cv.minimal_ratio(eig, tol=0.75, over="nonzero") == 2 / 3
    with pytest.raises(ValueError, match="over="):
        cv.minimal_ratio(eig, tol=1e-8, over="some")


def test_hvp_and_lanczos_top_eigenvalue_match_exact_hessian():
    model = tiny_net(seed=3)
    x, y = data()
    h = cv.exact_hessian(flat_loss(model, x, y), flat.flatten(model))
    lam = cv.hessian_eigenvalues(h)

    def loss_fn(m):
        return ((m(x) - y) ** 2).mean()

    v = torch.randn(h.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(cv.hessian_vector_product(model, loss_fn, v), h @ v, atol=1e-12, rtol=1e-10)
    top = cv.top_hessian_eigenvalue(model, loss_fn, iters=100, tol=1e-10)
    assert top == pytest.approx(float(lam[-1]), rel=1e-6)
    # Also on a float32 ReLU model (the way Part 3 calls it): a looser tolerance.
    relu = tiny_net(seed=4, act=nn.ReLU).float()
    xf, yf = x.float(), y.float()
    h32 = cv.exact_hessian(flat_loss(relu, xf.double(), yf.double()), flat.flatten(relu).double())
    top32 = cv.top_hessian_eigenvalue(relu, lambda m: ((m(xf) - yf) ** 2).mean(), tol=1e-8)
    assert top32 == pytest.approx(float(cv.hessian_eigenvalues(h32)[-1]), rel=1e-4)


def test_grad_norm_phase_lowers_gradient_norm():
    x, y = data(40)
    models = [tiny_net(seed=s) for s in range(3)]
    loss = flat_loss(models[0], x, y)  # the structure is shared; θ decides the model
    theta = torch.stack([flat.flatten(m) for m in models])
    g0 = torch.func.vmap(torch.func.grad(loss))(theta).norm(dim=1)
    out = cv.grad_norm_phase(loss, theta, threshold=1e-3, max_steps=1000, lr=3e-3)
    # The stored final norm is the true gradient norm at the returned parameters.
    g1 = torch.func.vmap(torch.func.grad(loss))(out["theta"]).norm(dim=1)
    torch.testing.assert_close(out["grad_norm"], g1)
    assert (g1 < 0.1 * g0).all(), (g0, g1)
    assert torch.equal(out["reached"], g1 < 1e-3) and out["reached"].any()
    # a run that reached the threshold stopped there; the others used every step
    assert torch.equal(out["steps"] < 1000, out["reached"])
    assert out["trace"].shape[1] == 3 and (out["steps"] > 0).all()


def test_grad_norm_objective_gradient_is_two_h_g():
    # The phase's descent direction must be ∇‖∇L‖² = 2·H·∇L (double backprop, not a detached copy).
    model = tiny_net(seed=2)
    x, y = data()
    loss = flat_loss(model, x, y)
    theta = flat.flatten(model)
    g = torch.func.grad(loss)(theta)
    d = torch.func.grad(lambda t: (torch.func.grad(loss)(t) ** 2).sum())(theta)
    torch.testing.assert_close(d, 2 * cv.exact_hessian(loss, theta) @ g, atol=1e-12, rtol=1e-9)
    # … and it is that direction the phase follows: Adam's first step is -lr·sign(∇‖∇L‖²), which is not
    # the sign of ∇L (a phase that merely kept training on L would fail here).
    out = cv.grad_norm_phase(loss, theta[None], threshold=1e-12, max_steps=1, lr=1e-3)
    assert out["best_step"].tolist() == [1]  # the step lowered ‖∇L‖ here, so the stepped point is the one kept
    step = out["theta"][0] - theta
    torch.testing.assert_close(step, -1e-3 * d / (d.abs() + 1e-8), atol=1e-12, rtol=1e-9)  # Adam, step 1
    assert not torch.equal(torch.sign(d), torch.sign(g))


def test_grad_norm_phase_keeps_the_best_point_of_a_run_that_misses():
    # L(θ) = ½θ², so ‖∇L‖ = |θ|. Adam's first step is lr·sign: with lr = 1 the run starting at 0.3
    # overshoots to −0.7 (its last point is worse than its start), the one at 2.0 improves to 1.0.
    loss = lambda t: 0.5 * (t ** 2).sum()
    out = cv.grad_norm_phase(loss, torch.tensor([[0.3], [2.0]], dtype=torch.float64),
                             threshold=1e-6, max_steps=1, lr=1.0)
    assert not out["reached"].any()
    torch.testing.assert_close(out["theta"][:, 0], torch.tensor([0.3, 1.0], dtype=torch.float64))
    torch.testing.assert_close(out["grad_norm"], torch.tensor([0.3, 1.0], dtype=torch.float64))
    torch.testing.assert_close(out["loss"], torch.tensor([0.045, 0.5], dtype=torch.float64))
    assert out["best_step"].tolist() == [0, 1]
    # Longer runs on an anisotropic quadratic that Adam (large lr) makes oscillate: whatever the path,
    # the kept point is the lowest ‖∇L‖ of every point evaluated, the trace's minimum included.
    a = torch.tensor([1.0, 30.0], dtype=torch.float64)
    quad = lambda t: 0.5 * (a * t * t).sum()
    start = torch.tensor([[1.0, 1.0], [-0.5, 2.0], [0.2, -0.1]], dtype=torch.float64)
    out = cv.grad_norm_phase(quad, start, threshold=1e-9, max_steps=25, lr=0.4)
    assert not out["reached"].any()
    trace_min = torch.from_numpy(np.nanmin(out["trace"].numpy(), axis=0))
    assert (out["grad_norm"] <= trace_min + 1e-12).all()
    torch.testing.assert_close(out["grad_norm"], (a * out["theta"]).norm(dim=1))  # measured at the kept θ
    last_norm = out["trace"][-1]
    assert (out["grad_norm"] < last_norm).any(), "the case must include a run whose last point is not its best"
    for k, s in enumerate(out["best_step"].tolist()):
        if s < len(out["trace"]):
            assert out["trace"][s, k] == pytest.approx(float(out["grad_norm"][k]))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="tol"):
        cv.minimal_ratio([1.0], tol=-1)
    with pytest.raises(ValueError, match="threshold"):
        cv.grad_norm_phase(lambda t: (t ** 2).sum(), torch.zeros(1, 2), threshold=0, max_steps=1)


def test_phase1_keeps_the_last_point_above_and_trains_like_torch_adam():
    """Against torch.optim.Adam run on each model alone: the same trajectory, and the kept point is the last
    one whose ‖∇L‖ ≥ above (the end when a model never was above)."""
    torch.manual_seed(0)
    a = torch.rand(4, 5, dtype=torch.float64) * 3 + 0.1  # diagonal quadratics L = ½ Σ a θ², ∇L = a θ
    theta0 = torch.randn(4, 5, dtype=torch.float64)
    theta0[3] *= 1e-4  # this model starts (and stays) under `above`

    def loss_and_grad(th):
        return 0.5 * (a * th * th).sum(1), a * th

    steps, lr, above = 60, 0.05, 0.3
    out = cv.train_keeping_last_above(loss_and_grad, theta0, steps=steps, lr=lr, above=above)
    for k in range(4):
        p = theta0[k].clone().requires_grad_()
        opt = torch.optim.Adam([p], lr=lr)
        points, norms = [], []
        for t in range(steps + 1):
            points.append(p.detach().clone())
            norms.append(float((a[k] * p.detach()).norm()))
            if t < steps:
                opt.zero_grad()
                p.grad = (a[k] * p).detach()
                opt.step()
        last = max((t for t, g in enumerate(norms) if g >= above), default=steps)
        assert int(out["steps"][k]) == last
        torch.testing.assert_close(out["theta"][k], points[last], rtol=1e-12, atol=1e-14)
        assert float(out["grad_norm"][k]) == pytest.approx(norms[last], rel=1e-12)
    assert int(out["steps"][3]) == steps and float(out["grad_norm"][3]) < above
    assert 0 < int(out["steps"][0]) < steps  # this check means something: a model kept before the end
    assert out["loss_curve"].shape == (steps + 1, 4)
