"""Importing a user's VAE: `python -m vae_core import-onnx | import-torch`.

import_onnx checks two ONNX graphs (vae_core.onnx_files, then against each other and the
options), encodes the chosen data set for the figures the card records (KL per dimension for
the slider order; -ELBO and log p(x) when the decoder names a likelihood) and writes the folder
vae_core.imported reads. import_torch exports a user's module (one with encode(x) and decode(z))
through torch.onnx first, so both paths end in the same folder.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from .active_units import model_posterior_mean_variance
from .config import BUILTIN_DATASETS, DataConfig
from .data import DatasetError, ImageDataset, load_dataset
from .distributions import NotApplicable
from .evaluation import evaluate
from .imported import (
    DECODER_FILE,
    ENCODER_FILE,
    ImportedModel,
    ModelImportError,
    build_imported,
    write_imported,
)
from .latent import kl_per_dim
from .onnx_files import read_onnx_file

FIGURE_IMAGES = 1000  # test images the card's figures average over
IW_SAMPLES = 100


def dataset_config(dataset: str | None, image_shape: tuple[int, int, int]) -> DataConfig | None:
    """--dataset: a built-in set's name, or a folder or zip of images (resized to the model's
    input), or None (pages that need data say so)."""
    if dataset is None:
        return None
    if dataset in BUILTIN_DATASETS:
        return DataConfig(name=dataset)
    path = Path(dataset)
    if not path.exists():
        raise ModelImportError(f"--dataset {dataset}: neither a built-in set "
                               f"({', '.join(BUILTIN_DATASETS)}) nor an existing folder or zip")
    channels, height, width = image_shape
    if height != width:
        raise ModelImportError(f"--dataset {path.name}: folders are resized to square images, "
                               f"and this model takes {height} x {width}")
    return DataConfig(name="images", path=str(path.resolve()), image_size=height,
                      grayscale=channels == 1)


def _load_matching(config: DataConfig, model: ImportedModel) -> ImageDataset:
    try:
        data = load_dataset(config)
    except (DatasetError, OSError) as error:
        raise ModelImportError(f"--dataset: {error}") from error
    shape = tuple(data.test_x.shape[1:])
    if shape != model.config.image_shape:
        raise ModelImportError(
            f"--dataset {config.name} has {' x '.join(map(str, shape))} images; the encoder takes "
            f"{' x '.join(map(str, model.config.image_shape))}: pick a data set of that shape, "
            "or a folder of images")
    return data


def card_figures(model: ImportedModel, data: ImageDataset,
                 n_images: int = FIGURE_IMAGES) -> dict:
    """What the card records: KL per dimension (the sliders' order) for a VAE, and the test
    figures the likelihood allows, as vae_core.export records them for its own models."""
    x = data.test_x[:n_images]
    metadata: dict = {"n_train": len(data.train_x)}
    if model.is_variational:
        metadata["kl_per_dim"] = [round(float(v), 4) for v in kl_per_dim(model, x)]
        metadata["posterior_mean_variance"] = model_posterior_mean_variance(model, x)
    try:
        metadata["test"] = evaluate(model, x, iw_samples=IW_SAMPLES).as_dict()
    except NotApplicable as reason:
        metadata["figures_not_applicable"] = str(reason)
    return metadata


def import_onnx(encoder_path: Path, decoder_path: Path, out_dir: Path, *, input_range: str,
                decoder_output: str, image_shape: tuple[int, int, int] | None = None,
                name: str | None = None, dataset: str | None = None,
                figure_images: int = FIGURE_IMAGES) -> Path:
    """Check, measure (on `figure_images` test images) and write an imported model folder."""
    encoder = read_onnx_file(Path(encoder_path))
    decoder = read_onnx_file(Path(decoder_path))
    name = name or Path(out_dir).name
    model = build_imported(encoder, decoder, input_range, decoder_output, image_shape, name)
    data_config = dataset_config(dataset, model.config.image_shape)
    metadata = {} if data_config is None else card_figures(
        model, _load_matching(data_config, model), figure_images)
    return write_imported(out_dir, Path(encoder_path).read_bytes(),
                          Path(decoder_path).read_bytes(), model, data_config, metadata)


def load_factory(spec: str) -> nn.Module:
    """'FILE.py:FACTORY' -> FACTORY(), the user's own code (run here, as `python FILE.py`
    would run it: only ever from the command line, never for a file the app was sent)."""
    file_name, _, factory = spec.rpartition(":")
    path = Path(file_name)
    if not file_name or not factory or path.suffix != ".py" or not path.is_file():
        raise ModelImportError(f"{spec}: expected FILE.py:FACTORY, a Python file and the name of "
                               "a function in it that returns the model")
    module_spec = importlib.util.spec_from_file_location(f"latent_lab_user.{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    model = getattr(module, factory, None)
    if not callable(model):
        raise ModelImportError(f"{path.name} has no function {factory}")
    model = model()
    if not all(callable(getattr(model, m, None)) for m in ("encode", "decode")):
        raise ModelImportError(f"{path.name}:{factory}() returned an object without encode(x) "
                               "and decode(z) methods")
    return model


class _Method(nn.Module):
    """One of the model's methods as a module's forward, for torch.onnx.export."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        out = getattr(self.model, self.method)(x)
        return tuple(out) if isinstance(out, (list, tuple)) else out


