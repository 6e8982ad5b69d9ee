"""One epoch's training batches for this process, from memory or streamed from disk.

Both paths draw the order from a DistributedSampler (vae_core/distributed.py), seeded from
(seed, epoch) as the single-process shuffle always was, so a resumed, a one-process and an
N-process run see the same examples at the same global step. In-memory sets are sliced
directly (a DataLoader's per-item collation would cost more than the step on small images);
streamed sets go through a DataLoader whose workers decode and resize the files.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader

from .data.streaming import StreamedImages
from .distributed import Cluster, epoch_sampler

SHUFFLE_SEED_FACTOR = 1_000_003  # epoch e of seed s shuffles with s * factor + e


class _InMemoryEpoch:
    def __init__(self, x: torch.Tensor, order: torch.Tensor, batch_size: int, pin: bool):
        self.x, self.chunks, self.pin = x, order.split(batch_size), pin

    def __len__(self) -> int:
        return len(self.chunks)

    def __iter__(self) -> Iterator[torch.Tensor]:
        for chunk in self.chunks:
            batch = self.x[chunk]
            yield batch.pin_memory() if self.pin else batch


def _one_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)  # workers decode with PIL; torch threads would only contend


class EpochBatches:
    """`for_epoch(e)` -> a sized iterable of (B, C, H, W) CPU batches (pinned if asked)."""

    def __init__(self, train_x, cluster: Cluster, batch_size: int, seed: int, pin: bool,
                 workers: int = 2) -> None:
        self.train_x, self.cluster, self.batch_size = train_x, cluster, batch_size
        self.seed, self.pin = seed * SHUFFLE_SEED_FACTOR, pin
        self.loader = None
        if isinstance(train_x, StreamedImages):
            self.sampler = epoch_sampler(len(train_x), cluster, self.seed, 0)
            self.loader = DataLoader(train_x, batch_size=batch_size, sampler=self.sampler,
                                     num_workers=workers, pin_memory=pin,
                                     persistent_workers=workers > 0,
                                     worker_init_fn=_one_thread if workers else None)

    def for_epoch(self, epoch: int):
        if self.loader is not None:
            self.sampler.set_epoch(epoch)
            return self.loader
        sampler = epoch_sampler(len(self.train_x), self.cluster, self.seed, epoch)
        return _InMemoryEpoch(self.train_x, torch.tensor(list(sampler), dtype=torch.long),
                              self.batch_size, self.pin)
