"""The model cache: keys change with everything that decides the weights; bad files mean "train"."""

import torch

from hwlib import cache


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


def test_key_depends_on_device_torch_and_source(monkeypatch):
    base = cache.key({"seed": 0}, "cpu")
    assert cache.key({"seed": 0}, torch.device("cpu")) == base  # the same device, however written
    assert cache.key({"seed": 0}, "meta") != base
    monkeypatch.setattr(cache, "source_digest", lambda: "edited")
    assert cache.key({"seed": 0}, "cpu") != base
    monkeypatch.undo()
    monkeypatch.setattr(torch, "__version__", "0.0")
    assert cache.key({"seed": 0}, "cpu") != base


def test_unreadable_file_reads_as_missing(tmp_path):
    k = cache.key({}, "cpu")
    file = cache.path("m", k, tmp_path)
    file.parent.mkdir(parents=True)
    file.write_bytes(b"PK\x03\x04 truncated")
    assert cache.load("m", k, tmp_path) is None
