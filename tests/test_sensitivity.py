"""Input-Jacobian sensitivity against per-sample references; independent of the chunking."""

import pytest
import torch
from torch import nn

from hwlib.sensitivity import input_jacobian_norms, sensitivity


def _tiny_cnn():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    net.train()
    with torch.no_grad():
        net(torch.randn(16, 1, 4, 4) + 0.5)  # non-trivial running statistics
    return net


def _loop_autograd(model, x):
    model.eval()
    out = []
    for xi in x:
        jac = torch.autograd.functional.jacobian(lambda v: model(v.unsqueeze(0)).squeeze(0), xi)
        out.append(jac.norm())
    return torch.stack(out)


def _loop_finite_differences(model, x, h=1e-4):
    model = model.double().eval()
    x = x.double()
    norms = []
    with torch.no_grad():
        for xi in x:
            flat = xi.reshape(-1)
            cols = []
            for j in range(flat.numel()):
                e = torch.zeros_like(flat)
                e[j] = h
                plus = model((flat + e).view_as(xi).unsqueeze(0))
                minus = model((flat - e).view_as(xi).unsqueeze(0))
                cols.append(((plus - minus) / (2 * h)).reshape(-1))
            norms.append(torch.stack(cols).norm())
    return torch.stack(norms)


def test_matches_per_sample_autograd_loop():
    model = _tiny_cnn()
    x = torch.randn(9, 1, 4, 4)
    torch.testing.assert_close(input_jacobian_norms(model, x, chunk_size=4), _loop_autograd(model, x), rtol=1e-5, atol=1e-6)


def test_matches_finite_differences():
    model = _tiny_cnn()
    x = torch.randn(4, 1, 4, 4)
    ours = input_jacobian_norms(model, x).double()
    ref = _loop_finite_differences(_tiny_cnn(), x)  # same seed → same weights, in float64
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)


def test_linear_model_closed_form():
    # for logits = W x + b the Jacobian is W for every sample: ‖J‖_F = ‖W‖_F
    lin = nn.Linear(6, 3)
    norms = input_jacobian_norms(lin, torch.randn(10, 6))
    torch.testing.assert_close(norms, lin.weight.detach().norm().expand(10))


def test_invariant_to_evaluation_batch_size():
    model = _tiny_cnn()
    model.train()  # even when handed a model in training mode
    x = torch.randn(23, 1, 4, 4)
    ref = input_jacobian_norms(model, x, chunk_size=23)
    for chunk in (1, 5, 8, 100):
        torch.testing.assert_close(input_jacobian_norms(model, x, chunk_size=chunk), ref, rtol=1e-6, atol=1e-7)
    assert model.training  # the mode is restored
    s = sensitivity(model, x, chunk_size=7)
    assert s["n"] == 23 and s["mean"] == pytest.approx(ref.mean().item(), rel=1e-6)


def test_bad_chunk():
    with pytest.raises(ValueError, match="chunk_size"):
        input_jacobian_norms(nn.Linear(2, 2), torch.randn(3, 2), chunk_size=0)
