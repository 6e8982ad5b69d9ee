"""Datasets for the VAE: built-in, synthetic, IDX files and the user's own images."""

from vae_core.data.dataset import ImageDataset, split, validation_split
from vae_core.data.errors import DatasetError, ImageInputError, ImageTooLargeError
from vae_core.data.loading import input_style, load_dataset
from vae_core.data.preprocess import preprocess_image
from vae_core.data.shapes import SHAPE_NAMES, render_shapes, sample_factors

__all__ = [
    "SHAPE_NAMES",
    "DatasetError",
    "ImageDataset",
    "ImageInputError",
    "ImageTooLargeError",
    "input_style",
    "load_dataset",
    "preprocess_image",
    "render_shapes",
    "sample_factors",
    "split",
    "validation_split",
]
