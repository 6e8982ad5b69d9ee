"""Frozen, validated configs with a JSON round trip.

Three configs describe a run: what data (DataConfig), what model (ModelConfig) and how it is
trained (TrainConfig). They are saved as JSON beside the weights, so a checkpoint can be rebuilt
without pickle and without the code that trained it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

ARCHITECTURES = ("mlp", "conv")
MODEL_KINDS = ("vae", "ae")  # a VAE, or a plain autoencoder with the same networks
LIKELIHOODS = ("gaussian", "gaussian_fixed", "bernoulli")
# How the learned-std Gaussian maps the decoder's output to its mean. Through a sigmoid the mean
# saturates at the black background and the digit moves into the std map (the mean stays a
# blob); the identity keeps a gradient everywhere. Configs from before the choice used sigmoid.
GAUSSIAN_MEANS = ("identity", "sigmoid")
DATASETS = ("mnist5k", "digits", "shapes", "shapes3d", "images", "mnist_idx", "fashion_idx",
            "mnist", "fashion_mnist")
DOWNLOADED_DATASETS = ("mnist", "fashion_mnist")  # the full sets, fetched once into a cache
PRECISIONS = ("fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")
OBJECTIVES = ("elbo", "beta_tcvae")  # TrainConfig.objective
# No file path: nothing outside the package.
BUILTIN_DATASETS = ("mnist5k", "digits", "shapes", "shapes3d")
# Upper bounds far above any model or data set of this tool, low enough that a config read
# from elsewhere (an uploaded checkpoint) cannot make the server allocate gigabytes.
MAX_IMAGE_SIDE = 256
MAX_LAYERS = 8
MAX_WIDTH = 4096  # hidden widths and conv channels
MAX_DENSE = 8192
MAX_LATENT = 512
# Generated sets render every image and hold them as float32: 50k shapes are ~200 MB, 20k
# shapes3d (64x64 RGB) ~1 GB.
MAX_GENERATED = {"shapes": 50_000, "shapes3d": 20_000}
MAX_SEED = 2**32 - 1


class ConfigError(ValueError):
    """A config value a person has to change; the message says which and why. `fields` names
    the settings at fault, so a form can point at its own fields."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


def require(condition: bool, message: str, field: str | None = None) -> None:
    """The one check every validator of a person's input uses: ConfigError(message) unless
    condition holds. Validators of other files say which file and section at their boundary."""
    if not condition:
        raise ConfigError(message, (field,) if field else ())


