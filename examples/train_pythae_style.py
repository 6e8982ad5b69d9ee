"""A VAE trained by someone else's code, then opened in Latent Lab: the shipped
assets/pythae-mnist is made by this script.

The training loop is plain PyTorch, as a pythae or PyTorch-VAE user would write it; the model is
examples/foreign_vaes.py's pythae-style MNIST conv VAE (BatchNorm, ReLU, a sigmoid output), on
mnist5k's 4,000 training digits, dynamically binarized (x ~ Bernoulli(pixel) per batch), with the
Bernoulli -ELBO. Then it goes through ONNX into Latent Lab, as any user's model would:

    python examples/train_pythae_style.py --out /tmp/pythae-onnx
    python -m vae_core import-onnx /tmp/pythae-onnx/encoder.onnx /tmp/pythae-onnx/decoder.onnx \\
        --out assets/pythae-mnist --input-range=0,1 --decoder-output probs --dataset mnist5k
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import torch
import torch.nn.functional as F

from examples.foreign_vaes import PythaeStyle, export_onnx
from vae_core.config import DataConfig
from vae_core.data import load_dataset


def neg_elbo(model: PythaeStyle, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli -ELBO per image (nats), one reparameterized sample."""
    mean, log_var = model.encode(x).chunk(2, dim=1)
    z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
    probs = model.decode(z).clamp(1e-6, 1 - 1e-6)
    recon = F.binary_cross_entropy(probs, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(1)
    return recon + kl


def train(epochs: int, seed: int) -> PythaeStyle:
    torch.manual_seed(seed)
    images = load_dataset(DataConfig(name="mnist5k")).train_x
    model = PythaeStyle()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        started, total = time.perf_counter(), 0.0
        for batch in torch.randperm(len(images)).split(128):
            x = torch.bernoulli(images[batch])
            loss = neg_elbo(model, x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}: train -ELBO {total / len(images):.2f} nats "
              f"({time.perf_counter() - started:.1f} s)")
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the two ONNX files")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    encoder, decoder = export_onnx(train(args.epochs, args.seed), args.out)
    print(f"wrote {encoder} and {decoder}")


if __name__ == "__main__":
    main()
