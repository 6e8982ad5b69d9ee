"""What importing a VAE and decoding one z cost: the import, in the page (ui/frontend/decoder.js)
and on the server (onnxruntime).

    python benchmarks/imported_decode.py [--n 50] [--no-browser]

For each foreign VAE of examples/foreign_vaes.py (untrained, the tests' widths): `import-onnx`
(without a data set: the checks, both sessions and the card) is timed; its decoder.onnx is
translated by vae_core.onnx_decoder and packed (the bytes the page is sent); Node 20 times
decode() for n random z (after a warm-up); Chromium times the same in the served app's Explore
page (its test hook's decode, which also copies the image into a JS array); onnxruntime (one
thread, batch of one) times the same graph. Prints median / p95 milliseconds. The two models
with latents over 64 dimensions are explored through their principal view (64 sliders on a
linear layer in front of the decoder), the page's z is then that view's.
"""

from __future__ import annotations

import argparse
import json
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
from tools.explorer import EXPLORER, pick_model, wait_in_page
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
const model = readDecoder(new Uint8Array(readFileSync(process.argv[2])));
const zs = JSON.parse(readFileSync(process.argv[3], "utf8"));
for (const z of zs.slice(0, 5)) decode(model, z); // warm-up: the JIT compiles the hot loops
const ms = zs.map((z) => {
  const started = performance.now();
  decode(model, z);
  return performance.now() - started;
});
process.stdout.write(JSON.stringify(ms));
"""


def median_p95(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), float(np.percentile(ms, 95))


def node_ms(node: str, folder: Path, blob: bytes, z: np.ndarray) -> list[float]:
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


BROWSER_JS = """
(el, zs) => {
  for (const z of zs.slice(0, 5)) el.latentLab.decode(z); // warm-up
  return zs.map((z) => {
    const started = performance.now();
    el.latentLab.decode(z);
    return performance.now() - started;
  });
}
"""


def browser_ms(assets: Path, names: list[str], n: int) -> dict[str, list[float]]:
    """Per imported model in `assets`: the page's decode times for n random z of its sliders."""
    from playwright.sync_api import sync_playwright

    times = {}
    with tempfile.TemporaryDirectory() as temp, serve_app(Path(temp), assets=assets) as app, \
            sync_playwright() as playwright:
        context = launch_browser(playwright, Path(temp) / "profile")
        page = context.new_page()
        open_page(page, app, "Explore")
        for name in names:
            pick_model(page, f"{name} (imported)")
            wait_in_page(page, f"asset:{name}")
            sliders = page.locator(f"{EXPLORER} input[type=range]").count()
            z = np.random.default_rng(1).standard_normal((n, sliders)).round(2).tolist()
            times[name] = page.locator(EXPLORER).evaluate(BROWSER_JS, z)
        context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50, help="z per model")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium column")
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
                          median_p95(node_ms(node, folder, blob, z)),
                          median_p95(onnxruntime_ms(decoder_path, z.astype(np.float32))))
        browser = {} if args.no_browser else browser_ms(Path(temp) / "assets", list(rows), args.n)
    print(f"{'model':<16} {'import s':>8} {'blob KB':>8} {'layers':>6}  "
          f"{'Chromium ms med/p95':>19}  {'Node ms med/p95':>16}  {'onnxruntime ms med/p95':>23}")
    for name, (import_s, size, layers, node_times, server) in rows.items():
        chromium = median_p95(browser[name]) if name in browser else (float("nan"),) * 2
        print(f"{name:<16} {import_s:>8.2f} {size / 1024:>8.1f} {layers:>6}  "
              f"{chromium[0]:>9.2f} / {chromium[1]:<7.2f}  {node_times[0]:>7.2f} / "
              f"{node_times[1]:<6.2f}  {server[0]:>11.3f} / {server[1]:<7.3f}")


if __name__ == "__main__":
    main()
