"""Training on several processes with PyTorch's own engine: torchrun + DistributedDataParallel.

`torchrun --nproc_per_node=N -m vae_core train ...` starts N copies of the ordinary trainer with
RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT in their environment; `join()` turns
that into a process group (NCCL on CUDA, Gloo on the CPU). Without those variables it returns a
group of one and nothing here does anything.

What makes N processes train the same model as one process with the same global batch:
- `batch_size` is the global batch; each process takes batch_size / N examples per step.
- A DistributedSampler, seeded as the single-process shuffle is, deals every epoch's order out
  round-robin: step i of the N processes together covers exactly step i of one process.
- The random draws of a step (shift, binarization, reparameterization noise) are made for the
  whole global batch on every process (same generator, same seed) and each keeps its own rows
  (`as_in_global_batch`, `ShardedNoise`), so every example gets the draws it would get in one
  process.
- DDP averages the gradients, which equals the gradient of the global batch mean.
`free_bits` (a batch-level term) is computed per process batch, so with free bits the runs differ.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from .config import ConfigError, RunConfig

TIMEOUT_ENV = "LATENT_LAB_DIST_TIMEOUT"  # seconds a collective may wait for a lost peer
DEFAULT_TIMEOUT_SECONDS = 600
_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Cluster:
    """This process's place among the trainers of one run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: a single process, no process group

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes run.json, status.json, metrics.jsonl and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def join(device: torch.device) -> tuple[Cluster, torch.device]:
    """Join the process group torchrun described (a no-op for one process); returns the
    cluster and this process's device (cuda:LOCAL_RANK on a GPU box)."""
    if not launched_by_torchrun():
        return Cluster(), device
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise ConfigError(f"WORLD_SIZE is set but {missing} are not: start distributed runs "
                          "with torchrun")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS))
    dist.init_process_group(backend, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=timeout))
    return Cluster(rank, world, local_rank, backend), device


def leave(cluster: Cluster) -> None:
    if cluster.distributed and dist.is_initialized():
        dist.destroy_process_group()


def per_process_batch(global_batch: int, cluster: Cluster) -> int:
    if global_batch % cluster.world_size:
        raise ConfigError(f"batch_size {global_batch} (the global batch) must be divisible by "
                          f"the number of processes, {cluster.world_size}")
    return global_batch // cluster.world_size


def epoch_sampler(n: int, cluster: Cluster, seed: int, epoch: int) -> DistributedSampler:
    """This process's share of epoch `epoch`'s shuffled order of n examples. With one process
    it is exactly torch.randperm(n) from a generator seeded with seed + epoch."""
    sampler = DistributedSampler(range(n), num_replicas=cluster.world_size, rank=cluster.rank,
                                 shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return sampler


class ShardedNoise(nn.Module):
    """The VAE's forward pass with the noise of the whole global batch: rows rank::world of it,
    the rows the round-robin sampler gave this process."""

    def __init__(self, vae: nn.Module, cluster: Cluster) -> None:
        super().__init__()
        self.vae, self.cluster = vae, cluster

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        if not self.vae.is_variational:  # a plain autoencoder draws no noise
            return self.vae(x)
        posterior = self.vae.encode(x)
        world = self.cluster.world_size
        eps = torch.randn((x.shape[0] * world, *posterior.mean.shape[1:]), generator=generator,
                          device=posterior.mean.device, dtype=posterior.mean.dtype)
        z = posterior.reparameterize(eps[self.cluster.rank :: world])
        return posterior, z, self.vae.decode(z)


def for_training(model: nn.Module, cluster: Cluster, device: torch.device) -> nn.Module:
    """What the training step calls: the model itself, or DDP over its sharded-noise pass."""
    if not cluster.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    wrapped = DistributedDataParallel(ShardedNoise(model, cluster), device_ids=ids)
    wrapped.is_variational = model.is_variational  # what objectives.loss_terms asks of a model
    return wrapped


def as_in_global_batch(draw, batch: torch.Tensor, cluster: Cluster) -> torch.Tensor:
    """draw(x) for a random transform of a batch (shift, binarization): applied to the global
    batch with this process's rows in the round-robin places, so the generator is used as in one
    process, and this process's rows returned. One process: draw(batch)."""
    if not cluster.distributed:
        return draw(batch)
    world = cluster.world_size
    full = batch.new_zeros((batch.shape[0] * world, *batch.shape[1:]))
    full[cluster.rank :: world] = batch
    return draw(full)[cluster.rank :: world]


def from_rank_0(flag: bool, cluster: Cluster, device: torch.device) -> bool:
    """Rank 0's decision (e.g. early stopping, which only rank 0 evaluates), on every process."""
    if not cluster.distributed:
        return flag
    value = torch.tensor([float(flag)], device=device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def all_sum(values: torch.Tensor, cluster: Cluster) -> torch.Tensor:
    """Sum a tensor over all processes (in place); one process: unchanged."""
    if cluster.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def agree_to_stop(stop: bool, cluster: Cluster, device: torch.device) -> bool:
    """True on every process when any process was asked to stop: all stop at the same step."""
    if not cluster.distributed:
        return stop
    flag = torch.tensor([float(stop)], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def run_record(config: RunConfig, cluster: Cluster) -> dict[str, Any]:
    """What run.json states about the processes: the global batch and the learning rate."""
    return {"world_size": cluster.world_size, "backend": cluster.backend or "none",
            "global_batch_size": config.train.batch_size,
            "per_process_batch_size": config.train.batch_size // cluster.world_size,
            "lr": config.train.lr}


def describe_failure(error: BaseException, cluster: Cluster) -> str:
    """The run's failure message; in a distributed run a lost peer is named as such."""
    text = f"{type(error).__name__}: {error}"
    if cluster.distributed and isinstance(error, (RuntimeError, dist.DistError)):
        return (f"a training process stopped or lost contact (this is rank {cluster.rank} of "
                f"{cluster.world_size}; the run keeps its last finished epoch): {text}")
    return text


def launcher(processes: int) -> list[str]:
    """The start of the command that runs `-m vae_core train` in `processes` local processes."""
    if processes <= 1:
        return [sys.executable]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={processes}"]

