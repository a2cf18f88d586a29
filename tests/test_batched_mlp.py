"""K MLPs as one batched computation: its forward pass against vmap(functional_call), and its
written-out backward pass against autograd, in float64."""

import dataclasses
import types

import pytest
import torch
from torch import nn

from hwlib import batched_mlp, ensemble, models


def stack(make, k=3):
    return ensemble.build(make, list(range(k)), "cpu", dtype=torch.float64)


@pytest.mark.parametrize("activation, widths, in_dim, out_dim", [
    ("relu", [7, 5], 3, 2), ("tanh", [7, 5], 3, 2), ("gelu", [7, 5], 3, 2),
    ("relu", [80], 1, 1),  # wide layers from and to one unit: the per-model addmm path on a CPU
])
def test_forward_equals_vmapped_functional_call(activation, widths, in_dim, out_dim):
    ens = stack(lambda: models.mlp(widths, in_dim=in_dim, out_dim=out_dim, activation=activation))
    fast = batched_mlp.forward(ens.model)
    assert fast is not None
    x = torch.randn(9, in_dim, dtype=torch.float64)
    own_x = torch.randn(3, 9, in_dim, dtype=torch.float64)
    images = torch.randn(9, 1, 1, in_dim, dtype=torch.float64)  # flattened by the MLP's leading Flatten
    theta = ens.theta.clone().requires_grad_(True)
    ens = dataclasses.replace(ens, batched=False)
    for xs, per in ((x, False), (own_x, True), (images, False)):
        ref = ens.outputs(theta, xs, per_model_x=per)
        out = fast(theta, xs, per)
        torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
        (g_ref,) = torch.autograd.grad(ref.square().sum(), theta)
        (g,) = torch.autograd.grad(out.square().sum(), theta)
        torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-12)


def batch_of(k, b, in_dim, out_dim, kind, own_x, own_y, images=False, seed=0):
    """A batch of b samples: inputs shared (b, in) or per model (k, b, in), as 1×1 images if asked;
    targets (class indices or values) shared or per model."""
    g = torch.Generator().manual_seed(seed)
    shape = (b, 1, 1, in_dim) if images else (b, in_dim)
    x = torch.randn(*((k,) if own_x else ()), *shape, generator=g, dtype=torch.float64)
    if kind == "classification":
        y = torch.randint(0, out_dim, ((k,) if own_y else ()) + (b,), generator=g)
    else:
        y = torch.randn(*((k,) if own_y else ()), b, out_dim, generator=g, dtype=torch.float64)
    return x, y


NETS = {  # (model maker, in_dim, out_dim): every kind of step the written-out backward pass handles
    "relu": (lambda: models.mlp([7, 5], in_dim=3, out_dim=2), 3, 2),
    "tanh": (lambda: models.mlp([7, 5], in_dim=3, out_dim=2, activation="tanh"), 3, 2),
    "1-1a depth 1": (lambda: models.mlp([80], in_dim=1, out_dim=1), 1, 1),  # outer products in and out, _hinge_grads
    "one input, two hidden layers": (lambda: models.mlp([6, 5], in_dim=1, out_dim=1), 1, 1),  # no hinge shortcut
    "1-unit hidden layer": (lambda: models.mlp([4, 1, 4], in_dim=2, out_dim=3), 2, 3),
    "two activations in a row": (lambda: nn.Sequential(
        nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.ReLU(), nn.Linear(5, 2)), 3, 2),
    "linear after linear, activation first": (lambda: nn.Sequential(
        nn.Tanh(), nn.Linear(3, 4), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)), 3, 2),
}


