"""The project's folders, and the one rule for every path a user gives: a relative path is
relative to the project, never to the working folder.

A notebook's kernel runs in ``notebooks/`` (papermill's ``cwd``, and JupyterLab's), while make and
the tests run from the project's root. Resolving ``data`` against the working folder would read
``notebooks/data`` in one place and ``data`` in another; every ``data_root`` and ``out_dir`` is
therefore resolved here, against the project.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ROOT = "data"  # torchvision datasets (data/MNIST/raw, data/cifar-10-batches-py)
OUT_DIR = "report"  # executed notebooks, results, caches, report.html/.pdf


def project_root() -> Path:
    """The project folder: the nearest parent of the working folder that holds pyproject.toml and
    hwlib/ (a kernel in notebooks/, make at the root, a copy of the project), else the folder
    above this package (an editable install used from elsewhere)."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "pyproject.toml").exists() and (folder / "hwlib").is_dir():
            return folder
    return Path(__file__).resolve().parents[1]


def in_project(path: str | Path) -> Path:
    """An absolute, normalized path: ``path`` itself when absolute (``~`` expanded), else project/path."""
    path = Path(path).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else project_root() / path))


def data_root(given: str | Path | None = None) -> Path:
    return in_project(given or DATA_ROOT)


def out_dir(given: str | Path | None = None) -> Path:
    return in_project(given or OUT_DIR)
