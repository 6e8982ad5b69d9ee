"""Imported ONNX decoders in the page: vae_core.onnx_decoder translates each foreign VAE's
decoder.onnx, ui/frontend/decoder.js runs it in Node, and its images equal onnxruntime's."""

import json
import shutil
import subprocess

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper
from torch import nn

from examples.foreign_vaes import FOREIGN_VAES, build, export_onnx
from vae_core.decoder_export import UnsupportedLayerError, pack, unpack
from vae_core.onnx_decoder import decoder_spec_from_onnx, head_mean

from ..conftest import PROJECT_DIR

NODE = shutil.which("node")
RUN_JS = """
import { readFileSync } from "node:fs";
import { readDecoder, decode } from "%s";
const model = readDecoder(new Uint8Array(readFileSync(process.argv[2])));
const zs = JSON.parse(readFileSync(process.argv[3], "utf8"));
process.stdout.write(JSON.stringify(zs.map((z) => Array.from(decode(model, z).mean))));
"""
# How each repository's decoder output maps to an image in [0, 1].
HEADS = {"tanh": {"kind": "mean", "scale": 0.5, "offset": 0.5},
         "probs": {"kind": "mean", "scale": 1.0, "offset": 0.0},
         "mean": {"kind": "mean", "scale": 1.0, "offset": 0.0},
         "logits": {"kind": "bernoulli"}}

pytestmark = pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")


def _page_means(tmp_path, blob: bytes, z: np.ndarray) -> np.ndarray:
    (tmp_path / "decoder.bin").write_bytes(blob)
    (tmp_path / "z.json").write_text(json.dumps(z.tolist()))
    (tmp_path / "run.mjs").write_text(RUN_JS % (PROJECT_DIR / "ui/frontend/decoder.js").as_uri())
    result = subprocess.run([NODE, tmp_path / "run.mjs", tmp_path / "decoder.bin",
                             tmp_path / "z.json"], capture_output=True, text=True, check=True)
    return np.array(json.loads(result.stdout))


def _onnxruntime_means(model: onnx.ModelProto, z: np.ndarray, head: dict,
                       batch: int | None = None) -> np.ndarray:
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    z_input = session.get_inputs()[0]
    z = z.reshape(len(z), *z_input.shape[1:])  # a spatial latent: (n, C, h, w)
    chunks = np.split(z, len(z) // batch) if batch else [z]
    raw = np.concatenate([session.run(None, {z_input.name: chunk})[0] for chunk in chunks])
    return head_mean(head, raw).reshape(len(z), -1)


def _latents(latent_dim: int, n: int = 20) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, latent_dim)).astype(np.float32)


def _assert_page_equals_onnxruntime(tmp_path, model: onnx.ModelProto, latent_dim: int,
                                    image_shape, head: dict, batch: int | None = None):
    spec = decoder_spec_from_onnx(model, latent_dim, image_shape, head)
    z = _latents(latent_dim)
    page = _page_means(tmp_path, pack(spec), z)
    expected = _onnxruntime_means(model, z, head, batch)
    assert page.shape == expected.shape
    # An untrained decoder's images can vary little with z: the error must be small beside that.
    spread = np.abs(expected - expected.mean(axis=0)).max()
    assert spread > 1e-4 and np.abs(page - expected).max() < min(1e-3, spread / 100)
    return spec


@pytest.fixture(scope="module")
def foreign_decoders(tmp_path_factory) -> dict:
    """name -> (the torch model, its decoder.onnx)."""
    models = {name: build(name) for name in FOREIGN_VAES}
    return {name: (model, onnx.load(export_onnx(model, tmp_path_factory.mktemp(name))[1]))
            for name, model in models.items()}


@pytest.mark.parametrize("name", list(FOREIGN_VAES))
def test_foreign_decoders_run_in_the_page_as_onnxruntime_runs_them(tmp_path, foreign_decoders,
                                                                   name):
    model, decoder = foreign_decoders[name]
    head = HEADS[model.decoder_output]
    spec = _assert_page_equals_onnxruntime(tmp_path, decoder, model.latent_dim,
                                           model.image_shape, head)
    assert unpack(pack(spec)).layers == spec.layers and spec.head == head
    ops = [layer["op"] for layer in spec.layers]
    assert "affine" not in ops  # every BatchNorm folded into its convolution
    if name == "residual":  # each block's add reads the block's input and its last conv
        adds = [layer for layer in spec.layers if layer["op"] == "add"]
        assert [len(layer["inputs"]) for layer in adds] == [2, 2]


class _BatchNormPlaces(nn.Module):
    """BatchNorm after a Linear and a ConvTranspose (foldable) and after a ReLU (not)."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(4, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Unflatten(1, (2, 4, 4)),
            nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
            nn.BatchNorm2d(3), nn.Sigmoid())

    def forward(self, z):
        return self.layers(z)


class _MoreOps(nn.Module):
    """Ops the foreign VAEs do not use: MatMul + bias, Elu, bilinear upsampling, a strided Conv,
    LeakyReLU(0.2), Softplus, and arithmetic with constants."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 32) * 0.5)
        self.bias = nn.Parameter(torch.randn(32) * 0.1)
        self.down = nn.Conv2d(2, 3, 3, stride=2, padding=1)
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, z):
        h = F.elu(torch.matmul(z, self.weight) + self.bias, alpha=0.7)
        h = h.unsqueeze(1).reshape(z.shape[0], 2, 4, 4)
        h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        h = F.leaky_relu(self.down(h), 0.2) * 1.5 - 0.25
        h = F.interpolate(F.softplus(h) / 2, scale_factor=2, mode="nearest")
        return torch.tanh(self.conv(h) * torch.tensor([[[[1.0]], [[-2.0]]]]) + 0.1)


