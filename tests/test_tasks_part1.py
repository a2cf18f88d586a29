"""Part 1 task modules: what they hand their figures is plain host data, and 1-1b's deepest CNN
trains on CIFAR-10-shaped input."""

import pytest
import torch

from hwlib import train
from hwlib.data import Dataset, _standardize
from hwlib.params import resolve_task
from hwlib.results import host_data_problem
from hwlib.tasks import t1_1a, t1_1b


def _P(task, tmp_path, **kw):
    return resolve_task(task, profile="smoke", device="cpu", out_dir=tmp_path, **kw)


def test_1_1a_predictions_reach_the_figures_as_host_lists(tmp_path):
    # on a GPU box these were CUDA tensors, and the figure failed after all the training
    R = t1_1a.run(_P(t1_1a, tmp_path, epochs=5))
    assert host_data_problem(R) is None
    pred = R["predictions"]["sinc"]
    assert isinstance(pred["x"], list) and isinstance(pred["truth"], list)
    assert all(isinstance(v, list) and len(v) == len(pred["x"]) for v in pred["by_depth"].values())
    # the comment reads this very payload; the smoke profile's single seed leaves the noise unknown
    text = t1_1a.comment(R)
    assert "sin(5πx)/(5πx)" in text and "With 1 seed per model the seed noise is unknown" in text


def test_1_1b_results_are_host_data(tmp_path):
    R = t1_1b.run(_P(t1_1b, tmp_path, epochs=1, train_limit=64))
    assert host_data_problem(R) is None
    assert {r["depth"] for r in R["runs"]} == {1, 2}
    # the comment counts test images, so every run records how many there are
    assert {r["n_test"] for r in R["runs"]} == {360}
    assert "2-block CNN against the 1-block CNN" in t1_1b.comment(R)


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


def _deepest(ds: Dataset, tmp_path, **kw):
    # 1-1b's own family and its settings (BatchNorm as its SPEC says), at a budget a CPU test affords
    P = _P(t1_1b, tmp_path, budget=20000, depths=[1, 2, 4], **kw)
    return P, t1_1b.family(P, ds)[-1]


@pytest.mark.parametrize("learnable,epochs,loss_below", [(True, 4, 1.0), (False, 15, 0.7)])
def test_1_1b_deepest_cnn_trains_on_cifar_shaped_input(tmp_path, learnable, epochs, loss_below):
    # The random images are what tells: with batchnorm=False this 4-block net (widths 18) ends at
    # loss 1.79 and 65 % training accuracy and the test fails; with BatchNorm it memorizes them.
    # The learnable problem passes either way (no BatchNorm: loss 0.93): the deep net does learn.
    ds = _cifar_shaped(512 if learnable else 256, learnable)
    P, model = _deepest(ds, tmp_path)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 4
    torch.manual_seed(0)
    h = train.fit(model, ds, epochs=epochs, batch_size=64, lr=P.lr, optimizer=P.optimizer, seed=0, log=False)
    assert h.train_loss[0] > 1.5  # it starts near chance (ln 10 = 2.30) …
    assert h.final["train_loss"] < loss_below  # … and leaves it
    assert h.final["train_acc"] > 0.9
