"""The models a user can pick: shipped assets, training runs, imported models and uploads.

A model is named by a key string: "asset:<name>", "run:<name>", "models:<folder path>" (a model
folder under one of LATENT_LAB_MODELS' folders) or "upload:<sha256 prefix>" (an upload lives in
its session's own folder: ui/session_uploads.py). A folder holds a vae_core checkpoint
(model.safetensors + config.json) or an imported model (vae_core.imported: two ONNX graphs and
model.json); both load into an object with the same fields (model, model_config, metadata).
Loading is cached per process (st.cache_resource) by the checkpoint's identity, so every
session shares one read-only copy, and a newer checkpoint, or one overwritten in place, is
loaded afresh.
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
    has_run_checkpoint,
    load_checkpoint,
    load_checkpoint_bytes,
    resolve_checkpoint_dir,
)
from vae_core.imported import (
    CARD_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    ImportedModelFiles,
    is_imported_dir,
    load_imported,
    load_imported_bytes,
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


MODELS_VARIABLE = "LATENT_LAB_MODELS"  # folders of model folders, separated like PATH


@dataclass(frozen=True)
class ModelEntry:
    key: str
    label: str
    path: Path


def _is_model_dir(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file() or is_imported_dir(path)


def _imported_name(path: Path) -> str:
    """The card's name (import-onnx --name), else the folder's."""
    try:
        name = json.loads((path / CARD_FILE).read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return str(name)[:80] if isinstance(name, str) and name else path.name


def _label(path: Path, origin: str) -> str:
    if is_imported_dir(path):
        return f"{_imported_name(path)} (imported)"
    return f"{path.name} ({origin})"


def shipped_models() -> list[ModelEntry]:
    """Models in assets/ (Latent Lab's own and imported ones), the default first."""
    found = [p for p in sorted(assets_dir().glob("*")) if _is_model_dir(p)]
    entries = [ModelEntry(f"asset:{p.name}", _label(p, "shipped"), p) for p in found]
    return sorted(entries, key=lambda e: e.key != DEFAULT_MODEL)


def listed_models() -> list[ModelEntry]:
    """Model folders in the folders LATENT_LAB_MODELS lists (or those folders themselves)."""
    entries = []
    for root in filter(None, os.environ.get(MODELS_VARIABLE, "").split(os.pathsep)):
        root = Path(root).expanduser().resolve()
        folders = [root] if _is_model_dir(root) else sorted(
            p for p in root.glob("*") if p.is_dir() and _is_model_dir(p))
        entries += [ModelEntry(f"models:{p}", _label(p, "model folder"), p) for p in folders]
    return entries


def run_models() -> list[ModelEntry]:
    """Training runs with at least one finished epoch, newest first."""
    root = runs_dir()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if has_run_checkpoint(p)]
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [ModelEntry(f"run:{p.name}", f"{p.name} (run)", p) for p in runs]


def uploaded_model(key: str) -> ModelEntry | None:
    """This session's upload of that key; another session's upload is not found."""
    path = session_dir() / key.removeprefix("upload:")
    return ModelEntry(key, _upload_label(path), path) if path.is_dir() else None


def _upload_label(path: Path) -> str:
    """'uploaded: mnist5k · latent 16 (460f3263)': named by its card, as the sidebar shows it.

    The files were validated when they were uploaded; this only reads two fields."""
    try:
        if is_imported_dir(path):
            card = json.loads((path / CARD_FILE).read_text(encoding="utf-8"))
            text = f"{_imported_name(path)} · latent {int(card['latent_dim'])} "
        else:
            config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
            text = f"{config['data']['name']} · latent {int(config['model']['latent_dim'])} "
    except (OSError, ValueError, KeyError, TypeError):
        text = ""
    return f"uploaded: {text}({path.name[:8]})"


def find_entry(key: str) -> ModelEntry | None:
    if key.startswith("upload:"):
        return uploaded_model(key)
    return next((e for e in shipped_models() + listed_models() + run_models() if e.key == key),
                None)