def _export(module: nn.Module, path, latent_dim: int, dynamic: bool = True) -> onnx.ModelProto:
    torch.manual_seed(0)
    for layer in module.modules():
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 1.5)
            layer.weight.data.uniform_(0.5, 1.5)
            layer.bias.data.uniform_(-0.5, 0.5)
    torch.onnx.export(module.eval(), (torch.zeros(2, latent_dim),), str(path), dynamo=False,
                      opset_version=17, input_names=["z"],
                      dynamic_axes={"z": {0: "batch"}} if dynamic else None)
    return onnx.load(path)


def test_batch_norm_is_folded_after_linear_and_conv_transpose_and_kept_after_relu(tmp_path):
    torch.manual_seed(0)
    decoder = _export(_BatchNormPlaces(), tmp_path / "decoder.onnx", 4)
    spec = _assert_page_equals_onnxruntime(tmp_path, decoder, 4, (3, 8, 8), HEADS["probs"])
    assert [layer["op"] for layer in spec.layers] == [
        "linear", "relu", "reshape", "conv_transpose2d", "relu", "affine", "sigmoid"]


def test_more_ops_and_a_batch_fixed_at_export(tmp_path):
    torch.manual_seed(0)
    decoder = _export(_MoreOps(), tmp_path / "decoder.onnx", 4, dynamic=False)
    assert decoder.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    spec = _assert_page_equals_onnxruntime(tmp_path, decoder, 4, (2, 8, 8), HEADS["tanh"],
                                           batch=2)
    ops = [layer["op"] for layer in spec.layers]
    assert {"elu", "resize_bilinear", "conv2d", "leaky_relu", "softplus", "resize_nearest",
            "affine", "tanh"} <= set(ops)


def _with_float16_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every float initializer stored as float16 and cast to float where it is read."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph, casts = model.graph, []
    for initializer in graph.initializer:
        if initializer.data_type == onnx.TensorProto.FLOAT:
            half = numpy_helper.to_array(initializer).astype(np.float16)
            initializer.CopyFrom(numpy_helper.from_array(half, initializer.name + "_half"))
            casts.append(helper.make_node("Cast", [initializer.name], [initializer.name[:-5]],
                                          to=onnx.TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def test_float16_weights_decode_as_onnxruntime_decodes_them(tmp_path, foreign_decoders):
    model, decoder = foreign_decoders["pythae"]
    half = _with_float16_weights(decoder)
    assert {i.data_type for i in half.graph.initializer} >= {onnx.TensorProto.FLOAT16}
    _assert_page_equals_onnxruntime(tmp_path, half, model.latent_dim, model.image_shape,
                                    HEADS["probs"])


def _tiny_graph(op: onnx.NodeProto) -> onnx.ModelProto:
    """z (1, 4) -> Gemm -> `op` (reads "h", writes "out") -> (1, 4): a 1x2x2 image."""
    weight = numpy_helper.from_array(np.eye(4, dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["z", "w"], ["h"], name="fc"), op], "decoder",
        [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, None)], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)])


@pytest.mark.parametrize(("op", "message"), [
    (helper.make_node("Erf", ["h"], ["out"], name="gelu_part"),
     "the page cannot run the ONNX op 'Erf' (node 'gelu_part')"),
    (helper.make_node("Gelu", ["h"], ["out"], name="fused", domain="com.microsoft"),
     "the page cannot run the ONNX op 'Gelu' (node 'fused'): domain com.microsoft"),
    (helper.make_node("Mul", ["h", "h"], ["out"], name="square"),
     "the page cannot run the ONNX op 'Mul' (node 'square'): of two computed values")])
def test_an_op_the_page_cannot_run_is_refused_by_name(op, message):
    with pytest.raises(UnsupportedLayerError) as refusal:
        decoder_spec_from_onnx(_tiny_graph(op), 4, (1, 2, 2), HEADS["probs"])
    assert str(refusal.value).startswith(message)


def test_a_native_swish_is_silu(tmp_path):
    model = _tiny_graph(helper.make_node("Swish", ["h"], ["out"]))
    model.opset_import[0].version = 24
    spec = decoder_spec_from_onnx(model, 4, (1, 2, 2), HEADS["mean"])
    assert [layer["op"] for layer in spec.layers] == ["linear", "silu"]
    z = _latents(4)
    page = _page_means(tmp_path, pack(spec), z)
    np.testing.assert_allclose(page, np.clip(z / (1 + np.exp(-z)), 0, 1), atol=1e-6)


def test_a_decoder_that_does_not_fit_the_card_is_a_value_error(foreign_decoders):
    model, decoder = foreign_decoders["plain_ae"]
    with pytest.raises(ValueError, match="input should be float"):
        decoder_spec_from_onnx(decoder, model.latent_dim + 1, model.image_shape, HEADS["mean"])
    with pytest.raises(ValueError, match="not \\(batch, \\(3, 28, 28\\)\\) images"):
        decoder_spec_from_onnx(decoder, model.latent_dim, (3, 28, 28), HEADS["mean"])
    with pytest.raises(ValueError, match="bernoulli or mean"):
        decoder_spec_from_onnx(decoder, model.latent_dim, model.image_shape,
                               {"kind": "gaussian"})
