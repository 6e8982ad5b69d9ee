"""Attribute directions of shipped (or any) models: each probe's held-out score and each
direction's decoded check, as a Markdown table (the figures in docs/directions.md).

    python benchmarks/directions.py [MODEL_DIR ...]        # default: assets/mnist32 assets/shapes

The app computes the same (vae_core.direction_fit.fit_attribute_directions) on its first visit to
Explore or Reconstruct with a model. One thread: the fits are small, and others share the cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import torch

from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.direction_fit import fit_attribute_directions
from vae_core.directions import CLASS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = (ROOT / "assets" / "mnist32", ROOT / "assets" / "shapes")


def _check(direction) -> str:
    if direction.effect is None:
        return "-"
    if direction.kind == CLASS:
        return f"{direction.effect:.0%} of others read as the class after 1 step"
    return f"{direction.effect:.2f} of the intended change (1 std)"


def report(path: Path) -> None:
    checkpoint = load_checkpoint(path)
    data = load_dataset(checkpoint.data_config)
    start = time.perf_counter()
    result = fit_attribute_directions(checkpoint.model.eval(), data)
    seconds = time.perf_counter() - start
    print(f"\n### {path.name} ({checkpoint.data_config.name}, latent "
          f"{checkpoint.model_config.latent_dim}, epoch {checkpoint.metadata.get('epoch')})\n")
    if result is None:
        print("No labels or known factors: no directions.")
        return
    print(f"Fitted on {result.fit_source}; scored on {result.n_held_out} test images; "
          f"{seconds:.1f} s.\n")
    print("| probe | held-out score |\n|---|---|")
    for probe in result.probes:
        kind = "accuracy" if probe.kind == CLASS else "R²"
        print(f"| {probe.target} | {kind} {probe.score:.3f} |")
    print("\n| direction | held-out probe score | decoded check |\n|---|---|---|")
    for direction in result.directions:
        kind = "recall" if direction.kind == CLASS else "R²"
        print(f"| {direction.name} | {kind} {direction.probe_score:.3f} | {_check(direction)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, default=list(DEFAULT_MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in args.models:
        report(path)


if __name__ == "__main__":
    main()
