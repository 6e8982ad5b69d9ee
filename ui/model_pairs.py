"""Pairs of models that differ only in kind: a plain autoencoder and a VAE with the same
networks, data and likelihood, for the AE vs VAE page.

Only shipped models and training runs are paired (their config.json is read, not the weights):
an upload's data may not be readable here.
"""

from __future__ import annotations

import dataclasses
import json

from vae_core.checkpoint import CONFIG_FILE, CheckpointError, resolve_checkpoint_dir
from vae_core.config import DataConfig, ModelConfig, from_dict, model_config_from_dict

from .model_registry import ModelEntry, run_models, shipped_models


def _configs(entry: ModelEntry) -> tuple[ModelConfig, DataConfig] | None:
    """The entry's model and data configs, or None when they cannot be read."""
    try:
        document = json.loads((resolve_checkpoint_dir(entry.path) / CONFIG_FILE).read_text())
        return model_config_from_dict(document["model"]), from_dict(DataConfig, document["data"])
    except (CheckpointError, OSError, ValueError, KeyError, TypeError):
        return None


def _configured() -> list[tuple[ModelEntry, ModelConfig, DataConfig]]:
    found = [(entry, _configs(entry)) for entry in shipped_models() + run_models()]
    return [(entry, *configs) for entry, configs in found if configs is not None]


def autoencoders() -> list[ModelEntry]:
    """Every shipped or trained plain autoencoder."""
    return [entry for entry, model, _ in _configured() if not model.is_variational]


def matching_vaes(autoencoder: ModelEntry) -> list[ModelEntry]:
    """The VAEs with the autoencoder's exact networks, likelihood and data."""
    configs = _configs(autoencoder)
    if configs is None:
        return []
    as_vae = dataclasses.replace(configs[0], kind="vae")
    return [entry for entry, model, data in _configured()
            if model == as_vae and data == configs[1]]
