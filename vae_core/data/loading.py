"""One entry point from a DataConfig to an ImageDataset, and how uploads should be prepared."""

from __future__ import annotations

from collections.abc import Callable

from vae_core.config import DataConfig
from vae_core.data.builtin import load_digits, load_mnist5k
from vae_core.data.dataset import ImageDataset
from vae_core.data.download import load_downloaded
from vae_core.data.folder import load_image_folder
from vae_core.data.generated import GENERATORS, load_generated
from vae_core.data.idx import load_idx

_LOADERS: dict[str, Callable[[DataConfig], ImageDataset]] = {
    "mnist5k": load_mnist5k,
    "digits": load_digits,
    "shapes": load_generated,
    "shapes3d": load_generated,
    "images": load_image_folder,
    "mnist_idx": lambda config: load_idx(config, fashion=False),
    "fashion_idx": lambda config: load_idx(config, fashion=True),
    "mnist": load_downloaded,
    "fashion_mnist": load_downloaded,
}


def load_dataset(config: DataConfig) -> ImageDataset:
    """Load, shuffle and split the dataset config describes.

    n_samples: how many to generate for 'shapes' and 'shapes3d'; a cap on the total for
    mnist5k, digits and images; a cap on the training set for the IDX datasets. Raises
    DatasetError for bad files.
    """
    return _LOADERS[config.name](config)


def input_style(dataset_name: str) -> str:
    """How preprocess_image should frame an upload for a model trained on this dataset."""
    if dataset_name in ("mnist5k", "mnist_idx", "mnist"):
        return "mnist"
    if dataset_name == "digits":
        return "digits"
    return "plain"


# The image shape each data set gives, known before it loads. IDX files say their own size.
_SHAPES = {"mnist5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28),
           "digits": (1, 8, 8),
           **{name: generator.image_shape for name, generator in GENERATORS.items()}}


def planned_image_shape(config: DataConfig) -> tuple[int, int, int] | None:
    """(C, H, W) of the images `config` will load, or None when only the files can tell."""
    if config.name == "images":
        return (1 if config.grayscale else 3, config.image_size, config.image_size)
    return _SHAPES.get(config.name)
