"""The user's image folder or zip, streamed from disk: for sets larger than memory.

Only names and labels are held; pixels are decoded and resized when a batch needs them, in
DataLoader worker processes for training (see vae_core/batches.py) and batch by batch for
evaluation. The split is the in-memory loader's, so when every file is readable both paths
train and test on the same images. Unlike the in-memory path, which skips unreadable files and
names them, a file that cannot be decoded mid-run stops the run with its name (the listing
alone cannot tell).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from vae_core.config import DataConfig, shown
from vae_core.data.dataset import split
from vae_core.data.errors import DatasetError, ImageInputError
from vae_core.data.folder import MIN_IMAGES, decode_fitted, labels_from_names
from vae_core.data.image_source import ImageSource, open_image_source
from vae_core.evaluation import Evaluation, evaluate


class StreamedImages(torch.utils.data.Dataset):
    """Images `names` of the source at config.path, decoded on access: (C, S, S) float32 in
    [0, 1]. Also sliceable like a tensor (x[a:b] -> (B, C, S, S)), which is all evaluate() and
    the trainer's bookkeeping ask of a test or training set."""

    def __init__(self, config: DataConfig, names: list[str]) -> None:
        self.path, self.names = config.path or "", names
        self.size, self.mode = config.image_size, "L" if config.grayscale else "RGB"
        self._source: ImageSource | None = None  # opened per process: zip handles don't fork
        self._stack: contextlib.ExitStack | None = None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.names), 1 if self.mode == "L" else 3, self.size, self.size)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index):
        """int: one image; slice: a (B, C, S, S) batch; an index tensor: a subset, still
        streamed (how validation_split takes its parts)."""
        if isinstance(index, slice):
            return torch.stack([self[i] for i in range(*index.indices(len(self)))])
        if isinstance(index, Tensor):
            subset = copy.copy(self)
            subset.names = [self.names[i] for i in index.tolist()]
            return subset
        name = self.names[index]
        try:
            pixels = decode_fitted(self._open().read(name), self.size, self.mode)
        except ImageInputError as error:
            raise DatasetError(f"{shown(name)}: {error}") from error
        chw = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        return torch.from_numpy(np.array(chw)).float().div_(255.0)  # a writable copy

    def _open(self) -> ImageSource:
        if self._source is None:
            self._stack = contextlib.ExitStack()
            self._source = self._stack.enter_context(open_image_source(self.path))
        return self._source

    def __getstate__(self) -> dict:  # sent to DataLoader workers: without the open handle
        return {**self.__dict__, "_source": None, "_stack": None}


@dataclass(frozen=True, eq=False)
class StreamedDataset:
    """The streamed counterpart of ImageDataset: the same fields the trainer reads."""

    name: str
    train_x: StreamedImages
    train_y: Tensor
    test_x: StreamedImages
    test_y: Tensor
    label_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    test_factors: dict[str, Tensor] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train_x.shape[1:]


def load_streamed(config: DataConfig) -> StreamedDataset:
    """List the folder or zip at config.path (decoding nothing) and split it as load_dataset
    would. n_samples caps the total, as for the in-memory path."""
    with open_image_source(config.path or "") as source:
        names = source.names
    if config.n_samples is not None and len(names) > config.n_samples:
        keep = torch.randperm(len(names),
                              generator=torch.Generator().manual_seed(config.split_seed))
        names = [names[i] for i in sorted(keep[: config.n_samples].tolist())]
    if len(names) < MIN_IMAGES:
        raise DatasetError(f"Found only {len(names)} image files; at least {MIN_IMAGES} are "
                           "needed.")
    labels, label_names = labels_from_names(names)
    index = torch.arange(len(names))
    parts = split(index, torch.tensor(labels, dtype=torch.int64), None, config.test_fraction,
                  config.split_seed)
    return StreamedDataset(
        "images", StreamedImages(config, [names[i] for i in parts.train_x.tolist()]),
        parts.train_y, StreamedImages(config, [names[i] for i in parts.test_x.tolist()]),
        parts.test_y, label_names=label_names)


# Decoded pixels held at once when evaluating a streamed set. evaluate() keeps a few copies
# of its input (the images, their discretized copy, the decoded batch), so this is sized in
# bytes: 2,000 images of 256 x 256 RGB would be 1.5 GB a copy, 2,000 MNIST digits 6 MB.
EVALUATION_CHUNK_BYTES = 32 * 2**20


def evaluate_images(model, x, **kwargs) -> Evaluation:
    """evaluate() for a tensor; for streamed images, chunk by chunk (each chunk's discretized
    copy is drawn on its own, so figures differ slightly from an in-memory evaluation)."""
    if isinstance(x, Tensor):
        return evaluate(model, x, **kwargs)
    chunk = max(1, EVALUATION_CHUNK_BYTES // (4 * int(np.prod(x.shape[1:]))))
    kwargs.setdefault("batch_size", min(chunk, 250))
    parts = [evaluate(model, x[start : start + chunk], **kwargs)
             for start in range(0, len(x), chunk)]
    return _pooled(parts)


def _pooled(parts: list[Evaluation]) -> Evaluation:
    """One Evaluation from chunks: means weighted by size; log p(x)'s standard error from the
    pooled variance (within and between chunks)."""
    n = sum(p.n_images for p in parts)

    def mean(key: str) -> float | None:  # None: a term the model kind does not have
        if getattr(parts[0], key) is None:
            return None
        return sum(getattr(p, key) * p.n_images for p in parts) / n

    log_px = log_px_err = None
    if parts[0].log_px is not None:
        log_px = mean("log_px")
        squares = sum((p.n_images - 1) * (p.log_px_stderr * p.n_images**0.5) ** 2
                      + p.n_images * (p.log_px - log_px) ** 2 for p in parts)
        log_px_err = (squares / max(n - 1, 1)) ** 0.5 / n**0.5
    return dataclasses.replace(parts[0], neg_elbo=mean("neg_elbo"), kl=mean("kl"),
                               recon=mean("recon"), log_px=log_px, log_px_stderr=log_px_err,
                               n_images=n)
