"""Trained models shared between notebooks: the first notebook trains, a later one loads.

1-3e measures the very models 1-3d trains (same settings, seed and data order). Training them
twice doubles the most expensive part of both notebooks, so the trainer stores the trained
state under ``<out_dir>/cache/`` and the next notebook with the same settings loads it.

Nothing stale is ever loaded: the key is a hash of everything that decides the trained
weights — the training settings, the device type, torch's version and the source of hwlib
itself — so changing any of them trains afresh. A missing or unreadable file also means
"train"; each notebook still runs on its own. One file is kept per name: saving removes the
files of older keys.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import torch

from .results import atomic_write_bytes, plain

PACKAGE = Path(__file__).resolve().parent


def source_digest() -> str:
    """sha256 over hwlib's Python source: any edit to a model, the data or the loop gives new keys."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(path.relative_to(PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def key(settings: dict, device: torch.device | str) -> str:
    """The cache key of models trained with ``settings`` on ``device`` by this hwlib and torch."""
    parts = {"settings": plain(settings), "device": torch.device(device).type, "torch": torch.__version__,
             "hwlib": source_digest()}
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