def export_module(model: nn.Module, image_shape: tuple[int, int, int], folder: Path) -> None:
    """encoder.onnx and decoder.onnx of a module with encode(x) and decode(z)."""
    model.eval()
    x = torch.zeros(2, *image_shape)
    with torch.no_grad():
        codes = _Method(model, "encode")(x)
        z = torch.zeros(2, *_latent_shape(model, codes))
        for file_name, method, example, input_name in (
                (ENCODER_FILE, "encode", x, "x"), (DECODER_FILE, "decode", z, "z")):
            # eval(): export restores each wrapper's own mode, and a new module trains
            torch.onnx.export(_Method(model, method).eval(), (example,),
                              str(folder / file_name), dynamo=False, opset_version=17,
                              input_names=[input_name], dynamic_axes={input_name: {0: "batch"}})


def _latent_shape(model: nn.Module, codes) -> tuple[int, ...]:
    """The shape of one z the decoder takes: a (mean, log-variance) pair's mean's, or for one
    output of 2D values along axis 1 (the two stacked, also channels of a spatial latent) half
    of it when the decoder takes that, else the code's own."""
    if isinstance(codes, tuple):
        return tuple(codes[0].shape[1:])
    shape = tuple(codes.shape[1:])
    half = (shape[0] // 2, *shape[1:])
    if shape[0] % 2 == 0 and _decodes(model, half):
        return half
    return shape


def _decodes(model: nn.Module, shape: tuple[int, ...]) -> bool:
    try:
        model.decode(torch.zeros(1, *shape))
        return True
    except RuntimeError:  # a shape mismatch: the decoder takes another shape
        return False


def import_torch(spec: str, out_dir: Path, *, input_range: str, decoder_output: str,
                 image_shape: tuple[int, int, int], name: str | None = None,
                 dataset: str | None = None) -> Path:
    """FILE.py:FACTORY through torch.onnx into the same folder import_onnx writes."""
    return import_module(load_factory(spec), out_dir, input_range=input_range,
                         decoder_output=decoder_output, image_shape=image_shape, name=name,
                         dataset=dataset)


def import_module(model: nn.Module, out_dir: Path, *, input_range: str, decoder_output: str,
                  image_shape: tuple[int, int, int], name: str | None = None,
                  dataset: str | None = None) -> Path:
    """A module with encode(x) and decode(z) through torch.onnx into import_onnx's folder."""
    with tempfile.TemporaryDirectory(prefix="latent-lab-import-") as folder:
        export_module(model, image_shape, Path(folder))
        return import_onnx(Path(folder) / ENCODER_FILE, Path(folder) / DECODER_FILE, out_dir,
                           input_range=input_range, decoder_output=decoder_output,
                           image_shape=image_shape, name=name, dataset=dataset)
