"""Device choice: CUDA, then Apple's MPS, then the CPU, unless the user names one."""

from __future__ import annotations

import torch

from .config import ConfigError, one_of, shown


def available_devices() -> list[str]:
    """The devices this machine can train on, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def select_device(name: str = "auto") -> torch.device:
    """'auto' picks the best available device; a named one must exist here."""
    available = available_devices()
    if name == "auto":
        return torch.device(available[0])
    if name not in available:
        raise ConfigError(f"device {shown(name)} is not available here; "
                          f"available: {one_of(available)}")
    return torch.device(name)


def gpu_count() -> int:
    """CUDA GPUs on this machine: a run can use one process per GPU."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0
