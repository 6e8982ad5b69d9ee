"""MNIST-format IDX files: parsing, gzip, the files' own split, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.core.conftest import idx_bytes, make_idx_files
from vae_core.config import DataConfig
from vae_core.data import DatasetError, load_dataset


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_reads_the_files_own_split(tmp_path: Path, gz: bool) -> None:
    make_idx_files(tmp_path, gz=gz)
    data = load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))
    assert data.name == "mnist_idx"
    assert data.train_x.shape == (30, 1, 28, 28) and data.test_x.shape == (10, 1, 28, 28)
    assert data.train_x.dtype == torch.float32 and data.train_y.dtype == torch.int64
    assert data.train_x.min() >= 0 and data.train_x.max() <= 1 and data.train_x.max() > 0.99
    assert data.test_y.tolist() == list(range(10))  # order kept: it is the files' test set
    assert data.label_names == tuple("0123456789")


def test_values_match_the_file(tmp_path: Path) -> None:
    make_idx_files(tmp_path)
    raw = (tmp_path / "t10k-images-idx3-ubyte").read_bytes()[16:]
    expected = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(10, 1, 28, 28).copy())
    data = load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))
    assert torch.allclose(data.test_x, expected.float() / 255)


def test_fashion_names_and_train_cap(tmp_path: Path) -> None:
    make_idx_files(tmp_path, gz=True)
    data = load_dataset(DataConfig(name="fashion_idx", path=str(tmp_path), n_samples=12))
    assert data.label_names[0] == "T-shirt/top" and data.label_names[9] == "Ankle boot"
    assert len(data.label_names) == 10
    assert len(data.train_x) == 12 and len(data.test_x) == 10  # the cap is on train only


def test_truncated_file(tmp_path: Path) -> None:
    make_idx_files(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))


def test_wrong_magic(tmp_path: Path) -> None:
    make_idx_files(tmp_path)
    images = np.zeros((30, 28, 28))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(2049, images))
    with pytest.raises(DatasetError, match="magic number is 2049, expected 2051"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))


def test_label_count_mismatch(tmp_path: Path) -> None:
    make_idx_files(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(2049, np.zeros(9)))
    with pytest.raises(DatasetError, match="10 images but 9 labels"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))


def test_missing_file(tmp_path: Path) -> None:
    make_idx_files(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="no t10k-labels-idx1-ubyte"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path / "missing")))


def test_bad_gzip(tmp_path: Path) -> None:
    make_idx_files(tmp_path, gz=True)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match="Cannot read train-labels"):
        load_dataset(DataConfig(name="mnist_idx", path=str(tmp_path)))
