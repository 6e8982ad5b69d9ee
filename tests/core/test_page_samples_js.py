"""ui/frontend/page_samples.js, run by Node, against vae_core.hashed_samples: the page draws the
server's samples x ~ p(x|z) for the same z and seed, given the parameters torch decodes, and
given those the page decodes itself (ui/frontend/decoder.js: its mean, std and unclamped loc)."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.decoder_export import export_decoder, pack
from vae_core.hashed_samples import draw_samples
from vae_core.models import VAE

from ..conftest import PROJECT_DIR

NODE = shutil.which("node")
SAMPLES_JS = PROJECT_DIR / "ui" / "frontend" / "page_samples.js"
DECODER_JS = PROJECT_DIR / "ui" / "frontend" / "decoder.js"
DECODE_AND_DRAW_JS = """
import { readFileSync } from "node:fs";
import { readDecoder, decode } from "%s";
import { drawSamples } from "%s";
const model = readDecoder(new Uint8Array(readFileSync(process.argv[2])));
const { zs, seed } = JSON.parse(readFileSync(process.argv[3], "utf8"));
const kind = model.header.head.kind === "bernoulli" ? "bernoulli" : "gaussian";
const out = zs.map((z) => {
  const { mean, std, loc } = decode(model, z);
  const distribution = { kind, probs: mean, loc: loc ?? mean, std };
  return drawSamples(distribution, seed, 4).map((sample) => Array.from(sample));
});
process.stdout.write(JSON.stringify(out));
"""
RUN_JS = """
import { readFileSync } from "node:fs";
import { drawSamples } from "%s";
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = cases.map(({ distribution, seed, n }) => {
  const typed = Object.fromEntries(Object.entries(distribution).map(
    ([name, v]) => [name, typeof v === "string" ? v : Float32Array.from(v)]));
  return drawSamples(typed, seed, n).map((sample) => Array.from(sample));
});
process.stdout.write(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")


def _decoded(likelihood: str, shape, z: torch.Tensor):
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=shape, arch="mlp", hidden=(24,), latent_dim=3,
                            likelihood=likelihood)).eval()
    with torch.no_grad():
        return model.decode(z)


def _page_parameters(decoded) -> dict:
    """What the page holds after its decode: probabilities, or an unclamped loc and a std."""
    if hasattr(decoded, "loc"):
        return {"kind": "gaussian", "loc": decoded.loc[0].flatten().tolist(),
                "std": decoded.stddev[0].flatten().tolist()}
    return {"kind": "bernoulli", "probs": decoded.mean[0].flatten().tolist()}


def _run_node(tmp_path, cases: list[dict]) -> list:
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "run.mjs").write_text(RUN_JS % SAMPLES_JS.as_uri())
    result = subprocess.run([NODE, tmp_path / "run.mjs", tmp_path / "cases.json"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_fixed"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 7, 13)])
def test_the_page_draws_the_servers_samples_for_the_same_z_and_seed(tmp_path, likelihood, shape):
    zs = torch.randn(3, 3, generator=torch.Generator().manual_seed(1)) * 3  # far out: loc < 0
    seeds = [0, 1, 4_000_000_000]
    decoded = [_decoded(likelihood, shape, z[None]) for z in zs]
    cases = [{"distribution": _page_parameters(d), "seed": s, "n": 4}
             for d, s in zip(decoded, seeds, strict=True)]
    page = _run_node(tmp_path, cases)
    for d, s, drawn in zip(decoded, seeds, page, strict=True):
        server = draw_samples(d, s, 4).reshape(4, -1)
        if likelihood == "bernoulli":
            np.testing.assert_array_equal(np.array(drawn), server)
        else:
            np.testing.assert_allclose(np.array(drawn), server, rtol=0, atol=1e-6)
        assert not np.array_equal(server[0], server[1])


def test_a_bad_seed_is_refused_in_the_page(tmp_path):
    case = {"distribution": {"kind": "bernoulli", "probs": [0.5]}, "seed": -1, "n": 1}
    with pytest.raises(subprocess.CalledProcessError) as failed:
        _run_node(tmp_path, [case])
    assert "bad seed -1" in failed.value.stderr


def _model(likelihood: str, shape) -> VAE:
    torch.manual_seed(0)
    return VAE(ModelConfig(image_shape=shape, arch="conv", hidden=(4, 8), dense=16, latent_dim=3,
                           likelihood=likelihood)).eval()


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_fixed"])
def test_samples_from_the_pages_own_decode_equal_the_servers(tmp_path, likelihood):
    model = _model(likelihood, (1, 28, 28))
    zs = torch.randn(3, 3, generator=torch.Generator().manual_seed(2)) * 3
    (tmp_path / "decoder.bin").write_bytes(pack(export_decoder(model)))
    (tmp_path / "z.json").write_text(json.dumps({"zs": zs.tolist(), "seed": 11}))
    (tmp_path / "run.mjs").write_text(DECODE_AND_DRAW_JS % (DECODER_JS.as_uri(),
                                                            SAMPLES_JS.as_uri()))
    result = subprocess.run([NODE, tmp_path / "run.mjs", tmp_path / "decoder.bin",
                             tmp_path / "z.json"], capture_output=True, text=True, check=True)
    page = np.array(json.loads(result.stdout))
    with torch.no_grad():
        server = np.stack([draw_samples(model.decode(z[None]), 11, 4).reshape(4, -1)
                           for z in zs])
    if likelihood == "bernoulli":  # a pixel flips only where u lies within the decoders'
        assert (page != server).mean() < 1e-3  # 1e-6 difference in p(x=1|z)
    else:
        assert np.abs(page - server).max() < 1e-4
        assert ((server > 0) & (server < 1)).any()
