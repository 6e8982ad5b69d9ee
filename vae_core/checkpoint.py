"""Checkpoints: `model.safetensors` + `config.json` in one directory; never pickle.

A run keeps its checkpoints under `checkpoints/epoch-NNNN/` and names the newest complete one in
`checkpoints/latest`. Each directory is written under a temporary name and renamed into place,
and `latest` is replaced atomically last, so a kill at any moment leaves a loadable checkpoint.
Resumable checkpoints also hold `optimizer.safetensors` (+ its JSON part in config.json).
Loading checks everything before building anything (see checkpoint_checks.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .checkpoint_checks import (
    CheckpointError,
    check_weights_header,
    checked_metadata,
)
from .config import (
    BUILTIN_DATASETS,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    from_dict,
    model_config_from_dict,
    one_of,
    shown,
    to_dict,
)
from .files import atomic_write_bytes, read_text
from .models import LatentModel, build_model

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
OPTIMIZER_FILE = "optimizer.safetensors"
# Everything save_checkpoint and export write: a folder holding only these may be replaced.
OWN_FILES = frozenset({WEIGHTS_FILE, CONFIG_FILE, OPTIMIZER_FILE, "train.json", "MODEL_CARD.md"})
KEEP_CHECKPOINTS = 2
CHECKPOINTS_DIR = "checkpoints"  # a run directory's checkpoints
LATEST_FILE = "latest"  # names the newest complete epoch-NNNN beside it
BEST_CHECKPOINT = "best"

@dataclass
class Checkpoint:
    """A loaded model with everything saved beside it. The model is in eval mode.

    trusted: False for a checkpoint someone uploaded; its config may name any path on the
    server, so example_data() never returns a data set read from a path.
    """

    model: LatentModel  # a VAE or a plain autoencoder (model_config.kind)
    model_config: ModelConfig
    data_config: DataConfig
    train_config: TrainConfig | None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    trusted: bool = True

    def example_data(self) -> DataConfig | None:
        """The data set to show test examples from, or None when it may not be read here."""
        if self.trusted:
            return self.data_config
        if self.data_config.name in BUILTIN_DATASETS:
            return dataclasses.replace(self.data_config, path=None)
        return None


TOP_LEVEL_KEYS = {"format_version", "model", "data", "train", "metadata", "optimizer"}


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
    directory: Path, model: LatentModel, data_config: DataConfig,
    train_config: TrainConfig | None = None,
    metadata: dict[str, Any] | None = None, optimizer_state: dict[str, Any] | None = None,
) -> Path:
    """Write a complete checkpoint directory (written under a temporary name, then renamed)."""
    directory = Path(directory)
    check_replaceable(directory)
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


def check_replaceable(directory: Path) -> None:
    """Refuse to replace anything but an empty folder or one holding only checkpoint files:
    `export runs/x assets` must not delete every shipped model."""
    if not directory.exists() and not directory.is_symlink():
        return
    foreign = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else None
    if foreign is not None:
        foreign = [name for name in foreign if name not in OWN_FILES]
    if foreign is None or foreign or directory.is_symlink():
        what = "is not a folder" if foreign is None else f"holds {', '.join(foreign[:5])}"
        raise CheckpointError(
            f"{directory} exists and {what}: it is not a checkpoint this tool wrote, so it is "
            "not replaced. Choose a new folder (or a model folder to overwrite)."
        )


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
    root = Path(run_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{epoch:04d}"
    path = save_checkpoint(root / name, **kwargs)
    atomic_write_bytes(root / LATEST_FILE, name.encode())
    for old in _epoch_dirs(root)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return path


def save_best_checkpoint(run_dir: Path, **kwargs: Any) -> Path:
    """Save the run's best model so far (by validation -ELBO) as checkpoints/best; pruning of
    epoch checkpoints never touches it. No optimizer state: it is for use, not for resuming."""
    return save_checkpoint(Path(run_dir) / CHECKPOINTS_DIR / BEST_CHECKPOINT, **kwargs)


def best_checkpoint_dir(run_dir: Path) -> Path | None:
    """checkpoints/best of a run directory, when the run has validated any epoch."""
    path = Path(run_dir) / CHECKPOINTS_DIR / BEST_CHECKPOINT
    return path if (path / WEIGHTS_FILE).is_file() else None


def has_run_checkpoint(run_dir: Path) -> bool:
    """Has the run in run_dir finished (and checkpointed) an epoch?"""
    return (Path(run_dir) / CHECKPOINTS_DIR / LATEST_FILE).is_file()


def _epoch_dirs(root: Path) -> list[Path]:
    """epoch-N checkpoint folders, oldest first by N (as text, epoch-10000 < epoch-9999)."""
    found = [p for p in root.glob("epoch-*") if p.is_dir() and p.name[6:].isdecimal()]
    return sorted(found, key=lambda p: int(p.name[6:]))


def resolve_checkpoint_dir(path: Path) -> Path:
    """A checkpoint directory itself, or a run directory's latest checkpoint."""
    path = Path(path)
    if (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file():
        return path
    pointer = path / CHECKPOINTS_DIR / LATEST_FILE
    if pointer.is_file():
        return path / CHECKPOINTS_DIR / pointer.read_text().strip()
    raise CheckpointError(
        f"{path.name} holds no checkpoint: expected {WEIGHTS_FILE} + {CONFIG_FILE}, "
        "or a run directory with checkpoints/latest"
    )


def load_checkpoint(
    path: Path, device: str | torch.device = "cpu", trusted: bool = True
) -> Checkpoint:
    """Load a checkpoint (or a run's latest) onto `device`.

    The config is validated and the header's tensor shapes compared with it before any weight
    is read or any module built. trusted=False (an upload): see Checkpoint.example_data.
    """
    directory = resolve_checkpoint_dir(path)
    document = _parse_config(_read_config(directory))
    model_config, data_config, train_config = _configs(document)
    try:
        check_weights_header(directory / WEIGHTS_FILE, model_config)
    except ConfigError as error:  # over the size limit
        raise CheckpointError(f"config.json: {error}") from error
    metadata = checked_metadata(document.get("metadata"), model_config.latent_dim)
    try:
        weights = load_file(str(directory / WEIGHTS_FILE))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{WEIGHTS_FILE} is not readable safetensors: {error}") from error
    model = build_model(model_config)
    model.load_state_dict(weights)
    model.to(device).eval().requires_grad_(False)
    return Checkpoint(model, model_config, data_config, train_config, metadata, directory,
                      trusted)


def load_checkpoint_bytes(
    weights: bytes, config_json: bytes | str, device: str | torch.device = "cpu"
) -> Checkpoint:
    """Load an uploaded pair of files (safetensors bytes + config.json), never unpickling.

    The upload is untrusted (trusted=False) and takes the same checks as a folder on disk.
    """
    text = config_json.encode() if isinstance(config_json, str) else config_json
    with tempfile.TemporaryDirectory(prefix="latent-lab-check-") as folder:
        (Path(folder) / WEIGHTS_FILE).write_bytes(weights)
        (Path(folder) / CONFIG_FILE).write_bytes(text)
        checkpoint = load_checkpoint(Path(folder), device, trusted=False)
    checkpoint.path = None
    return checkpoint


def load_optimizer_state(checkpoint_dir: Path) -> dict[str, Any] | None:
    """The optimizer state saved with a run checkpoint, or None for model-only checkpoints."""
    directory = Path(checkpoint_dir)
    document = _parse_config(_read_config(directory))
    if "optimizer" not in document or not (directory / OPTIMIZER_FILE).is_file():
        return None
    return _join_optimizer_state(load_file(str(directory / OPTIMIZER_FILE)), document["optimizer"])


def _read_config(directory: Path) -> str:
    try:
        return read_text(directory / CONFIG_FILE)
    except OSError as error:
        raise CheckpointError(f"cannot read {CONFIG_FILE}: {error.strerror}") from error
    except ValueError as error:  # larger than any config this tool writes
        raise CheckpointError(str(error)) from error


def _configs(document: dict[str, Any]) -> tuple[ModelConfig, DataConfig, TrainConfig | None]:
    try:
        train = document.get("train")
        return (model_config_from_dict(document["model"]), from_dict(DataConfig, document["data"]),
                from_dict(TrainConfig, train) if train is not None else None)
    except ConfigError as error:
        raise CheckpointError(f"config.json: {error}") from error


def _parse_config(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:  # [[[[... nests past the stack
        raise CheckpointError(f"config.json is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise CheckpointError("config.json must be a JSON object")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"config.json format_version is {shown(version, 20)}; this Latent Lab reads "
            f"{FORMAT_VERSION}"
        )
    missing = [key for key in ("model", "data") if key not in document]
    if missing:
        raise CheckpointError(f"config.json lacks {' and '.join(missing)}")
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:  # as in each section: a misspelt key is named, never ignored
        raise CheckpointError(f"config.json: unknown keys at the top level: "
                              f"{one_of(map(shown, unknown))}")
    return document
