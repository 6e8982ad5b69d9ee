"""The user's own images: a folder or a .zip of PNG/JPEG/... files, optionally in class folders.

The path comes from a person (in the app, possibly an upload), so the archive is untrusted:
members are read in memory (never extracted), paths that escape the archive are refused, and
sizes are capped before anything is decoded.
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset, split
from vae_core.data.errors import DatasetError, ImageInputError, ImageTooLargeError
from vae_core.data.preprocess import MAX_PIXELS, open_image, to_mode

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_TOTAL_BYTES = 500 * 2**20  # all image files together, uncompressed
MAX_DECODED_BYTES = 2 * 2**30  # the float32 tensors the images become
MIN_IMAGES = 10


def load_image_folder(config: DataConfig) -> ImageDataset:
    """Images under config.path -> (N, 1 or 3, S, S) with S = config.image_size.

    Labels come from the first sub-folder (sorted names -> label_names); images not in a
    sub-folder get -1. Unreadable files are skipped with a warning naming them.
    """
    files = read_image_files(config.path or "")
    if config.n_samples is not None and len(files) > config.n_samples:
        # Pick the subset before decoding: decoding is the slow, memory-hungry part.
        keep = torch.randperm(
            len(files), generator=torch.Generator().manual_seed(config.split_seed)
        )
        files = [files[i] for i in sorted(keep[: config.n_samples].tolist())]
    channels = 1 if config.grayscale else 3
    if len(files) * channels * config.image_size**2 * 4 > MAX_DECODED_BYTES:
        raise DatasetError(
            f"{len(files)} images at {config.image_size}x{config.image_size} would not fit in "
            "memory; lower image_size or set n_samples."
        )
    names, pixels = _decode_all(files, config.image_size, "L" if config.grayscale else "RGB")
    labels, label_names = _labels(names)
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
    )


def read_image_files(path: str) -> list[tuple[str, bytes]]:
    """(relative posix name, file bytes) of every image file in a folder or zip, sorted by name."""
    source = Path(path).expanduser()
    if not path or not source.exists():
        raise DatasetError(f"The image path {path!r} does not exist.")
    if source.is_dir():
        files = _read_folder(source)
    elif zipfile.is_zipfile(source):
        files = _read_zip(source)
    else:
        raise DatasetError(f"{path!r} is neither a folder nor a .zip archive of images.")
    if not files:
        raise DatasetError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in {path!r}.")
    return sorted(files)


def _is_image_name(parts: tuple[str, ...]) -> bool:
    """An image that is not hidden and not macOS zip metadata (__MACOSX/, ._name, .DS_Store)."""
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return False
    return parts[-1].lower().endswith(IMAGE_SUFFIXES)


def _read_folder(root: Path) -> list[tuple[str, bytes]]:
    root = root.resolve()
    found, total = [], 0
    for directory, subdirs, filenames in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != "__MACOSX"]
        for filename in filenames:
            file = Path(directory, filename)
            relative = file.relative_to(root)
            if not _is_image_name(relative.parts) or not file.is_file():
                continue
            # A symlink may point anywhere on the machine; read only what is inside the folder.
            if not file.resolve().is_relative_to(root):
                continue
            total += file.stat().st_size
            _check_total(total)
            found.append((relative.as_posix(), file.read_bytes()))
    return found


def _read_zip(archive: Path) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for info in members:  # refuse the whole archive before reading any of it
                _check_member_name(info.filename)
            wanted = [
                i
                for i in members
                if not i.is_dir() and _is_image_name(PurePosixPath(_posix(i.filename)).parts)
            ]
            _check_total(sum(i.file_size for i in wanted))
            return [(_posix(i.filename), _read_member(zf, i)) for i in wanted]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise DatasetError(f"Cannot read the zip archive {archive.name!r}: {error}") from error


def _posix(name: str) -> str:
    return name.replace("\\", "/")


def _check_member_name(name: str) -> None:
    posix = _posix(name)
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) or ".." in posix.split("/"):
        raise DatasetError(
            f"The zip member {name!r} has an absolute path or '..' that points outside the "
            "archive; refusing this zip. Re-create it from the folder of images."
        )


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & 0x1:
        raise DatasetError(
            f"The zip member {info.filename!r} is encrypted; use an unencrypted zip."
        )
    with zf.open(info) as member:
        data = member.read(info.file_size + 1)  # zipfile also stops at the declared size
    if len(data) > info.file_size:
        raise DatasetError(f"The zip member {info.filename!r} is larger than its header says.")
    return data


def _check_total(total: int) -> None:
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(
            f"The image files add up to more than {MAX_TOTAL_BYTES // 2**20} MB; "
            "use fewer or smaller images."
        )


def _decode_all(
    files: list[tuple[str, bytes]], size: int, mode: str
) -> tuple[list[str], list[np.ndarray]]:
    """Decode, convert to mode and fit to size x size (centre crop); skip unreadable files."""
    names, pixels, bad = [], [], []
    for name, data in files:
        try:
            image = to_mode(open_image(data, MAX_PIXELS), mode)
        except ImageTooLargeError as error:  # likely a decompression bomb: stop, don't skip
            raise DatasetError(f"{name!r}: {error}") from error
        except ImageInputError as error:
            bad.append((name, error))
            continue
        fitted = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
        names.append(name)
        pixels.append(np.asarray(fitted, dtype=np.uint8))
    if not pixels:
        raise DatasetError(
            f"None of the {len(files)} image files could be read; e.g. {bad[0][0]!r}: {bad[0][1]}"
        )
    if bad:
        shown = ", ".join(repr(n) for n, _ in bad[:5]) + (", ..." if len(bad) > 5 else "")
        warnings.warn(
            f"Skipped {len(bad)} unreadable image file(s): {shown}", UserWarning, stacklevel=3
        )
    if len(pixels) < MIN_IMAGES:
        raise DatasetError(
            f"Found only {len(pixels)} usable images; at least {MIN_IMAGES} are needed."
        )
    return names, pixels


def _labels(names: list[str]) -> tuple[list[int], tuple[str, ...]]:
    """Label = first sub-folder, after dropping a folder that wraps everything (a zipped folder)."""
    dirs = [PurePosixPath(n).parts[:-1] for n in names]
    while all(dirs) and len({d[0] for d in dirs}) == 1:
        dirs = [d[1:] for d in dirs]
    label_names = tuple(sorted({d[0] for d in dirs if d}))
    index = {name: i for i, name in enumerate(label_names)}
    return [index[d[0]] if d else -1 for d in dirs], label_names
