"""Models made elsewhere: an ONNX encoder and decoder behind vae_core's model interface.

An imported model is a folder of three files, nothing executable: encoder.onnx, decoder.onnx and
model.json (the card: the options the graphs cannot tell, the data to show, the figures). The
server runs the graphs with onnxruntime; `ImportedModel` offers what a vae_core model offers
(`encode(x)` -> q(z|x) or a code, `decode(z)` -> p(x|z), `is_variational`, `config`), so the
pages and the evaluation code never ask where a model came from. The page runs the decoder from
the same graph (vae_core.onnx_decoder).

What the graphs cannot tell is given at import (`python -m vae_core import-onnx`):
- input_range: the pixel range the encoder expects, (0, 1) or (-1, 1); images here are in [0, 1].
- decoder_output: probs (Bernoulli probabilities), logits (Bernoulli logits), mean (a mean image
  in [0, 1], no likelihood named) or tanh (a mean in [-1, 1]). Only the first two name p(x|z),
  so only they have -ELBO and log p(x).
The encoder's outputs tell the kind: two outputs (mean, log-variance), one output of 2D values
(the two stacked), or one output of D values (a plain autoencoder's code).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import torch
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
from torch import nn

from .checkpoint_checks import CheckpointError, checked_metadata
from .config import ConfigError, DataConfig, from_dict
from .distributions import BernoulliLikelihood, DiagonalGaussian, Likelihood, MeanImage, PointCode
from .model_kinds import DECODER_OUTPUTS, INPUT_RANGES
from .models.vae import LOG_VAR_MAX, LOG_VAR_MIN
from .onnx_files import OnnxFileError, graph_io, read_onnx_bytes, read_onnx_file

CARD_FILE = "model.json"
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
CARD_FORMAT = "latent-lab-imported/1"
MAX_CARD_BYTES = 1 << 20
ENCODER_OUTPUTS = ("mean_log_var", "stacked", "code")
PROBE_BATCH = 2
PROBE_Z = 16
MAX_LATENT = 4096
MAX_IMAGE_SIDE = 256


class ModelImportError(ValueError):
    """An imported model that cannot be used as given; the message says which option to set."""


@dataclass(frozen=True)
class ImportedConfig:
    """What the graphs and the importer's options say about an imported model. Field names
    match vae_core.config.ModelConfig where they mean the same (image_shape, latent_dim, kind,
    likelihood), so code that reads a model's config reads this one too."""

    image_shape: tuple[int, int, int]
    latent_dim: int
    input_range: tuple[float, float]
    decoder_output: str
    encoder_output: str
    name: str = "imported"
    arch: str = "onnx"

    @property
    def kind(self) -> str:
        return "ae" if self.encoder_output == "code" else "vae"

    @property
    def is_variational(self) -> bool:
        return self.kind == "vae"

    @property
    def likelihood(self) -> str:
        """'bernoulli' when the decoder names one, else 'mean_only' (no density)."""
        return "bernoulli" if self.decoder_output in ("probs", "logits") else "mean_only"

    def page_head(self) -> dict:
        """The likelihood head as the page decoder runs it (vae_core.decoder_export)."""
        if self.decoder_output == "logits":
            return {"kind": "bernoulli"}
        scale, offset = (0.5, 0.5) if self.decoder_output == "tanh" else (1.0, 0.0)
        return {"kind": "mean", "scale": scale, "offset": offset}


def _session(model: onnx.ModelProto) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    # One thread, as torch runs here: a second thread only waits when the other core is busy.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # shape warnings of graphs exported with a fixed batch
    wanted = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")
    providers = [p for p in wanted if p in onnxruntime.get_available_providers()]
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=providers)


# What onnxruntime raises for a graph that cannot run an input (none derive from RuntimeError).
ORT_ERRORS = (ort_errors.Fail, ort_errors.InvalidArgument, ort_errors.RuntimeException,
              ort_errors.InvalidGraph, ort_errors.NotImplemented)


