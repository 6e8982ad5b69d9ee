"""Drawing the generated sets, and reading them back from the disk cache, as a Markdown table.

    python benchmarks/generated_sets.py [--repeats 3]

Each row: a set and its size, the seconds `load_dataset` takes with an empty cache (drawing
every image, then splitting) and with the cache filled (reading the uint8 array back), the
best of the repeats, wall clock, one thread; and the cache file's size. The cache is a fresh
temporary folder, so the machine's own cache is neither used nor filled.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import torch

from vae_core.config import DataConfig
from vae_core.data import load_dataset
from vae_core.data.download import CACHE_ENV
from vae_core.data.generated_cache import cache_dir

CASES = (("shapes", 20_000), ("shapes3d", 10_000), ("shapes3d", 20_000))


def _seconds(config: DataConfig, empty_cache: bool) -> float:
    if empty_cache:
        for entry in cache_dir().glob("*.npy"):
            entry.unlink()
    start = time.perf_counter()
    load_dataset(config)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        os.environ[CACHE_ENV] = folder
        print("| set | images | drawn (s) | from the cache (s) | cache file (MB) |")
        print("|---|---:|---:|---:|---:|")
        for name, n in CASES:
            config = DataConfig(name=name, n_samples=n)
            drawn = min(_seconds(config, empty_cache=True) for _ in range(args.repeats))
            cached = min(_seconds(config, empty_cache=False) for _ in range(args.repeats))
            size = sum(entry.stat().st_size for entry in cache_dir().glob("*.npy")) / 1e6
            print(f"| {name} | {n:,} | {drawn:.2f} | {cached:.2f} | {size:.0f} |")


if __name__ == "__main__":
    main()
