"""One entry point from a DataConfig to an ImageDataset, and how uploads should be prepared."""

from __future__ import annotations

from collections.abc import Callable

from vae_core.config import DataConfig
from vae_core.data.builtin import load_digits, load_mnist5k
from vae_core.data.dataset import ImageDataset
from vae_core.data.download import load_downloaded
from vae_core.data.folder import load_image_folder
from vae_core.data.idx import load_idx
from vae_core.data.shapes import load_shapes

_LOADERS: dict[str, Callable[[DataConfig], ImageDataset]] = {
    "mnist5k": load_mnist5k,
    "digits": load_digits,
    "shapes": load_shapes,
    "images": load_image_folder,
    "mnist_idx": lambda config: load_idx(config, fashion=False),
    "fashion_idx": lambda config: load_idx(config, fashion=True),
    "mnist": load_downloaded,
    "fashion_mnist": load_downloaded,
}


def load_dataset(config: DataConfig) -> ImageDataset:
    """Load, shuffle and split the dataset config describes.

    n_samples: how many to generate for 'shapes'; a cap on the total for mnist5k, digits and
    images; a cap on the training set for the IDX datasets. Raises DatasetError for bad files.
    """
    return _LOADERS[config.name](config)


def input_style(dataset_name: str) -> str:
    """How preprocess_image should frame an upload for a model trained on this dataset."""
    if dataset_name in ("mnist5k", "mnist_idx", "mnist"):
        return "mnist"
    if dataset_name == "digits":
        return "digits"
    return "plain"
