"""Generated images kept on disk, keyed by what drew them, so a set is drawn once per machine.

A key names the generator, its picture version, the image count and the seed; the file name
holds its digest. Entries are plain uint8 .npy arrays (np.load with allow_pickle=False: no code
runs), written under a temporary name and renamed, so a reader sees a whole file or none. An
entry that cannot be read or has the wrong shape is drawn again. The folder is
$LATENT_LAB_DATA_CACHE/generated, else ~/.cache/latent-lab/generated; a folder that cannot be
written only costs the redraw.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vae_core.data.download import CACHE_ENV


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "latent-lab"
    return Path(root) / "generated"


def cache_path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / f"{key['name']}-{digest}.npy"


def cached_images(key: dict, shape: tuple[int, ...], draw: Callable[[], np.ndarray]) -> np.ndarray:
    """The uint8 images of `shape` stored under `key`, else draw() them and store them."""
    path = cache_path(key)
    try:
        images = np.load(path, allow_pickle=False)
        if images.shape == shape and images.dtype == np.uint8:
            return images
    except (OSError, ValueError):  # missing, cut short or not an array: draw again
        pass
    images = draw()
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the next redraw
        _write(path, images)
    return images


def _write(path: Path, images: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            np.save(handle, images, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
