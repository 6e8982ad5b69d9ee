"""ui/frontend/decoder.js, run by Node, against torch for every decoder kind (MLP and conv,
Bernoulli and both Gaussians, grey and RGB, odd sizes). The browser tests check shipped models in
Chromium; this checks the JavaScript itself in a second, without a browser."""

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
const model = readDecoder(new Uint8Array(readFileSync(process.argv[2])));
const zs = JSON.parse(readFileSync(process.argv[3], "utf8"));
const out = zs.map((z) => {
  const { mean, std } = decode(model, z);
  return { mean: Array.from(mean), std: std && Array.from(std) };
});
process.stdout.write(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")


@pytest.mark.parametrize(("shape", "arch", "likelihood"), list(itertools.product(
    [(1, 28, 28), (3, 21, 21), (1, 7, 13)], ["mlp", "conv"],
    ["bernoulli", "gaussian", "gaussian/sigmoid", "gaussian_fixed"])))
def test_javascript_decode_equals_torch(tmp_path, shape, arch, likelihood):
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
                             tmp_path / "z.json"], capture_output=True, text=True, check=True)
    out = json.loads(result.stdout)
    with torch.no_grad():
        expected = model.decode(z)
    mean = np.array([o["mean"] for o in out])
    assert np.abs(mean - expected.mean.flatten(1).numpy()).max() < 1e-5
    if likelihood != "bernoulli":
        std = np.array([o["std"] for o in out])
        assert np.abs(std - expected.stddev.flatten(1).numpy()).max() < 1e-5
