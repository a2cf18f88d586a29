"""hwlib.flat: a model's parameters as one vector, and the model as a function of it."""

import pytest
import torch

from hwlib import flat, models


def test_flatten_unflatten_roundtrip_and_flat_forward():
    torch.manual_seed(0)
    model = models.mlp([5, 4], in_dim=3, out_dim=2)
    theta = flat.flatten(model)
    assert theta.numel() == sum(p.numel() for p in model.parameters())
    parts = flat.unflatten(theta, flat.param_spec(model))
    for (name, p), (key, v) in zip(model.named_parameters(), parts.items()):
        assert name == key and torch.equal(p.detach(), v)
    x = torch.randn(7, 3)
    assert torch.allclose(flat.flat_forward(model)(theta, x), model(x))
    other = models.mlp([5, 4], in_dim=3, out_dim=2)
    flat.load_flat(other, theta)
    assert torch.equal(flat.flatten(other), theta)


def test_unflatten_refuses_a_vector_of_the_wrong_length():
    with pytest.raises(ValueError, match="5 entries but the model has 4"):
        flat.unflatten(torch.zeros(5), [("w", torch.Size([2, 2]))])
