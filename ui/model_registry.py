"""The models a user can pick: shipped assets, training runs and uploaded checkpoints.

A model is named by a key string: "asset:<name>", "run:<name>" or "upload:<sha256 prefix>"
(an upload lives in its session's own folder: ui/session_uploads.py). Loading is cached per
process (st.cache_resource) by the checkpoint's identity, so every session shares one read-only
copy, and a newer checkpoint, or one overwritten in place, is loaded afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
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

from .session_uploads import session_dir

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "asset:mnist32"


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
    """This session's upload of that key; another session's upload is not found."""
    path = session_dir() / key.removeprefix("upload:")
    return ModelEntry(key, _upload_label(path), path) if path.is_dir() else None


def _upload_label(path: Path) -> str:
    """'uploaded: mnist5k · latent 16 (460f3263)': named by its card, as the sidebar shows it.

    The config was validated when it was uploaded; this only reads two fields of it."""
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        card = f"{config['data']['name']} · latent {int(config['model']['latent_dim'])} "
    except (OSError, ValueError, KeyError, TypeError):
        card = ""
    return f"uploaded: {card}({path.name[:8]})"


def find_entry(key: str) -> ModelEntry | None:
    if key.startswith("upload:"):
        return uploaded_model(key)
    return next((e for e in shipped_models() + run_models() if e.key == key), None)


def checkpoint_identity(directory: Path) -> str:
    """Names one version of a checkpoint's files, for cache keys.

    Changes whenever either file is rewritten, also in place under the same path (a re-export, a
    run deleted and re-created under its name): their inode, size, mtime and ctime, plus the
    config's text (a rewrite within one clock tick keeps the times; the config names the epoch,
    the test figures and the shapes). Costs two stats and one small read.
    """
    digest = hashlib.sha256(str(directory).encode())
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        info = (directory / name).stat()
        digest.update(f"|{name}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:"
                      f"{info.st_ctime_ns}".encode())
    digest.update((directory / CONFIG_FILE).read_bytes())
    return digest.hexdigest()[:16]


def load_entry(entry: ModelEntry) -> tuple[Checkpoint, str]:
    """The entry's checkpoint (loaded once per process per identity) and that identity."""
    directory = resolve_checkpoint_dir(entry.path)
    identity = checkpoint_identity(directory)
    trusted = not entry.key.startswith("upload:")
    return _load_cached(str(directory), identity, trusted), identity


@st.cache_resource(max_entries=8, show_spinner="Loading model...")
def _load_cached(directory: str, identity: str, trusted: bool) -> Checkpoint:
    return load_checkpoint(Path(directory), trusted=trusted)


def save_upload(weights: bytes, config_json: bytes) -> str:
    """Validate an uploaded checkpoint (never unpickled) and keep it on disk; returns its key.

    Raises CheckpointError with a message for the user when the pair is not a usable model.
    """
    load_checkpoint_bytes(weights, config_json)  # validates config and every tensor shape
    digest = hashlib.sha256(weights + config_json).hexdigest()[:16]
    folder = session_dir()
    target = folder / digest
    if not target.is_dir():
        staging = folder / f".{digest}.tmp-{os.getpid()}"
        staging.mkdir(parents=True, exist_ok=True)
        (staging / WEIGHTS_FILE).write_bytes(weights)
        (staging / CONFIG_FILE).write_bytes(config_json)
        os.replace(staging, target)
    return f"upload:{digest}"


__all__ = ["CheckpointError", "ModelEntry", "find_entry", "load_entry", "save_upload"]
