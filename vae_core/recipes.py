"""Named training recipes: where the Train page's form starts, in one place the benchmark reads."""

from __future__ import annotations

from .config import DataConfig, ModelConfig, RunConfig, TrainConfig

# The Train page's default: the shipped default model's recipe (assets/mnist32/train.json),
# shortened to 30 epochs. benchmarks/train_baseline.py measures it beside the pytorch/examples
# recipe. Conv decoders learn digits in fewer epochs than MLPs; 32 latent dimensions trained
# faster than 16 with this network; a one-pixel random shift and early stopping on the
# validation split keep 3,600 training images from overfitting.
TRAIN_PAGE_DEFAULT = RunConfig(
    data=DataConfig(name="mnist5k"),
    model=ModelConfig(arch="conv", hidden=(32, 64), dense=512, latent_dim=32,
                      likelihood="bernoulli"),
    train=TrainConfig(epochs=30, batch_size=64, lr=2e-3, warmup_epochs=10, patience=10,
                      augment_shift=1),
)