def checkpoint_identity(directory: Path) -> str:
    """Names one version of a checkpoint's files, for cache keys.

    Changes whenever either file is rewritten, also in place under the same path (a re-export, a
    run deleted and re-created under its name): their inode, size, mtime and ctime, plus the
    config's text (a rewrite within one clock tick keeps the times; the config names the epoch,
    the test figures and the shapes). Costs two stats and one small read.
    """
    imported = is_imported_dir(directory)
    card = CARD_FILE if imported else CONFIG_FILE
    digest = hashlib.sha256(str(directory).encode())
    for name in (card, ENCODER_FILE, DECODER_FILE) if imported else (card, WEIGHTS_FILE):
        info = (directory / name).stat()
        digest.update(f"|{name}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:"
                      f"{info.st_ctime_ns}".encode())
    digest.update((directory / card).read_bytes())
    return digest.hexdigest()[:16]


def load_entry(entry: ModelEntry) -> tuple[Checkpoint | ImportedModelFiles, str]:
    """The entry's model (loaded once per process per identity) and that identity.

    A training run replaces its checkpoints as epochs finish: a load that lost the race (its
    checkpoint deleted under it) tries once more with the run's newer latest."""
    directory = _checkpoint_dir(entry)
    try:
        return _load(entry, directory)
    except (ValueError, OSError):  # CheckpointError, a file gone
        newer = None if directory.exists() else _checkpoint_dir(entry)
        if newer in (None, directory):
            raise  # not a checkpoint replaced under the load
        return _load(entry, newer)


def _checkpoint_dir(entry: ModelEntry) -> Path:
    return entry.path if is_imported_dir(entry.path) else resolve_checkpoint_dir(entry.path)


def _load(entry: ModelEntry, directory: Path) -> tuple[Checkpoint | ImportedModelFiles, str]:
    identity = checkpoint_identity(directory)
    trusted = not entry.key.startswith("upload:")
    return _load_cached(str(directory), identity, trusted), identity


@st.cache_resource(max_entries=8, show_spinner="Loading model...")
def _load_cached(directory: str, identity: str, trusted: bool) -> Checkpoint | ImportedModelFiles:
    if is_imported_dir(Path(directory)):
        return load_imported(Path(directory), trusted=trusted)
    return load_checkpoint(Path(directory), trusted=trusted)


def save_upload(weights: bytes, config_json: bytes) -> str:
    """Validate an uploaded checkpoint (never unpickled) and keep it on disk; returns its key.

    Raises CheckpointError with a message for the user when the pair is not a usable model.
    """
    load_checkpoint_bytes(weights, config_json)  # validates config and every tensor shape
    return _keep_upload({WEIGHTS_FILE: weights, CONFIG_FILE: config_json})


def save_imported_upload(card: bytes, encoder: bytes, decoder: bytes) -> str:
    """Validate an uploaded imported model (vae_core.imported: the graphs checked before they
    run, against the card) and keep it on disk; returns its key. Raises ModelImportError or
    OnnxFileError with a message for the user."""
    load_imported_bytes(card, encoder, decoder)
    return _keep_upload({CARD_FILE: card, ENCODER_FILE: encoder, DECODER_FILE: decoder})


def _keep_upload(files: dict[str, bytes]) -> str:
    """Write validated files into this session's upload folder, named by their hash."""
    digest = hashlib.sha256(b"".join(files.values())).hexdigest()[:16]
    folder = session_dir()
    target = folder / digest
    if not target.is_dir():
        staging = folder / f".{digest}.tmp-{os.getpid()}"
        staging.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (staging / name).write_bytes(data)
        os.replace(staging, target)
    return f"upload:{digest}"


__all__ = ["CheckpointError", "ModelEntry", "find_entry", "load_entry", "save_imported_upload",
           "save_upload"]
