"""Tiny MNIST and CIFAR-10 files in torchvision's real on-disk formats (neither can be downloaded
here): the loading code under test is the one a user with the real files runs."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray, compress: bool = False) -> None:
    """MNIST's idx format: big-endian magic 2051 (images) / 2049 (labels), sizes, then uint8 bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    files = {f"{prefix}-images-idx3-ubyte": struct.pack(">IIII", 2051, n, h, w) + images.tobytes(),
             f"{prefix}-labels-idx1-ubyte": struct.pack(">II", 2049, n) + labels.astype(np.uint8).tobytes()}
    for name, raw in files.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


def write_mnist(root: Path, n_train: int, n_test: int, seed: int = 0, folder: str = "MNIST") -> dict:
    """root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte with random digits."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(root / folder / "raw", prefix, x, y)
        out[prefix] = (x, y)
    return out


CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def write_cifar10(root: Path, per_batch: int, n_test: int, seed: int = 1) -> dict:
    """root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}: pickled dicts of
    uint8 rows (3072 = 3 planes of 32×32, row-major) and integer labels, as in the real archive."""
    rng = np.random.default_rng(seed)
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in CIFAR_TRAIN + ["test_batch"]:
        n = n_test if name == "test_batch" else per_batch
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, n).tolist()
        out[name] = (x, y)
        with open(base / name, "wb") as f:
            pickle.dump({"data": x, "labels": y}, f)
    with open(base / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    return out
