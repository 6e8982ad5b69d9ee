"""AE vs VAE: how much of the prior N(0, I) each model decodes into a recognisable digit.

For a plain autoencoder and a VAE with the same networks, data and seed (assets/mnist-ae and
assets/mnist-vae by default) it prints one table: the share of prior draws whose decoder means
a small digit classifier (vae_core.prior_decodes) labels with probability >= 0.9, over several
seeds of 1,000 draws each (mean and spread), beside the same share on the real test digits; and
each model's reconstruction error at its best z; and where the test codes (an AE's codes, a
VAE's posterior means) sit against the prior: their per-dimension std (N(0, I) has 1) and the
share of coordinates beyond +-3 (0.27% under N(0, I)). It also writes the figure
docs/ae-vs-vae.md shows: the same 16 draws z ~ N(0, I) decoded by the AE (top) and by the VAE
(bottom).

    python benchmarks/ae_vs_vae.py [--ae assets/mnist-ae] [--vae assets/mnist-vae]
                                   [--seeds 5] [--figure benchmarks/ae_vs_vae.png]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.images import make_grid
from vae_core.latent import decode_mean, encode_images
from vae_core.prior_decodes import DigitClassifier, prior_decode_score
from vae_core.reconstruction_error import reconstruction_error


def _figure(models, path: Path, n: int = 16, seed: int = 0) -> None:
    z = np.random.default_rng(seed).standard_normal((n, models[0].latent_dim)).astype(np.float32)
    rows = [torch.from_numpy(decode_mean(model, z)) for model in models]
    make_grid(torch.cat(rows), ncols=n, scale=2).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ae", type=Path, default=Path("assets/mnist-ae"))
    parser.add_argument("--vae", type=Path, default=Path("assets/mnist-vae"))
    parser.add_argument("--seeds", type=int, default=5, help="seeds of 1,000 prior draws each")
    parser.add_argument("--figure", type=Path, default=Path("benchmarks/ae_vs_vae.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoints = [load_checkpoint(args.ae), load_checkpoint(args.vae)]
    data = load_dataset(checkpoints[0].data_config)
    started = time.perf_counter()
    classifier = DigitClassifier(data)
    print(f"classifier: test accuracy {100 * classifier.test_accuracy:.1f}%, "
          f"fitted in {time.perf_counter() - started:.0f} s")
    print("| model | prior draws labelled with p >= 0.9 | real test digits (ceiling) | "
          "reconstruction -log p(x|z), nats/image | MSE per pixel | test codes' std per "
          "dimension | coordinates beyond ±3 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for checkpoint, path in zip(checkpoints, (args.ae, args.vae), strict=True):
        scores = [prior_decode_score(checkpoint.model, classifier, seed=s)
                  for s in range(args.seeds)]
        shares = 100 * np.array([s.share for s in scores])
        error = reconstruction_error(checkpoint.model, data.test_x)
        codes = encode_images(checkpoint.model, data.test_x).mean
        spread = codes.std(axis=0)
        print(f"| {path.name} ({checkpoint.model_config.kind}) | {shares.mean():.1f}% "
              f"± {shares.std():.1f} | {100 * scores[0].real_share:.1f}% | {error.nats:.2f} | "
              f"{error.mse:.4f} | {spread.min():.2f} to {spread.max():.2f} | "
              f"{100 * (np.abs(codes) > 3).mean():.1f}% |")
    _figure([c.model for c in checkpoints], args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
