"""Training data a user uploads: a zip of images, validated and kept by content hash.

Uploads live in <runs>/.uploads (dot-named, so never listed as a run); a run's DataConfig points
at the stored zip, which the data loader reads in memory without extracting it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from .config import DataConfig
from .data import DatasetError, load_dataset

UPLOADS_DIR = ".uploads"
MAX_UPLOAD_BYTES = 200 * 2**20


def uploads_dir(runs_root: Path) -> Path:
    return Path(runs_root) / UPLOADS_DIR


def save_uploaded_dataset(
    data: bytes, filename: str, uploads_root: Path, image_size: int = 28,
    grayscale: bool = True,
) -> Path:
    """Keep an uploaded zip of images as <uploads_root>/<sha256>.zip once it loads as a dataset.

    The zip is read in memory by the data loader (never extracted); a bad archive (not a zip,
    members like ../x.png, no or too few images, too large) raises DatasetError and leaves
    nothing behind. Same content, same file: two uploads never clobber each other.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise DatasetError(f"{filename} is {len(data) / 2**20:.0f} MB; the limit is "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB. Upload fewer or smaller images.")
    uploads_root = Path(uploads_root)
    uploads_root.mkdir(parents=True, exist_ok=True)
    target = uploads_root / f"{hashlib.sha256(data).hexdigest()[:24]}.zip"
    staging = uploads_root / f".upload-{os.getpid()}-{secrets.token_hex(4)}.zip"
    staging.write_bytes(data)
    try:
        load_dataset(DataConfig(name="images", path=str(staging), image_size=image_size,
                                grayscale=grayscale))
        os.replace(staging, target)
    except DatasetError as error:
        raise DatasetError(f"{filename} cannot be used for training: {error}") from error
    finally:
        staging.unlink(missing_ok=True)
    return target
