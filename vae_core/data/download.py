"""The full MNIST and Fashion-MNIST sets (70,000 images each), downloaded once into a cache.

`--dataset mnist` / `fashion_mnist` fetch the four standard IDX files on first use, check each
against its published SHA-256 before keeping it, and read them with the IDX loader (idx.py).
Later runs, and runs with no network, use the cache. The cache folder is the config's `path`,
else $LATENT_LAB_DATA_CACHE/<name>, else ~/.cache/latent-lab/<name>. This is the one place the
tool reaches outside the machine, and only from `train` when the files are missing; the app
never offers these sets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset
from vae_core.data.errors import DatasetError
from vae_core.data.idx import load_idx

CACHE_ENV = "LATENT_LAB_DATA_CACHE"
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest file, MNIST's training images, is 9.9 MB
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Source:
    mirrors: tuple[str, ...]  # base URLs, tried in order
    sha256: dict[str, str]  # file name -> SHA-256 of the gzipped file


# Sums as published with these files (torchvision's mirror list, the Fashion-MNIST repository)
# and found identical in several independent projects.
SOURCES = {
    "mnist": Source(
        ("https://ossci-datasets.s3.amazonaws.com/mnist/",
         "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        {"train-images-idx3-ubyte.gz":
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
         "train-labels-idx1-ubyte.gz":
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
         "t10k-images-idx3-ubyte.gz":
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
         "t10k-labels-idx1-ubyte.gz":
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"}),
    "fashion_mnist": Source(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        {"train-images-idx3-ubyte.gz":
             "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
         "train-labels-idx1-ubyte.gz":
             "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
         "t10k-images-idx3-ubyte.gz":
             "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
         "t10k-labels-idx1-ubyte.gz":
             "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"}),
}  # fmt: skip


def cache_folder(config: DataConfig) -> Path:
    if config.path:
        return Path(config.path).expanduser()
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "latent-lab"
    return Path(root) / config.name


def load_downloaded(config: DataConfig) -> ImageDataset:
    """The full set named by config.name, downloaded first if the cache lacks a checked copy."""
    folder = ensure_files(config.name, cache_folder(config))
    data = load_idx(dataclasses.replace(config, path=str(folder)),
                    fashion=config.name == "fashion_mnist")
    return dataclasses.replace(data, name=config.name)


def ensure_files(name: str, folder: Path) -> Path:
    """Every file of SOURCES[name] in `folder` with the right SHA-256; one process downloads
    while the others (torchrun's ranks) wait on the lock and then find the files."""
    source = SOURCES[name]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for file_name, expected in source.sha256.items():
            target = folder / file_name
            if target.is_file() and _sha256(target.read_bytes()) == expected:
                continue
            _download(source, file_name, expected, target)
    return folder


def _download(source: Source, file_name: str, expected: str, target: Path) -> None:
    failures = []
    for base in source.mirrors:
        url = base + file_name
        try:
            data = _fetch(url)
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {getattr(error, 'reason', error)}")
            continue
        found = _sha256(data)
        if found != expected:
            failures.append(f"{url}: SHA-256 {found[:16]}... is not the published "
                            f"{expected[:16]}... (a damaged or altered file; not kept)")
            continue
        partial = target.with_name(f".{file_name}.part-{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)
        return
    raise DatasetError(
        f"Could not download {file_name} into {target.parent}: " + "; ".join(failures)
        + ". Connect to the internet once (later runs use the cache), or copy the four files "
        "there yourself.")


def _fetch(url: str) -> bytes:
    with contextlib.closing(urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)) as response:
        data = response.read(MAX_DOWNLOAD_BYTES + 1)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ValueError(f"larger than {MAX_DOWNLOAD_BYTES // 2**20} MB")
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
