"""What importing a VAE and decoding one z cost: the import, in the page (ui/frontend/decoder.js)
and on the server (onnxruntime).

    python benchmarks/imported_decode.py [--n 50]

For each foreign VAE of examples/foreign_vaes.py (untrained, the tests' widths): `import-onnx`
(without a data set: the checks, both sessions and the card) is timed; its decoder.onnx is
translated by vae_core.onnx_decoder and packed (the bytes the page is sent); Node 20 times
decode() for n random z (after a warm-up), a proxy for the page's JavaScript engine; onnxruntime
(one thread, batch of one) times the same graph. Prints median / p95 milliseconds.
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

from examples.foreign_vaes import FOREIGN_VAES, build, export_onnx
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50, help="z per model")
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        sys.exit("node is missing: apt-get install nodejs")
    print(f"{'model':<12} {'import s':>8} {'blob KB':>8} {'layers':>6}  "
          f"{'Node ms median/p95':>19}  {'onnxruntime ms median/p95':>26}")
    with tempfile.TemporaryDirectory() as temp:
        for name in FOREIGN_VAES:
            folder = Path(temp) / name
            model = build(name)
            encoder_path, decoder_path = export_onnx(model, folder)
            started = time.perf_counter()
            import_onnx(encoder_path, decoder_path, folder / "imported",
                        input_range="-1,1" if model.input_range[0] < 0 else "0,1",
                        decoder_output=model.decoder_output)
            import_s = time.perf_counter() - started
            spec = decoder_spec_from_onnx(onnx.load(decoder_path), model.latent_dim,
                                          model.image_shape, HEADS[model.decoder_output])
            blob = pack(spec)
            z = np.random.default_rng(0).standard_normal((args.n, model.latent_dim))
            page = median_p95(node_ms(node, folder, blob, z))
            server = median_p95(onnxruntime_ms(decoder_path, z.astype(np.float32)))
            print(f"{name:<12} {import_s:>8.2f} {len(blob) / 1024:>8.1f} {len(spec.layers):>6}  "
                  f"{page[0]:>9.2f} / {page[1]:<7.2f}  {server[0]:>14.3f} / {server[1]:<7.3f}")


if __name__ == "__main__":
    main()
