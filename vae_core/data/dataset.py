"""The in-memory dataset every loader returns, and the seeded split they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == is elementwise
class ImageDataset:
    """Images in [0, 1] with optional labels and, for synthetic data, known generative factors.

    train_x: (N, C, H, W) float32 in [0, 1]; train_y: (N,) int64, -1 where there is no label.
    test_x / test_y: the same for the M test examples.
    label_names: label index -> name; empty when the data has no labels.
    test_factors: name -> (M,) float tensor of a known generative factor per test example;
        empty when the factors are unknown (real data).
    notes: what the loader left out and why, in words for the person (e.g. skipped files).
    """

    name: str
    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    label_names: tuple[str, ...] = ()
    test_factors: dict[str, Tensor] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Cheap checks that catch a loader bug here rather than deep inside training.
        for part, x, y in (
            ("train", self.train_x, self.train_y),
            ("test", self.test_x, self.test_y),
        ):
            if x.dim() != 4 or x.dtype != torch.float32:
                raise ValueError(
                    f"{part}_x must be (N, C, H, W) float32, got {x.dtype} {tuple(x.shape)}"
                )
            if y.shape != (x.shape[0],) or y.dtype != torch.int64:
                raise ValueError(
                    f"{part}_y must be ({x.shape[0]},) int64, got {y.dtype} {tuple(y.shape)}"
                )
        if self.train_x.shape[1:] != self.test_x.shape[1:]:
            raise ValueError("train and test images differ in shape")
        for key, values in self.test_factors.items():
            if values.shape != (self.test_x.shape[0],):
                raise ValueError(f"test factor {key!r} must have one value per test example")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.train_x.shape[1:]
        return int(c), int(h), int(w)


class Split(NamedTuple):
    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    test_factors: dict[str, Tensor]


def split(
    x: Tensor,
    y: Tensor,
    factors: dict[str, Tensor] | None,
    test_fraction: float,
    seed: int,
    limit: int | None = None,
) -> Split:
    """Shuffle (seeded, so a run can be repeated) and split into train and test.

    x: (N, C, H, W); y: (N,); factors: name -> (N,) for every example (only the test part is
    kept). limit: keep only this many examples (after shuffling, so the subset is random).
    Both parts get at least one example.
    """
    n = x.shape[0]
    if n < 2:
        raise ValueError("need at least 2 examples to split into train and test")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if limit is not None:
        order = order[: max(2, min(limit, n))]
    n_test = min(max(1, round(len(order) * test_fraction)), len(order) - 1)
    test, train = order[:n_test], order[n_test:]
    test_factors = {k: v[test].float() for k, v in (factors or {}).items()}
    return Split(x[train], y[train], x[test], y[test], test_factors)


def validation_split(x: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """(fit, validation) parts of a training split: a seeded random `fraction` is held out for
    early stopping and model choice, so the test split is used only to report figures.

    fraction 0 holds nothing out (validation is empty). The permutation's seed differs from
    the train/test split's, so the held-out part is not the same images as a test split of
    a smaller dataset would be.
    """
    n_val = min(round(x.shape[0] * fraction), x.shape[0] - 1) if fraction > 0 else 0
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed + 1))
    return x[order[n_val:]], x[order[:n_val]]
