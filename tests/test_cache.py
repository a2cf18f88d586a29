"""The model cache: keys change with everything that decides the weights; bad files mean "train"."""

import inspect
import shutil
import time

import pytest
import torch

from hwlib import cache, sources
from hwlib.params import resolve_task
from hwlib.tasks import batch_models
from hwlib.tasks import t1_3d_sensitivity as t1_3d
from hwlib.tasks.common import load_data


def test_round_trip_and_older_keys_dropped(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    old = cache.key({"epochs": 1}, "cpu")
    cache.save("m", old, [(state, {"loss": 0.5})], tmp_path)
    new = cache.key({"epochs": 2}, "cpu")
    assert new != old
    assert cache.load("m", new, tmp_path) is None  # other settings: nothing to load
    cache.save("m", new, [(state, {"loss": 0.25})], tmp_path)
    assert not cache.path("m", old, tmp_path).exists()  # one file per name
    (loaded_state, record), = cache.load("m", new, tmp_path)
    assert torch.equal(loaded_state["w"], state["w"]) and record == {"loss": 0.25}


def test_key_depends_on_device_and_torch(monkeypatch):
    base = cache.key({"seed": 0}, "cpu")
    assert cache.key({"seed": 0}, torch.device("cpu")) == base  # the same device, however written
    assert cache.key({"seed": 0}, "meta") != base
    monkeypatch.setattr(torch, "__version__", "0.0")
    assert cache.key({"seed": 0}, "cpu") != base


@pytest.fixture
def P(tmp_path):
    return resolve_task(t1_3d, profile="smoke", device="cpu", out_dir=tmp_path)


def _edit(monkeypatch, fn):
    """Make ``fn``'s source text read as edited, as if a line of it had been changed."""
    getsource = inspect.getsource
    monkeypatch.setattr(cache.inspect, "getsource", lambda f: getsource(f) + ("    # edited\n" if f is fn else ""))


@pytest.mark.parametrize("fn", [t1_3d.comment, t1_3d.table, t1_3d.figures, t1_3d._novak_text, t1_3d.run])
def test_key_kept_when_a_figure_comment_or_measurement_is_edited(P, monkeypatch, fn):
    base = t1_3d.cache_key(P)
    _edit(monkeypatch, fn)
    assert t1_3d.cache_key(P) == base


@pytest.mark.parametrize("fn", [batch_models.build, batch_models.train_models, load_data])
def test_key_changes_when_the_training_code_is_edited(P, monkeypatch, fn):
    base = t1_3d.cache_key(P)
    _edit(monkeypatch, fn)
    assert t1_3d.cache_key(P) != base


def test_key_changes_with_a_constant_the_training_reads(P, monkeypatch):
    base = t1_3d.cache_key(P)
    monkeypatch.setattr(batch_models, "MODELS", batch_models.MODELS + "_other")  # a module constant train_models reads
    assert t1_3d.cache_key(P) != base


def test_key_follows_the_training_modules_files_only(P, tmp_path, monkeypatch):
    """A copy of hwlib: editing a file a training module imports changes the key, editing another does not."""
    copy = tmp_path / "hwlib"
    shutil.copytree(sources.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sources, "PACKAGE", copy)
    base = t1_3d.cache_key(P)
    for name in ("wording.py", "plots.py", "sensitivity.py"):  # comments, figures, measuring: no training
        (copy / name).write_text((copy / name).read_text() + "\n# edited\n")
    assert t1_3d.cache_key(P) == base
    for name in ("train.py", "models.py", "data.py", "to_target.py"):  # to_target's constants decide where a model stops
        before = (copy / name).read_text()
        (copy / name).write_text(before + "\n# edited\n")
        assert t1_3d.cache_key(P) != base, name
        (copy / name).write_text(before)
    assert t1_3d.cache_key(P) == base


def test_unreadable_file_reads_as_missing(tmp_path):
    k = cache.key({}, "cpu")
    file = cache.path("m", k, tmp_path)
    file.parent.mkdir(parents=True)
    file.write_bytes(b"PK\x03\x04 truncated")
    assert cache.load("m", k, tmp_path) is None


def test_lock_makes_a_second_process_wait_until_the_first_is_done(tmp_path):
    # 1-3d and 1-3e may run side by side: the second must wait for the models, not train them again
    import subprocess
    import sys
    code = ("import sys; from hwlib import cache\n"
            "with cache.lock('m', sys.argv[1]):\n    print('inside', flush=True)\n")
    with cache.lock("m", tmp_path):
        proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # printed before it blocks
        assert first.startswith("waiting for another notebook that is training m")
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting while the lock is held
    assert proc.stdout.readline().strip() == "inside"
    assert proc.wait(timeout=60) == 0