class _Graph:
    """One ONNX graph with one input: runs float32 batches, in chunks when its batch is fixed."""

    def __init__(self, model: onnx.ModelProto, file_name: str) -> None:
        self.model, self.file_name = model, file_name
        try:
            self.session = _session(model)
        except ORT_ERRORS as error:
            raise ModelImportError(f"{file_name} cannot be loaded: {_first_line(error)}") from error
        (self.input_name, dims), = graph_io(model)[0]
        self.input_dims = dims
        self.fixed_batch = dims[0] if dims and isinstance(dims[0], int) else None
        # Older exports also list the weights as inputs: find the real one by its name.
        (declared,) = [i for i in model.graph.input if i.name == self.input_name]
        self.input_type = np.float16 if declared.type.tensor_type.elem_type == \
            onnx.TensorProto.FLOAT16 else np.float32

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        step = self.fixed_batch or max(len(x), 1)
        chunks = [self._run(x[i : i + step]) for i in range(0, len(x), step)]
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        missing = (self.fixed_batch or len(x)) - len(x)
        if missing:  # the last chunk of a fixed-batch graph: pad, then drop the padding
            x = np.concatenate([x, np.zeros((missing, *x.shape[1:]), x.dtype)])
        try:
            outputs = self.session.run(None, {self.input_name: x.astype(self.input_type)})
        except ORT_ERRORS as error:
            raise ModelImportError(f"{self.file_name} failed on an input of shape "
                                   f"{list(x.shape)}: {_first_line(error)}") from error
        return [np.asarray(o, dtype=np.float32)[: len(x) - missing] for o in outputs]


def _first_line(error: Exception) -> str:
    """onnxruntime's message, last line, without the source paths of its own build."""
    lines = str(error).strip().splitlines()
    text = re.sub(r"\S*/(\S+)", r"\1", lines[-1] if lines else "onnxruntime refused it")
    return text[:300]


