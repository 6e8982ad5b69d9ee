"""Scaling-out benchmark: 1 vs 2 training processes (torchrun + DDP, Gloo on the CPU), and the
streamed DataLoader path against the in-memory path.

Rows (each a real `python -m vae_core train`, or torchrun of it, in its own run folder):
  in-memory, 1 process      mnist5k (4,000 training images) held in memory
  in-memory, 2 processes    the same through `torchrun --standalone --nproc_per_node=2`
  folder in memory          the same 4,000 images written as PNGs, decoded once up front
  folder streamed, W workers the PNGs decoded batch by batch in W DataLoader workers
samples/s = training images seen / the trainer's own training seconds (train_seconds, which
excludes start-up, data loading and evaluation). Every process uses --threads 1.

    python benchmarks/scale_out.py [--epochs 3] [--arch conv] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def _train(out: Path, flags: list[str], processes: int = 1) -> float:
    """Run one training; returns its samples/s."""
    from vae_core.checkpoint import load_checkpoint

    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
                 f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable])
    command = [*launcher, "-m", "vae_core", "train", "--out", str(out), "--threads", "1",
               "--quiet", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command, check=True, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL)
    meta = load_checkpoint(out).metadata
    return meta["epoch"] * meta["n_train"] / meta["train_seconds"]


def _write_pngs(folder: Path) -> None:
    """mnist5k's images as PNG files in label folders (the same 5,000 digits)."""
    import numpy as np
    from PIL import Image

    from vae_core.data.builtin import _mnist_raw

    images, labels = _mnist_raw()
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image)).save(folder / str(label) / f"{i}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--arch", choices=("mlp", "conv"), default="conv")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    common = ["--arch", args.arch, "--epochs", str(args.epochs), "--batch-size", "128",
              "--iw-samples", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_pngs(root / "pngs")
        folder = ["--dataset", "images", "--data-path", str(root / "pngs")]
        rows = [
            ("in-memory, 1 process", _train(root / "a", ["--dataset", "mnist5k", *common])),
            ("in-memory, 2 processes",
             _train(root / "b", ["--dataset", "mnist5k", *common], processes=2)),
            ("folder in memory", _train(root / "c", [*folder, *common])),
            (f"folder streamed, {args.workers} workers",
             _train(root / "d", [*folder, "--stream", "--loader-workers", str(args.workers),
                                 *common])),
        ]
    print(f"\n{args.arch} VAE, batch 128 (global), {args.epochs} epochs, 1 thread per process\n")
    print(f"| {'path':<28} | samples/s |")
    print(f"|{'-' * 30}|-----------|")
    for name, rate in rows:
        print(f"| {name:<28} | {rate:9,.0f} |")


if __name__ == "__main__":
    main()
