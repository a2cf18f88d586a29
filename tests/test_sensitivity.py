"""Input-Jacobian sensitivity of the softmax, the per-sample loss and the logits, each against
autograd applied per sample to that output directly; independent of the chunking."""

import pytest
import torch
import torch.nn.functional as F
from support.measures import input_jacobian_norms, sensitivity
from torch import nn

from hwlib.sensitivity import jacobian_norms


def _tiny_cnn():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    net.train()
    with torch.no_grad():
        net(torch.randn(16, 1, 4, 4) + 0.5)  # non-trivial running statistics
    return net


def _loop_autograd(model, x, output=lambda z, yi: z):
    """‖∂ output(model(x_i)) / ∂ x_i‖_F, one sample at a time, by torch.autograd.functional.jacobian."""
    model.eval()
    out = []
    for xi, yi in zip(x, torch.arange(len(x)) % 5):  # labels 0, 1, 2, ... (5 classes)
        jac = torch.autograd.functional.jacobian(lambda v: output(model(v.unsqueeze(0)).squeeze(0), yi), xi)
        out.append(jac.norm())
    return torch.stack(out)


def _softmax(z, yi):
    return torch.softmax(z, dim=0)


def _own_loss(z, yi):  # this sample's cross-entropy alone, no batch mean
    return F.cross_entropy(z.unsqueeze(0), yi.view(1))


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


@pytest.mark.parametrize("output,reference", [("softmax", _softmax), ("loss", _own_loss),
                                               ("logits", lambda z, yi: z)])
def test_each_output_matches_autograd_on_that_output(output, reference):
    model = _tiny_cnn()
    x = torch.randn(9, 1, 4, 4) * 3  # spread-out inputs: some confident, some not
    y = torch.arange(9) % 5
    ours = jacobian_norms(model, x, y, chunk_size=4)[output]
    torch.testing.assert_close(ours, _loop_autograd(model, x, reference), rtol=1e-5, atol=1e-7)


def test_outputs_differ_and_softmax_is_bounded_by_logits():
    # ‖(diag p − p pᵀ) J‖ ≤ ‖diag p − p pᵀ‖₂ ‖J‖ ≤ ½ ‖J‖: the softmax can never exceed half the logits' norm
    model = _tiny_cnn()
    norms = jacobian_norms(model, torch.randn(12, 1, 4, 4), torch.arange(12) % 5)
    assert torch.all(norms["softmax"] <= 0.5 * norms["logits"] + 1e-7)
    assert not torch.allclose(norms["softmax"], norms["loss"])
    with pytest.raises(ValueError, match="one label per input"):
        jacobian_norms(model, torch.randn(3, 1, 4, 4), torch.arange(2))


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
    y = torch.arange(23) % 5
    whole = jacobian_norms(model, x, y, chunk_size=23)
    for k, v in jacobian_norms(model, x, y, chunk_size=5).items():
        torch.testing.assert_close(v, whole[k], rtol=1e-6, atol=1e-7)
    s = sensitivity(model, x, y, chunk_size=7)
    assert s["logits"]["n"] == 23 and s["logits"]["mean"] == pytest.approx(ref.mean().item(), rel=1e-6)
    assert s["loss"]["mean"] == pytest.approx(whole["loss"].mean().item(), rel=1e-6)


def test_bad_chunk():
    with pytest.raises(ValueError, match="chunk_size"):
        input_jacobian_norms(nn.Linear(2, 2), torch.randn(3, 2), chunk_size=0)