def shown(value: Any, limit: int = 40) -> str:
    """A value from a person's JSON as JSON (not Python's repr: `null`, not `None`), cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def one_of(options: Any) -> str:
    """('mlp', 'conv') -> 'mlp, conv': choices in words, not a Python tuple."""
    return ", ".join(str(option) for option in options)


@dataclass(frozen=True)
class DataConfig:
    """Which images to train and test on.

    name: mnist5k | digits | shapes | shapes3d | images (a folder or zip of the user's) |
          mnist_idx / fashion_idx (the standard IDX files in `path`) |
          mnist / fashion_mnist (the full 70k sets, downloaded once; `path` = cache folder).
    stream: 'images' only: decode from disk batch by batch in DataLoader workers instead of
        holding the whole set in memory (for sets larger than memory).
    """

    name: str = "mnist5k"
    path: str | None = None  # folder, zip or IDX directory for the file-based datasets
    image_size: int = 28  # 'images' are resized to image_size x image_size
    grayscale: bool = True  # 'images' are converted to L (True) or RGB (False)
    test_fraction: float = 0.2
    val_fraction: float = 0.1  # of the training split, held out for early stopping / model choice
    split_seed: int = 0
    n_samples: int | None = None  # shapes, shapes3d: how many to generate; others: a cap
    stream: bool = False
    loader_workers: int = 2  # DataLoader worker processes when streaming

    def __post_init__(self) -> None:
        require(self.name in DATASETS,
                f"dataset must be one of {one_of(DATASETS)}, got {shown(self.name)}")
        needs_path = self.name in ("images", "mnist_idx", "fashion_idx")
        require(not needs_path or bool(self.path), f"dataset {self.name} needs a path")
        require(4 <= self.image_size <= 256, "image_size must be between 4 and 256", "image_size")
        require(0.0 < self.test_fraction < 1.0, "test_fraction must be in (0, 1)")
        require(0.0 <= self.val_fraction < 1.0, "val_fraction must be in [0, 1)")
        require(self.n_samples is None or self.n_samples >= 10, "n_samples must be >= 10")
        limit = MAX_GENERATED.get(self.name)
        require(limit is None or (self.n_samples or 0) <= limit,
                f"'{self.name}' n_samples must be at most {limit}")
        require(0 <= self.split_seed <= MAX_SEED, f"split_seed must be in 0..{MAX_SEED}")
        require(not self.stream or self.name == "images",
                "stream is for 'images' (a folder or zip); the other sets fit in memory")
        require(0 <= self.loader_workers <= 64, "loader_workers must be between 0 and 64")
        _check_finite(self)


@dataclass(frozen=True)
class ModelConfig:
    """The model's shape. `hidden` is the MLP's layer widths or the conv net's channel counts.

    kind: 'vae' (q(z|x) = N(mu, sigma^2), trained on the -ELBO) or 'ae' (a plain autoencoder:
    one deterministic code per input, trained on the reconstruction term alone).
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    arch: str = "conv"
    latent_dim: int = 16
    hidden: tuple[int, ...] = (32, 64)
    dense: int = 256  # conv only: width of the fully connected layer next to the latent
    likelihood: str = "bernoulli"
    fixed_std: float = 0.1  # the decoder's std for likelihood='gaussian_fixed'
    min_std: float = 0.01  # bounds of the learned std: no NaN on constant pixels
    max_std: float = 1.0
    kind: str = "vae"
    gaussian_mean: str = "identity"  # likelihood='gaussian': one of GAUSSIAN_MEANS

    @property
    def is_variational(self) -> bool:
        return self.kind == "vae"

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        object.__setattr__(self, "hidden", tuple(int(v) for v in self.hidden))
        require(len(self.image_shape) == 3, "image_shape must be (channels, height, width)")
        channels, height, width = self.image_shape
        require(channels in (1, 3), "image_shape must have 1 (gray) or 3 (RGB) channels")
        require(min(height, width) >= 1 and max(height, width) <= MAX_IMAGE_SIDE,
                f"image height and width must be between 1 and {MAX_IMAGE_SIDE}")
        require(self.arch in ARCHITECTURES, f"arch must be one of {one_of(ARCHITECTURES)}")
        require(self.kind in MODEL_KINDS,
                f"kind must be one of {one_of(MODEL_KINDS)}, got {shown(self.kind)}")
        require(self.likelihood in LIKELIHOODS, f"likelihood must be one of {one_of(LIKELIHOODS)}")
        require(self.gaussian_mean in GAUSSIAN_MEANS,
                f"gaussian_mean must be one of {one_of(GAUSSIAN_MEANS)}")
        require(1 <= self.latent_dim <= MAX_LATENT,
                f"latent_dim must be between 1 and {MAX_LATENT}", "latent_dim")
        require(1 <= len(self.hidden) <= MAX_LAYERS and min(self.hidden) > 0
                and max(self.hidden) <= MAX_WIDTH,
                f"hidden needs 1 to {MAX_LAYERS} widths, each between 1 and {MAX_WIDTH}",
                "hidden")
        require(1 <= self.dense <= MAX_DENSE, f"dense must be between 1 and {MAX_DENSE}",
                "dense")
        _check_finite(self)
        require(self.fixed_std > 0, "fixed_std must be positive")
        require(0 < self.min_std < self.max_std, "need 0 < min_std < max_std")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'32, 64' -> (32, 64): hidden widths or channels as a person types them."""
    parts = [p.strip() for p in str(text).split(",")]
    require(all(p.isdecimal() and int(p) > 0 for p in parts),
            "hidden sizes must be comma-separated positive integers like 32,64; got "
            f"{shown(text)}", "hidden")
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains. Losses are nats per image; beta weights the KL term."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    # "elbo": beta weighs the whole KL. "beta_tcvae": beta weighs only its total-correlation
    # part, the part that ties latent dimensions together (vae_core/objectives.py).
    objective: str = "elbo"
    warmup_epochs: int = 0  # KL weight ramps linearly 0 -> beta over this many epochs
    free_bits: float = 0.0  # nats per latent dimension below which KL is not penalised
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None  # torch intra-op threads; None keeps torch's default
    iw_samples: int = 100  # importance samples for the test log p(x) at the end of training
    patience: int = 0  # stop after this many epochs without a better validation -ELBO; 0: never
    augment_shift: int = 0  # training images move by up to this many pixels each way
    log_every: int = 10  # steps between metric lines (and finiteness checks of the loss)
    # Speed paths (see vae_core/devices.py); the defaults are the plain, exact fp32 loop.
    precision: str = "fp32"  # fp32 | bf16 | fp16 autocast (fp16 with a gradient scaler)
    compile: bool = False  # torch.compile the model
    channels_last: bool = False  # conv models: NHWC memory format
    pin_memory: bool = False  # page-locked batches and non-blocking copies to the GPU
    deterministic: bool = False  # deterministic kernels (CUDA: slower, reproducible)
    tensorboard: bool = False  # also write TensorBoard event files into the run directory
    # Adam's fused kernel (CPU and CUDA; an MLP epoch ~13% faster on a quiet CPU core). Not the
    # default loop's arithmetic bit for bit, so a run resumes with the kernel it started with.
    fused_adam: bool = False

    def __post_init__(self) -> None:
        require(1 <= self.epochs <= 100_000, "epochs must be between 1 and 100000", "epochs")
        require(1 <= self.batch_size <= 65_536, "batch_size must be between 1 and 65536",
                "batch_size")
        require(self.lr > 0, "lr must be positive", "lr")
        require(self.beta >= 0, "beta must be >= 0", "beta")
        require(self.objective in OBJECTIVES,
                f"objective must be one of {one_of(OBJECTIVES)}", "objective")
        require(self.warmup_epochs >= 0, "warmup_epochs must be >= 0", "warmup_epochs")
        require(self.warmup_epochs <= self.epochs,
                f"the KL warm-up ({self.warmup_epochs} epochs) is longer than the run "
                f"({self.epochs} epochs): the KL would never reach its full weight",
                "warmup_epochs")
        require(self.free_bits >= 0, "free_bits must be >= 0", "free_bits")
        require(self.device in DEVICES, f"device must be one of {one_of(DEVICES)}")
        require(self.num_threads is None or 1 <= self.num_threads <= 1024,
                "num_threads must be between 1 and 1024")
        require(1 <= self.iw_samples <= 100_000, "iw_samples must be between 1 and 100000")
        require(0 <= self.patience <= 100_000, "patience must be between 0 and 100000",
                "patience")
        require(0 <= self.augment_shift <= 8, "augment_shift must be between 0 and 8 pixels",
                "augment_shift")
        require(self.log_every >= 1, "log_every must be >= 1")
        require(0 <= self.seed <= MAX_SEED, f"seed must be in 0..{MAX_SEED}")
        require(self.precision in PRECISIONS, f"precision must be one of {one_of(PRECISIONS)}")
        _check_finite(self)


def _check_finite(config: Any) -> None:
    """NaN passes every comparison test as False and inf passes `>= 0`: refuse both."""
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        require(not isinstance(value, float) or math.isfinite(value),
                f"{item.name} must be a finite number, got {shown(value)}", item.name)


C = TypeVar("C", DataConfig, ModelConfig, TrainConfig)
SECTIONS = {DataConfig: "data", ModelConfig: "model", TrainConfig: "train"}  # in config.json


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls: type[C], values: dict[str, Any]) -> C:
    """Build `cls` from a dict, naming unknown keys instead of ignoring them. Messages name the
    config's section as a person's JSON has it ("model"), not the class."""
    section = SECTIONS[cls]
    if not isinstance(values, dict):
        raise ConfigError(f"{section} must be a JSON object")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    require(not unknown, f"unknown keys in {section}: {one_of(map(shown, unknown))}")
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        require(_matches(value, hints[name]),
                f"{section}.{name} must be {_describe(hints[name])}, got {shown(value)}")
    return cls(**values)


def model_config_from_dict(values: dict[str, Any]) -> ModelConfig:
    """A ModelConfig from JSON; one written before `gaussian_mean` existed keeps the sigmoid
    mean it was trained with."""
    if isinstance(values, dict) and "gaussian_mean" not in values:
        values = {**values, "gaussian_mean": "sigmoid"}
    return from_dict(ModelConfig, values)


def _matches(value: Any, hint: Any) -> bool:
    """Does a JSON value fit a field's annotation? (JSON arrays stand for tuples.)"""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_matches(value, arg) for arg in args)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        items = args[:1] * len(value) if args[-1:] == (Ellipsis,) else args
        return len(value) == len(items) and all(
            _matches(v, a) for v, a in zip(value, items, strict=True))
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):  # True is an int to Python, not to us
        return False
    if hint is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, hint)


_WORDS = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false",
          type(None): "null"}


def _describe(hint: Any) -> str:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return " or ".join(_describe(arg) for arg in args)
    if typing.get_origin(hint) is tuple:
        count = "" if args[-1:] == (Ellipsis,) else f"{len(args)} "
        return f"a list of {count}integers"
    return _WORDS.get(hint, str(hint))


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; what `python -m vae_core train --config` reads."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        require(self.train.patience == 0 or self.data.val_fraction > 0,
                "early stopping (patience) needs a validation split: set val_fraction > 0")

    def to_dict(self) -> dict[str, Any]:
        return {name: to_dict(getattr(self, name)) for name in ("data", "model", "train")}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        require(isinstance(values, dict), "run config must be a JSON object")
        # "distributed" is a record the trainer adds (processes, global batch), not a setting.
        unknown = sorted(set(values) - {"data", "model", "train", "distributed"})
        require(not unknown, f"unknown run config keys: {one_of(map(shown, unknown))}")
        return cls(
            data=from_dict(DataConfig, values.get("data", {})),
            model=model_config_from_dict(values.get("model", {})),
            train=from_dict(TrainConfig, values.get("train", {})),
        )
