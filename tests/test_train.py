import math

import pytest
import torch

from hwlib import data, models, train


def _line_data(n=64):
    x = torch.linspace(-1, 1, n).unsqueeze(1)
    return data.Dataset("line", "regression", x, 2 * x + 0.5, x + 0.01, 2 * (x + 0.01) + 0.5)


def test_reaches_low_loss_on_easy_regression():
    torch.manual_seed(0)
    model = models.mlp([16], 1, 1)
    h = train.fit(model, _line_data(), epochs=400, batch_size=16, lr=1e-2, log=False)
    assert h.final["train_loss"] < 1e-3 and h.final["test_loss"] < 1e-3
    assert h.train_loss[-1] < h.train_loss[0] / 100
    assert len(h.epoch) == 400 and h.steps == 400 * 4


def test_reaches_high_accuracy_on_digits():
    ds = data.image_data("digits")
    torch.manual_seed(0)
    h = train.fit(models.mlp([64], 64, 10), ds, epochs=15, batch_size=64, lr=1e-3, log=False)
    assert h.final["train_acc"] > 0.97 and h.final["test_acc"] > 0.9
    assert h.eval_epoch[-1] == 15 and len(h.test_acc) == len(h.eval_epoch) == 15


def test_full_batch_when_batch_covers_data():
    ds = _line_data(32)
    torch.manual_seed(0)
    h = train.fit(models.mlp([4], 1, 1), ds, epochs=5, batch_size=1000, lr=1e-3, log=False)
    assert h.steps == 5


def test_hooks_are_called_every_step_and_epoch():
    calls = {"step": [], "epoch": []}

    class Hook:
        def after_backward(self, model, step):
            # gradients exist at this point
            assert all(p.grad is not None for p in model.parameters())
            calls["step"].append(step)

        def end_epoch(self, model, epoch, metrics):
            calls["epoch"].append((epoch, float(metrics["train_loss"])))

    torch.manual_seed(0)
    h = train.fit(models.mlp([4], 1, 1), _line_data(40), epochs=3, batch_size=16, lr=1e-3, hooks=[Hook()], log=False)
    assert calls["step"] == list(range(9))
    assert [e for e, _ in calls["epoch"]] == [1, 2, 3]
    assert [l for _, l in calls["epoch"]] == pytest.approx(h.train_loss)


def test_same_seed_same_history_and_data_order_independent_of_init():
    def run(init_seed, order_seed):
        torch.manual_seed(init_seed)
        m = models.mlp([8], 1, 1)
        return train.fit(m, _line_data(), epochs=5, batch_size=8, lr=1e-2, seed=order_seed, log=False).train_loss

    assert run(0, 0) == run(0, 0)
    assert run(0, 0) != run(0, 1)  # the data order changes the path
    assert run(0, 0) != run(1, 0)  # so does the initialization


def test_plateau_stops_and_says_so():
    torch.manual_seed(0)
    h = train.fit(models.mlp([16], 1, 1), _line_data(), epochs=5000, batch_size=64, lr=1e-2,
                  plateau=train.Plateau(window=100, rel_tol=0.5), log=False)
    assert h.stopped and h.stopped.startswith("plateau at epoch")
    assert len(h.epoch) < 5000


def test_where_a_run_stops_does_not_depend_on_the_clock(monkeypatch, capsys):
    """Progress lines come every 10 % or every 30 s; the plateau check must not ride on them, or a
    slower machine (more timed lines) would stop the same run at another epoch."""
    def run():
        torch.manual_seed(0)
        return train.fit(models.mlp([16], 1, 1), _line_data(), epochs=5000, batch_size=64, lr=1e-2,
                         plateau=train.Plateau(window=100, rel_tol=0.5))
    quiet = run()
    monkeypatch.setattr(train.Progress, "due", lambda self, i: True)  # a line every epoch, as on a slow machine
    chatty = run()
    capsys.readouterr()
    assert quiet.stopped == chatty.stopped and quiet.epoch == chatty.epoch and quiet.steps == chatty.steps
    assert len(quiet.epoch) % train.check_interval(1) == 0  # one step per epoch: checked every 25 epochs