def stack_of(net: str, kind: str):
    """(3 models of NETS[net] in float64, in_dim, out_dim); skips a classification case with one output."""
    make, in_dim, out_dim = NETS[net]
    if kind == "classification" and out_dim == 1:
        pytest.skip("one logit is no classifier")
    return stack(make), in_dim, out_dim


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("batch", ["shared x and y", "shared x, own y", "own x and y", "images"])
def test_loss_and_grad_equals_autograd(net, kind, batch):
    ens, in_dim, out_dim = stack_of(net, kind)
    own_x = batch == "own x and y"
    x, y = batch_of(ens.k, 11, in_dim, out_dim, kind, own_x, batch in ("shared x, own y", "own x and y"),
                    images=batch == "images", seed=1)
    if batch == "images" and not isinstance(ens.model[0], nn.Flatten):  # models.mlp starts with one
        ens = dataclasses.replace(ens, model=nn.Sequential(nn.Flatten(), *ens.model))
    x_before, theta = x.clone(), ens.theta.clone()

    step = batched_mlp.loss_and_grad(ens.model)
    losses, grad = step(theta, x, y, kind, own_x)
    # a second step on other data reuses the first one's buffers: what the first returned must not change
    again = [t.clone() for t in (losses, grad)]
    other_losses, _ = step(theta, 2 * x + 1, y, kind, own_x)
    assert torch.equal(losses, again[0]) and torch.equal(grad, again[1]) and not torch.equal(other_losses, losses)
    assert all(torch.equal(a, b) for a, b in zip(step(theta, x, y, kind, own_x), again))  # and it repeats

    assert torch.equal(x, x_before) and torch.equal(theta, ens.theta)  # inputs untouched (activations act in place)
    ens = dataclasses.replace(ens, batched=False)  # the reference: vmap(functional_call), the loss, autograd
    ref = ensemble.per_model_loss(ens.outputs(theta.requires_grad_(True), x, own_x), y, kind)
    (ref_grad,) = torch.autograd.grad(ref.sum(), theta)
    torch.testing.assert_close(losses, ref.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-13)
    assert grad.abs().sum() > 0


def test_views_follow_theta_updated_in_place_and_other_thetas():
    """The layers' views are made once per Θ: an in-place update shows in the next step, another Θ gets its own."""
    make, in_dim, out_dim = NETS["relu"]
    ens = stack(make)
    x, y = batch_of(ens.k, 11, in_dim, out_dim, "regression", False, False, seed=5)
    step = batched_mlp.loss_and_grad(ens.model)
    theta = ens.theta.clone()
    before = step(theta, x, y, "regression")
    theta.mul_(0.5)  # as an optimizer's step does
    after = step(theta, x, y, "regression")
    fresh = batched_mlp.loss_and_grad(ens.model)(theta.clone(), x, y, "regression")
    torch.testing.assert_close(after, fresh, rtol=0, atol=0)
    assert not torch.equal(after[0], before[0])
    other = step(ens.theta.clone(), x, y, "regression")  # a new tensor with the first one's values
    torch.testing.assert_close(other, before, rtol=0, atol=0)


def test_the_hinge_shortcut_takes_only_one_input_relu_one_output():
    """_hinge_grads serves x -> Linear -> ReLU -> Linear -> one output (the "1-1a depth 1" net above tests its
    numbers), and nothing else."""
    assert batched_mlp._hinge_output(batched_mlp.plan(models.mlp([80], in_dim=1, out_dim=1))) == 2
    for other in (models.mlp([80], in_dim=2, out_dim=1), models.mlp([80], in_dim=1, out_dim=2),
                  models.mlp([80], in_dim=1, out_dim=1, activation="tanh"), models.mlp([6, 5], in_dim=1, out_dim=1)):
        assert batched_mlp._hinge_output(batched_mlp.plan(other)) is None


def test_the_private_operators_serve_on_this_torch():
    """The locked torch has both private operators, and they pass their check: the test below then compares two
    different paths, not the public one with itself."""
    relu_backward, add_relu = batched_mlp.choose_private_ops()
    assert relu_backward is not batched_mlp._relu_backward_public_
    assert add_relu is torch._add_relu_


