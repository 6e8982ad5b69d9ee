"""The models a user can pick: shipped assets, training runs and uploaded checkpoints.

A model is named by a key string: "asset:<name>", "run:<name>" or "upload:<sha256 prefix>".
Loading is cached per process (st.cache_resource) by path and the checkpoint's modification
time, so every session shares one read-only copy and a run's newer checkpoint is picked up.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from vae_core.checkpoint import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    load_checkpoint_bytes,
    resolve_checkpoint_dir,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "asset:mnist16"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "latent-lab-uploads"


def assets_dir() -> Path:
    """Shipped models; LATENT_LAB_ASSETS overrides (tests use tiny models made on the fly)."""
    return Path(os.environ.get("LATENT_LAB_ASSETS", PROJECT_DIR / "assets"))


def runs_dir() -> Path:
    """Where training runs live; LATENT_LAB_RUNS overrides (tests point it at a temp dir)."""
    return Path(os.environ.get("LATENT_LAB_RUNS", PROJECT_DIR / "runs"))


@dataclass(frozen=True)
class ModelEntry:
    key: str
    label: str
    path: Path


def shipped_models() -> list[ModelEntry]:
    """Models in assets/, the default first."""
    found = [p for p in sorted(assets_dir().glob("*")) if (p / CONFIG_FILE).is_file()]
    entries = [ModelEntry(f"asset:{p.name}", f"{p.name} (shipped)", p) for p in found]
    return sorted(entries, key=lambda e: e.key != DEFAULT_MODEL)


def run_models() -> list[ModelEntry]:
    """Training runs with at least one finished epoch, newest first."""
    root = runs_dir()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / "checkpoints" / "latest").is_file()]
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [ModelEntry(f"run:{p.name}", f"{p.name} (run)", p) for p in runs]


def uploaded_model(key: str) -> ModelEntry | None:
    path = UPLOAD_DIR / key.removeprefix("upload:")
    return ModelEntry(key, f"uploaded {path.name[:8]}", path) if path.is_dir() else None


def find_entry(key: str) -> ModelEntry | None:
    if key.startswith("upload:"):
        return uploaded_model(key)
    return next((e for e in shipped_models() + run_models() if e.key == key), None)


def load_entry(entry: ModelEntry) -> Checkpoint:
    """The entry's checkpoint, loaded once per process per checkpoint version."""
    directory = resolve_checkpoint_dir(entry.path)
    stamp = (directory / WEIGHTS_FILE).stat().st_mtime_ns
    return _load_cached(str(directory), stamp, trusted=not entry.key.startswith("upload:"))


@st.cache_resource(max_entries=8, show_spinner="Loading model...")
def _load_cached(directory: str, stamp: int, trusted: bool) -> Checkpoint:
    return load_checkpoint(Path(directory), trusted=trusted)


def save_upload(weights: bytes, config_json: bytes) -> str:
    """Validate an uploaded checkpoint (never unpickled) and keep it on disk; returns its key.

    Raises CheckpointError with a message for the user when the pair is not a usable model.
    """
    load_checkpoint_bytes(weights, config_json)  # validates config and every tensor shape
    digest = hashlib.sha256(weights + config_json).hexdigest()[:16]
    target = UPLOAD_DIR / digest
    if not target.is_dir():
        staging = UPLOAD_DIR / f".{digest}.tmp-{os.getpid()}"
        staging.mkdir(parents=True, exist_ok=True)
        (staging / WEIGHTS_FILE).write_bytes(weights)
        (staging / CONFIG_FILE).write_bytes(config_json)
        os.replace(staging, target)
    return f"upload:{digest}"


__all__ = ["CheckpointError", "ModelEntry", "find_entry", "load_entry", "save_upload"]
