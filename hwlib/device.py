"""Choosing the device and the default profile; nothing else in hwlib hard-codes either."""

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


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)
