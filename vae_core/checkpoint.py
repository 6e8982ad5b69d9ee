"""Checkpoints: `model.safetensors` + `config.json` in one directory; never pickle.

A run keeps its checkpoints under `checkpoints/epoch-NNNN/` and names the newest complete one in
`checkpoints/latest`. Each directory is written under a temporary name and renamed into place,
and `latest` is replaced atomically last, so a kill at any moment leaves a loadable checkpoint.
Resumable checkpoints also hold `optimizer.safetensors` (+ its JSON part in config.json).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file, save_file

from .config import ConfigError, DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from .models import VAE

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
OPTIMIZER_FILE = "optimizer.safetensors"
KEEP_CHECKPOINTS = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says what is wrong with it."""


@dataclass
class Checkpoint:
    """A loaded model with everything saved beside it. The model is in eval mode."""

    model: VAE
    model_config: ModelConfig
    data_config: DataConfig
    train_config: TrainConfig | None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write via a temporary file and os.replace: readers see the old or the new file, whole.
    durable=False skips the fsync: still atomic for readers, but a power cut may lose it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, value: Any, durable: bool = True) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=2).encode(), durable)


def _config_document(
    model_config: ModelConfig, data_config: DataConfig, train_config: TrainConfig | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model": to_dict(model_config),
        "data": to_dict(data_config),
        "train": to_dict(train_config) if train_config is not None else None,
        "metadata": metadata,
    }


def save_checkpoint(
    directory: Path, model: VAE, data_config: DataConfig, train_config: TrainConfig | None = None,
    metadata: dict[str, Any] | None = None, optimizer_state: dict[str, Any] | None = None,
) -> Path:
    """Write a complete checkpoint directory (written under a temporary name, then renamed)."""
    directory = Path(directory)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / WEIGHTS_FILE))
    document = _config_document(model.config, data_config, train_config, metadata or {})
    if optimizer_state is not None:
        tensors, document["optimizer"] = _split_optimizer_state(optimizer_state)
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
    (tmp / CONFIG_FILE).write_text(json.dumps(document, indent=2))
    _fsync_tree(tmp)
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(tmp, directory)
    return directory


def _fsync_tree(directory: Path) -> None:
    for child in directory.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    """torch optimizer state -> (tensors for safetensors, the rest as JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"state.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = tensor
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


# --- run directories: checkpoints/epoch-NNNN + checkpoints/latest ----------------------------


def save_run_checkpoint(run_dir: Path, epoch: int, **kwargs: Any) -> Path:
    """Save epoch `epoch`'s checkpoint in a run, point `latest` at it, prune older ones."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{epoch:04d}"
    path = save_checkpoint(root / name, **kwargs)
    atomic_write_bytes(root / "latest", name.encode())
    for old in sorted(p for p in root.glob("epoch-*") if p.is_dir())[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return path


def resolve_checkpoint_dir(path: Path) -> Path:
    """A checkpoint directory itself, or a run directory's latest checkpoint."""
    path = Path(path)
    if (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file():
        return path
    pointer = path / "checkpoints" / "latest"
    if pointer.is_file():
        return path / "checkpoints" / pointer.read_text().strip()
    raise CheckpointError(
        f"{path} holds no checkpoint: expected {WEIGHTS_FILE} + {CONFIG_FILE}, "
        "or a run directory with checkpoints/latest"
    )


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint (or a run's latest) onto `device`, validating config and shapes."""
    directory = resolve_checkpoint_dir(path)
    try:
        weights = load_file(str(directory / WEIGHTS_FILE))
    except (SafetensorError, OSError) as error:
        message = f"{directory / WEIGHTS_FILE} is not readable safetensors: {error}"
        raise CheckpointError(message) from error
    config_text = _read_text(directory / CONFIG_FILE)
    checkpoint = checkpoint_from_parts(weights, config_text, device)
    checkpoint.path = directory
    return checkpoint


def load_checkpoint_bytes(
    weights: bytes, config_json: bytes | str, device: str | torch.device = "cpu"
) -> Checkpoint:
    """Load an uploaded pair of files (safetensors bytes + config.json), never unpickling."""
    try:
        tensors = load_safetensors_bytes(weights)
    except Exception as error:  # safetensors raises several types for malformed headers
        raise CheckpointError(f"the weights file is not valid safetensors ({error})") from error
    text = config_json.decode("utf-8", "replace") if isinstance(config_json, bytes) else config_json
    return checkpoint_from_parts(tensors, text, device)


def load_optimizer_state(checkpoint_dir: Path) -> dict[str, Any] | None:
    """The optimizer state saved with a run checkpoint, or None for model-only checkpoints."""
    directory = Path(checkpoint_dir)
    document = json.loads(_read_text(directory / CONFIG_FILE))
    if "optimizer" not in document or not (directory / OPTIMIZER_FILE).is_file():
        return None
    return _join_optimizer_state(load_file(str(directory / OPTIMIZER_FILE)), document["optimizer"])


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror}") from error


def checkpoint_from_parts(
    weights: dict[str, torch.Tensor], config_text: str, device: str | torch.device = "cpu"
) -> Checkpoint:
    """Validate the config document and the tensors against each other, then build the model."""
    document = _parse_config(config_text)
    try:
        model_config = from_dict(ModelConfig, document["model"])
        data_config = from_dict(DataConfig, document["data"])
        train = document.get("train")
        train_config = from_dict(TrainConfig, train) if train is not None else None
    except ConfigError as error:
        raise CheckpointError(f"config.json: {error}") from error
    model = VAE(model_config)
    _check_tensors(model, weights)
    model.load_state_dict(weights)
    model.to(device).eval().requires_grad_(False)
    metadata = document.get("metadata") or {}
    return Checkpoint(model, model_config, data_config, train_config, metadata)


def _parse_config(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"config.json is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise CheckpointError("config.json must be a JSON object")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"config.json format_version is {version!r}; this Latent Lab reads {FORMAT_VERSION}"
        )
    missing = [key for key in ("model", "data") if key not in document]
    if missing:
        raise CheckpointError(f"config.json lacks {missing}")
    return document


def _check_tensors(model: VAE, weights: dict[str, torch.Tensor]) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in weights.items()}
    problems = [f"missing {k}" for k in sorted(set(expected) - set(found))]
    problems += [f"unexpected {k}" for k in sorted(set(found) - set(expected))]
    problems += [
        f"{k}: shape {found[k]} but the config needs {expected[k]}"
        for k in sorted(set(expected) & set(found))
        if expected[k] != found[k]
    ]
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        shown = "; ".join(problems[:5]) + more
        raise CheckpointError(f"the weights do not match config.json: {shown}")

