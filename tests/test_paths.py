"""One rule for paths: a relative data_root or out_dir is relative to the project, whatever the
working folder (a notebook's kernel runs in notebooks/, make at the project's root)."""

import os
from pathlib import Path

import pytest
from support.fake_datasets import write_mnist

from hwlib import data, paths
from hwlib.params import Param, resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("cwd", [ROOT, ROOT / "notebooks", ROOT / "hwlib" / "tasks"])
def test_relative_paths_resolve_against_the_project(cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    assert paths.project_root() == ROOT
    assert paths.data_root() == ROOT / "data" and paths.data_root("data") == ROOT / "data"
    assert paths.out_dir() == ROOT / "report" and paths.out_dir("elsewhere/out") == ROOT / "elsewhere" / "out"
    assert paths.in_project("/abs/folder") == Path("/abs/folder")


def test_dataset_at_a_relative_root_is_found_from_the_notebooks_folder(tmp_path, monkeypatch):
    write_mnist(tmp_path, n_train=6, n_test=3)
    relative = os.path.relpath(tmp_path, ROOT)  # e.g. ../../tmp/pytest-…/…: relative to the project only
    monkeypatch.chdir(ROOT / "notebooks")
    assert not (Path.cwd() / relative / "MNIST").exists()  # against the working folder it would miss
    ds = data.image_data("mnist", root=relative, download=False)
    assert ds.x_train.shape == (6, 1, 28, 28)


def test_out_dir_setting_resolves_against_the_project(tmp_path, monkeypatch):
    relative = os.path.relpath(tmp_path / "out", ROOT)
    monkeypatch.chdir(ROOT / "notebooks")
    P = resolve({"epochs": Param("int", smoke=1, quick=1, full=1)}, {"profile": "smoke", "out_dir": relative})
    assert P.out_dir == tmp_path / "out" and P.out_dir.is_dir()
