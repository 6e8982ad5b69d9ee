"""Every page with imported models (examples/foreign_vaes.py through import-onnx): what applies
works, what does not says so, and no page raises."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from examples.foreign_vaes import export_onnx
from tests.conftest import (
    FOREIGN_IMPORTS,
    NO_DATA,
    checkpoint_uploader,
    open_app_page,
    upload_checkpoint,
)
from vae_core.model_import import import_onnx

PAGES = ["explore", "latent_map", "disentanglement", "sampling", "reconstruct", "ae_vs_vae",
         "train"]


@pytest.mark.parametrize("name", [*FOREIGN_IMPORTS, NO_DATA])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_an_imported_model(imported_env, name, page):
    at = open_app_page(page, f"asset:{name}")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _imported_files(folder) -> list[tuple[str, bytes, str]]:
    return [(name, (folder / name).read_bytes(), "application/octet-stream")
            for name in ("model.json", "encoder.onnx", "decoder.onnx")]


def test_an_uploaded_imported_model_becomes_the_active_model(imported_assets, app_env):
    at = upload_checkpoint(open_app_page("explore", "asset:mnist32"),
                           _imported_files(imported_assets / "residual"))
    assert not at.exception and not at.sidebar.error
    picker = at.sidebar.selectbox(key="model_picker")
    assert picker.value.startswith("upload:")
    assert "uploaded: residual · latent 8" in at.sidebar.success[0].value
    assert "**mnist5k** · onnx · latent 8 · bernoulli" in at.sidebar.markdown[0].value


def test_a_refused_graph_is_named_and_the_model_stays(imported_assets, app_env):
    files = _imported_files(imported_assets / "residual")
    files[2] = ("decoder.onnx", files[2][1][: len(files[2][1]) // 2], "application/octet-stream")
    at = upload_checkpoint(open_app_page("explore", "asset:mnist32"), files)
    assert not at.exception
    error = at.sidebar.error[0].value
    assert "decoder.onnx" in error and "cut short" in error and "/" not in error
    assert at.sidebar.selectbox(key="model_picker").value == "asset:mnist32"


def test_three_files_that_are_not_an_imported_model_are_explained(imported_assets, app_env):
    files = _imported_files(imported_assets / "residual")
    files[1] = ("weights.onnx", files[1][1], "application/octet-stream")
    at = upload_checkpoint(open_app_page("explore", "asset:mnist32"), files)
    assert "three files of an imported model" in at.sidebar.error[0].value


def test_models_in_latent_lab_models_folders_are_listed(imported_assets, app_env, tmp_path,
                                                         monkeypatch):
    shutil.copytree(imported_assets / "plain_ae", tmp_path / "mine" / "my-ae")
    shutil.copytree(imported_assets / "pythae", tmp_path / "single")
    monkeypatch.setenv("LATENT_LAB_MODELS", os.pathsep.join(
        [str(tmp_path / "mine"), str(tmp_path / "single"), str(tmp_path / "missing")]))
    at = open_app_page("explore", "asset:mnist32")
    picker = at.sidebar.selectbox(key="model_picker")
    assert "plain_ae (imported)" in picker.options and "pythae (imported)" in picker.options
    at = picker.set_value(f"models:{(tmp_path / 'mine' / 'my-ae').resolve()}").run()
    assert not at.exception and "plain autoencoder" in at.sidebar.markdown[0].value


def test_shared_mode_refuses_imported_uploads_unless_allowed(app_env, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    at = open_app_page("explore", "asset:mnist32")
    assert not at.sidebar.get("file_uploader")
    monkeypatch.setenv("LATENT_LAB_ALLOW", "checkpoint-upload")
    at = open_app_page("explore", "asset:mnist32")
    assert "encoder.onnx" in checkpoint_uploader(at).label


def test_a_mean_only_decoder_says_which_figures_do_not_apply(imported_env):
    at = open_app_page("reconstruct", "asset:pytorch_vae")
    assert any("names no likelihood p(x|z)" in c.value for c in at.caption)
    at = open_app_page("reconstruct", "asset:pythae")
    assert [m.label for m in at.metric][:2] == ["-ELBO (nats)", "KL(q(z|x) ‖ p(z))"]
    at = open_app_page("explore", "asset:plain_ae")
    assert any("No samples x ~ p(x|z)" in c.value for c in at.caption)


def test_explore_moves_a_large_latent_along_principal_directions(imported_env):
    at = open_app_page("explore", "asset:pytorch_vae")
    assert not at.exception
    assert any("principal directions" in c.value for c in at.caption)


class _GeluAutoencoder(torch.nn.Module):
    """A decoder with an op the page does not run (GELU exports as Erf)."""

    image_shape, latent_dim = (1, 28, 28), 4

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 4))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.GELU(),
                                           torch.nn.Linear(32, 784), torch.nn.Sigmoid(),
                                           torch.nn.Unflatten(1, (1, 28, 28)))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_an_op_the_page_cannot_run_is_named_and_the_server_decodes(app_env, tmp_path,
                                                                   monkeypatch):
    encoder, decoder = export_onnx(_GeluAutoencoder().eval(), tmp_path / "onnx")
    import_onnx(encoder, decoder, tmp_path / "models" / "gelu", input_range="0,1",
                decoder_output="mean")
    monkeypatch.setenv("LATENT_LAB_MODELS", str(tmp_path / "models"))
    at = open_app_page("explore", f"models:{(tmp_path / 'models' / 'gelu').resolve()}")
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "does not run in this page" in w.value]
    assert "'Erf'" in warning
    assert at.image  # the server's decoded mean stands in


class _ShapesVAE(torch.nn.Module):
    """A VAE for the 32x32 shapes set, written without vae_core."""

    image_shape, latent_dim = (1, 32, 32), 6

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(1024, 64),
                                           torch.nn.ReLU(), torch.nn.Linear(64, 12))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(6, 64), torch.nn.ReLU(),
                                           torch.nn.Linear(64, 1024),
                                           torch.nn.Unflatten(1, (1, 32, 32)))

    def encode(self, x):
        return self.encoder(x).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)


def test_an_imported_model_on_data_with_known_factors_is_scored(app_env, tmp_path,
                                                                 monkeypatch):
    encoder, decoder = export_onnx(_ShapesVAE().eval(), tmp_path / "onnx")
    folder = import_onnx(encoder, decoder, tmp_path / "models" / "shapes-vae", input_range="0,1",
                         decoder_output="logits", dataset="shapes", figure_images=20)
    monkeypatch.setenv("LATENT_LAB_MODELS", str(folder))
    at = open_app_page("disentanglement", f"models:{folder.resolve()}", timeout=300)
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["MIG", "DCI disentanglement"]
    assert labels[4] == "active units" and at.metric[4].value.endswith(" of 6")