def test_target_loss_stops_on_a_check_epoch_and_says_so():
    ds = _line_data()  # 4 steps per epoch: checked every 25 epochs unless told otherwise
    def run(**kw):
        torch.manual_seed(0)
        return train.fit(models.mlp([16], 1, 1), ds, epochs=400, batch_size=16, lr=1e-2, log=False, **kw)
    free = run()
    target = free.train_loss[59]  # reached by epoch 60 at the latest
    every = run(target_loss=target, check_every=1)
    first = next(i + 1 for i, v in enumerate(free.train_loss) if v <= target)
    assert every.target_epoch == first == len(every.epoch) and every.steps == 4 * first
    assert every.train_loss == free.train_loss[:first] and every.stopped.startswith(f"target at epoch {first}")
    coarse = run(target_loss=target)
    assert coarse.target_epoch % 25 == 0 and first <= coarse.target_epoch < first + 25
    missed = run(target_loss=-1.0)  # never reached: runs to the limit, no target epoch
    assert missed.target_epoch is None and missed.stopped is None and missed.steps == 400 * 4


def test_plateau_rule():
    rule = train.Plateau(window=2, rel_tol=0.1)
    assert not rule.reached([5, 4, 3])
    assert rule.reached([5, 1, 0.95, 0.97])
    assert not rule.reached([5, 1, 0.8, 0.97])


def test_divergence_is_recorded_not_raised():
    torch.manual_seed(0)
    h = train.fit(models.mlp([16], 1, 1), _line_data(), epochs=200, batch_size=64, lr=1e4, optimizer="sgd",
                  log=False)
    assert h.diverged is not None and h.stopped.startswith("diverged")
    assert all(math.isfinite(v) for v in h.train_loss)
    assert len(h.train_loss) == h.diverged["epoch"] - 1
    if h.train_loss:
        assert h.diverged["last_finite_loss"] == h.train_loss[-1]


@pytest.mark.parametrize("bad,match", [(dict(epochs=0), "epochs=0"), (dict(batch_size=0), "batch_size=0"),
                                       (dict(lr=0.0), "lr=0.0"), (dict(optimizer="lbfgs"), "optimizer='lbfgs'")])
def test_bad_arguments(bad, match):
    kw = dict(epochs=1, batch_size=4, lr=1e-3) | bad
    with pytest.raises(ValueError, match=match):
        train.fit(models.mlp([2], 1, 1), _line_data(8), log=False, **kw)


def test_evaluate_matches_direct_computation():
    ds = data.image_data("digits", test_limit=100)
    torch.manual_seed(0)
    m = models.mlp([8], 64, 10)
    loss, acc = train.evaluate(m, ds.x_test, ds.y_test, "classification", batch_size=7)
    with torch.no_grad():
        out = m(ds.x_test)
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(out, ds.y_test).item(), rel=1e-5)
    assert acc == pytest.approx((out.argmax(1) == ds.y_test).float().mean().item())


def test_a_long_epoch_shows_life_even_with_its_lines_off(monkeypatch, capsys):
    """Inside an epoch (thousands of minibatches on MNIST) a line comes once HEARTBEAT_SECONDS passed without
    one, with log=False too; the run itself is the same as a silent one."""
    from hwlib import progress

    def run():
        torch.manual_seed(0)
        return train.fit(models.mlp([16], 1, 1), _line_data(), epochs=2, batch_size=8, lr=1e-2, log=False,
                         label="batch 8, seed 0")
    silent = run()
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.0)  # every step is "30 s later"
    beating = run()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == beating.steps == 16  # 2 epochs of 8 minibatches: one line each
    assert lines[0].startswith("batch 8, seed 0  epoch 1/2  step 1/8  minibatch loss ")
    assert lines[-1].startswith("batch 8, seed 0  epoch 2/2  step 8/8  minibatch loss ")
    assert silent.train_loss == beating.train_loss and silent.final == beating.final