@pytest.mark.parametrize("net", ["relu", "1-1a depth 1", "one input, two hidden layers", "two activations in a row"])
def test_without_the_private_operators_the_public_ones_give_the_same_numbers(net, monkeypatch):
    """A torch without aten's ReLU backward or its fused bias-and-ReLU (CPU) gets the public two-operator forms,
    with the same numbers bit for bit."""
    make, in_dim, out_dim = NETS[net]
    ens = stack(make)
    x, y = batch_of(ens.k, 11, in_dim, out_dim, "regression", False, True, seed=4)
    v = torch.randn(ens.theta.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def results():
        return (*batched_mlp.loss_and_grad(ens.model)(ens.theta, x, y, "regression"),
                *batched_mlp.grad_and_hvp(ens.model)(ens.theta, x, y, "regression", False, v))

    private = results()
    monkeypatch.setattr(torch.ops.aten, "threshold_backward", types.SimpleNamespace())  # no .grad_input
    monkeypatch.delattr(torch, "_add_relu_")
    public_ops = batched_mlp.choose_private_ops()
    assert public_ops == (batched_mlp._relu_backward_public_, batched_mlp._add_relu_public_)
    monkeypatch.setattr(batched_mlp, "_relu_backward_", public_ops[0])
    monkeypatch.setattr(batched_mlp, "_add_relu_cpu_", public_ops[1])
    assert all(torch.equal(a, b) for a, b in zip(results(), private))


def test_a_private_operator_that_fails_or_disagrees_is_not_used():
    def public(h, b):
        return h.add_(b)

    def refused(h, b):
        raise RuntimeError("not implemented for this device")

    example = lambda: (torch.ones(2, 3), torch.ones(2, 1))
    assert batched_mlp._private_or_public(lambda: refused, public, example) is public
    assert batched_mlp._private_or_public(lambda: (lambda h, b: h.sub_(b)), public, example) is public
    assert batched_mlp._private_or_public(lambda: torch.Tensor.add_, public, example) is torch.Tensor.add_


def test_which_models_it_takes():
    assert batched_mlp.forward(models.mlp([4], 1, 1)) is not None
    assert batched_mlp.loss_and_grad(models.mlp([4], 1, 1)) is not None
    # GELU's derivative needs its input: batched forward, but autograd for the gradient
    assert batched_mlp.forward(models.mlp([4], 1, 1, activation="gelu")) is not None
    assert batched_mlp.loss_and_grad(models.mlp([4], 1, 1, activation="gelu")) is None
    for other in (nn.Sequential(nn.Linear(4, 2), nn.Flatten()), models.cnn((1, 8, 8), 10, [4]),
                  nn.Sequential(nn.Linear(4, 2, bias=False)), nn.Linear(4, 2), nn.Sequential(nn.ReLU())):
        assert batched_mlp.plan(other) is None
        assert batched_mlp.forward(other) is None and batched_mlp.loss_and_grad(other) is None
    assert batched_mlp.plan(models.mlp([4, 3], 2, 1)).n_params == models.count_params(models.mlp([4, 3], 2, 1))


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("batch", ["shared x and y", "own x and y"])
def test_hessian_vector_products_equal_double_backward(net, kind, batch):
    """Every net the plan takes, tanh included: 1-2c takes its Hessians of ReLU nets only, and tanh's curvature
    (σ''/σ' from its output, one entry of its record) stays so that no net the plan takes gets a pass that
    leaves a term out; this test is what reaches it."""
    ens, in_dim, out_dim = stack_of(net, kind)
    own = batch == "own x and y"
    x, y = batch_of(ens.k, 9, in_dim, out_dim, kind, own, own, seed=2)
    v = torch.randn(ens.theta.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    step = batched_mlp.grad_and_hvp(ens.model)
    losses, grad, hv = step(ens.theta, x, y, kind, own, v)
    _, _, hg = step(ens.theta, x, y, kind, own)  # v defaults to the gradient: H ∇L

    ens = dataclasses.replace(ens, batched=False)  # the reference: autograd twice through vmap(functional_call)
    theta = ens.theta.clone().requires_grad_(True)
    ref = ensemble.per_model_loss(ens.outputs(theta, x, own), y, kind)
    (ref_grad,) = torch.autograd.grad(ref.sum(), theta, create_graph=True)
    (ref_hv,) = torch.autograd.grad((ref_grad * v).sum(), theta, retain_graph=True)
    (ref_hg,) = torch.autograd.grad((ref_grad * ref_grad.detach()).sum(), theta)
    torch.testing.assert_close(losses, ref.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, ref_grad.detach(), rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(hv, ref_hv, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(hg, ref_hg, rtol=1e-9, atol=1e-12)
    assert hv.abs().sum() > 0 and hg.abs().sum() > 0
