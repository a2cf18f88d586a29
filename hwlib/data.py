"""Datasets as tensors on the requested device.

Two families: 1-D functions on [-1, 1] (regression) and image datasets (classification).
``digits`` is scikit-learn's 8×8 handwritten digits, shipped inside scikit-learn, so the quick
profile needs no network. ``mnist``, ``fashion_mnist`` and ``cifar10`` come from torchvision
into a data root; when they are missing and cannot be downloaded, the error names the root and
how to fill it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import paths
from .params import ParamError
from .tables import shape


class DataError(ParamError):
    """A dataset that cannot be loaded: one line naming the dataset, the root and the fix."""


@dataclass
class Dataset:
    name: str
    kind: str  # "regression" or "classification"
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def out_dim(self) -> int:
        return self.n_classes if self.kind == "classification" else self.y_train.shape[1]

    def describe(self) -> str:
        """'sinc: 64 train / 2000 test, scalar input'; 'digits: 1437 train / 360 test, 1 × 8 × 8 images, 10 classes'."""
        dims = self.input_shape
        inputs = ("scalar input" if dims == (1,) else f"{dims[0]} inputs" if len(dims) == 1
                  else f"{shape(dims)} images")
        return (f"{self.name}: {len(self.x_train)} train / {len(self.x_test)} test, {inputs}"
                + (f", {self.n_classes} classes" if self.n_classes else ""))


# ---------------------------------------------------------------- 1-D functions

def sinc(x: torch.Tensor) -> torch.Tensor:
    """sin(5πx)/(5πx), with its limit 1 at x = 0 (torch.sinc(t) = sin(πt)/(πt), sinc(0) = 1)."""
    return torch.sinc(5 * x)


def sign(x: torch.Tensor) -> torch.Tensor:
    """sgn(sin(5πx)): a square wave with 5 periods on [-1, 1]."""
    return torch.sign(torch.sin(5 * math.pi * x))


def damped_cosine(x: torch.Tensor) -> torch.Tensor:
    """exp(-2|x|)·cos(8πx): smooth, but with a kink at 0 and fast oscillations."""
    return torch.exp(-2 * x.abs()) * torch.cos(8 * math.pi * x)


# name -> (function, its formula for tables and captions)
FUNCTIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "sinc": (sinc, "sin(5πx)/(5πx)"),
    "sign": (sign, "sgn(sin(5πx))"),
    "damped_cosine": (damped_cosine, "exp(-2|x|)·cos(8πx)"),
}


def function_data(name: str, device: torch.device | str = "cpu", n_train: int = 1000,
                  n_test: int = 2000) -> Dataset:
    """Training points evenly spaced on [-1, 1]; the test set is a denser grid shifted off the
    training points, so the test error measures the fit between them."""
    if name not in FUNCTIONS:
        raise DataError(f"function={name!r} is unknown: use one of {', '.join(FUNCTIONS)}")
    fn = FUNCTIONS[name][0]
    x_train = torch.linspace(-1, 1, n_train, dtype=torch.float32).unsqueeze(1)
    step = 2 / n_test
    x_test = torch.linspace(-1 + step / 2, 1 - step / 2, n_test, dtype=torch.float32).unsqueeze(1)
    return Dataset(name, "regression", x_train.to(device), fn(x_train).to(device),
                   x_test.to(device), fn(x_test).to(device))


# ---------------------------------------------------------------- image datasets

IMAGE_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
DATASETS = IMAGE_DATASETS + tuple(FUNCTIONS)

_TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def _standardize(x_train: torch.Tensor, x_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean/std from the training set only, applied to both."""
    dims = (0, 2, 3)
    mean = x_train.mean(dim=dims, keepdim=True)
    std = x_train.std(dim=dims, keepdim=True).clamp_min(1e-8)
    return (x_train - mean) / std, (x_test - mean) / std


