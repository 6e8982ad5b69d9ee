"""Errors whose messages are meant for the person who chose the data, not for a developer."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset cannot be loaded; the message says which file or setting to fix."""


class ImageInputError(ValueError):
    """One uploaded image cannot be used as a model input; the message says why."""


class ImageTooLargeError(ImageInputError):
    """An image whose pixel count is over the limit (possibly a decompression bomb)."""
