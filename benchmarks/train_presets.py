"""The Train page's presets (vae_core/recipes.py), each trained on mnist5k, beside the
pytorch/examples reference recipe: what each costs and what it reaches.

Rows (each in its own process):
  reference   pytorch/examples' VAE in its own minimal loop (train_baseline.py's), 50 epochs
  quick, good, best   the presets, through vae_core's trainer as the Train page starts them
Columns: the training steps' seconds, by the wall clock and in the process's CPU time, the
whole run's (for a preset: loading, steps, per-epoch validation and test figures,
checkpoints), test -ELBO and IWAE -log p(x) (k samples) of the kept weights on the fixed
binarized test split, in nats per image, and the 1-minute load average when the row ended. On
a shared machine the wall clock counts other people's work too; a one-thread row's CPU seconds
are what its wall time would be on a free core.

    python benchmarks/train_presets.py [--iw-samples 100] [--threads 1] [--rows ...] [--write]

--write records the rows in vae_core/preset_measurements.json: the Train page shows the
presets' beside each preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

ROWS = ("reference", "quick", "good", "best")


def _train_reference(threads: int) -> dict:
    """Trained twice, by the wall clock and by CPU seconds (the loop is deterministic: the same
    seed gives the same weights), so neither clock's reading includes the other's."""
    from train_baseline import _reference_loop

    from vae_core.config import ModelConfig
    from vae_core.models import VAE

    history, _ = _reference_loop(threads)
    cpu_history, _ = _reference_loop(threads, time.process_time)
    model = VAE(ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, likelihood="bernoulli"))
    model.load_state_dict(history[-1][1])
    seconds, cpu = history[-1][0], cpu_history[-1][0]
    return {"model": model, "train_seconds": seconds, "train_cpu_seconds": cpu,
            "wall_seconds": seconds, "cpu_seconds": cpu}


def _train_preset(name: str, threads: int) -> dict:
    """The preset as the Train page starts it; its kept model and its times: the training
    steps' (wall and CPU) and the whole run's (loading, steps, per-epoch validation and test
    figures, checkpoints)."""
    from vae_core.checkpoint import best_checkpoint_dir, load_checkpoint
    from vae_core.recipes import PRESETS
    from vae_core.runs import read_status
    from vae_core.training import Trainer, train

    config = PRESETS[name].config
    config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                   num_threads=threads))
    run_dir = Path(tempfile.mkdtemp(prefix=f"train-presets-{name}-"))
    steps_cpu = [0.0]
    train_epoch = Trainer.train_epoch

    def timed_epoch(trainer, epoch: int) -> bool:
        started = time.process_time()
        try:
            return train_epoch(trainer, epoch)
        finally:
            steps_cpu[0] += time.process_time() - started

    Trainer.train_epoch = timed_epoch
    started, started_cpu = time.perf_counter(), time.process_time()
    train(config, run_dir)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    kept = load_checkpoint(best_checkpoint_dir(run_dir) or run_dir)
    train_seconds = read_status(run_dir)["train_seconds"]
    shutil.rmtree(run_dir)
    return {"model": kept.model, "train_seconds": train_seconds,
            "train_cpu_seconds": steps_cpu[0], "wall_seconds": wall, "cpu_seconds": cpu}


def measure_row(row: str, iw_samples: int, threads: int) -> dict:
    import torch

    from vae_core.config import DataConfig
    from vae_core.data import load_dataset
    from vae_core.evaluation import evaluate

    torch.set_num_threads(threads)
    test_x = load_dataset(DataConfig(name="mnist5k")).test_x
    trained = _train_reference(threads) if row == "reference" else _train_preset(row, threads)
    test = evaluate(trained.pop("model").eval(), test_x, iw_samples=iw_samples)
    return {"row": row, **trained, "neg_elbo": test.neg_elbo, "neg_log_px": -test.log_px,
            "stderr": test.log_px_stderr, "load": os.getloadavg()[0]}


def _line(result: dict) -> str:
    return (f"| {result['row']} | {result['train_seconds']:.1f} | "
            f"{result['train_cpu_seconds']:.1f} | {result['wall_seconds']:.1f} | "
            f"{result['cpu_seconds']:.1f} | {result['neg_elbo']:.2f} | "
            f"{result['neg_log_px']:.2f} ± {result['stderr']:.2f} | {result['load']:.1f} |")


def write_measurements(results: list[dict], threads: int, iw_samples: int, path: Path) -> None:
    """Each row as a vae_core.recipes.Measurement record, merged into `path`: the page reads
    the presets', tests/core/test_presets.py compares the quick one with the reference's."""
    recorded = json.loads(path.read_text()) if path.is_file() else {}
    for result in results:
        recorded[result["row"]] = {
            "neg_log_px": round(result["neg_log_px"], 2),
            "neg_elbo": round(result["neg_elbo"], 2),
            "train_seconds": round(result["train_seconds"], 1),
            "train_cpu_seconds": round(result["train_cpu_seconds"], 1),
            "wall_seconds": round(result["wall_seconds"], 1),
            "cpu_seconds": round(result["cpu_seconds"], 1), "threads": threads,
            "load": round(result["load"], 1), "date": time.strftime("%Y-%m-%d"),
            "iw_samples": iw_samples}
    path.write_text(json.dumps(recorded, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per row (default 1, as the app's runs: "
                             "LATENT_LAB_TRAIN_THREADS)")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--write", action="store_true",
                        help="record the rows in vae_core/preset_measurements.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run a row, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_row(args.one, args.iw_samples, args.threads)))
        return
    print(f"mnist5k (split seed 0), {args.threads} threads, {os.cpu_count()} cores; test "
          f"figures on the fixed binarized test split, nats per image, IWAE k={args.iw_samples}."
          f" Load average when starting: {os.getloadavg()[0]:.1f}.")
    print("| row | train s | train CPU s | whole run s | whole run CPU s | test -ELBO "
          f"| -log p(x) IWAE k={args.iw_samples} | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    from train_baseline import run_rows

    results = run_rows(__file__, args.rows, args.iw_samples, args.threads, _line)
    if args.write:
        from vae_core.recipes import MEASUREMENTS_FILE

        write_measurements(results, args.threads, args.iw_samples, MEASUREMENTS_FILE)
        print(f"Recorded in {MEASUREMENTS_FILE.relative_to(PROJECT_DIR)}")


if __name__ == "__main__":
    main()
