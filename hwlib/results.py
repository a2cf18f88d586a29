"""The results contract: every notebook writes report/results/<name>.json, atomically.

A file is written to a temporary name in the same folder and renamed over the target, so a
reader sees the old complete file or the new complete file, never half of one. A file that
does not parse (truncated by a crash of something else) is reported as missing, never read
as valid.

The module does not import torch: the build steps (stitch, pdf) read and write these files in short
processes of their own, where importing torch would cost 2-3 s each. A tensor can only exist once
torch is loaded, so ``plain`` looks for it among the loaded modules.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """JSON-safe copy: tensors and numpy values to Python numbers, NaN/Inf to None (JSON has neither)."""
    torch = sys.modules.get("torch")  # loaded wherever a tensor or a device can be in value
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path) or (torch is not None and isinstance(value, torch.device)):
        return str(value)
    return value


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all, readable as any new file is under the user's umask
    (0644 with umask 022): the temporary file is opened with mode 0666 less the umask, not mkstemp's 0600,
    which the rename would carry over to the report and the results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"  # O_EXCL: never another writer's file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def results_path(name: str, out_dir: str | Path) -> Path:
    return Path(out_dir) / "results" / f"{name}.json"


def host_data_problem(value: Any, where: str = "R") -> str | None:
    """Where ``value`` holds something other than plain host data (dicts, lists, str, numbers,
    bool, None), or None when it holds nothing else. A tensor in a task's results reaches its
    figures, and matplotlib cannot read a CUDA tensor: on a GPU box that failed after minutes of
    training, while the same code passed on the CPU. This check fails on the CPU too."""
    if isinstance(value, (dict, list, tuple)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return next((p for k, v in items if (p := host_data_problem(v, f"{where}[{k!r}]"))), None)
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    return f"{where} is a {type(value).__module__}.{type(value).__qualname__}"


def save(name: str, payload: dict, out_dir: str | Path) -> Path:
    """Write the results a task returned, which must be plain host data (``envelope`` makes it so)."""
    problem = host_data_problem(payload)
    if problem:
        raise TypeError(f"{name}: results must be plain host data, but {problem}: return them through "
                        f"results.envelope (or results.plain)")
    path = results_path(name, out_dir)
    atomic_write_bytes(path, json.dumps(plain(payload), indent=1, allow_nan=False).encode())
    return path


def load_results(name: str, out_dir: str | Path) -> dict | None:
    """The results notebook ``name`` saved under ``out_dir``, or None where the file is absent or does not parse.
    ``hwlib.tasks.common.run`` redraws from them only where their ``inputs`` digest is this run's (else it
    computes afresh and saves over them); the build steps (runner, stitch, summary) read what a notebook
    recorded, and treat None as a section without results."""
    path = results_path(name, out_dir)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def envelope(P, name: str, section: str, seconds: float, **metrics) -> dict:
    """The fields every results file carries, then the notebook's own metrics, as plain host data:
    what the figures and the comment receive is exactly what the JSON file holds, never a tensor
    on the device."""
    from . import environment
    from .device import describe_device

    return plain({"name": name, "section": section, "profile": P.profile, "device": describe_device(P.device),
            "environment": environment.describe_environment(),  # which locked versions made these numbers
            "params": P.settings, "seconds": round(seconds, 3), "peak_memory_mib": peak_memory_mib(),
            "peak_gpu_memory_mib": peak_gpu_memory_mib(), **metrics})


def peak_gpu_memory_mib() -> float | None:
    """Peak memory torch allocated on the GPUs this process used, in MiB; None when it used none.
    Host memory (peak_memory_mib) does not see it, and on a GPU box it is the one that runs out."""
    import torch

    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return None
    peak = max(torch.cuda.max_memory_allocated(i) for i in range(torch.cuda.device_count()))
    return round(peak / 2**20, 1)


def peak_memory_mib() -> float | None:
    """Peak resident memory of this process so far (the notebook's kernel), in MiB."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)  # bytes on macOS, KiB on Linux


def thin(xs: list, ys: list, n: int = 400) -> dict:
    """At most ~n points of a curve, spaced evenly in log(x), for log-scale plots in the results
    file (a 20,000-epoch curve stays readable and the file small); first and last are kept."""
    if len(xs) <= n:
        return {"x": list(xs), "y": list(ys)}
    idx = sorted({round(i) for i in np.geomspace(1, len(xs), n) - 1} | {0, len(xs) - 1})
    return {"x": [xs[i] for i in idx], "y": [ys[i] for i in idx]}
