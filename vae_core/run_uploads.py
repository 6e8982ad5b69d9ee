"""Training data a user uploads: a zip of images, checked and kept by content hash.

Uploads live in <runs>/.uploads (dot-named, so never listed as a run); a run's DataConfig points
at the stored zip, which the data loader reads in memory without extracting it.

Where the checking happens: here, in the app's process, the zip is only listed (its central
directory, bounded before it is parsed; no file is decompressed), which catches what a person
most often gets wrong at once. The images are decoded by the training process, the only one
that needs them; a problem there (every file unreadable, a decompression bomb) fails that run
with the reason in its status, and the app's memory never holds the archive's pixels.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from .data import DatasetError
from .data.folder import check_images

UPLOADS_DIR = ".uploads"
MAX_UPLOAD_BYTES = 200 * 2**20


def uploads_dir(runs_root: Path) -> Path:
    return Path(runs_root) / UPLOADS_DIR


def save_uploaded_dataset(data: bytes, filename: str, uploads_root: Path) -> Path:
    """Keep an uploaded zip of images as <uploads_root>/<sha256>.zip once its listing passes.

    A bad archive (not a zip, members like ../x.png, no or too few images, too many or too
    large files) raises DatasetError naming `filename` and leaves nothing behind. Same
    content, same file: two uploads never clobber each other.
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
        check_images(str(staging), filename)
        os.replace(staging, target)
    except DatasetError as error:
        raise DatasetError(f"{filename} cannot be used for training: {error}") from error
    finally:
        staging.unlink(missing_ok=True)
    return target
