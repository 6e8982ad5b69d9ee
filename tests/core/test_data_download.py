"""`--dataset mnist` / `fashion_mnist`: download once, check SHA-256, then work offline.

Served by a loopback HTTP server this test starts, from small IDX files it makes: the test
never touches the internet (the real mirrors and sums are in vae_core/data/download.py).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.core.conftest import make_idx_files
from vae_core.config import DataConfig
from vae_core.data import DatasetError, download, load_dataset
from vae_core.data.download import Source


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mirror(tmp_path):
    """A loopback server over a folder of gzipped IDX files; yields (base URL, folder, hits)."""
    folder = tmp_path / "served"
    folder.mkdir()
    make_idx_files(folder, n_train=30, n_test=10, gz=True)
    hits = []

    class Handler(_QuietHandler):
        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder, hits
    server.shutdown()
    server.server_close()


def _sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.gz")}


def _serve(monkeypatch, tmp_path, name: str, mirrors: tuple[str, ...], sums: dict[str, str]):
    monkeypatch.setitem(download.SOURCES, name, Source(mirrors, sums))
    monkeypatch.setenv(download.CACHE_ENV, str(tmp_path / "cache"))


def test_first_use_downloads_and_checks_then_later_runs_use_the_cache(
    mirror, monkeypatch, tmp_path
):
    base, folder, hits = mirror
    _serve(monkeypatch, tmp_path, "fashion_mnist", (base,), _sums(folder))
    data = load_dataset(DataConfig(name="fashion_mnist"))
    assert data.name == "fashion_mnist" and data.label_names[0] == "T-shirt/top"
    assert tuple(data.train_x.shape) == (30, 1, 28, 28) and tuple(data.test_x.shape) == (10, 1,
                                                                                           28, 28)
    assert sorted(hits) == sorted(f"/{n}" for n in _sums(folder))  # each file fetched once
    cached = tmp_path / "cache" / "fashion_mnist"
    assert _sums(cached) == _sums(folder)
    hits.clear()
    again = load_dataset(DataConfig(name="fashion_mnist"))
    assert hits == [] and torch.equal(again.train_x, data.train_x)


def test_a_file_with_the_wrong_sum_is_refused_and_not_kept(mirror, monkeypatch, tmp_path):
    base, folder, _ = mirror
    sums = _sums(folder)
    sums["t10k-images-idx3-ubyte.gz"] = "0" * 64  # the served file is not the published one
    _serve(monkeypatch, tmp_path, "mnist", (base,), sums)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz.*SHA-256.*not kept"):
        load_dataset(DataConfig(name="mnist"))
    assert not (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()


def test_a_dead_mirror_falls_back_to_the_next(mirror, monkeypatch, tmp_path):
    base, folder, _ = mirror
    _serve(monkeypatch, tmp_path, "mnist", ("http://127.0.0.1:9/", base), _sums(folder))
    assert load_dataset(DataConfig(name="mnist")).train_x.shape[0] == 30


def test_offline_without_a_cache_is_a_clear_error(monkeypatch, tmp_path):
    _serve(monkeypatch, tmp_path, "mnist", ("http://127.0.0.1:9/",), {"x.gz": "0" * 64})
    with pytest.raises(DatasetError, match=r"Could not download x\.gz.*Connect to the internet"):
        load_dataset(DataConfig(name="mnist"))


def test_the_published_sums_are_well_formed():
    for source in download.SOURCES.values():
        assert sorted(source.sha256) == sorted(f"{stem}.gz" for stem in (
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"))
        assert all(len(s) == 64 and int(s, 16) >= 0 for s in source.sha256.values())
        assert all(m.endswith("/") for m in source.mirrors)


def test_a_given_path_is_the_cache_folder(mirror, monkeypatch, tmp_path):
    base, folder, _ = mirror
    _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    data = load_dataset(DataConfig(name="mnist", path=str(tmp_path / "mine")))
    assert (tmp_path / "mine" / "train-images-idx3-ubyte.gz").is_file()
    assert np.isclose(float(data.train_x.max()), 1.0, atol=0.01)
