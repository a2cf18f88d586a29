"""Trained models shared between notebooks: the first notebook trains, a later one loads.

1-3e measures the very models 1-3d trains (same settings, seed and data order). Training them
twice doubles the most expensive part of both notebooks, so the trainer stores the trained
state under ``<out_dir>/cache/`` and the next notebook with the same settings loads it.

Nothing stale is ever loaded: the key is a hash of everything that decides the trained
weights — the training settings, the device type, torch's version, the source text of the
functions that build and train the models, and the files of the hwlib modules they train with
(hwlib.sources: the static import closure of e.g. hwlib.train) — so changing any of them trains
afresh. Nothing else is in it: editing a figure, a comment or the PDF printer keeps the models.
A missing or unreadable file also means "train"; each notebook still runs on its own. One file
is kept per name: saving removes the files of older keys.

Two notebooks that need the same models may run side by side (make runs two at a time): ``lock``
lets one of them train while the other waits and then loads, instead of both training.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock; two notebooks beside each other may then both train
    fcntl = None

import torch

from . import sources
from .results import atomic_write_bytes, plain


def code_digest(functions=(), modules=()) -> str:
    """sha256 over the source text of ``functions`` and the files ``modules`` import (hwlib.sources).

    A function's text alone misses the module-level constants it reads (e.g. how often a target is
    checked), so the plain values among its globals go in too."""
    h = hashlib.sha256()
    for fn in functions:
        h.update(f"{fn.__module__}.{fn.__qualname__}".encode())
        h.update(inspect.getsource(fn).encode())
        h.update(json.dumps(_constants(fn), sort_keys=True, default=repr).encode())
    files = set().union(*(sources.of_module(m) for m in modules))
    for file in sorted(files):
        h.update(file.relative_to(sources.PACKAGE).as_posix().encode())
        h.update(file.read_bytes())
    return h.hexdigest()


def _constants(fn) -> dict:
    """The numbers, strings and tuples of them that ``fn`` (or a function nested in it) reads as globals."""
    names, todo = set(), [fn.__code__]
    while todo:
        code = todo.pop()
        names.update(code.co_names)
        todo.extend(c for c in code.co_consts if inspect.iscode(c))
    plain_types = (bool, int, float, str, tuple)
    return {n: fn.__globals__[n] for n in sorted(names)
            if isinstance(fn.__globals__.get(n), plain_types)}


def key(settings: dict, device: torch.device | str, functions=(), modules=()) -> str:
    """The cache key of models trained with ``settings`` on ``device`` by ``functions`` (the code that
    builds and trains them) with the hwlib ``modules`` they train with (e.g. "hwlib.train"), and torch."""
    parts = {"settings": plain(settings), "device": torch.device(device).type, "torch": torch.__version__,
             "code": code_digest(functions, modules)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def path(name: str, cache_key: str, out_dir: str | Path) -> Path:
    return Path(out_dir) / "cache" / f"{name}-{cache_key}.pt"


def load(name: str, cache_key: str, out_dir: str | Path):
    """What ``save`` stored under this name and key, or None (absent, or unreadable: then train)."""
    file = path(name, cache_key, out_dir)
    if not file.exists():
        return None
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError):  # truncated or foreign: not worth a failure
        return None


def save(name: str, cache_key: str, obj, out_dir: str | Path) -> Path:
    """Store ``obj`` (tensors, numbers, strings, lists, dicts) atomically; drop older keys' files."""
    file = path(name, cache_key, out_dir)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(file, buffer.getvalue())
    for old in file.parent.glob(f"{name}-*.pt"):
        if old != file:
            old.unlink(missing_ok=True)
    return file


@contextlib.contextmanager
def lock(name: str, out_dir: str | Path):
    """Hold ``<out_dir>/cache/<name>.lock`` while checking for, training and saving the models called
    ``name``: a second process asking for them waits here (saying so) until the first has saved them, then
    loads them. The operating system releases the lock if its holder dies, so a crash never blocks a rerun."""
    file = Path(out_dir) / "cache" / f"{name}.lock"
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "a") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for another notebook that is training {name} ({file})", flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
