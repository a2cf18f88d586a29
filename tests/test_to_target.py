"""Training to one eval-mode training loss: the band, the restores, and that a restored run is the
uninterrupted run stopped at its final step."""

import math

import pytest
import torch

from hwlib import data, models, progress, to_target
from hwlib.train import evaluate, loss_function, make_optimizer


@pytest.fixture(scope="module")
def ds():
    return data.load_dataset("digits", "cpu", root="data", train_limit=300)


def _model(ds, seed=0):
    torch.manual_seed(seed)
    return models.cnn(ds.input_shape, ds.n_classes, [4, 8], batchnorm=True)


def _uninterrupted(ds, steps, *, batch_size, lr, seed):
    """The same run written plainly: a permutation per pass from a generator seeded with ``seed``,
    ``steps`` Adam steps, no checks and no restores."""
    model = _model(ds, seed)
    opt = make_optimizer("adam", model.parameters(), lr)
    gen = torch.Generator().manual_seed(seed)
    loss_fn, n, done = loss_function(ds.kind), len(ds.x_train), 0
    while done < steps:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            if done == steps:
                break
            idx = perm[i:i + batch_size]
            loss = loss_fn(model(ds.x_train[idx]), ds.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
    return model


@pytest.mark.parametrize("batch_size", [16, 64, 300])
def test_ends_in_the_band_measured_in_eval_mode(ds, batch_size):
    model = _model(ds)
    r = to_target.fit_to_loss(model, ds, batch_size=batch_size, lr=1e-2, optimizer="adam", seed=0,
                              target=0.3, max_steps=3000)
    assert r["reached"] and 0.27 <= r["train_loss"] <= 0.33
    assert r["train_loss"] == pytest.approx(evaluate(model, ds.x_train, ds.y_train, ds.kind)[0])
    assert r["curve"][-1] == [r["steps"], pytest.approx(r["train_loss"])]
    assert r["checks"] == len(r["curve"]) + r["restores"] and r["checks"] < 60


def test_a_restored_run_is_the_uninterrupted_run(ds):
    """A narrow band forces overshoots: the state restored and trained on must be exactly the plain run's."""
    model = _model(ds)
    r = to_target.fit_to_loss(model, ds, batch_size=32, lr=1e-2, optimizer="adam", seed=0, target=0.3,
                              max_steps=3000, tolerance=0.005)
    assert r["restores"] > 0
    plain = _uninterrupted(ds, r["steps"], batch_size=32, lr=1e-2, seed=0)
    for a, b in zip(model.state_dict().values(), plain.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_one_step_through_the_band_keeps_the_closer_side(ds):
    model = _model(ds)
    r = to_target.fit_to_loss(model, ds, batch_size=32, lr=1e-2, optimizer="adam", seed=0, target=0.3,
                              max_steps=3000, tolerance=1e-7)
    assert not r["reached"] and r["restores"] > 0
    # the two checks a step apart around the target: the one kept is the closer
    by_step = {s: v for s, v in r["curve"]}
    kept = abs(math.log(r["train_loss"] / 0.3))
    for s in (r["steps"] - 1, r["steps"] + 1):
        if s in by_step:
            assert kept <= abs(math.log(by_step[s] / 0.3))


def test_step_limit_and_divergence(ds):
    short = to_target.fit_to_loss(_model(ds), ds, batch_size=32, lr=1e-3, optimizer="adam", seed=0, target=0.01,
                                  max_steps=25)
    assert short["steps"] == 25 and not short["reached"] and not short["diverged"]
    wild = to_target.fit_to_loss(_model(ds), ds, batch_size=32, lr=1e30, optimizer="sgd", seed=0, target=0.01,
                                 max_steps=500)
    assert wild["diverged"] and not wild["reached"] and not math.isfinite(wild["curve"][-1][1])


def test_next_gap_halves_the_predicted_distance():
    # the loss halves every 100 steps; 0.8 → 0.1 is 300 steps more: half of it is 150, under twice the last 100
    assert to_target.next_gap([(0, 1.6), (100, 0.8)], 0.1, 100) == 150
    assert to_target.next_gap([(0, 1.6), (100, 0.8)], 0.1, 10) == 20  # at most twice the last spacing
    assert to_target.next_gap([(0, 0.8), (100, 0.9)], 0.1, 30) == 60  # not falling: twice the spacing
    assert to_target.next_gap([(0, 0.2), (1000, 0.1001)], 0.1, 1000) == 1  # about there: one step


def test_bad_input(ds):
    with pytest.raises(ValueError, match="max_steps"):
        to_target.fit_to_loss(_model(ds), ds, batch_size=8, lr=1e-3, optimizer="adam", seed=0, target=0.1, max_steps=0)
    with pytest.raises(ValueError, match="target"):
        to_target.fit_to_loss(_model(ds), ds, batch_size=8, lr=1e-3, optimizer="adam", seed=0, target=0, max_steps=5)


def test_a_long_run_shows_life(ds, monkeypatch, capsys):
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.0)
    to_target.fit_to_loss(_model(ds), ds, batch_size=32, lr=1e-3, optimizer="adam", seed=0, target=0.01, max_steps=3,
                          label="batch 32, seed 0")
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("batch 32, seed 0")]
    assert len(lines) == 3 and "step 3/3" in lines[-1] and "last check" in lines[-1]
