"""The full MNIST and Fashion-MNIST sets (70,000 images each), downloaded once into a cache.

`mnist` / `fashion_mnist` fetch the four standard IDX files on first use, check each against
its published SHA-256 before keeping it, and read them with the IDX loader (idx.py). Later runs,
and runs with no network, use the cache. The cache folder is the config's `path`, else
$LATENT_LAB_DATA_CACHE/<name>, else ~/.cache/latent-lab/<name>. This is the one place the tool
reaches outside the machine, and only from a training process (the CLI's `train`, or the run
the Train page starts) when the files are missing.

A file is held in memory while it arrives and written (under a temporary name, then renamed)
only once its sum is right: a broken connection, a wrong sum or a killed process leaves
nothing half-written in the cache. An admin fills the cache ahead of time with
`python -m vae_core download` (cli.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset
from vae_core.data.errors import DatasetError
from vae_core.data.idx import load_idx

CACHE_ENV = "LATENT_LAB_DATA_CACHE"
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest file, Fashion-MNIST's training images, is 26 MB
TIMEOUT_SECONDS = 30
CHUNK_BYTES = 256 * 2**10
TRAINING_IMAGES = 60_000  # both sets: 60,000 training and 10,000 test images
_PARTIAL = ".part-"  # a file being written: .<name>.part-<pid>, renamed when complete


@dataclass(frozen=True)
class Source:
    mirrors: tuple[str, ...]  # base URLs, tried in order
    sha256: dict[str, str]  # file name -> SHA-256 of the gzipped file
    megabytes: float = 0.0  # the four files together, for what the Train page says


@dataclass(frozen=True)
class Progress:
    """How far a download has come: file `index` of `count`, `done` of `total` bytes (total
    None when the server did not say)."""

    file_name: str
    index: int
    count: int
    done: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        """Of the current file; None when its size is unknown."""
        return min(1.0, self.done / self.total) if self.total else None

    def __str__(self) -> str:
        size = f"{_size(self.done)} of {_size(self.total)}" if self.total else _size(self.done)
        return f"downloading {self.file_name} (file {self.index} of {self.count}): {size}"


ProgressListener = Callable[[Progress], None]

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
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
        11.6),
    "fashion_mnist": Source(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        {"train-images-idx3-ubyte.gz":
             "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
         "train-labels-idx1-ubyte.gz":
             "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
         "t10k-images-idx3-ubyte.gz":
             "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
         "t10k-labels-idx1-ubyte.gz":
             "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"},
        30.9),
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


def missing_files(name: str, folder: Path) -> list[str]:
    """The files of SOURCES[name] that `folder` lacks or holds with the wrong SHA-256."""
    return [file_name for file_name, expected in SOURCES[name].sha256.items()
            if not _checked(folder / file_name, expected)]


def ensure_files(name: str, folder: Path, progress: ProgressListener | None = None) -> Path:
    """Every file of SOURCES[name] in `folder` with the right SHA-256; one process downloads
    while the others (torchrun's ranks) wait on the lock and then find the files. `progress`
    hears each chunk as it arrives."""
    source = SOURCES[name]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _sweep_partials(folder)  # under the lock, any partial file is a killed writer's
        missing = missing_files(name, folder)
        for index, file_name in enumerate(missing, start=1):
            heard = functools.partial(_tell, progress, file_name, index, len(missing))
            _download(source, file_name, folder / file_name, heard)
    return folder


def _tell(listener: ProgressListener | None, file_name: str, index: int, count: int,
          done: int, total: int | None) -> None:
    if listener is not None:
        listener(Progress(file_name, index, count, done, total))


def _checked(path: Path, expected: str) -> bool:
    return path.is_file() and _sha256(path.read_bytes()) == expected


def _sweep_partials(folder: Path) -> None:
    for partial in folder.glob(f".*{_PARTIAL}*"):
        partial.unlink(missing_ok=True)


def _download(source: Source, file_name: str, target: Path,
              heard: Callable[[int, int | None], None]) -> None:
    expected, failures = source.sha256[file_name], []
    for base in source.mirrors:
        url = base + file_name
        try:
            data = _fetch(url, heard)
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {getattr(error, 'reason', error)}")
            continue
        found = _sha256(data)
        if found != expected:
            failures.append(f"{url}: SHA-256 {found[:16]}... is not the published "
                            f"{expected[:16]}... (a damaged or altered file; not kept)")
            continue
        partial = target.with_name(f".{file_name}{_PARTIAL}{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)
        return
    raise DatasetError(
        f"Could not download {file_name} into {target.parent}: " + "; ".join(failures)
        + ". Connect to the internet once (later runs use the cache), or copy the four files "
        "there yourself.")


def _fetch(url: str, heard: Callable[[int, int | None], None]) -> bytes:
    """The whole body, chunk by chunk; ValueError when it is too large or stops short."""
    with contextlib.closing(urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise ValueError(f"larger than {MAX_DOWNLOAD_BYTES // 2**20} MB")
        body = bytearray()
        while chunk := response.read1(CHUNK_BYTES):  # what has come, for the progress
            body += chunk
            if len(body) > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"larger than {MAX_DOWNLOAD_BYTES // 2**20} MB")
            heard(len(body), total)
    if total is not None and len(body) < total:
        raise ValueError(f"the connection closed after {_size(len(body))} of {_size(total)} "
                         "(an interrupted download; not kept)")
    return bytes(body)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

