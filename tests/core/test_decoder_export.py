"""The decoder exported for the page: every decoder kind round-trips through pack/unpack and, run
by a small reference interpreter of the exported layer list, gives torch's own p(x|z)."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vae_core.checkpoint import load_checkpoint
from vae_core.config import ModelConfig
from vae_core.decoder_export import UnsupportedLayerError, export_decoder, pack, unpack
from vae_core.models import VAE
from vae_core.models.ops import RELU

from ..conftest import PROJECT_DIR

SHAPES = [(1, 28, 28), (3, 32, 32), (1, 7, 13), (3, 9, 9)]
ARCHS = [("mlp", (24,)), ("conv", (4, 8, 8))]
LIKELIHOODS = ["bernoulli", "gaussian", "gaussian_fixed"]


def _run_layers(spec, z: torch.Tensor) -> torch.Tensor:
    """Run the exported layer list with torch.functional: what the page must compute."""
    x, arrays = z, [torch.from_numpy(a) for a in spec.arrays]
    for layer in spec.layers:
        bias = arrays[layer["bias"]] if layer.get("bias") is not None else None
        if layer["op"] == "linear":
            x = F.linear(x, arrays[layer["weight"]], bias)
        elif layer["op"] == "relu":
            x = F.relu(x)
        elif layer["op"] == "reshape":
            x = x.reshape(-1, *layer["shape"])
        elif layer["op"] == "conv_transpose2d":
            (kh, kw), (sh, sw), (ph, pw) = layer["kernel"], layer["stride"], layer["padding"]
            h, w = x.shape[-2:]
            extra = [size - ((n - 1) * s - 2 * p + k) for size, n, s, p, k in
                     zip(layer["output_size"], (h, w), (sh, sw), (ph, pw), (kh, kw), strict=True)]
            x = F.conv_transpose2d(x, arrays[layer["weight"]], bias, (sh, sw), (ph, pw), extra)
        else:
            raise AssertionError(layer["op"])
    return x


def _head(spec, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    head, channels = spec.head, spec.image_shape[0]
    if head["kind"] == "bernoulli":
        mean = torch.sigmoid(raw)
        return mean, torch.sqrt(mean * (1 - mean))
    if head["kind"] == "gaussian_fixed":
        return torch.sigmoid(raw), torch.full_like(raw, head["std"])
    std_raw, loc_raw = raw[:, channels:], raw[:, :channels]
    mean = torch.sigmoid(loc_raw) if head["mean"] == "sigmoid" else loc_raw.clamp(0, 1)
    return mean, torch.exp(
        head["log_min_std"] + head["log_std_range"] * torch.sigmoid(std_raw))


def _assert_page_decode_matches(model: VAE, blob: bytes, atol: float = 1e-5) -> None:
    spec = unpack(blob)
    z = torch.randn(5, model.latent_dim, generator=torch.Generator().manual_seed(1))
    mean, std = _head(spec, _run_layers(spec, z))
    with torch.no_grad():
        expected = model.decode(z)
    torch.testing.assert_close(mean, expected.mean, atol=atol, rtol=0)
    torch.testing.assert_close(std, expected.stddev, atol=atol, rtol=0)


@pytest.mark.parametrize(("shape", "arch", "likelihood"),
                         list(itertools.product(SHAPES, ARCHS, LIKELIHOODS)))
def test_every_decoder_kind_round_trips(shape, arch, likelihood):
    name, hidden = arch
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=shape, arch=name, hidden=hidden, dense=16, latent_dim=3,
                            likelihood=likelihood)).eval()
    blob = pack(export_decoder(model))
    spec = unpack(blob)
    assert spec.image_shape == shape and spec.latent_dim == 3
    assert spec.head == model.likelihood_head.describe()
    assert sum(a.size for a in spec.arrays) == sum(p.numel() for p in model.decoder.parameters())
    _assert_page_decode_matches(model, blob)


def test_float32_weights_ship_as_float32_and_half_precision_ones_as_float16():
    model = VAE(ModelConfig(arch="mlp", hidden=(16,), latent_dim=2)).eval()
    full = pack(export_decoder(model))
    assert b'"dtype":"float32"' in full
    model.half().float()  # what the shipped assets hold: float16 values
    half = pack(export_decoder(model))
    assert b'"dtype":"float16"' in half and len(half) < 0.6 * len(full)
    _assert_page_decode_matches(model, half)


@pytest.mark.parametrize("name", ["mnist32", "mnist16-gaussian", "mnist2d", "shapes", "mnist-ae",
                                  "mnist-vae"])
def test_shipped_models_export_losslessly(name):
    model = load_checkpoint(PROJECT_DIR / "assets" / name).model.eval()
    blob = pack(export_decoder(model))
    assert b'"dtype":"float16"' in blob  # they ship half-precision weights
    _assert_page_decode_matches(model, blob, atol=1e-4)


def test_a_layer_the_page_cannot_run_is_an_error_naming_it():
    model = VAE(ModelConfig(arch="conv", hidden=(4, 8), dense=8, latent_dim=2)).eval()
    ops = model.decoder.ops()
    model.decoder.ops = lambda: [*ops[:2], nn.Tanh(), *ops[2:]]
    with pytest.raises(UnsupportedLayerError, match="Tanh"):
        export_decoder(model)
    model.decoder.ops = lambda: [*ops, RELU, nn.Upsample(scale_factor=2)]
    with pytest.raises(UnsupportedLayerError, match="Upsample"):
        export_decoder(model)


def test_a_malformed_blob_is_a_value_error():
    with pytest.raises(ValueError, match="malformed"):
        unpack(b"\x05\x00\x00\x00{bad}")
    blob = pack(export_decoder(VAE(ModelConfig(latent_dim=2))))
    with pytest.raises(ValueError, match="malformed"):
        unpack(blob[: len(blob) // 2])  # cut short: an array runs past the end
