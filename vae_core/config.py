"""Frozen, validated configs with a JSON round trip.

Three configs describe a run: what data (DataConfig), what model (ModelConfig) and how it is
trained (TrainConfig). They are saved as JSON beside the weights, so a checkpoint can be rebuilt
without pickle and without the code that trained it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("gaussian", "gaussian_fixed", "bernoulli")
DATASETS = ("mnist5k", "digits", "shapes", "images", "mnist_idx", "fashion_idx")
DEVICES = ("auto", "cpu", "cuda", "mps")


class ConfigError(ValueError):
    """A config value a person has to change; the message says which and why."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class DataConfig:
    """Which images to train and test on.

    name: mnist5k | digits | shapes | images (a folder or zip of the user's) |
          mnist_idx / fashion_idx (the standard IDX files in `path`).
    """

    name: str = "mnist5k"
    path: str | None = None  # folder, zip or IDX directory for the file-based datasets
    image_size: int = 28  # 'images' are resized to image_size x image_size
    grayscale: bool = True  # 'images' are converted to L (True) or RGB (False)
    test_fraction: float = 0.2
    split_seed: int = 0
    n_samples: int | None = None  # 'shapes': how many to generate; others: optional cap

    def __post_init__(self) -> None:
        _require(self.name in DATASETS, f"dataset must be one of {DATASETS}, got {self.name!r}")
        needs_path = self.name in ("images", "mnist_idx", "fashion_idx")
        _require(not needs_path or bool(self.path), f"dataset {self.name!r} needs a path")
        _require(4 <= self.image_size <= 256, "image_size must be between 4 and 256")
        _require(0.0 < self.test_fraction < 1.0, "test_fraction must be in (0, 1)")
        _require(self.n_samples is None or self.n_samples >= 10, "n_samples must be >= 10")


@dataclass(frozen=True)
class ModelConfig:
    """The VAE's shape. `hidden` is the MLP's layer widths or the conv net's channel counts."""

    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    arch: str = "conv"
    latent_dim: int = 16
    hidden: tuple[int, ...] = (32, 64)
    dense: int = 256  # conv only: width of the fully connected layer next to the latent
    likelihood: str = "bernoulli"
    fixed_std: float = 0.1  # the decoder's std for likelihood='gaussian_fixed'
    min_std: float = 0.01  # bounds of the learned std: no NaN on constant pixels
    max_std: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        object.__setattr__(self, "hidden", tuple(int(v) for v in self.hidden))
        _require(len(self.image_shape) == 3, "image_shape must be (channels, height, width)")
        _require(all(v > 0 for v in self.image_shape), "image_shape entries must be positive")
        _require(self.arch in ARCHITECTURES, f"arch must be one of {ARCHITECTURES}")
        _require(self.likelihood in LIKELIHOODS, f"likelihood must be one of {LIKELIHOODS}")
        _require(1 <= self.latent_dim <= 512, "latent_dim must be between 1 and 512")
        _require(len(self.hidden) >= 1 and min(self.hidden) > 0, "hidden needs positive widths")
        _require(self.dense >= 1, "dense must be >= 1")
        _require(self.fixed_std > 0, "fixed_std must be positive")
        _require(0 < self.min_std < self.max_std, "need 0 < min_std < max_std")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'32, 64' -> (32, 64): hidden widths or channels as a person types them."""
    parts = [p.strip() for p in str(text).split(",")]
    _require(all(p.isdecimal() and int(p) > 0 for p in parts),
             f"hidden sizes must be comma-separated positive integers like 32,64; got {text!r}")
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains. Losses are nats per image; beta weights the KL term."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    warmup_epochs: int = 0  # KL weight ramps linearly 0 -> beta over this many epochs
    free_bits: float = 0.0  # nats per latent dimension below which KL is not penalised
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None  # torch intra-op threads; None keeps torch's default
    iw_samples: int = 100  # importance samples for the test log p(x) at the end of training
    log_every: int = 10  # steps between metric lines

    def __post_init__(self) -> None:
        _require(self.epochs >= 1, "epochs must be >= 1")
        _require(self.batch_size >= 1, "batch_size must be >= 1")
        _require(self.lr > 0, "lr must be positive")
        _require(self.beta >= 0, "beta must be >= 0")
        _require(self.warmup_epochs >= 0, "warmup_epochs must be >= 0")
        _require(self.free_bits >= 0, "free_bits must be >= 0")
        _require(self.device in DEVICES, f"device must be one of {DEVICES}")
        _require(self.num_threads is None or self.num_threads >= 1, "num_threads must be >= 1")
        _require(self.iw_samples >= 1, "iw_samples must be >= 1")
        _require(self.log_every >= 1, "log_every must be >= 1")


C = TypeVar("C", DataConfig, ModelConfig, TrainConfig)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    """Build `cls` from a dict, naming unknown keys instead of ignoring them."""
    if not isinstance(values, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    _require(not unknown, f"unknown {cls.__name__} keys: {unknown}")
    try:
        return cls(**values)
    except TypeError as error:
        raise ConfigError(f"bad {cls.__name__}: {error}") from error


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; what `python -m vae_core train --config` reads."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {name: to_dict(getattr(self, name)) for name in ("data", "model", "train")}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        _require(isinstance(values, dict), "run config must be a JSON object")
        unknown = sorted(set(values) - {"data", "model", "train"})
        _require(not unknown, f"unknown run config keys: {unknown}")
        return cls(
            data=from_dict(DataConfig, values.get("data", {})),
            model=from_dict(ModelConfig, values.get("model", {})),
            train=from_dict(TrainConfig, values.get("train", {})),
        )
