"""Random labels: seeded, reproducible, uniform, and the test set untouched."""

import dataclasses

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from hwlib.data import Dataset
from hwlib.labels import agreement, random_labels, with_random_labels


def _data(n_train=2000, n_test=300, n_classes=10):
    g = torch.Generator().manual_seed(123)
    return Dataset("toy", "classification",
                   torch.randn(n_train, 1, 4, 4, generator=g), torch.randint(0, n_classes, (n_train,), generator=g),
                   torch.randn(n_test, 1, 4, 4, generator=g), torch.randint(0, n_classes, (n_test,), generator=g),
                   n_classes)


def test_seeded_and_reproducible():
    a = random_labels(500, 10, seed=3)
    assert torch.equal(a, random_labels(500, 10, seed=3))
    assert not torch.equal(a, random_labels(500, 10, seed=4))
    # independent of the global RNG state
    torch.manual_seed(999)
    assert torch.equal(a, random_labels(500, 10, seed=3))
    assert a.dtype == torch.int64 and int(a.min()) >= 0 and int(a.max()) <= 9


def test_test_set_and_inputs_untouched():
    data = _data()
    before = dataclasses.replace(data, x_train=data.x_train.clone(), y_train=data.y_train.clone(),
                                 x_test=data.x_test.clone(), y_test=data.y_test.clone())
    noisy = with_random_labels(data, seed=0)
    assert torch.equal(noisy.y_test, before.y_test) and torch.equal(noisy.x_test, before.x_test)
    assert torch.equal(noisy.x_train, before.x_train)
    assert torch.equal(data.y_train, before.y_train)  # the original dataset is not modified
    assert not torch.equal(noisy.y_train, before.y_train)
    assert noisy.n_classes == data.n_classes and noisy.y_train.shape == data.y_train.shape
    assert noisy.y_train.device == data.y_train.device
    # the random labels carry no information about the true ones: agreement ≈ 1/10
    assert abs(agreement(noisy.y_train, data.y_train) - 0.1) < 0.03


def test_distribution_near_uniform():
    y = random_labels(20000, 10, seed=0).numpy()
    counts = np.bincount(y, minlength=10)
    assert counts.min() > 0.9 * 2000 and counts.max() < 1.1 * 2000
    # chi-square goodness of fit against the uniform distribution: not rejected at 0.1 %
    assert chisquare(counts).pvalue > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="classification"):
        with_random_labels(dataclasses.replace(_data(), kind="regression"))
    with pytest.raises(ValueError, match="n_classes"):
        random_labels(10, 1)
