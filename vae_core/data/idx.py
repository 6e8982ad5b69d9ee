"""MNIST / Fashion-MNIST in the standard IDX files (optionally gzipped), from a local folder.

IDX: a big-endian header (magic, then one uint32 per dimension) followed by raw uint8 values.
Magic 2051 = 3-D images (n, rows, cols); 2049 = 1-D labels (n,).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset
from vae_core.data.errors import DatasetError

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
MAX_FILE_BYTES = 256 * 2**20  # MNIST's largest file is 47 MB uncompressed
MNIST_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


def load_idx(config: DataConfig, fashion: bool = False) -> ImageDataset:
    """The four IDX files in config.path -> (N, 1, 28, 28) with the files' own train/test split.

    config.n_samples, if set, keeps a seeded random subset of that many training images (the
    test set stays whole so scores remain comparable); test_fraction is not used.
    """
    folder = Path(config.path or "").expanduser()
    if not folder.is_dir():
        raise DatasetError(f"The IDX folder {config.path} does not exist or is not a folder.")
    names = FASHION_NAMES if fashion else MNIST_NAMES
    parts = {}
    for split_name in ("train", "test"):
        images = read_idx(_find(folder, FILES[f"{split_name}_x"]), IMAGES_MAGIC)
        labels = read_idx(_find(folder, FILES[f"{split_name}_y"]), LABELS_MAGIC)
        if len(images) != len(labels):
            raise DatasetError(f"{split_name}: {len(images)} images but {len(labels)} labels.")
        if labels.size and labels.max() >= len(names):
            raise DatasetError(
                f"{split_name} labels go up to {labels.max()}; expected 0..{len(names) - 1}."
            )
        parts[split_name] = (
            torch.from_numpy(images.astype(np.float32)).unsqueeze(1).div_(255.0),
            torch.from_numpy(labels.astype(np.int64)),
        )
    (train_x, train_y), (test_x, test_y) = parts["train"], parts["test"]
    if train_x.shape[2:] != test_x.shape[2:]:
        raise DatasetError(
            f"train images are {tuple(train_x.shape[2:])}, test images {tuple(test_x.shape[2:])}."
        )
    if config.n_samples is not None and config.n_samples < len(train_x):
        keep = torch.randperm(
            len(train_x), generator=torch.Generator().manual_seed(config.split_seed)
        )
        keep = keep[: config.n_samples]
        train_x, train_y = train_x[keep], train_y[keep]
    name = "fashion_idx" if fashion else "mnist_idx"
    return ImageDataset(name, train_x, train_y, test_x, test_y, label_names=names)


def _find(folder: Path, stem: str) -> Path:
    """The file `stem` or `stem.gz`; also the common 'train-images.idx3-ubyte' spelling."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    present = ", ".join(sorted(p.name for p in folder.iterdir())[:10]) or "nothing"
    raise DatasetError(f"{folder} has no {stem} (or {stem}.gz); it contains: {present}.")


def read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file -> uint8 array of its dimensions ((n, rows, cols) or (n,))."""
    data = _read_bytes(path)
    if len(data) < 8:
        raise DatasetError(f"{path.name} is too short to be an IDX file ({len(data)} bytes).")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise DatasetError(f"{path.name}: IDX magic number is {found}, expected {magic} ({kind}).")
    ndim = magic & 0xFF  # the magic's last byte is the number of dimensions
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path.name} is truncated inside its header.")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
        raise DatasetError(f"{path.name}: images of size {dims[1]}x{dims[2]} are empty.")
    expected = int(np.prod(dims))
    body = len(data) - header
    if body != expected:
        problem = "is truncated" if body < expected else "has extra bytes"
        raise DatasetError(
            f"{path.name} {problem}: header {dims} needs {expected} bytes of values, found {body}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if it ends in .gz, capped so a gzip bomb cannot fill memory."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        else:
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"Cannot read {path.name}: {error}") from error
    if len(data) > MAX_FILE_BYTES:
        raise DatasetError(
            f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB; not an MNIST file."
        )
    return data
