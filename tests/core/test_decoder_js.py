"""ui/frontend/decoder.js, run by Node, against torch for every decoder kind (MLP and conv,
Bernoulli and both Gaussians, grey and RGB, odd sizes), with each kernel: WebAssembly SIMD and
plain JavaScript. The browser tests check shipped models in Chromium; this checks the JavaScript
itself in a second, without a browser."""

import hashlib
import itertools
import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.decoder_export import export_decoder, pack
from vae_core.models import VAE

from ..conftest import PROJECT_DIR

NODE = shutil.which("node")
DECODER_JS = PROJECT_DIR / "ui" / "frontend" / "decoder.js"
RUN_JS = """
import { readFileSync } from "node:fs";
import { readDecoder, decode } from "%s";
const bytes = new Uint8Array(readFileSync(process.argv[2]));
const model = readDecoder(bytes, { kernel: process.argv[4] });
const zs = JSON.parse(readFileSync(process.argv[3], "utf8"));
const out = zs.map((z) => {
  const { mean, std } = decode(model, z);
  return { mean: Array.from(mean), std: std && Array.from(std) };
});
process.stdout.write(JSON.stringify({ kernel: model.kernel, out }));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")


@pytest.mark.parametrize("kernel", ["wasm-simd", "js"])
@pytest.mark.parametrize(("shape", "arch", "likelihood"), list(itertools.product(
    [(1, 28, 28), (3, 21, 21), (1, 7, 13)], ["mlp", "conv"],
    ["bernoulli", "gaussian", "gaussian/sigmoid", "gaussian_fixed"])))
def test_javascript_decode_equals_torch(tmp_path, shape, arch, likelihood, kernel):
    torch.manual_seed(0)
    likelihood, _, mean = likelihood.partition("/")
    model = VAE(ModelConfig(image_shape=shape, arch=arch, hidden=(24,) if arch == "mlp" else (4, 8),
                            dense=16, latent_dim=3, likelihood=likelihood,
                            gaussian_mean=mean or "identity")).eval()
    (tmp_path / "decoder.bin").write_bytes(pack(export_decoder(model)))
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(1)) * 2
    (tmp_path / "z.json").write_text(json.dumps(z.tolist()))
    (tmp_path / "run.mjs").write_text(RUN_JS % DECODER_JS.as_uri())
    result = subprocess.run([NODE, tmp_path / "run.mjs", tmp_path / "decoder.bin",
                             tmp_path / "z.json", kernel],
                            capture_output=True, text=True, check=True)
    answer = json.loads(result.stdout)
    assert answer["kernel"] == kernel  # Node 20 has WebAssembly SIMD
    out = answer["out"]
    with torch.no_grad():
        expected = model.decode(z)
    mean = np.array([o["mean"] for o in out])
    assert np.abs(mean - expected.mean.flatten(1).numpy()).max() < 1e-5
    if likelihood != "bernoulli":
        std = np.array([o["std"] for o in out])
        assert np.abs(std - expected.stddev.flatten(1).numpy()).max() < 1e-5


QUEUE_JS = """
import { DecodeQueue } from "%s";
const queue = new DecodeQueue();
const drain = (now) => {
  const jobs = [];
  for (let job = queue.next(now); job; job = queue.next(now)) {
    jobs.push(`${job.kind}:${job.id ?? job.tag}`);
  }
  return jobs;
};
const out = {};
queue.preview([{ z: [0], tag: "a" }, { z: [1], tag: "b" }]);
queue.show([0.1], 1, 0);
queue.show([0.2], 2, 0);
out.dragging = drain(10);
out.waitMs = queue.waitMs(10);
queue.show([0.3], 3, 50);
out.stillDragging = drain(120);
out.paused = drain(160);
queue.preview([{ z: [0], tag: "d" }, { z: [1], tag: "e" }]);
queue.preview([{ z: [2], tag: "f" }]);
out.replaced = drain(5000);
process.stdout.write(JSON.stringify(out));
"""


def test_the_decode_queue_puts_the_newest_dragged_z_first_and_tiles_after(tmp_path):
    """ui/frontend/decode_queue.js, the order the worker (and the main-thread fallback) decode in:
    only the newest z of the dragged image; preview tiles once the drag pauses (100 ms without a
    new z); a new list of tiles replaces the old."""
    (tmp_path / "queue.mjs").write_text(
        QUEUE_JS % (PROJECT_DIR / "ui" / "frontend" / "decode_queue.js").as_uri())
    result = subprocess.run([NODE, tmp_path / "queue.mjs"], capture_output=True, text=True,
                            check=True)
    out = json.loads(result.stdout)
    assert out["dragging"] == ["shown:2"]  # the tiles wait: the drag may go on
    assert out["waitMs"] == 90  # until 100 ms after the last dragged z
    assert out["stillDragging"] == ["shown:3"]
    assert out["paused"] == ["tile:a", "tile:b"]
    assert out["replaced"] == ["tile:f"]


def test_the_committed_wasm_was_built_from_the_committed_source():
    # CI has no wat2wasm: scripts/build_wasm.sh records the source's hash beside the binary.
    frontend = PROJECT_DIR / "ui" / "frontend"
    recorded = (frontend / "gemv_wasm.js").read_text().splitlines()[1]
    source = hashlib.sha256((frontend / "gemv.wat").read_bytes()).hexdigest()
    assert recorded == f"// gemv.wat sha256 {source}", "gemv.wat changed: run scripts/build_wasm.sh"
