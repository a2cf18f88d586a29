import math
import os

import numpy as np
import pytest
import torch
from support.fake_datasets import write_cifar10, write_idx

from hwlib import data


def test_sinc_is_one_at_zero_and_matches_formula():
    x = torch.tensor([0.0, 0.1, -0.37, 0.5])
    y = data.sinc(x)
    assert y[0] == 1.0
    ref = torch.sin(5 * math.pi * x[1:]) / (5 * math.pi * x[1:])
    assert torch.allclose(y[1:], ref, atol=1e-6)


def test_sign_is_square_wave():
    x = torch.tensor([0.1, 0.3, -0.1])
    assert data.sign(x).tolist() == [1.0, -1.0, -1.0]


def test_function_data_shapes_and_grid():
    ds = data.function_data("sinc", "cpu", n_train=50, n_test=80)
    assert ds.x_train.shape == (50, 1) and ds.y_test.shape == (80, 1)
    assert ds.x_train.min() == -1 and ds.x_train.max() == 1
    # the test grid sits between training points, inside (-1, 1)
    assert ds.x_test.min() > -1 and ds.x_test.max() < 1


def test_digits_split_is_fixed_and_standardized():
    a, b = data.image_data("digits"), data.image_data("digits")
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_test.shape == (360, 1, 8, 8)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert abs(a.x_train.mean().item()) < 1e-4 and abs(a.x_train.std().item() - 1) < 1e-3
    # stratified: every class present in both splits in about the same proportion
    tr = torch.bincount(a.y_train, minlength=10).float() / len(a.y_train)
    te = torch.bincount(a.y_test, minlength=10).float() / len(a.y_test)
    assert (tr - te).abs().max() < 0.01


def test_digits_split_is_kept_and_read_back_unchanged(tmp_path, monkeypatch):
    # the split is made once with scikit-learn, kept in the data root, and read back identical
    first = data.image_data("digits", root=tmp_path)
    kept = list((tmp_path / "digits").glob("split-scikit-learn-*.npz"))
    assert len(kept) == 1 and not list((tmp_path / "digits").glob(".*"))  # no temporary file left
    monkeypatch.setattr(data, "_digits_split", lambda: pytest.fail("the kept split was not used"))
    second = data.image_data("digits", root=tmp_path)
    for k in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(first, k), getattr(second, k)) and getattr(first, k).dtype == getattr(second, k).dtype


def test_digits_load_from_a_data_root_that_cannot_be_written(tmp_path):
    # a data root nothing can be written under (here: a path through a file, which stops root too)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    ds = data.image_data("digits", root=blocker / "data")
    assert ds.x_train.shape == (1437, 1, 8, 8) and blocker.read_text() == ""


def test_unknown_dataset_message():
    with pytest.raises(data.DataError, match=r"dataset='imagenet' is unknown: use one of digits, mnist"):
        data.image_data("imagenet")
    with pytest.raises(data.DataError, match="function='cos' is unknown"):
        data.function_data("cos")


def test_missing_dataset_names_root_and_fix(tmp_path):
    with pytest.raises(data.DataError) as err:
        data.image_data("mnist", root=tmp_path, download=False)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path) in msg and "-p data_root" in msg


def test_unreadable_root(tmp_path, monkeypatch):
    # root reads any folder, so permissions alone cannot make it unreadable here: deny the access check
    monkeypatch.setattr(data.os, "access", lambda path, mode: False)
    with pytest.raises(data.DataError, match=r"data_root='.*' cannot be read: fix its permissions"):
        data.image_data("mnist", root=tmp_path, download=False)


# ----------------------------------------------------------- torchvision loaders on tiny real-format files

@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_format_loader(tmp_path, name, folder):
    rng = np.random.default_rng(0)
    raw = tmp_path / folder / "raw"
    tr_x, tr_y = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), rng.integers(0, 10, 12, dtype=np.uint8)
    te_x, te_y = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), rng.integers(0, 10, 5, dtype=np.uint8)
    write_idx(raw, "train", tr_x, tr_y)
    write_idx(raw, "t10k", te_x, te_y)
    ds = data.image_data(name, root=tmp_path, download=False)
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_test.shape == (5, 1, 28, 28)
    assert ds.y_train.tolist() == tr_y.tolist() and ds.y_test.tolist() == te_y.tolist()
    # standardized with the training statistics of the real pixels
    px = tr_x.astype(np.float32) / 255
    expect = (te_x[0].astype(np.float32) / 255 - px.mean()) / px.std(ddof=1)
    assert np.allclose(ds.x_test[0, 0].numpy(), expect, atol=1e-4)


def test_cifar10_format_loader(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar

    # The real archive's md5 sums cannot match tiny files; keep the existence check, skip the checksum.
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    batches = write_cifar10(tmp_path, per_batch=3, n_test=3)
    ds = data.image_data("cifar10", root=tmp_path, download=False)
    assert ds.x_train.shape == (15, 3, 32, 32) and ds.x_test.shape == (3, 3, 32, 32)
    assert ds.y_test.tolist() == batches["test_batch"][1]
    # channel-first layout of CIFAR's row-major RGB planes: pixel (0, 0) of the red plane is byte 0
    train_x = np.vstack([batches[f"data_batch_{i}"][0] for i in range(1, 6)]).reshape(-1, 3, 32, 32) / 255
    mean, std = train_x.mean(axis=(0, 2, 3)), train_x.std(axis=(0, 2, 3), ddof=1)
    assert np.allclose(ds.x_train[0, :, 0, 0].numpy(), (train_x[0, :, 0, 0] - mean) / std, atol=1e-4)


def test_data_on_requested_device():
    ds = data.load_dataset("sign", torch.device("cpu"), n_train=10)
    assert ds.x_train.device.type == "cpu" and ds.kind == "regression"


def test_describe_reads_as_words():
    from hwlib import data

    assert data.function_data("sinc", n_train=20, n_test=10).describe() == "sinc: 20 train / 10 test, scalar input"
    images = data.Dataset("digits", "classification", torch.zeros(5, 1, 8, 8), torch.zeros(5), torch.zeros(3, 1, 8, 8),
                          torch.zeros(3), n_classes=10)
    assert images.describe() == "digits: 5 train / 3 test, 1 × 8 × 8 images, 10 classes"
    flat = data.Dataset("MNIST", "classification", torch.zeros(5, 784), torch.zeros(5), torch.zeros(3, 784),
                        torch.zeros(3), n_classes=10)
    assert flat.describe() == "MNIST: 5 train / 3 test, 784 inputs, 10 classes"
