"""What one Explore slider step costs the server in our own code: decodes and PNG encodes.

    python benchmarks/render_cost.py [--model assets/mnist32] [--n 50]

Times, with one torch thread as the app uses, each piece of Explore's per-step work for one new
z (Streamlit's own messaging and media serving are not included; see load_test.py --profile),
and PNG encoding at zlib level 6 (Pillow's default) against level 1 (what ui/render.py uses).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import numpy as np
import torch

from ui.render import DISPLAY_PX, display_scale, grid_image, to_image
from vae_core.checkpoint import load_checkpoint
from vae_core.latent import decode_distribution, decode_mean, traversal_latents

TRAVERSAL_STEPS = 9  # as Explore draws it
N_SAMPLES = 4


def median_ms(work, n: int) -> float:
    work()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        work()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def png(image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="assets/mnist32")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_checkpoint(Path(args.model)).model
    z = np.random.default_rng(0).standard_normal(model.latent_dim).astype(np.float32)
    mean, _, samples = decode_distribution(model, z, N_SAMPLES, 0)
    values = np.linspace(-3.0, 3.0, TRAVERSAL_STEPS, dtype=np.float32)
    strip = decode_mean(model, traversal_latents(z, 0, values))
    width = TRAVERSAL_STEPS * (strip.shape[-1] + 1) + 1
    images = {
        "mean": to_image(mean, display_scale(mean.shape[-2])),
        "samples grid": grid_image(samples, 2, display_scale(mean.shape[-2] + 1, DISPLAY_PX // 2)),
        "traversal strip": grid_image(strip, TRAVERSAL_STEPS, max(1, 900 // width)),
    }
    rows = [("decode z: mean + 4 samples", median_ms(
                lambda: decode_distribution(model, z, N_SAMPLES, 0), args.n), ""),
            (f"decode traversal ({TRAVERSAL_STEPS} z)", median_ms(
                lambda: decode_mean(model, traversal_latents(z, 0, values)), args.n), "")]
    for name, image in images.items():
        for level in (6, 1):
            size = f"{len(png(image, level)) / 1024:.1f} KB"
            rows.append((f"PNG {name} {image.size[0]}x{image.size[1]}, level {level}",
                         median_ms(lambda image=image, level=level: png(image, level), args.n),
                         size))
    print(f"model: {args.model}; median of {args.n}; load average {os.getloadavg()[0]:.2f}")
    print("| work per slider step | median ms | bytes |")
    print("|---|---:|---:|")
    for name, ms, size in rows:
        print(f"| {name} | {ms:.2f} | {size} |")


if __name__ == "__main__":
    main()
