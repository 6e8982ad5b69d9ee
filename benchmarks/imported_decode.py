"""What importing a VAE and decoding one z cost: the import, in the page (ui/frontend/decoder.js)
and on the server (onnxruntime).

    python benchmarks/imported_decode.py [--n 50] [--no-browser] [--full-width] [--main-thread]

For each foreign VAE of examples/foreign_vaes.py (untrained, the tests' widths): `import-onnx`
(without a data set: the checks, both sessions and the card) is timed; its decoder.onnx is
translated by vae_core.onnx_decoder and packed (the bytes the page is sent); Node 20 times
decode() for n random z (after a warm-up); onnxruntime (one thread, batch of one) times the same
graph; Node times both of decoder.js's kernels, WebAssembly SIMD and plain JavaScript. In
Chromium, the served app's Explore page drags the model's first slider for --seconds (one input
event per animation frame, tools/explorer.py): the page's decode times (in its worker, or with
--main-thread on the main thread; --js for the JavaScript kernel), the animation-frame intervals
meanwhile, and the new images drawn per second. Prints median / p95 milliseconds. The two models
with latents over 64 dimensions are explored through their principal view (64 sliders on a
linear layer in front of the decoder), the page's z is then that view's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import numpy as np
import onnx
import onnxruntime
import torch

from examples.foreign_vaes import FOREIGN_VAES, PyTorchVAEStyle, build, export_onnx
from tools.browser import launch_browser, open_page, serve_app
from tools.explorer import hook, pick_model, timed_sweep, wait_in_page
from vae_core.decoder_export import pack
from vae_core.model_import import import_onnx
from vae_core.onnx_decoder import decoder_spec_from_onnx

ROOT = Path(__file__).resolve().parents[1]
HEADS = {"tanh": {"kind": "mean", "scale": 0.5, "offset": 0.5},
         "probs": {"kind": "mean", "scale": 1.0, "offset": 0.0},
         "mean": {"kind": "mean", "scale": 1.0, "offset": 0.0},
         "logits": {"kind": "bernoulli"}}
TIME_JS = """
import { readFileSync } from "node:fs";
import { readDecoder, decode } from "%s";
const bytes = new Uint8Array(readFileSync(process.argv[2]));
const zs = JSON.parse(readFileSync(process.argv[3], "utf8"));
const times = {};
for (const kernel of ["wasm-simd", "js"]) {
  const model = readDecoder(bytes, { kernel });
  for (const z of zs.slice(0, 5)) decode(model, z); // warm-up: the JIT compiles the hot loops
  times[model.kernel] = zs.map((z) => {
    const started = performance.now();
    decode(model, z);
    return performance.now() - started;
  });
}
process.stdout.write(JSON.stringify(times));
"""


def median_p95(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), float(np.percentile(ms, 95))


def node_ms(node: str, folder: Path, blob: bytes, z: np.ndarray) -> dict[str, list[float]]:
    """decoder.js's decode times in Node per kernel ("wasm-simd", "js")."""
    (folder / "decoder.bin").write_bytes(blob)
    (folder / "z.json").write_text(json.dumps(z.tolist()))
    (folder / "time.mjs").write_text(TIME_JS % (ROOT / "ui/frontend/decoder.js").as_uri())
    result = subprocess.run([node, folder / "time.mjs", folder / "decoder.bin",
                             folder / "z.json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def onnxruntime_ms(path: Path, z: np.ndarray) -> list[float]:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # not a warning per run about the export's recorded batch
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    z_input = session.get_inputs()[0]
    batches = z.reshape(len(z), 1, *z_input.shape[1:])
    for batch in batches[:5]:
        session.run(None, {z_input.name: batch})
    ms = []
    for batch in batches:
        started = time.perf_counter()
        session.run(None, {z_input.name: batch})
        ms.append(1000 * (time.perf_counter() - started))
    return ms


def browser_drags(assets: Path, names: list[str], seconds: float, fallbacks: str) -> dict:
    """Per imported model in `assets`: (where the page decodes, its decode ms, the frame
    intervals in ms, new images per second) over a `seconds` drag of its first slider."""
    from playwright.sync_api import sync_playwright

    drags = {}
    with tempfile.TemporaryDirectory() as temp, serve_app(Path(temp), assets=assets) as app, \
            sync_playwright() as playwright:
        context = launch_browser(playwright, Path(temp) / "profile")
        page = context.new_page()
        page.add_init_script(fallbacks)
        open_page(page, app, "Explore")
        for name in names:
            pick_model(page, f"{name} (imported)")
            wait_in_page(page, f"asset:{name}")
            page.wait_for_timeout(500)
            frames, kept = hook(page, "frames()"), len(hook(page, "times()")["decode"])
            sweep = timed_sweep(page, 0, seconds)
            page.wait_for_timeout(500)  # the last image comes back
            drawn = hook(page, "frames()") - frames
            decode_ms = hook(page, "times()")["decode"][kept:]
            drags[name] = (hook(page, "status()")["decodesOn"], decode_ms, sweep.frame_ms,
                           drawn / seconds)
        context.close()
    return drags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50, help="z per model")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium columns")
    parser.add_argument("--seconds", type=float, default=3.0, help="drag time per model")
    parser.add_argument("--main-thread", action="store_true",
                        help="decode on the page's main thread, not in a worker")
    parser.add_argument("--js", action="store_true",
                        help="decode with the JavaScript kernel, not WebAssembly SIMD")
    parser.add_argument("--full-width", action="store_true",
                        help="add PyTorch-VAE's own widths (32-512 channels, ~100 M multiply-adds)")
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        sys.exit("node is missing: apt-get install nodejs")
    models = {name: build(name) for name in FOREIGN_VAES}
    if args.full_width:
        torch.manual_seed(0)
        models["pytorch_vae_full"] = PyTorchVAEStyle(hidden=(32, 64, 128, 256, 512)).eval()
    rows = {}
    with tempfile.TemporaryDirectory() as temp:
        for name, model in models.items():
            folder = Path(temp) / name
            encoder_path, decoder_path = export_onnx(model, folder)
            started = time.perf_counter()
            import_onnx(encoder_path, decoder_path, Path(temp) / "assets" / name,
                        input_range="-1,1" if model.input_range[0] < 0 else "0,1",
                        decoder_output=model.decoder_output)
            import_s = time.perf_counter() - started
            spec = decoder_spec_from_onnx(onnx.load(decoder_path), model.latent_dim,
                                          model.image_shape, HEADS[model.decoder_output])
            blob = pack(spec)
            z = np.random.default_rng(0).standard_normal((args.n, model.latent_dim))
            rows[name] = (import_s, len(blob), len(spec.layers),
                          node_ms(node, folder, blob, z),
                          median_p95(onnxruntime_ms(decoder_path, z.astype(np.float32))))
        fallbacks = ("globalThis.latentLabDecodeOn = 'main-thread';" if args.main_thread else "") \
            + ("globalThis.latentLabKernel = 'js';" if args.js else "")
        browser = {} if args.no_browser else browser_drags(
            Path(temp) / "assets", list(rows), args.seconds, fallbacks)
    print(f"load average (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| model | import s | blob KB | layers | Chromium decodes on | Chromium decode ms | "
          "frame interval ms | images/s | Node WASM SIMD ms | Node JS ms | onnxruntime ms |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for name, (import_s, size, layers, node_times, server) in rows.items():
        where, decode_ms, frame_ms, images = browser.get(name, ("-", [math.nan], [math.nan], 0))
        print(f"| {name} | {import_s:.2f} | {size / 1024:.1f} | {layers} | {where} | "
              f"{cells(median_p95(decode_ms))} | {cells(median_p95(frame_ms))} | {images:.1f} | "
              f"{cells(median_p95(node_times['wasm-simd']))} | "
              f"{cells(median_p95(node_times['js']))} | {cells(server, 3)} |")


def cells(median_and_p95: tuple[float, float], digits: int = 1) -> str:
    return f"{median_and_p95[0]:.{digits}f} / {median_and_p95[1]:.{digits}f}"


if __name__ == "__main__":
    main()
