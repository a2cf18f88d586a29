"""Reading a notebook's results and writing a build output atomically, as hwlib.results does, without
its imports: hwlib.results turns tensors into plain numbers, so it imports torch (2-3 s), which the
stitching and the printing, that only read JSON and write a file, never use. tests/test_build_imports.py
checks that these agree with hwlib.results."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename: a reader sees the old file or the new
    one, never half of one (hwlib.results.atomic_write_bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(name: str, out_dir: str | Path) -> dict | None:
    """<out_dir>/results/<name>.json, or None when absent or unreadable (hwlib.results.load)."""
    try:
        return json.loads((Path(out_dir) / "results" / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
