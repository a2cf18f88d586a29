"""Interpolation of whole model states: exact endpoints, buffers included, batched = one by one."""

import pytest
import torch
from support.measures import interpolated_model
from torch import nn

from hwlib.interpolation import (
    clipped_variances,
    evaluate_path,
    evaluate_path_recomputed,
    interpolate_state,
    path_outputs,
    stacked_states,
)


def _bn_net(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    # a few training-mode passes give the BatchNorm layers distinct running statistics
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(32, 1, 5, 5) * (1 + seed) + seed)
    return net.eval()


@pytest.fixture
def pair():
    return _bn_net(0), _bn_net(1)


def test_endpoints_reproduce_models_exactly(pair):
    m1, m2 = pair
    x = torch.randn(20, 1, 5, 5)
    for alpha, ref in ((0.0, m1), (1.0, m2)):
        model = interpolated_model(m1, m2, alpha)
        state, ref_state = model.state_dict(), ref.state_dict()
        assert all(torch.equal(state[k], ref_state[k]) for k in ref_state)
        with torch.no_grad():
            assert torch.equal(model(x), ref(x))
    with torch.no_grad():
        ref1, ref2 = m1(x), m2(x)
    # the path evaluation, one α at a time, gives the endpoint outputs bit for bit
    out = path_outputs(m1, m2, [0.0, 1.0], x, vectorize=False)
    assert torch.equal(out[0], ref1) and torch.equal(out[1], ref2)
    # vectorized over α (vmap may reorder float sums: tight tolerance)
    out = path_outputs(m1, m2, [0.0, 1.0], x, vectorize=True)
    torch.testing.assert_close(out[0], ref1, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out[1], ref2, rtol=1e-5, atol=1e-6)


def test_buffers_are_interpolated(pair):
    m1, m2 = pair
    s1, s2 = m1.state_dict(), m2.state_dict()
    mid = interpolated_model(m1, m2, 0.5).state_dict()
    for k in ("1.running_mean", "1.running_var", "5.running_mean", "5.running_var"):
        assert not torch.allclose(s1[k], s2[k])  # the test is meaningful
        torch.testing.assert_close(mid[k], 0.5 * s1[k] + 0.5 * s2[k])
    # and the parameters too
    torch.testing.assert_close(mid["0.weight"], 0.5 * s1["0.weight"] + 0.5 * s2["0.weight"])


def test_extrapolated_variance_is_clipped():
    s1 = {"bn.running_var": torch.tensor([4.0, 1.0]), "bn.running_mean": torch.tensor([4.0, 1.0])}
    s2 = {"bn.running_var": torch.tensor([1.0, 2.0]), "bn.running_mean": torch.tensor([1.0, 2.0])}
    out = interpolate_state(s1, s2, 2.0)
    assert torch.equal(out["bn.running_var"], torch.tensor([0.0, 3.0]))
    assert torch.equal(out["bn.running_mean"], torch.tensor([-2.0, 3.0]))  # a mean may be negative
    # v(α) = 4 - 3α crosses 0 at α = 4/3; v(α) = 1 + α at α = -1
    assert clipped_variances(s1, s2, [-1.5, -0.5, 0.0, 1.0, 1.3, 1.4, 2.0]) == [1, 0, 0, 0, 0, 1, 1]


def test_stacked_matches_single(pair):
    m1, m2 = pair
    alphas = [-1.0, -0.3, 0.5, 1.7, 2.0]
    stacked = stacked_states(m1.state_dict(), m2.state_dict(), alphas)
    for i, a in enumerate(alphas):
        single = interpolate_state(m1.state_dict(), m2.state_dict(), a)
        for k in single:
            torch.testing.assert_close(stacked[k][i], single[k])


@pytest.mark.parametrize("vectorize", [True, False])
def test_evaluate_path_matches_loop(pair, vectorize):
    m1, m2 = pair
    x = torch.randn(50, 1, 5, 5)
    y = torch.randint(0, 3, (50,))
    alphas = torch.linspace(-1, 2, 7).tolist()
    res = evaluate_path(m1, m2, alphas, x, y, "classification", alpha_chunk=3, batch_size=16, vectorize=vectorize)
    assert res["alpha"] == pytest.approx(alphas)
    for a, loss, acc in zip(alphas, res["loss"], res["acc"]):
        model = interpolated_model(m1, m2, a)
        with torch.no_grad():
            out = model(x)
        assert loss == pytest.approx(nn.functional.cross_entropy(out, y).item(), rel=1e-5, abs=1e-6)
        assert acc == pytest.approx((out.argmax(1) == y).float().mean().item())


def test_incompatible_models_rejected():
    with pytest.raises(ValueError, match="architecture"):
        interpolate_state(nn.Linear(2, 3).state_dict(), nn.Linear(3, 3).state_dict(), 0.5)


def test_recomputed_statistics_are_the_training_images_own(pair):
    """Against a plain recomputation: θ(α)'s weights, each BatchNorm layer reset and fed the whole
    training set as one batch with momentum 1 (its running statistics then are that batch's)."""
    m1, m2 = pair
    torch.manual_seed(5)
    x_stats = torch.randn(64, 1, 5, 5)
    x, y = torch.randn(20, 1, 5, 5), torch.randint(0, 3, (20,))
    before = [v.clone() for v in m1.state_dict().values()]
    alphas = [-0.5, 0.0, 0.5, 1.0]
    got = evaluate_path_recomputed(m1, m2, alphas, x_stats, {"test": (x, y)}, "classification", batch_size=64)
    for a, loss, acc in zip(alphas, got["test"]["loss"], got["test"]["acc"]):
        net = interpolated_model(m1, m2, a)
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                m.momentum = 1.0
        net.train()
        with torch.no_grad():
            net(x_stats)
            out = net.eval()(x)
        assert loss == pytest.approx(torch.nn.functional.cross_entropy(out, y).item(), rel=1e-5)
        assert acc == pytest.approx((out.argmax(1) == y).float().mean().item())
    # the statistics differ from the interpolated ones: the two curves are not the same curve
    assert got["test"]["loss"][2] != pytest.approx(evaluate_path(m1, m2, [0.5], x, y, "classification")["loss"][0])
    for v, w in zip(before, m1.state_dict().values()):  # the models themselves are left as they were
        assert torch.equal(v, w)
    # in smaller batches the running statistics average the batches' (every image counts once)
    chunked = evaluate_path_recomputed(m1, m2, [0.5], x_stats, {"test": (x, y)}, "classification", batch_size=16)
    assert chunked["test"]["loss"][0] == pytest.approx(got["test"]["loss"][2], rel=0.05)