def _digits(root: Path) -> tuple[torch.Tensor, ...]:
    """scikit-learn's digits in a fixed, stratified 80/20 split: every run and every profile sees the same
    1437/360 images. The split is made once with scikit-learn and kept in ``<data root>/digits/`` under
    scikit-learn's version, because importing scikit-learn took 2 s of every image notebook's start on a
    2-core CPU; a data root that cannot be written only means the split is made each time."""
    from importlib.metadata import version

    file = root / "digits" / f"split-scikit-learn-{version('scikit-learn')}.npz"
    names = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(file) as stored:
            arrays = [stored[k] for k in names]
    except (OSError, KeyError, ValueError):  # absent, or unreadable (a partial file cannot be: see below)
        arrays = _digits_split()
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                np.savez(handle, **dict(zip(names, arrays)))
            os.replace(tmp, file)  # whole or not at all, even with two notebooks writing at once
        except OSError:
            pass
    x_tr, y_tr, x_te, y_te = arrays
    return (torch.from_numpy(x_tr).unsqueeze(1), torch.from_numpy(y_tr).long(),
            torch.from_numpy(x_te).unsqueeze(1), torch.from_numpy(y_te).long())


def _digits_split() -> list[np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(bunch.images.astype(np.float32), bunch.target.astype(np.int64),
                                              test_size=0.2, random_state=0, stratify=bunch.target)
    return [x_tr, y_tr, x_te, y_te]


def _torchvision_split(name: str, root: Path, train: bool, download: bool):
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION[name])
    return cls(root=str(root), train=train, download=download)


def _as_tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.as_tensor(np.asarray(ds.data))
    if data.ndim == 3:  # MNIST-like: (N, H, W) uint8
        data = data.unsqueeze(1)
    else:  # CIFAR: (N, H, W, C) uint8
        data = data.permute(0, 3, 1, 2)
    return data.float().div_(255), torch.as_tensor(np.asarray(ds.targets)).long()


def _torchvision(name: str, root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    if root.exists() and not os.access(root, os.R_OK | os.X_OK):
        raise DataError(f"data_root={str(root)!r} cannot be read: fix its permissions or pass -p data_root PATH")
    try:
        splits = [_torchvision_split(name, root, train, download=False) for train in (True, False)]
    except RuntimeError:
        if not download:
            raise DataError(_missing(name, root, "downloads are off")) from None
        try:
            splits = [_torchvision_split(name, root, train, download=True) for train in (True, False)]
        except Exception as exc:  # no network, refused, partial file: one line, not a traceback
            raise DataError(_missing(name, root, f"download failed: {type(exc).__name__}")) from None
    x_tr, y_tr = _as_tensors(splits[0])
    x_te, y_te = _as_tensors(splits[1])
    return x_tr, y_tr, x_te, y_te


def _missing(name: str, root: Path, why: str) -> str:
    return (f"dataset {name!r} is not under data_root={str(root)!r} and {why}: put torchvision's "
            f"{_TORCHVISION[name]} files there (or run once with network) or pass -p data_root PATH")


def image_data(name: str, device: torch.device | str = "cpu", root: str | Path | None = None, download: bool = True,
               train_limit: int | None = None, test_limit: int | None = None) -> Dataset:
    """Images as float32 (N, C, H, W), standardized per channel with training statistics; labels int64.

    ``root`` (default data/) is relative to the project whatever the working folder (hwlib.paths).

    ``train_limit``/``test_limit`` keep the first n images (the smoke profile's few seconds).
    """
    if name == "digits":
        x_tr, y_tr, x_te, y_te = _digits(paths.data_root(root))
    elif name in _TORCHVISION:
        x_tr, y_tr, x_te, y_te = _torchvision(name, paths.data_root(root), download)
    else:
        raise DataError(f"dataset={name!r} is unknown: use one of {', '.join(IMAGE_DATASETS)}")
    if train_limit:
        x_tr, y_tr = x_tr[:train_limit], y_tr[:train_limit]
    if test_limit:
        x_te, y_te = x_te[:test_limit], y_te[:test_limit]
    x_tr, x_te = _standardize(x_tr, x_te)
    n_classes = 10
    return Dataset(name, "classification", x_tr.to(device), y_tr.to(device), x_te.to(device), y_te.to(device),
                   n_classes)


def load_dataset(name: str, device: torch.device | str = "cpu", **kw) -> Dataset:
    """Any dataset by name: a 1-D function or an image dataset."""
    if name in FUNCTIONS:
        keep = {k: v for k, v in kw.items() if k in ("n_train", "n_test")}
        return function_data(name, device, **keep)
    keep = {k: v for k, v in kw.items() if k in ("root", "download", "train_limit", "test_limit")}
    return image_data(name, device, **keep)
