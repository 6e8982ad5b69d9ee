"""The device a run trains on, and how the loop uses it.

Device choice: CUDA, then Apple's MPS, then the CPU, unless the user names one.

GPU speed paths, each off by default (TrainConfig: precision, compile, channels_last,
pin_memory, deterministic). Off, the loop is the plain fp32 one and runs anywhere.

- precision bf16 / fp16: autocast the forward pass; fp16 also scales the loss (GradScaler) so
  small gradients do not underflow. bf16 has fp32's range and needs no scaler.
- compile: torch.compile the module the step calls (after DDP wraps it, as PyTorch advises).
- channels_last: NHWC weights and batches for conv models (faster convolutions on tensor cores).
- pin_memory: page-locked host batches, copied with non_blocking=True so the copy overlaps
  compute.
- deterministic: deterministic kernels and no cuDNN autotuning, for reproducible GPU runs.
"""

from __future__ import annotations

import contextlib
import os

import torch
from torch import nn

from .config import ConfigError, TrainConfig, one_of, shown

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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



def apply_determinism(cfg: TrainConfig) -> None:
    if not cfg.deterministic:
        return
    # cuBLAS needs a fixed workspace for deterministic matrix products (set before first use).
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


def prepare_model(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """channels_last on the model itself (its weights); returns it."""
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def compiled(module: nn.Module, cfg: TrainConfig) -> nn.Module:
    return torch.compile(module) if cfg.compile else module


def autocast(cfg: TrainConfig, device: torch.device):
    if cfg.precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[cfg.precision])


def grad_scaler(cfg: TrainConfig, device: torch.device) -> torch.amp.GradScaler | None:
    return torch.amp.GradScaler(device.type) if cfg.precision == "fp16" else None


def to_device(batch: torch.Tensor, device: torch.device, cfg: TrainConfig) -> torch.Tensor:
    """A CPU batch on the training device (non-blocking from pinned memory)."""
    batch = batch.to(device, non_blocking=batch.is_pinned())
    if cfg.channels_last and batch.dim() == 4:
        batch = batch.contiguous(memory_format=torch.channels_last)
    return batch


def pin(cfg: TrainConfig, device: torch.device) -> bool:
    """Pinning helps only host-to-GPU copies; elsewhere it is a wasted copy."""
    return cfg.pin_memory and device.type == "cuda"