class ImportedModel(nn.Module):
    """An ONNX encoder and decoder with vae_core's model interface. Tensors in and out are on
    the CPU (onnxruntime holds the weights); images are in [0, 1] whatever the graphs take."""

    def __init__(self, config: ImportedConfig, encoder: _Graph, decoder: _Graph) -> None:
        super().__init__()
        self.config = config
        self.encoder_graph, self.decoder_graph = encoder, decoder
        # Empty, so that code asking a model for its device (next(model.parameters())) works.
        self.device_marker = nn.Parameter(torch.zeros(0), requires_grad=False)

    is_variational = property(lambda self: self.config.is_variational)
    latent_dim = property(lambda self: self.config.latent_dim)

    def encode(self, x: torch.Tensor) -> DiagonalGaussian | PointCode:
        """x (B, C, H, W) in [0, 1] -> q(z|x) with (B, D) parameters, or a code."""
        low, high = self.config.input_range
        scaled = (x.detach().cpu().float() * (high - low) + low).numpy()
        outputs = [torch.from_numpy(o.reshape(len(o), -1)) for o in self.encoder_graph(scaled)]
        if self.config.encoder_output == "code":
            return PointCode(outputs[0])
        if self.config.encoder_output == "stacked":
            outputs = list(outputs[0].chunk(2, dim=1))
        mean, log_var = outputs[:2]
        return DiagonalGaussian(mean, log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX))

    def decode(self, z: torch.Tensor) -> Likelihood:
        """z (B, D) -> p(x|z) over (B, C, H, W) images (or their mean, see MeanImage)."""
        z = z.detach().cpu().float().reshape(len(z), *self._z_shape())
        raw = self.decoder_graph(z.numpy())[0]
        raw = torch.from_numpy(raw).reshape(len(z), *self.config.image_shape)
        output = self.config.decoder_output
        if output == "logits":
            return BernoulliLikelihood(raw)
        if output == "probs":  # logits that give these probabilities, finite at 0 and 1
            return BernoulliLikelihood(torch.logit(raw.clamp(0, 1), eps=1e-6))
        return MeanImage(((raw + 1) / 2 if output == "tanh" else raw).clamp(0, 1))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        posterior = self.encode(x)
        z = posterior.rsample(generator)
        return posterior, z, self.decode(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def _z_shape(self) -> list[int]:
        """The decoder's input shape past the batch: (D,) or a spatial latent (C, h, w)."""
        dims = self.decoder_graph.input_dims[1:]
        if dims and all(isinstance(d, int) for d in dims) and math.prod(dims) == self.latent_dim:
            return list(dims)
        return [self.latent_dim]

    def decoder_spec(self):
        """The decoder as the page runs it; raises UnsupportedLayerError naming an op it cannot."""
        from .onnx_decoder import decoder_spec_from_onnx

        return decoder_spec_from_onnx(self.decoder_graph.model, self.config.latent_dim,
                                      self.config.image_shape, self.config.page_head())


@dataclass
class ImportedModelFiles:
    """A loaded imported model and its card (what vae_core.checkpoint.Checkpoint holds for a
    model of vae_core's own; the app treats both alike)."""

    model: ImportedModel
    model_config: ImportedConfig
    data_config: DataConfig | None
    train_config: None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    trusted: bool = True

    def example_data(self) -> DataConfig | None:
        if self.data_config is None or (not self.trusted and self.data_config.path):
            return None  # an upload's card may name any path on the server: never read it
        return self.data_config


def is_imported_dir(path: Path) -> bool:
    return (Path(path) / CARD_FILE).is_file()


# --- building a model from two graphs --------------------------------------------------------

def _static_dims(dims: list, file_name: str, what: str, option: str) -> list[int]:
    if not all(isinstance(d, int) and d > 0 for d in dims):
        raise ModelImportError(f"{file_name}: its {what} shape is not fixed in the graph "
                               f"({_dims_text(dims)}); pass {option}")
    return list(dims)


def _dims_text(dims: list) -> str:
    return " x ".join(str(d) if isinstance(d, int) else "?" for d in dims)


def _image_shape(encoder: onnx.ModelProto, given: tuple[int, int, int] | None) -> tuple:
    (_, dims), = graph_io(encoder)[0]
    if len(dims) != 4:
        raise ModelImportError(f"{ENCODER_FILE} takes a tensor of rank {len(dims)}; an image "
                               "encoder takes batch x channels x height x width")
    if given is None:
        given = tuple(_static_dims(dims[1:], ENCODER_FILE, "input", "--image-shape C H W"))
    channels, height, width = given
    if channels not in (1, 3) or not (min(height, width) >= 1 and
                                      max(height, width) <= MAX_IMAGE_SIDE):
        raise ModelImportError(f"image shape {channels} x {height} x {width}: Latent Lab shows "
                               f"1 (grey) or 3 (RGB) channels, 1 to {MAX_IMAGE_SIDE} pixels a side")
    for declared, value in zip(dims[1:], given, strict=True):
        if isinstance(declared, int) and declared != value:
            raise ModelImportError(f"{ENCODER_FILE} takes {_dims_text(dims[1:])} images, not "
                                   f"{channels} x {height} x {width}: fix --image-shape")
    return tuple(given)


def _probe(encoder: _Graph, decoder: _Graph, image_shape: tuple, input_range) -> tuple[str, int]:
    """Run both graphs once: the encoder's output layout, and the latent size the decoder takes
    (a spatial latent C x h x w counts as C*h*w)."""
    low, high = input_range
    x = np.full((PROBE_BATCH, *image_shape), (low + high) / 2, np.float32)
    outputs = encoder(x)
    widths = [int(np.prod(o.shape[1:])) for o in outputs]
    dims = decoder.input_dims[1:]
    latent = math.prod(dims) if dims and all(isinstance(d, int) for d in dims) else None
    if len(outputs) >= 2:
        if widths[0] != widths[1]:
            raise ModelImportError(f"{ENCODER_FILE} gives two outputs of {widths[0]} and "
                                   f"{widths[1]} values; expected (mean, log-variance) of equal "
                                   "size")
        layout, found = "mean_log_var", widths[0]
    elif latent is not None and widths[0] == 2 * latent:
        layout, found = "stacked", latent
    else:
        layout, found = "code", widths[0]
    if latent is not None and found != latent:
        raise ModelImportError(f"{ENCODER_FILE} gives codes of {found} values but "
                               f"{DECODER_FILE} takes {latent}: the two graphs do not belong "
                               "together")
    if not 1 <= found <= MAX_LATENT:
        raise ModelImportError(f"a latent of {found} dimensions; Latent Lab explores 1 to "
                               f"{MAX_LATENT}")
    return layout, found


def _check_decoder_output(model: ImportedModel) -> None:
    """The decoder's output must hold one image per z, in the range the option names (checked
    at a few z ~ N(0, I), seeded: one z can land inside a range the others leave)."""
    z = torch.randn(PROBE_Z, model.latent_dim, generator=torch.Generator().manual_seed(0))
    raw = model.decoder_graph(z.numpy().reshape(PROBE_Z, *model._z_shape()))[0]
    pixels = math.prod(model.config.image_shape)
    if raw[0].size != pixels:
        raise ModelImportError(f"{DECODER_FILE} gives {raw[0].size} values per z, but a "
                               f"{_dims_text(list(model.config.image_shape))} image has "
                               f"{pixels}: check --image-shape, or the decoder's output")
    output = model.config.decoder_output
    bounds = {"probs": (0, 1), "mean": (-0.05, 1.05), "tanh": (-1, 1)}.get(output)
    if bounds and not (bounds[0] - 1e-4 <= raw.min() and raw.max() <= bounds[1] + 1e-4):
        raise ModelImportError(f"{DECODER_FILE} gives values from {raw.min():.3g} to "
                               f"{raw.max():.3g} at z ~ N(0, I), outside what --decoder-output="
                               f"{output} means ({DECODER_OUTPUTS[output]}); "
                               f"{_output_hint(raw)}")


def _output_hint(raw: np.ndarray) -> str:
    if raw.min() >= -1 - 1e-4 and raw.max() <= 1 + 1e-4:
        return "a tanh output is --decoder-output=tanh"
    return "an output without a squashing function is --decoder-output=logits"


def build_imported(encoder: onnx.ModelProto, decoder: onnx.ModelProto, input_range: str,
                   decoder_output: str, image_shape: tuple[int, int, int] | None = None,
                   name: str = "imported") -> ImportedModel:
    """Check the two graphs against each other and the options; the model they make."""
    if input_range not in INPUT_RANGES:
        raise ModelImportError(f"--input-range must be one of {', '.join(INPUT_RANGES)}: the "
                               "pixel range the encoder was trained on")
    if decoder_output not in DECODER_OUTPUTS:
        raise ModelImportError("--decoder-output must be one of: " + "; ".join(
            f"{k} ({v})" for k, v in DECODER_OUTPUTS.items()))
    shape = _image_shape(encoder, image_shape)
    graphs = _Graph(encoder, ENCODER_FILE), _Graph(decoder, DECODER_FILE)
    layout, latent = _probe(*graphs, shape, INPUT_RANGES[input_range])
    config = ImportedConfig(shape, latent, INPUT_RANGES[input_range], decoder_output, layout,
                            name)
    model = ImportedModel(config, *graphs).eval()
    _check_decoder_output(model)
    return model


# --- the folder: card, writing, loading ------------------------------------------------------

def _card(config: ImportedConfig, data: DataConfig | None, metadata: dict) -> dict:
    document = asdict(config)
    document.pop("arch")
    document["input_range"] = ",".join(f"{v:g}" for v in config.input_range)
    return {"format": CARD_FORMAT, **document,
            "data": None if data is None else asdict(data), "metadata": metadata}


def write_imported(out_dir: Path, encoder_bytes: bytes, decoder_bytes: bytes,
                   model: ImportedModel, data: DataConfig | None, metadata: dict) -> Path:
    """The folder, written under a temporary name and renamed (no half-written model)."""
    out_dir = Path(out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / ENCODER_FILE).write_bytes(encoder_bytes)
    (staging / DECODER_FILE).write_bytes(decoder_bytes)
    card = _card(model.config, data, metadata)
    (staging / CARD_FILE).write_text(json.dumps(card, indent=2))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    return out_dir


def read_card(text: bytes | str, file_name: str = CARD_FILE) -> dict:
    """The card's JSON object, its format checked; fields are checked by config_from_card."""
    if len(text) > MAX_CARD_BYTES:
        raise ModelImportError(f"{file_name} is larger than any card Latent Lab writes "
                               f"({MAX_CARD_BYTES // 1024} KB)")
    try:
        card = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ModelImportError(f"{file_name} is not valid JSON ({error})") from error
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelImportError(f"{file_name} is not an imported model's card (its \"format\" "
                               f"is not \"{CARD_FORMAT}\")")
    return card


def _card_field(card: dict, key: str, kind: type, file_name: str):
    value = card.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelImportError(f"{file_name}: \"{key}\" is missing or not a {kind.__name__}")
    return value


def config_from_card(card: dict, file_name: str = CARD_FILE) -> ImportedConfig:
    shape = _card_field(card, "image_shape", list, file_name)
    if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
        raise ModelImportError(f"{file_name}: \"image_shape\" must be [channels, height, width]")
    input_range = _card_field(card, "input_range", str, file_name)
    output = _card_field(card, "decoder_output", str, file_name)
    layout = _card_field(card, "encoder_output", str, file_name)
    latent = _card_field(card, "latent_dim", int, file_name)
    name = str(card.get("name") or "imported")[:80]
    for key, value, allowed in (("input_range", input_range, INPUT_RANGES),
                                ("decoder_output", output, DECODER_OUTPUTS),
                                ("encoder_output", layout, ENCODER_OUTPUTS)):
        if value not in allowed:
            raise ModelImportError(f"{file_name}: \"{key}\" must be one of {', '.join(allowed)}")
    if not 1 <= latent <= MAX_LATENT:
        raise ModelImportError(f"{file_name}: \"latent_dim\" must be between 1 and {MAX_LATENT}")
    return ImportedConfig(tuple(shape), latent, INPUT_RANGES[input_range], output, layout, name)


def _data_config(card: dict, file_name: str) -> DataConfig | None:
    data = card.get("data")
    if data is None:
        return None
    try:
        return from_dict(DataConfig, data)
    except (ConfigError, TypeError, ValueError) as error:
        raise ModelImportError(f"{file_name}: \"data\": {error}") from error


def load_imported_bytes(card_bytes: bytes, encoder_bytes: bytes, decoder_bytes: bytes,
                        trusted: bool = False) -> ImportedModelFiles:
    """An imported model from its three files' bytes (an upload), each checked before use."""
    return _load(card_bytes, read_onnx_bytes(encoder_bytes, ENCODER_FILE),
                 read_onnx_bytes(decoder_bytes, DECODER_FILE), None, trusted)


def load_imported(directory: Path, trusted: bool = True) -> ImportedModelFiles:
    """An imported model folder (written by write_imported)."""
    directory = Path(directory)
    try:
        with open(directory / CARD_FILE, "rb") as file:
            card_bytes = file.read(MAX_CARD_BYTES + 1)
    except OSError as error:
        raise ModelImportError(f"cannot read {CARD_FILE}: {error.strerror}") from error
    return _load(card_bytes, read_onnx_file(directory / ENCODER_FILE, ENCODER_FILE),
                 read_onnx_file(directory / DECODER_FILE, DECODER_FILE), directory, trusted)


def _load(card_bytes: bytes, encoder: onnx.ModelProto, decoder: onnx.ModelProto,
          path: Path | None, trusted: bool) -> ImportedModelFiles:
    """The graphs checked against the card: shapes, the encoder's layout, the latent size."""
    card = read_card(card_bytes)
    config = config_from_card(card)
    data = _data_config(card, CARD_FILE)
    model = build_imported(encoder, decoder, _range_key(config.input_range),
                           config.decoder_output, config.image_shape, config.name)
    if (model.config.latent_dim, model.config.encoder_output) != (config.latent_dim,
                                                                   config.encoder_output):
        raise ModelImportError(
            f"{CARD_FILE} says a latent of {config.latent_dim} ({config.encoder_output}); the "
            f"graphs give {model.latent_dim} ({model.config.encoder_output})")
    return ImportedModelFiles(model, model.config, data, None,
                              _checked_metadata(card.get("metadata"), model), path, trusted)


def _checked_metadata(metadata, model: ImportedModel) -> dict:
    """The card's figures, checked as a checkpoint's are (types, finiteness, one number per
    latent dimension); unknown fields are dropped."""
    try:
        return checked_metadata(metadata, model.latent_dim)
    except CheckpointError as error:
        raise ModelImportError(f"{CARD_FILE}: {str(error).removeprefix('config.json: ')}") \
            from error


def _range_key(input_range: tuple[float, float]) -> str:
    return next(k for k, v in INPUT_RANGES.items() if v == tuple(input_range))


__all__ = ["ImportedModel", "ImportedModelFiles", "ModelImportError", "OnnxFileError",
           "build_imported", "load_imported", "load_imported_bytes", "write_imported"]
