"""Choosing the device and the default profile; nothing else in hwlib hard-codes either."""

from contextlib import contextmanager

import torch


def resolve_device(name: str | None = "auto") -> torch.device:
    """'auto' (or None) picks CUDA when present, else CPU; any torch device string is accepted."""
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={name!r} is not a torch device: use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} asked for CUDA but none is available: use device=auto or cpu")
    return device


def default_profile() -> str:
    """The full profile needs a GPU to finish in minutes; without one, quick."""
    return "full" if torch.cuda.is_available() else "quick"


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


@contextmanager
def cpu_threads(n: int, device: torch.device | str):
    """Run a block with n intra-op threads on the CPU (no-op elsewhere), then restore.

    A step of a ~100-parameter ensemble is a few hundred tiny kernels: a second thread cannot
    split them, and on a CPU shared with other work its synchronization costs far more than it
    saves (measured: over 10× slower steps with 2 threads while another process was busy).
    """
    if torch.device(device).type != "cpu" or n <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
