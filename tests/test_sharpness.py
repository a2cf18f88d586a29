"""ε-sharpness: ≥ 0, growing with ε, equal to the closed form on known quadratics."""

import itertools

import pytest
import torch
from torch import nn

from hwlib.sharpness import epsilon_sharpness


class Quadratic(nn.Module):
    """L(θ) = ½ (θ-c)ᵀ H (θ-c) + base, its parameter θ starting at the minimum c."""

    def __init__(self, h, c, base=0.0):
        super().__init__()
        self.theta = nn.Parameter(c.clone())
        self.register_buffer("h", h)
        self.register_buffer("c", c.clone())
        self.base = base

    def loss(self):
        d = self.theta - self.c
        return 0.5 * d @ self.h @ d + self.base


def _quadratic(h, c, base=0.0):
    # float64: a float32 θ + z rounds z (≈ ε·|θ|) to ~1e-4 relative, which would blur the comparison
    return Quadratic(h.double(), c.double(), base), (lambda m: m.loss())


def _exact(h, c, eps, base):
    """Max of a convex quadratic over the box is at a vertex: enumerate all of them."""
    h, c = h.double(), c.double()
    w = eps * (c.abs() + 1)
    best = max(0.5 * (torch.tensor(s, dtype=torch.float64) * w) @ h @ (torch.tensor(s, dtype=torch.float64) * w)
               for s in itertools.product((-1.0, 1.0), repeat=len(c)))
    return 100 * float(best) / (1 + base)


def test_diagonal_quadratic_closed_form_and_monotone():
    h = torch.diag(torch.tensor([3.0, 1.0, 0.5, 10.0]))
    c = torch.tensor([1.0, -2.0, 0.0, 0.5])
    base = 0.2
    values = []
    for eps in (0.0, 1e-3, 1e-2, 5e-2):
        model, loss_fn = _quadratic(h, c, base)
        res = epsilon_sharpness(model, loss_fn, eps=eps, steps=20)
        # closed form: ½ Σ h_i w_i², w_i = ε(|c_i|+1)
        w = eps * (c.abs() + 1)
        closed = 100 * 0.5 * float((torch.diag(h) * w * w).sum()) / (1 + base)
        assert res["sharpness"] >= 0
        assert res["sharpness"] == pytest.approx(closed, rel=1e-4, abs=1e-9)
        assert torch.equal(model.theta.detach(), c.double())  # parameters restored
        values.append(res["sharpness"])
    assert values[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(values))


def test_general_quadratic_against_vertex_enumeration():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=g)
    h = a @ a.T + 0.1 * torch.eye(6)
    c = torch.randn(6, generator=g)
    prev = 0.0
    for eps in (1e-3, 1e-2, 1e-1):
        model, loss_fn = _quadratic(h, c)
        res = epsilon_sharpness(model, loss_fn, eps=eps, steps=30)
        exact = _exact(h, c, eps, 0.0)
        # a lower bound of the true maximum, and close to it
        assert 0.9 * exact <= res["sharpness"] <= exact * (1 + 1e-4)
        assert res["sharpness"] > prev
        prev = res["sharpness"]


def test_never_negative_at_a_maximum():
    # at the top of a concave function every perturbation lowers the loss: sharpness is exactly 0
    model, loss_fn = _quadratic(-torch.eye(3), torch.zeros(3), base=5.0)
    assert epsilon_sharpness(model, loss_fn, eps=0.1)["sharpness"] == 0.0


def test_on_a_network_restores_parameters():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = torch.randn(30, 4), torch.randint(0, 3, (30,))
    before = [p.detach().clone() for p in net.parameters()]
    res = epsilon_sharpness(net, lambda m: nn.functional.cross_entropy(m(x), y), eps=1e-2, steps=5)
    assert res["sharpness"] > 0 and res["max_loss"] > res["loss"]
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_bad_eps():
    model, loss_fn = _quadratic(torch.eye(2), torch.zeros(2))
    with pytest.raises(ValueError, match="eps"):
        epsilon_sharpness(model, loss_fn, eps=-1)
