"""The (K, P) optimizer against K torch.optim optimizers: bitwise, since it runs their single-tensor rule."""

import pytest
import torch

from hwlib.flat_optim import FlatOptimizer


def torch_optimizer(name: str, param: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam([param], lr=lr, foreach=False)
    return torch.optim.SGD([param], lr=lr, momentum=0.9 if name == "sgd_momentum" else 0.0, foreach=False)


@pytest.mark.parametrize("name", ["adam", "sgd", "sgd_momentum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rows_move_as_torch_optim_moves_each_model(name, dtype):
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(3, 37, generator=g, dtype=dtype)
    params = [row.clone().requires_grad_(True) for row in theta]
    optimizers = [torch_optimizer(name, p, 1e-2) for p in params]
    flat = FlatOptimizer(name, theta, 1e-2)
    for _ in range(6):
        grad = torch.randn(theta.shape, generator=g, dtype=dtype)
        flat.step(theta, grad)
        for p, opt, row in zip(params, optimizers, grad):
            p.grad = row.clone()
            opt.step()
    assert all(torch.equal(row, p.detach()) for row, p in zip(theta, params))


def test_a_step_of_some_rows_leaves_the_others():
    """1-2c's ‖∇L‖² phase steps only the rows still above its threshold: those move as they would alone."""
    g = torch.Generator().manual_seed(1)
    theta = torch.randn(4, 9, generator=g)
    alone = theta[[0, 2]].clone()
    flat, flat_alone = FlatOptimizer("adam", theta, 1e-2), FlatOptimizer("adam", alone, 1e-2)
    grads = [torch.randn(4, 9, generator=g) for _ in range(3)]
    flat.step(theta, grads[0])
    flat_alone.step(alone, grads[0][[0, 2]])
    frozen = theta[[1, 3]].clone()
    for grad in grads[1:]:
        rows = torch.tensor([0, 2])
        flat.step(theta, grad[rows], rows)
        flat_alone.step(alone, grad[rows])
    assert torch.equal(theta[[0, 2]], alone) and torch.equal(theta[[1, 3]], frozen)


def test_an_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="lbfgs"):
        FlatOptimizer("lbfgs", torch.zeros(1, 2), 0.1)
