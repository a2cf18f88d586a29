"""The vectorized ensemble against K ordinary runs of hwlib.train.fit, one model at a time."""

import copy

import pytest
import torch

from hwlib import ensemble, flat, models, train
from hwlib.data import Dataset


def regression_data(dtype=torch.float64):
    x = torch.linspace(-1, 1, 48, dtype=dtype)[:, None]
    return Dataset("toy", "regression", x, torch.sinc(5 * x), x[::3] + 0.01, torch.sinc(5 * (x[::3] + 0.01)))


def classification_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 5, generator=g, dtype=torch.float64)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return Dataset("toy3", "classification", x[:40], y[:40], x[40:], y[40:], n_classes=3)


class GradNorm:
    """fit() hook: ‖∇L‖ over all parameters after every backward pass."""

    def __init__(self):
        self.norms = []

    def after_backward(self, model, step):
        self.norms.append(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())).item())


@pytest.mark.parametrize("case", [
    # (data, widths, activation, optimizer, lr, batch size): minibatches with per-model data order, and full
    # batch; with GELU, batched=True is batched_mlp's forward under autograd (no written-out backward)
    (regression_data, [6, 5], "relu", "adam", 1e-2, 16),
    (regression_data, [6, 5], "tanh", "adam", 1e-2, 1000),
    (regression_data, [6, 5], "gelu", "adam", 1e-2, 16),
    (classification_data, [7], "relu", "sgd_momentum", 5e-2, 10),
])
@pytest.mark.parametrize("batched", [True, False], ids=["written-out", "vmap"])
def test_ensemble_equals_sequential_fit(case, batched):
    make_data, widths, activation, opt, lr, bs = case
    data = make_data()
    seeds = [3, 11, 42]
    make = lambda: models.mlp(widths, in_dim=data.x_train.shape[1], out_dim=data.out_dim, activation=activation)
    ens = ensemble.build(make, seeds, "cpu", dtype=torch.float64, batched=batched)
    assert not torch.equal(ens.theta[0], ens.theta[1])  # each model its own init
    hist = ensemble.train(ens, data, epochs=4, batch_size=bs, lr=lr, optimizer=opt, record_steps=True, log=False)
    for i, s in enumerate(seeds):
        torch.manual_seed(s)  # the ensemble's init for seed s …
        model = make().double()
        probe = GradNorm()
        h = train.fit(model, data, epochs=4, batch_size=bs, lr=lr, optimizer=opt, seed=s, hooks=[probe], log=False)
        # … and the ensemble's data order for seed s: the trained parameters agree to rounding.
        torch.testing.assert_close(ens.theta[i], flat.flatten(model), atol=1e-10, rtol=1e-9)
        torch.testing.assert_close(torch.tensor(hist.train_loss, dtype=torch.float64)[:, i],
                                   torch.tensor(h.train_loss, dtype=torch.float64),
                                   rtol=1e-6, atol=1e-7)  # fit keeps its epoch losses in float32
        torch.testing.assert_close(hist.step_grad_norm[:, i], torch.tensor(probe.norms, dtype=torch.float64),
                                   rtol=1e-9, atol=1e-12)
        loss, acc = ensemble.evaluate(ens, ens.theta, data.x_test, data.y_test, data.kind)
        ref_loss, ref_acc = train.evaluate(model, data.x_test, data.y_test, data.kind)
        assert loss[i].item() == pytest.approx(ref_loss, rel=1e-6)
        if acc is not None:
            assert acc[i].item() == pytest.approx(ref_acc)
        member = flat.load_flat(copy.deepcopy(ens.model), ens.theta[i])  # row i as an ordinary nn.Module
        torch.testing.assert_close(flat.flatten(member), ens.theta[i])


def test_snapshots_and_bad_inputs():
    data = regression_data(torch.float32)
    ens = ensemble.build(lambda: models.mlp([4], 1, 1), [0, 1], "cpu")
    start = ens.theta.clone()
    hist = ensemble.train(ens, data, epochs=6, batch_size=16, lr=1e-2, snapshot_every=3, log=False)
    assert hist.snapshot_epoch == [0, 3, 6]
    assert torch.equal(hist.snapshots[0], start) and torch.equal(hist.snapshots[-1], ens.theta)
    loss, _ = ensemble.evaluate(ens, ens.theta, data.x_train, data.y_train, "regression")
    assert hist.snapshot_loss[-1] == pytest.approx(loss.tolist())
    with pytest.raises(ValueError, match="seeds"):
        ensemble.build(lambda: models.mlp([4], 1, 1), [1, 1], "cpu")
    with pytest.raises(ValueError, match="optimizer"):
        ensemble.train(ens, data, epochs=1, batch_size=4, lr=0.1, optimizer="lbfgs", log=False)
    with pytest.raises(ValueError, match="epochs"):
        ensemble.train(ens, data, epochs=0, batch_size=4, lr=0.1, log=False)


def two_function_data():
    """One input grid, two targets: model k fits its own function (per_model_y), as 1-1a's ensembles do."""
    x = torch.linspace(-1, 1, 40, dtype=torch.float64)[:, None]
    xt = x[::4] + 0.01
    fns = [lambda t: torch.sinc(5 * t), torch.sign]
    return [Dataset(f"f{i}", "regression", x, fn(x), xt, fn(xt)) for i, fn in enumerate(fns)]


