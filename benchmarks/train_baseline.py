"""Training benchmark: the pytorch/examples VAE against ours, on the same mnist5k split.

Rows (each trained in its own process, so peak memory is per row):
  reference-loop  pytorch/examples' recipe re-stated: MLP 784-400-20, BCE summed, Adam 1e-3,
                  batch 128, its own minimal loop (the speed we must not fall behind)
  ours-mlp        the same architecture and recipe through vae_core's training loop
  ours-default    the default conv model that ships as assets/mnist16 (assets/mnist16/train.json)
Prints one table: samples/s, test -ELBO and IWAE -log p(x) (k samples), peak RSS.

    python benchmarks/train_baseline.py [--epochs 50] [--iw-samples 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

ROWS = ("reference-loop", "ours-mlp", "ours-default")


def _reference_loop(epochs: int, threads: int) -> tuple[object, float]:
    """pytorch/examples vae/main.py's loop: sum-reduced BCE + closed-form KL per batch."""
    import torch
    import torch.nn.functional as F

    from vae_core.config import DataConfig, ModelConfig
    from vae_core.data import load_dataset
    from vae_core.models import VAE

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = load_dataset(DataConfig(name="mnist5k")).train_x
    model = VAE(ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, likelihood="bernoulli"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(128):
            data = x[batch]
            mu, logvar = model.encoder(data).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = model.decoder(z)
            bce = F.binary_cross_entropy_with_logits(logits, data, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            optimizer.zero_grad()
            ((bce + kld) / len(data)).backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    return model.eval(), len(x) * epochs / seconds


def _ours(config_path: Path | None, epochs: int, threads: int) -> tuple[object, float]:
    from vae_core.checkpoint import load_checkpoint
    from vae_core.config import ModelConfig, RunConfig, TrainConfig
    from vae_core.training import train

    if config_path is None:
        model = ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, likelihood="bernoulli")
        config = RunConfig(model=model)
    else:
        config = RunConfig.from_dict(json.loads(config_path.read_text()))
    config = RunConfig(data=config.data, model=config.model, train=TrainConfig(
        epochs=epochs, batch_size=128, lr=1e-3, seed=0, num_threads=threads, iw_samples=1,
        log_every=10))
    with tempfile.TemporaryDirectory() as run_dir:
        train(config, Path(run_dir))
        checkpoint = load_checkpoint(Path(run_dir))
    samples = checkpoint.metadata["n_train"] * epochs / checkpoint.metadata["train_seconds"]
    return checkpoint.model, samples


def measure_row(row: str, epochs: int, iw_samples: int, threads: int) -> dict:
    """Train one row in this process and evaluate it on the test split."""
    from vae_core.config import DataConfig
    from vae_core.data import load_dataset
    from vae_core.evaluation import evaluate

    if row == "reference-loop":
        model, samples_per_s = _reference_loop(epochs, threads)
    elif row == "ours-mlp":
        model, samples_per_s = _ours(None, epochs, threads)
    else:
        model, samples_per_s = _ours(PROJECT_DIR / "assets/mnist16/train.json", epochs, threads)
    test = evaluate(model, load_dataset(DataConfig(name="mnist5k")).test_x, iw_samples=iw_samples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"row": row, "samples_per_s": samples_per_s, "neg_elbo": test.neg_elbo,
            "neg_log_px": -test.log_px, "stderr": test.log_px_stderr, "peak_mb": peak_mb,
            "params": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run a row, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_row(args.one, args.epochs, args.iw_samples, args.threads)))
        return
    print(f"mnist5k 4,000 train / 1,000 test (split seed 0), {args.epochs} epochs, batch 128, "
          f"Adam 1e-3, {args.threads} threads; figures in nats per image on the test split")
    print(f"| row | params | samples/s | test -ELBO | -log p(x) IWAE k={args.iw_samples} "
          "| peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in args.rows.split(","):
        command = [sys.executable, __file__, "--one", row, "--epochs", str(args.epochs),
                   "--iw-samples", str(args.iw_samples), "--threads", str(args.threads)]
        result = json.loads(subprocess.run(command, check=True, capture_output=True,
                                           text=True).stdout.splitlines()[-1])
        print(f"| {row} | {result['params']:,} | {result['samples_per_s']:,.0f} | "
              f"{result['neg_elbo']:.2f} | {result['neg_log_px']:.2f} ± {result['stderr']:.2f} | "
              f"{result['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
