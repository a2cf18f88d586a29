"""1-1b: the smoke run's results, table and figures; the deepest CNN trains on CIFAR-10-shaped input;
the comment compares each deeper CNN with the shallowest, called only beyond the test set's noise."""

import pytest
import torch
from matplotlib.figure import Figure

from hwlib import results, train
from hwlib.data import Dataset, _standardize
from hwlib.params import resolve_task
from hwlib.plots import png
from hwlib.tasks import common
from hwlib.tasks import t1_1b_actual_task as t1_1b


def _P(tmp_path, **kw):
    return resolve_task(t1_1b, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_smoke_run_table_and_figures(tmp_path):
    common.run(t1_1b, _P(tmp_path, epochs=1, train_limit=64))
    R = results.load(t1_1b.NAME, tmp_path)  # as the notebook's later cells see it
    assert results.host_data_problem(R) is None
    assert {r["depth"] for r in R["runs"]} == {1, 2}
    # the comment counts test images, so every run records how many there are
    assert {r["n_test"] for r in R["runs"]} == {360}
    assert "2-block CNN against the 1-block CNN" in t1_1b.comment(R)
    table = t1_1b.table(R)
    assert table.count("\n| ") == 2 and "2-block CNN" in table
    figs = t1_1b.figures(R)
    try:
        assert len(figs) == 2 * len(R["params"]["datasets"])  # loss, then accuracy, per dataset
        for fig, caption in figs:
            assert isinstance(fig, Figure) and "on digits per epoch" in caption
            _clean(caption)
        assert "loss" in figs[0][1] and "accuracy" in figs[1][1]
    finally:
        for fig, _ in figs:
            assert png(fig)[:4] == b"\x89PNG"  # drawn, not only built: draw-time errors show here


# ------------------------------------------------------------ the deep CNN on CIFAR-shaped input

def _cifar_shaped(n: int, learnable: bool, seed: int = 0) -> Dataset:
    """3×32×32 images, standardized as data.image_data does. learnable: a smooth template per
    class under unit noise; else uniform random pixels and labels (only memorizable)."""
    g = torch.Generator().manual_seed(seed)
    m = n + 64
    y = torch.randint(0, 10, (m,), generator=g)
    if learnable:
        templates = torch.nn.functional.avg_pool2d(torch.randn(10, 3, 32, 32, generator=g), 5, stride=1, padding=2)
        x = templates[y] + torch.randn(m, 3, 32, 32, generator=g)
    else:
        x = torch.randint(0, 256, (m, 3, 32, 32), generator=g).float() / 255
    x_train, x_test = _standardize(x[:n], x[n:])
    return Dataset("cifar-shaped", "classification", x_train, y[:n], x_test, y[n:], 10)


@pytest.mark.parametrize("learnable,epochs,loss_below", [(True, 4, 1.0), (False, 15, 0.7)])
def test_deepest_cnn_trains_on_cifar_shaped_input(tmp_path, learnable, epochs, loss_below):
    # The random images are what tells: with batchnorm=False this 4-block net (widths 18) ends at
    # loss 1.79 and 65 % training accuracy and the test fails; with BatchNorm it memorizes them.
    # The learnable problem passes either way (no BatchNorm: loss 0.93): the deep net does learn.
    ds = _cifar_shaped(512 if learnable else 256, learnable)
    # 1-1b's own family and its settings (BatchNorm as its SPEC says), at a budget a CPU test affords
    P = _P(tmp_path, budget=20000, depths=[1, 2, 4])
    model = t1_1b.family(P, ds)[-1]
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 4
    torch.manual_seed(0)
    h = train.fit(model, ds, epochs=epochs, batch_size=64, lr=P.lr, optimizer=P.optimizer, seed=0, log=False)
    assert h.train_loss[0] > 1.5  # it starts near chance (ln 10 = 2.30) …
    assert h.final["train_loss"] < loss_below  # … and leaves it
    assert h.final["train_acc"] > 0.9


# ------------------------------------------------------------ the comment


def _run(depth, right, dataset="digits", n_test=360, diverged=False):
    """One CNN that got ``right`` of ``n_test`` test images right."""
    return {"dataset": dataset, "model": t1_1b.model_name(depth), "depth": depth, "params": 20000, "n_test": n_test,
            "history": {"final": {"train_loss": 0.01, "train_acc": 1.0, "test_loss": 0.05, "test_acc": right / n_test},
                        "diverged": {"epoch": 3, "last_finite_loss": 2.3} if diverged else None}}


def _R(*runs, datasets=("digits",)):
    return {"params": {"datasets": list(datasets), "epochs": 20}, "runs": list(runs)}


def _clean(text):
    for bad in ("(s)", "[", "True", "False", "`"):
        assert bad not in text, bad
    return text


def test_threshold_is_the_test_sets_noise_but_never_below_the_floor():
    assert t1_1b.threshold_images(360, 1.0, 1.0) == t1_1b.MIN_IMAGES
    # CIFAR-10-like: 10,000 images at 70 %: 2 × sqrt(2 · 10000 · 0.21) = 129.6
    assert t1_1b.threshold_images(10000, 0.7, 0.7) == 130


def test_one_or_two_images_is_no_difference():
    # the case: the 2-block beats the 1-block by one image, the 4-block is the worst
    text = _clean(t1_1b.comment(_R(_run(1, 353), _run(2, 354), _run(4, 350))))
    assert text.count("**no clear difference**") == 2
    assert "1 test image more right" in text and "3 test images fewer right" in text
    assert "no deeper CNN tested clearly better or worse" in text
    assert "generalizes better" not in text and "paid off" not in text


def test_the_same_count_is_said_as_such():
    text = _clean(t1_1b.comment(_R(_run(1, 340), _run(2, 340))))
    assert "the same number right" in text


def test_clear_win_of_the_deeper_cnns():
    text = _clean(t1_1b.comment(_R(_run(1, 300), _run(2, 340), _run(4, 350))))
    assert text.count("**better**") == 2 and "50 test images more right" in text
    assert "every deeper CNN tested clearly better" in text and "paid off" in text


def test_clear_win_of_the_shallow_cnn():
    text = _clean(t1_1b.comment(_R(_run(1, 350), _run(2, 300), _run(4, 310))))
    assert text.count("**worse**") == 2
    assert "every deeper CNN tested clearly worse" in text and "did not pay off" in text


def test_deeper_cnns_that_disagree_are_no_trend():
    text = _clean(t1_1b.comment(_R(_run(1, 330), _run(2, 350), _run(4, 300))))
    assert "**better**" in text and "**worse**" in text
    assert "Depth had no consistent effect: only some deeper CNNs differed clearly on digits" in text


def test_datasets_that_disagree_are_named():
    R = _R(_run(1, 300), _run(2, 350), _run(1, 9000, "mnist", 10000), _run(2, 9010, "mnist", 10000),
           datasets=("digits", "mnist"))
    text = _clean(t1_1b.comment(R))
    assert ("every deeper CNN tested clearly better on digits and no depth made a clear difference on mnist"
            in text)


def test_a_diverged_cnn_is_left_out_and_the_next_is_the_reference():
    text = _clean(t1_1b.comment(_R(_run(1, 100, diverged=True), _run(2, 300), _run(4, 350))))
    assert "the 1-block CNN diverged at epoch 3; it is left out" in text
    assert "4-block CNN against the 2-block CNN: **better**" in text


@pytest.mark.parametrize("runs", [[_run(1, 300), _run(2, 100, diverged=True)], [_run(1, 300)]])
def test_one_finished_cnn_compares_nothing(runs):
    text = _clean(t1_1b.comment(_R(*runs)))
    assert "fewer than two CNNs finished" in text and "depth is not compared" in text


def test_a_shallow_win_beside_a_split_is_named():
    R = _R(_run(1, 330), _run(2, 300), _run(1, 9000, "mnist", 10000), _run(2, 9500, "mnist", 10000),
           _run(4, 8000, "mnist", 10000), datasets=("digits", "mnist"))
    text = _clean(t1_1b.comment(R))
    assert ("every deeper CNN tested clearly worse on digits and only some deeper CNNs differed clearly on mnist"
            in text)
