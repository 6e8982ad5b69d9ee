"""The user's own images as a data set: a folder or a .zip of PNG/JPEG/... files, optionally in
class folders. Listing and reading (with every bound) is image_source.py; this file decodes.

Files are decoded one at a time into the small training size, so memory holds the result, not
the archive. In the app an upload is only listed (check_images); the pixels are decoded by the
training process, which reports any problem in the run's status.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps

from vae_core.config import DataConfig, shown
from vae_core.data.dataset import ImageDataset, split
from vae_core.data.errors import DatasetError, ImageInputError, ImageTooLargeError
from vae_core.data.image_source import ImageSource, open_image_source
from vae_core.data.preprocess import MAX_PIXELS, open_image, to_mode

MAX_DECODED_BYTES = 2 * 2**30  # the float32 tensors the images become
MIN_IMAGES = 10


def check_images(path: str, label: str) -> int:
    """List a folder or zip of images without decoding any: names, counts and sizes only.

    Cheap enough for the app's own process; returns the number of image files. Raises
    DatasetError (messages name `label`, never the server path).
    """
    with open_image_source(path, label) as source:
        if len(source.names) < MIN_IMAGES:
            raise DatasetError(f"{label} holds {len(source.names)} image files; at least "
                               f"{MIN_IMAGES} are needed.")
        return len(source.names)


def load_image_folder(config: DataConfig) -> ImageDataset:
    """Images under config.path -> (N, 1 or 3, S, S) with S = config.image_size.

    Labels come from the first sub-folder (sorted names -> label_names); images not in a
    sub-folder get -1. Unreadable files are skipped and named in the dataset's notes; a set
    where most files are unreadable is refused.
    """
    with open_image_source(config.path or "") as source:
        names = source.names
        if config.n_samples is not None and len(names) > config.n_samples:
            # Pick the subset before decoding: decoding is the slow, memory-hungry part.
            keep = torch.randperm(
                len(names), generator=torch.Generator().manual_seed(config.split_seed)
            )
            names = [names[i] for i in sorted(keep[: config.n_samples].tolist())]
        channels = 1 if config.grayscale else 3
        if len(names) * channels * config.image_size**2 * 4 > MAX_DECODED_BYTES:
            raise DatasetError(
                f"{len(names)} images at {config.image_size}x{config.image_size} would not fit "
                "in memory; lower image_size or set n_samples."
            )
        names, pixels, notes = _decode_all(source, names, config.image_size,
                                           "L" if config.grayscale else "RGB")
    labels, label_names = labels_from_names(names)
    stacked = np.stack(pixels)  # (N, S, S) for L, (N, S, S, 3) for RGB
    x = torch.from_numpy(stacked[:, None] if stacked.ndim == 3 else stacked.transpose(0, 3, 1, 2))
    parts = split(
        x, torch.tensor(labels, dtype=torch.int64), None, config.test_fraction, config.split_seed
    )
    return ImageDataset(
        "images",
        parts.train_x.float().div_(255.0),
        parts.train_y,
        parts.test_x.float().div_(255.0),
        parts.test_y,
        label_names=label_names,
        notes=notes,
    )


def _skipped_note(bad: list[tuple[str, Exception]], total: int) -> str:
    """'Skipped 2 of 120 image files that could not be read: 'a.png' (reason), ...'."""
    shown = "; ".join(f"{name!r}: {error}" for name, error in bad[:3])
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"Skipped {len(bad)} of {total} image files that could not be read: {shown}{more}"


def _decode_all(
    source: ImageSource, wanted: list[str], size: int, mode: str
) -> tuple[list[str], list[np.ndarray], tuple[str, ...]]:
    """Decode, convert to mode and fit to size x size (centre crop), one file at a time.

    Returns the names and pixels of the readable files and a note on the skipped ones.
    """
    names, pixels, bad = [], [], []
    for name in wanted:
        try:
            fitted = decode_fitted(source.read(name), size, mode)
        except ImageTooLargeError as error:  # likely a decompression bomb: stop, don't skip
            raise DatasetError(f"{shown(name)}: {error}") from error
        except ImageInputError as error:
            bad.append((name, error))
            continue
        names.append(name)
        pixels.append(fitted)
    if len(bad) * 2 > len(wanted):  # mostly unreadable: not the data set the person meant
        raise DatasetError(f"Most files could not be read. {_skipped_note(bad, len(wanted))}")
    if len(pixels) < MIN_IMAGES:
        raise DatasetError(
            f"Found only {len(pixels)} usable images; at least {MIN_IMAGES} are needed."
        )
    return names, pixels, (_skipped_note(bad, len(wanted)),) if bad else ()


def decode_fitted(raw: bytes, size: int, mode: str) -> np.ndarray:
    """One image file -> (size, size) or (size, size, 3) uint8: converted, centre-cropped."""
    image = to_mode(open_image(raw, MAX_PIXELS), mode)
    return np.asarray(ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS),
                      dtype=np.uint8)


def labels_from_names(names: list[str]) -> tuple[list[int], tuple[str, ...]]:
    """Label = first sub-folder, after dropping a folder that wraps everything (a zipped folder)."""
    dirs = [PurePosixPath(n).parts[:-1] for n in names]
    while all(dirs) and len({d[0] for d in dirs}) == 1:
        dirs = [d[1:] for d in dirs]
    label_names = tuple(sorted({d[0] for d in dirs if d}))
    index = {name: i for i, name in enumerate(label_names)}
    return [index[d[0]] if d else -1 for d in dirs], label_names
