"""Imported models (vae_core.imported, vae_core.model_import): VAEs written as popular repositories
write them (examples/foreign_vaes.py), through ONNX, decode and encode as the originals do; wrong
options and mismatched files are refused with a message that names the option or the file."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch

from examples.foreign_vaes import build, export_onnx
from tests.conftest import FOREIGN_IMPORTS, import_foreign
from vae_core.cli import main
from vae_core.distributions import BernoulliLikelihood, DiagonalGaussian, MeanImage, PointCode
from vae_core.imported import CARD_FILE, ModelImportError, load_imported, load_imported_bytes
from vae_core.model_import import import_onnx, import_torch


def _expected_image(name: str, raw: torch.Tensor) -> torch.Tensor:
    """The original model's decoder output as an image in [0, 1]."""
    output = FOREIGN_IMPORTS[name]["decoder_output"]
    if output == "logits":
        return torch.sigmoid(raw)
    return (raw + 1) / 2 if output == "tanh" else raw


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("imported")
    return {name: load_imported(import_foreign(name, root, dataset=False))
            for name in FOREIGN_IMPORTS}


@pytest.mark.parametrize("name", list(FOREIGN_IMPORTS))
def test_an_imported_model_decodes_and_encodes_as_the_original(imported, name):
    original, model = build(name), imported[name].model
    z = torch.randn(5, original.latent_dim, generator=torch.Generator().manual_seed(1))
    x = torch.rand(3, *original.image_shape, generator=torch.Generator().manual_seed(2))
    low, high = model.config.input_range
    latent_shape = getattr(original, "latent_shape", (original.latent_dim,))
    with torch.no_grad():
        expected_image = _expected_image(name, original.decode(z.view(-1, *latent_shape)))
        expected_code = original.encode(x * (high - low) + low)
    likelihood = model.decode(z)
    assert torch.allclose(likelihood.mean, expected_image.clamp(0, 1), atol=1e-5)
    posterior = model.encode(x)
    mean = expected_code[0] if isinstance(expected_code, (list, tuple)) else expected_code
    if model.config.encoder_output == "stacked":  # (mean, log-variance) on the second axis
        mean = mean[:, : mean.shape[1] // 2].flatten(1)
    assert torch.allclose(posterior.mean, mean, atol=1e-5)


def test_the_encoder_layout_and_decoder_output_choose_the_distributions(imported):
    kinds = {name: (type(files.model.encode(torch.zeros(1, *files.model.config.image_shape))),
                    type(files.model.decode(torch.zeros(1, files.model.latent_dim))))
             for name, files in imported.items()}
    assert kinds == {"pytorch_vae": (DiagonalGaussian, MeanImage),
                     "pythae": (DiagonalGaussian, BernoulliLikelihood),
                     "residual": (DiagonalGaussian, BernoulliLikelihood),
                     "plain_ae": (PointCode, MeanImage),
                     "spatial": (DiagonalGaussian, BernoulliLikelihood)}
    assert imported["pythae"].model_config.encoder_output == "stacked"
    assert imported["spatial"].model_config.latent_dim == 4 * 7 * 7
    assert imported["plain_ae"].model.is_variational is False


def test_probabilities_become_logits_that_give_them_back(imported):
    original, model = build("pythae"), imported["pythae"].model
    z = torch.randn(4, original.latent_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        probs = original.decode(z)
    x = torch.bernoulli(probs, generator=torch.Generator().manual_seed(4))
    expected = torch.distributions.Bernoulli(probs=probs.clamp(1e-6, 1 - 1e-6)).log_prob(x)
    assert torch.allclose(model.decode(z).log_prob(x), expected.flatten(1).sum(1), rtol=1e-4)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("exported")
    return {name: export_onnx(build(name), root / name) for name in FOREIGN_IMPORTS}


@pytest.mark.parametrize(("name", "options", "words"), [
    ("pytorch_vae", {"input_range": None, "decoder_output": "tanh"},
     "--input-range must be one of 0,1, -1,1"),
    ("pytorch_vae", {"input_range": "-1,1", "decoder_output": None},
     "--decoder-output must be one of"),
    ("residual", {"input_range": "0,1", "decoder_output": "probs"},
     "outside what --decoder-output=probs means"),
    ("pytorch_vae", {"input_range": "-1,1", "decoder_output": "tanh", "image_shape": (1, 64, 64)},
     "fix --image-shape"),
])
def test_a_wrong_or_missing_option_is_named(exported, tmp_path, name, options, words):
    encoder, decoder = exported[name]
    with pytest.raises(ModelImportError) as raised:
        import_onnx(encoder, decoder, tmp_path / "out", **options)
    assert words in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_an_encoder_and_a_decoder_of_different_models_are_refused(exported, tmp_path):
    with pytest.raises(ModelImportError, match="do not belong together"):
        import_onnx(exported["pythae"][0], exported["residual"][1], tmp_path / "out",
                    input_range="0,1", decoder_output="logits")


def test_a_data_set_of_another_shape_is_refused(exported, tmp_path):
    encoder, decoder = exported["pytorch_vae"]
    with pytest.raises(ModelImportError, match="mnist5k has 1 x 28 x 28 images; the encoder "
                                               "takes 3 x 64 x 64"):
        import_onnx(encoder, decoder, tmp_path / "out", input_range="-1,1",
                    decoder_output="tanh", dataset="mnist5k")


def test_the_card_records_figures_only_where_the_likelihood_allows(exported, tmp_path):
    options = {"input_range": "0,1", "dataset": "mnist5k", "figure_images": 20}
    bernoulli = import_onnx(*exported["residual"], tmp_path / "r", decoder_output="logits",
                            **options)
    mean_only = import_onnx(*exported["plain_ae"], tmp_path / "a", decoder_output="mean",
                            **options)
    card = json.loads((bernoulli / CARD_FILE).read_text())["metadata"]
    assert card["test"]["n_images"] == 20 and card["test"]["log_px"] < 0
    assert len(card["kl_per_dim"]) == 8 and len(card["posterior_mean_variance"]) == 8
    card = json.loads((mean_only / CARD_FILE).read_text())["metadata"]
    assert "test" not in card and "names no likelihood" in card["figures_not_applicable"]


def _files(folder):
    return [(folder / n).read_bytes() for n in (CARD_FILE, "encoder.onnx", "decoder.onnx")]


def test_a_card_that_contradicts_its_graphs_is_refused(imported):
    folder = imported["residual"].path
    card, encoder, decoder = _files(folder)
    document = json.loads(card)
    document["latent_dim"] = 9
    with pytest.raises(ModelImportError, match="says a latent of 9"):
        load_imported_bytes(json.dumps(document).encode(), encoder, decoder)
    with pytest.raises(ModelImportError, match=r"model\.json is not valid JSON"):
        load_imported_bytes(b"{", encoder, decoder)
    with pytest.raises(ModelImportError, match=r"model\.json: metadata\.test must be"):
        load_imported_bytes(json.dumps({**document, "latent_dim": 8,
                                        "metadata": {"test": "x"}}).encode(), encoder, decoder)
    with pytest.raises(ModelImportError, match='"decoder_output" must be one of'):
        load_imported_bytes(json.dumps({**document, "latent_dim": 8,
                                        "decoder_output": "x"}).encode(), encoder, decoder)


def test_an_uploaded_card_never_names_a_data_path_the_server_reads(imported):
    card, encoder, decoder = _files(imported["residual"].path)
    document = json.loads(card)
    document["data"] = {"name": "images", "path": "/etc"}
    upload = load_imported_bytes(json.dumps(document).encode(), encoder, decoder)
    assert upload.trusted is False and upload.example_data() is None


USER_CODE = '''
import torch
from torch import nn


class MyVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(64, 6)
        self.dec = nn.Linear(3, 64)

    def encode(self, x):
        mu, log_var = self.enc(x.flatten(1)).chunk(2, dim=1)
        return mu, log_var

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 8, 8)


def make():
    torch.manual_seed(0)
    return MyVAE()
'''


def test_import_torch_exports_a_users_own_module(tmp_path):
    (tmp_path / "my_vae.py").write_text(textwrap.dedent(USER_CODE))
    out = import_torch(f"{tmp_path / 'my_vae.py'}:make", tmp_path / "mine", input_range="0,1",
                       decoder_output="probs", image_shape=(1, 8, 8), dataset="digits")
    files = load_imported(out)
    assert files.model_config.latent_dim == 3 and files.data_config.name == "digits"
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = torch.sigmoid(_user_decoder(tmp_path)(z))
    assert torch.allclose(files.model.decode(z).mean.flatten(1), expected, atol=1e-5)


def _user_decoder(folder):
    import importlib.util

    spec = importlib.util.spec_from_file_location("user_vae_for_test", folder / "my_vae.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make().dec


def test_the_cli_imports_and_reports_errors_in_words(exported, tmp_path, capsys):
    encoder, decoder = exported["residual"]
    assert main(["import-onnx", str(encoder), str(decoder), "--out", str(tmp_path / "m"),
                 "--input-range=0,1", "--decoder-output", "logits", "--name", "mine"]) == 0
    assert json.loads((tmp_path / "m" / CARD_FILE).read_text())["name"] == "mine"
    assert main(["import-onnx", str(encoder), str(decoder), "--out", str(tmp_path / "n"),
                 "--decoder-output", "logits"]) == 2
    error = capsys.readouterr().err
    assert "--input-range must be one of" in error and "Traceback" not in error
    assert main(["import-torch", "nothing.py:make", "--out", str(tmp_path / "t"),
                 "--input-range=0,1", "--decoder-output", "probs"]) == 2
    assert "--image-shape C H W is needed" in capsys.readouterr().err


def test_a_graph_with_a_fixed_batch_of_one_runs_any_batch(tmp_path):
    original = build("plain_ae")
    folder = tmp_path / "onnx"
    folder.mkdir()
    for method, example, file_name in (("encode", torch.zeros(1, 1, 28, 28), "encoder.onnx"),
                                       ("decode", torch.zeros(1, 12), "decoder.onnx")):
        module = _Bound(original, method)
        torch.onnx.export(module, (example,), str(folder / file_name), dynamo=False,
                          opset_version=17)
    out = import_onnx(folder / "encoder.onnx", folder / "decoder.onnx", tmp_path / "m",
                      input_range="0,1", decoder_output="mean")
    model = load_imported(out).model
    z = torch.randn(3, 12, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = original.decode(z)
    assert torch.allclose(model.decode(z).mean, expected, atol=1e-5)
    assert np.isfinite(model.encode(torch.rand(3, 1, 28, 28)).mean.numpy()).all()


class _Bound(torch.nn.Module):
    def __init__(self, model, method):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        return getattr(self.model, self.method)(x)


def test_onnxruntime_messages_lose_the_source_paths_of_its_build():
    from vae_core.imported import _first_line

    error = RuntimeError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : "
                         "/onnxruntime_src/onnxruntime/core/providers/cpu/nn/conv.cc:42 Bad z")
    assert _first_line(error) == "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : conv.cc:42 Bad z"


def test_import_torch_takes_a_spatial_latent_stacked_on_channels(tmp_path):
    from examples.foreign_vaes import build
    from vae_core.model_import import import_module

    original = build("spatial")
    out = import_module(original, tmp_path / "spatial", input_range="0,1",
                        decoder_output="probs", image_shape=(1, 28, 28))
    model = load_imported(out).model
    assert (model.latent_dim, model.config.encoder_output) == (196, "stacked")
    z = torch.randn(2, 196, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = original.decode(z.view(2, 4, 7, 7))
    assert torch.allclose(model.decode(z).mean, expected, atol=1e-5)
