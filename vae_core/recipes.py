"""Named training recipes: where the Train page's form starts, in one place the benchmark reads."""

from __future__ import annotations

from .config import DataConfig, ModelConfig, RunConfig, TrainConfig

# The Train page's default: an MLP that reaches the pytorch/examples recipe's quality on
# binarized mnist5k in under half its training time (benchmarks/train_baseline.py).
TRAIN_PAGE_DEFAULT = RunConfig(
    data=DataConfig(name="mnist5k"),
    model=ModelConfig(arch="mlp", hidden=(512,), latent_dim=16, likelihood="bernoulli"),
    train=TrainConfig(epochs=30, batch_size=64, lr=2e-3),
)
