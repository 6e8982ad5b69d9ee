"""What a checkpoint must pass before any of it is built or believed.

A checkpoint may be a stranger's upload, so nothing in it is trusted until checked: the model's
size is computed from its config on torch's "meta" device (shapes, no memory), every tensor
shape in the safetensors header is compared with it before a single weight is read, and the
metadata the pages print is checked field by field.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from .config import ConfigError, ModelConfig, one_of, require, shown
from .models import build_model

# A conv model on 3x256x256 images with 4096 channels would be gigabytes; the shipped models are
# well under 1M parameters and a large MLP on 3x128x128 RGB images is ~40M.
MAX_PARAMETERS = 50_000_000  # 200 MB as float32
MAX_HEADER_BYTES = 1 * 2**20  # a real header is a few kB: one short entry per tensor
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says what is wrong with it."""


SIZE_FIELDS = ("hidden", "dense", "latent_dim")  # what makes a model big, for a given image
Shapes = dict[str, tuple[int, ...]]  # tensor name -> shape


def expected_shapes(config: ModelConfig) -> Shapes:
    """Every tensor the config's model holds, by name, built on the meta device (no memory).

    Raises ConfigError when the model would have more than MAX_PARAMETERS parameters.
    """
    with torch.device("meta"):
        model = build_model(config)
    shapes = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    count = sum(math.prod(shape) for shape in shapes.values())
    if count > MAX_PARAMETERS:
        raise ConfigError(f"this model would have {count / 1e6:,.0f}M parameters; the limit is "
                          f"{MAX_PARAMETERS / 1e6:.0f}M. Use fewer or narrower layers.",
                          SIZE_FIELDS)
    return shapes


def check_weights_header(weights_file: Path, config: ModelConfig) -> None:
    """Compare the names, shapes and dtypes in the file's header with the model `config`
    builds, reading no tensor data. Raises CheckpointError naming the first problems, in
    config.json's terms where one size setting explains them; ConfigError as expected_shapes."""
    from .shape_mismatch import setting_mismatch, shape_problem  # it builds through this module

    expected = expected_shapes(config)
    name = Path(weights_file).name
    _check_header_size(weights_file, name)
    try:
        with safe_open(str(weights_file), framework="pt") as handle:
            slices = {key: handle.get_slice(key) for key in handle.keys()}  # noqa: SIM118
            found = {key: (s.get_dtype(), tuple(s.get_shape())) for key, s in slices.items()}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{name} is not a readable safetensors file ({error})") from error
    shapes = {key: shape for key, (_dtype, shape) in found.items()}
    if shapes != expected and (setting := setting_mismatch(config, shapes)):
        raise CheckpointError(setting)
    problems = [f"missing {k}" for k in sorted(set(expected) - set(found))]
    problems += [f"unexpected {k}" for k in sorted(set(found) - set(expected))]
    for key in sorted(set(expected) & set(found)):
        dtype, shape = found[key]
        if shape != expected[key]:
            problems.append(shape_problem(key, shape, expected[key]))
        elif dtype not in FLOAT_DTYPES:
            problems.append(f"{key}: dtype {dtype}, expected one of {one_of(FLOAT_DTYPES)}")
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise CheckpointError(f"the weights do not match config.json: "
                              f"{'; '.join(problems[:5])}{more}")


def _check_header_size(weights_file: Path, name: str) -> None:
    """safetensors accepts headers up to 100 MB; a header that large is not one of ours."""
    try:
        with open(weights_file, "rb") as handle:
            prefix = handle.read(8)
    except OSError as error:
        raise CheckpointError(f"cannot read {name}: {error.strerror}") from error
    if len(prefix) < 8:
        raise CheckpointError(f"{name} is not a safetensors file (it is only {len(prefix)} bytes)")
    (size,) = struct.unpack("<Q", prefix)
    if size > MAX_HEADER_BYTES:
        raise CheckpointError(f"{name} declares a {size:,}-byte header; not a Latent Lab model")


# --- metadata: what training wrote, and what the pages print ---------------------------------

_COUNTS = ("epoch", "step", "n_train", "n_validation", "iw_samples", "n_images", "n_dims")
_NUMBERS = ("train_seconds", "recon")
_OPTIONAL_NUMBERS = ("neg_elbo", "kl", "log_px", "log_px_stderr")  # None for an autoencoder
_TEXTS = ("device", "weights_dtype", "data", "kind")
_FIGURE_SETS = ("test", "validation")  # Evaluation.as_dict() of the test / validation split


def checked_metadata(metadata: Any, latent_dim: int) -> dict[str, Any]:
    """The metadata's known fields, each checked for type and finiteness (JSON allows NaN).

    Unknown fields are dropped, so nothing unchecked reaches a page. Raises CheckpointError.
    """
    try:
        return _checked_metadata(metadata, latent_dim)
    except ConfigError as error:  # a failed require(): it names the field, this the file
        raise CheckpointError(f"config.json: {error}") from error


def _checked_metadata(metadata: Any, latent_dim: int) -> dict[str, Any]:
    if metadata is None:
        return {}
    require(isinstance(metadata, dict), "metadata must be a JSON object")
    kept = {k: _checked(k, v) for k, v in metadata.items() if k in (*_COUNTS, *_NUMBERS, *_TEXTS)}
    for section in _FIGURE_SETS:
        figures = metadata.get(section)
        if figures is not None:
            require(isinstance(figures, dict), f"metadata.{section} must be a JSON object")
            kept[section] = {k: _checked(f"{section}.{k}", v) for k, v in figures.items()
                             if k in (*_COUNTS, *_NUMBERS, *_OPTIONAL_NUMBERS, *_TEXTS)}
    # Cards written before the key was renamed (the shipped ones too) say kl_per_dimension.
    kl_key = next((k for k in ("kl_per_dim", "kl_per_dimension") if k in metadata), None)
    if kl_key is not None:
        kl = metadata[kl_key]
        require(isinstance(kl, list) and len(kl) == latent_dim and all(map(_finite, kl)),
                f"metadata.{kl_key} must be {latent_dim} finite numbers")
        kept["kl_per_dim"] = [float(v) for v in kl]
    kept.update(_checked_disentanglement(metadata, latent_dim))
    return kept


def _checked_disentanglement(metadata: dict[str, Any], latent_dim: int) -> dict[str, Any]:
    """The active-units variances and the disentanglement report, when present, checked."""
    from .disentanglement_report import report_from_dict

    kept: dict[str, Any] = {}
    variance = metadata.get("posterior_mean_variance")
    if variance is not None:
        require(isinstance(variance, list) and len(variance) == latent_dim
                and all(_finite(v) and v >= 0 for v in variance),
                f"metadata.posterior_mean_variance must be {latent_dim} numbers >= 0")
        kept["posterior_mean_variance"] = [float(v) for v in variance]
    report = metadata.get("disentanglement")
    if report is not None:
        try:
            kept["disentanglement"] = report_from_dict(report, latent_dim).as_dict()
        except ValueError as error:
            raise CheckpointError(f"config.json: {error}") from error
    return kept


def _checked(key: str, value: Any) -> Any:
    field = key.rsplit(".", 1)[-1]
    if field in _COUNTS:
        require(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                f"metadata.{key} must be a whole number >= 0, got {shown(value)}")
    elif field in _TEXTS:
        require(isinstance(value, str) and len(value) <= 64,
                f"metadata.{key} must be a short string, got {shown(value)}")
    elif value is not None or field not in _OPTIONAL_NUMBERS:
        require(_finite(value), f"metadata.{key} must be a finite number, got {shown(value)}")
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
