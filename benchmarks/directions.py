"""Attribute directions of shipped (or any) models: each probe's held-out score, each
direction's decoded check, and the two ways towards a class side by side, as Markdown tables (the
figures in docs/directions.md).

    python benchmarks/directions.py [MODEL_DIR ...]        # default: assets/mnist32 assets/shapes

The app computes the first two tables (vae_core.directions.fit_directions) on its first visit to
Explore or Reconstruct with a model. The third moves the same held-out codes by the class-mean
difference (1 and 2 steps) and from where each code is towards the class's mean code (0.5, 0.75
and 1 of the way): the share of other classes' codes read as the class after decoding, the
average distance moved in z, and, for data with known factors, how far the move dragged those
factors (the value probes' mean absolute change, in each factor's standard deviations). One
thread: the fits are small, and others share the cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import numpy as np
import torch

from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.directions import CLASS, VALUE, decoded_effect, fit_directions, reencode

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = (ROOT / "assets" / "mnist32", ROOT / "assets" / "shapes")
DIFFERENCE_STEPS = (1.0, 2.0)
PULL_SHARES = (0.5, 0.75, 1.0)


def _check(direction) -> str:
    if direction.effect is None:
        return "-"
    if direction.kind == VALUE:
        return f"{direction.effect:.2f} of the intended change (1 std)"
    step = f"{direction.spread:.2f} of the way" if direction.pulls else "1 step"
    return f"{direction.effect:.0%} of others read as the class after {step}"


def _factor_drift(model, fit, codes: np.ndarray, moved: np.ndarray) -> float | None:
    """The value probes' mean |change| after decoding, in each factor's std; None without any."""
    values = {d.target: d.spread for d in fit.directions if d.kind == VALUE}
    if not values:
        return None
    before, after = reencode(model, codes), reencode(model, moved.astype(np.float32))
    probes = [p for p in fit.probes if p.target in values]
    return float(np.mean([np.mean(np.abs(p.predict(after) - p.predict(before))) / values[p.target]
                          for p in probes]))


def _cell(model, fit, direction, t: float) -> str:
    """'share turned (|dz|, factors moved)' for one class direction moved by t."""
    probe = next(p for p in fit.probes if p.target == direction.target)
    codes = fit.check_codes.astype(np.float32)
    others = probe.predict(reencode(model, codes)) != direction.class_index
    moved = direction.moved(codes, t)
    share = decoded_effect(model, probe, direction, codes, t)
    distance = float(np.linalg.norm(moved - codes, axis=1)[others].mean())
    drift = _factor_drift(model, fit, codes[others], moved[others])
    return f"{share:.0%} (‖Δz‖ {distance:.2f}" + ("" if drift is None else f", {drift:.2f}") + ")"


def _ways_table(model, fit) -> None:
    classes = [d for d in fit.directions if d.kind == CLASS]
    by_class = {d.class_index: d for d in classes if not d.pulls}
    pulls = {d.class_index: d for d in classes if d.pulls}
    heads = [f"difference, {t:g} step{'s' if t != 1 else ''}" for t in DIFFERENCE_STEPS]
    heads += [f"from here, {t:g} of the way" for t in PULL_SHARES]
    print("\n| class | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 1) + "|")
    for index, difference in by_class.items():
        cells = [_cell(model, fit, difference, t) for t in DIFFERENCE_STEPS]
        cells += [_cell(model, fit, pulls[index], t) if index in pulls else "-"
                  for t in PULL_SHARES]
        print(f"| {difference.name.removeprefix('towards ')} | " + " | ".join(cells) + " |")


def report(path: Path) -> None:
    checkpoint = load_checkpoint(path)
    model = checkpoint.model.eval()
    data = load_dataset(checkpoint.data_config)
    start = time.perf_counter()
    fit = fit_directions(model, data)
    seconds = time.perf_counter() - start
    print(f"\n### {path.name} ({checkpoint.data_config.name}, latent "
          f"{checkpoint.model_config.latent_dim}, epoch {checkpoint.metadata.get('epoch')})\n")
    if fit is None:
        print("No labels or known factors: no directions.")
        return
    print(f"Fitted on {fit.fit_source}; scored on {fit.n_held_out} test images; decoded checks "
          f"on {len(fit.check_codes)} of them; {seconds:.1f} s.\n")
    print("| probe | held-out score |\n|---|---|")
    for probe in fit.probes:
        kind = "accuracy" if probe.kind == CLASS else "R²"
        print(f"| {probe.target} | {kind} {probe.score:.3f} |")
    print("\n| direction | held-out probe score | decoded check |\n|---|---|---|")
    for direction in fit.directions:
        kind = "recall" if direction.kind == CLASS else "R²"
        print(f"| {direction.name} | {kind} {direction.probe_score:.3f} | {_check(direction)} |")
    print("\nTowards a class, two ways: others read as the class after decoding (mean ‖Δz‖ of "
          "their codes" + (", known factors moved in std" if any(
              d.kind == VALUE for d in fit.directions) else "") + ")")
    _ways_table(model, fit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, default=list(DEFAULT_MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in args.models:
        report(path)


if __name__ == "__main__":
    main()