@pytest.mark.parametrize("optimizer, lr, bs, scale", [
    ("adam", 2e-2, 1000, 1.0),  # full batch, plateau stops at different epochs
    ("adam", 2e-2, 16, 1.0),  # minibatches gathered per model from its own targets
    ("sgd", 0.2, 1000, 1e100),  # the second function's targets ×10¹⁰⁰: its models diverge, the others do not
])
def test_per_model_targets_and_stops_equal_sequential_fit(optimizer, lr, bs, scale):
    sets = two_function_data()
    sets[1].y_train.mul_(scale), sets[1].y_test.mul_(scale)
    pairs = [(d, s) for d in sets for s in (0, 5)]  # seeds repeat across the two functions
    stacked = Dataset("both", "regression", sets[0].x_train, torch.stack([d.y_train for d, _ in pairs]),
                      sets[0].x_test, torch.stack([d.y_test for d, _ in pairs]))
    make = lambda: models.mlp([6, 5], in_dim=1, out_dim=1)
    ens = ensemble.build(make, [s for _, s in pairs], "cpu", dtype=torch.float64, distinct=False)
    plateau = train.Plateau(window=4, rel_tol=0.05)
    hist = ensemble.train(ens, stacked, epochs=60, batch_size=bs, lr=lr, optimizer=optimizer, plateau=plateau,
                          check_every=3, per_model_y=True, log=False)
    loss, _ = ensemble.evaluate(ens, ens.theta, stacked.x_test, stacked.y_test, "regression", per_model_y=True)
    stops = set()
    for i, (d, s) in enumerate(pairs):
        torch.manual_seed(s)
        model = make().double()
        h = train.fit(model, d, epochs=60, batch_size=bs, lr=lr, optimizer=optimizer, seed=s, plateau=plateau,
                      check_every=3, eval_every=60, log=False)
        assert hist.epochs_run[i] == len(h.epoch) and hist.stopped[i] == h.stopped
        assert hist.diverged[i] == h.diverged
        stops.add(hist.epochs_run[i])
        if h.diverged is None:
            torch.testing.assert_close(ens.theta[i], flat.flatten(model), atol=1e-10, rtol=1e-9)
            torch.testing.assert_close(torch.tensor(hist.curve(i), dtype=torch.float64),
                                       torch.tensor(h.train_loss, dtype=torch.float64), rtol=1e-6, atol=1e-7)
            assert loss[i].item() == pytest.approx(h.final["test_loss"], rel=1e-6)
    if scale > 1:
        assert [r is not None for r in hist.diverged] == [False, False, True, True]
    else:
        assert len(stops) > 1 and min(stops) < 60  # the models did stop, and not all at once


def test_grad_norm_phase_through_the_batched_losses_equals_the_vmapped_one():
    # 1-2c's phase 2 runs on Ensemble.losses_of_theta and grad_norm_step (batched_mlp); in float64 it must take
    # the same path as vmap and double backprop
    from hwlib import curvature
    x = torch.linspace(-1, 1, 64, dtype=torch.float64)[:, None]
    y = torch.sin(3 * x)
    ens = ensemble.build(lambda: models.mlp([6, 6]), [0, 1, 2], "cpu", dtype=torch.float64)
    runs = {}
    for way in ("vmap", "batched", "written out"):
        fast = ens.losses_of_theta(x, y, "regression") if way != "vmap" else None
        step = ens.grad_norm_step(x, y, "regression") if way == "written out" else None
        runs[way] = curvature.grad_norm_phase(ens.loss_of_theta(x, y, "regression"), ens.theta, threshold=1e-4,
                                              max_steps=60, lr=1e-2, batched_loss=fast, batched_step=step)
    for way in ("batched", "written out"):
        torch.testing.assert_close(runs[way]["theta"], runs["vmap"]["theta"], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(runs[way]["grad_norm"], runs["vmap"]["grad_norm"], rtol=1e-9, atol=1e-12)
        assert torch.equal(runs[way]["steps"], runs["vmap"]["steps"])
    assert not torch.equal(runs["vmap"]["theta"], ens.theta)  # it moved


@pytest.mark.parametrize("chunk", [1, 2])
def test_hessians_equal_torch_func_hessian(chunk):
    # 1-2c's exact Hessians: for an MLP from written-out Hessian-vector products, any other model through vmap
    from torch.func import hessian
    x = torch.linspace(-1, 1, 40, dtype=torch.float64)[:, None]
    y = torch.sin(3 * x)
    for activation in ("relu", "tanh", "gelu"):  # gelu: no written-out pass, the vmap path
        ens = ensemble.build(lambda a=activation: models.mlp([5, 4], activation=a), [0, 1, 2], "cpu", dtype=torch.float64)
        h = ens.hessians(x, y, "regression", ens.theta, chunk)
        loss = ens.loss_of_theta(x, y, "regression")
        for i in range(ens.k):
            torch.testing.assert_close(h[i], hessian(loss)(ens.theta[i]), rtol=1e-9, atol=1e-12)


def test_the_backend_is_chosen_once_for_the_model():
    """ReLU and tanh MLPs: the written-out passes; GELU (1-1a's third activation): the batched forward pass under
    autograd; any other model, or batched=False (the reference of the tests above): vmap and autograd."""
    def backend(make, batched=True):
        return ensemble.build(make, [0], "cpu", batched=batched).backend.name

    assert backend(lambda: models.mlp([4], activation="relu")) == "written out"
    assert backend(lambda: models.mlp([4], activation="tanh")) == "written out"
    assert backend(lambda: models.mlp([4], activation="gelu")) == "batched forward, autograd"
    assert backend(lambda: models.mlp([4]), batched=False) == "vmap, autograd"
    assert backend(lambda: models.cnn((1, 8, 8), 10, [4])) == "vmap, autograd"
