"""The Train page's data sets: which it offers, what a full set's first use will do, and a
download's progress on a run's card.

The full MNIST and Fashion-MNIST sets are downloaded by the run's own process (vae_core.training
fetches them before the loop and writes its progress into status.json), so the page stays
usable. Locally the page offers them always; a shared server offers them only once its admin
has put them in the cache, so visitors never make the server reach outside.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae_core.config import DataConfig
from vae_core.data import download

from .deployment import mode

UPLOAD = "upload"
BUILT_IN = {
    "mnist5k": "MNIST, 5,000 digits (28x28)",
    "digits": "digits, 1,797 (8x8)",
    "shapes": "shapes, synthetic (disentanglement)",
    "shapes3d": "shapes3d, synthetic colour scenes (64x64 RGB, disentanglement)",
}
DOWNLOADED = {
    "mnist": "MNIST, all 70,000 digits (28x28; downloaded once)",
    "fashion_mnist": "Fashion-MNIST, 70,000 clothes (28x28; downloaded once)",
}
NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def offered() -> dict[str, str]:
    """Data set name -> label, in the order the page lists them."""
    shared = mode() == "shared"
    full = {name: label for name, label in DOWNLOADED.items() if not shared or in_cache(name)}
    return {**BUILT_IN, **full, UPLOAD: "my images (zip upload)"}


def in_cache(name: str) -> bool:
    """Are the four files of `name` in its cache folder, each with its published SHA-256?"""
    folder = download.cache_folder(DataConfig(name=name))
    return _checked(name, str(folder), _file_stats(folder))


def _file_stats(folder: Path) -> tuple:
    """What a change to the folder's files changes: the key of the cached check."""
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                            for p in folder.iterdir()))
    except OSError:
        return ()


@st.cache_data(max_entries=16, show_spinner=False)
def _checked(name: str, folder: str, stats: tuple) -> bool:
    return bool(stats) and not download.missing_files(name, Path(folder))


def first_use_note(dataset: str) -> None:
    """Under the data set's choice: what a full set's first use does, or that it is cached;
    in shared mode, how the full sets appear."""
    if dataset in DOWNLOADED:
        folder = download.cache_folder(DataConfig(name=dataset))
        if in_cache(dataset):
            where = "the server's cache" if mode() == "shared" else f"the cache ({folder})"
            st.caption(f"{NAMES[dataset]} is in {where}, checked: nothing to download.")
            return
        source = download.SOURCES[dataset]
        st.info(f"{NAMES[dataset]} is downloaded when the run starts: 4 files, about "
                f"{source.megabytes:.0f} MB, into {folder}, each kept only if its SHA-256 sum "
                "is the published one; the run's card shows the progress. It needs the "
                "internet this once. Offline, copy the four files (train-images-idx3-ubyte.gz, "
                "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte"
                f".gz) into that folder, or run `python -m vae_core download {dataset}` "
                "where there is internet and copy the folder.", icon=":material/download:")
    elif mode() == "shared" and len(offered()) < len(BUILT_IN) + len(DOWNLOADED) + 1:
        st.caption("The full MNIST and Fashion-MNIST sets appear here once the server's admin "
                   "has put them in its cache (python -m vae_core download).")


def download_progress(status: dict) -> tuple[float, str] | None:
    """A starting run's download, from its status: (fraction of the current file, text), or
    None when it is not downloading."""
    record = status.get("download")
    if status.get("state") != "starting" or not isinstance(record, dict):
        return None
    done, total = record.get("done") or 0, record.get("total")
    fraction = min(1.0, done / total) if total else 0.0
    return fraction, str(status.get("message") or "downloading the data set")
