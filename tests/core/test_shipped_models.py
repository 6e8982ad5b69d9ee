"""Every shipped model in assets/ loads (float16 weights) and reproduces the figures its card
and config state, on the full test set the card names.

-ELBO: the same images and evaluation seed as the trainer's last evaluation; the one-sample
draws after the first batch differ (the trainer's k=1000 IWAE draws came from the same
generator) and the weights are float16-rounded, so it agrees within 3 stated standard errors
(the stderr is the spread over test images / sqrt(n), larger than this Monte Carlo noise;
measured with k = 10: |difference| 0.08 to 0.65 nats, against tolerances of 1.6 to 15 nats).
log p(x): with k = 10 instead of the card's 1000, to stay fast. The IWAE bound rises with k, so
the k = 10 figure must lie between the card's ELBO and its k = 1000 figure, each within 3
stated standard errors (measured: 0.5 to 15 nats below the k = 1000 figures). About 30-50 s
for the four models on one thread, most of it the k = 10 importance samples.

A plain autoencoder (mnist-ae) has only its reconstruction term, at each image's one code on
the same fixed binarized test copy: no draw is involved, so only the float16 rounding of the
weights separates it from the card (measured: 0.0006 nats), and RECON_TOLERANCE is tight.

Models on generated data with known factors (shapes, shapes3d and the beta sweep in
assets/shapes-sweep/) also store disentanglement scores: the float16 model's MIG and active
units must reproduce them, and the disentanglement table in docs/disentanglement.md must state
them.
"""

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import PROJECT_DIR
from vae_core.active_units import active_units, count_active
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.data.generated import GENERATORS
from vae_core.discretization import bits_per_dim
from vae_core.disentanglement import mutual_information_gap
from vae_core.disentanglement_report import factor_matrix
from vae_core.evaluation import evaluate
from vae_core.imported import load_imported
from vae_core.latent import encode_images

ASSETS_DIR = PROJECT_DIR / "assets"
ASSETS = sorted(p.parent for p in [*ASSETS_DIR.glob("*/config.json"),
                                   *ASSETS_DIR.glob("shapes-sweep/*/config.json")])
SCORED = [p for p in ASSETS
          if json.loads((p / "config.json").read_text())["data"]["name"] in GENERATORS]
K = 10
RECON_TOLERANCE = 0.05  # nats/image: an AE's figure is deterministic up to float16 weights


def _name(asset: Path) -> str:
    return asset.relative_to(ASSETS_DIR).as_posix()


def test_the_shipped_models_are_there():
    assert [_name(p) for p in ASSETS] == [
        "mnist-ae", "mnist-vae", "mnist16-gaussian", "mnist2d", "mnist32", "shapes",
        "shapes-sweep/beta-1", "shapes-sweep/beta-2", "shapes-sweep/beta-4", "shapes-sweep/beta-8",
        "shapes3d"]


def test_the_ae_vs_vae_pair_differs_only_in_kind():
    ae, vae = (load_checkpoint(PROJECT_DIR / "assets" / name) for name in ("mnist-ae", "mnist-vae"))
    assert (ae.model_config.kind, vae.model_config.kind) == ("ae", "vae")
    assert dataclasses.replace(ae.model_config, kind="vae") == vae.model_config
    assert ae.data_config == vae.data_config
    assert ae.train_config == vae.train_config


def test_the_ae_vs_vae_pair_is_small():
    for name in ("mnist-ae", "mnist-vae"):
        folder = PROJECT_DIR / "assets" / name
        assert sum(f.stat().st_size for f in folder.iterdir()) < 1_800_000, name  # bytes


def _card_states(asset: Path, stated: dict) -> None:
    card = (asset / "MODEL_CARD.md").read_text()
    if stated.get("kind") == "ae":
        assert (f"test reconstruction | {stated['recon']:.2f} nats/image "
                f"({bits_per_dim(stated['recon'], stated['n_dims']):.3f} bits/dim)") in card
        assert "-ELBO, KL, log p(x) | do not apply" in card
        return
    assert f"test -ELBO | {stated['neg_elbo']:.2f} nats/image" in card
    assert (f"test -log p(x) | {-stated['log_px']:.2f} nats/image "
            f"({bits_per_dim(-stated['log_px'], stated['n_dims']):.3f} bits/dim), "
            f"± {stated['log_px_stderr']:.2f} nats (IWAE, k={stated['iw_samples']})") in card
    kind = "binarized" if stated["data"] == "binarized" else "dequantized"
    assert f"| test data | {kind}" in card.replace("8-bit pixels, uniformly dequantized",
                                                    "dequantized")


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("asset", ASSETS, ids=_name)
def test_a_shipped_model_reproduces_its_card(asset, one_thread):
    stored = load_file(asset / "model.safetensors")
    assert {tensor.dtype for tensor in stored.values()} == {torch.float16}
    checkpoint = load_checkpoint(asset)
    assert checkpoint.metadata["weights_dtype"] == "float16"
    stated = checkpoint.metadata["test"]
    _card_states(asset, stated)
    data = load_dataset(checkpoint.data_config)
    assert data.test_x.shape[0] == stated["n_images"]  # the card's figures are on this set

    found = evaluate(checkpoint.model, data.test_x, iw_samples=K, seed=checkpoint.train_config.seed)
    if stated.get("kind") == "ae":
        assert (found.neg_elbo, found.kl, found.log_px) == (None, None, None)
        assert found.recon == pytest.approx(stated["recon"], abs=RECON_TOLERANCE)
        return
    tolerance = 3 * stated["log_px_stderr"]
    assert found.neg_elbo == pytest.approx(stated["neg_elbo"], abs=tolerance)
    assert found.kl == pytest.approx(stated["kl"], abs=tolerance)
    assert -stated["neg_elbo"] - tolerance <= found.log_px <= stated["log_px"] + tolerance


@pytest.mark.parametrize("asset", SCORED, ids=_name)
def test_a_shipped_model_reproduces_its_disentanglement_scores(asset, one_thread):
    checkpoint = load_checkpoint(asset)
    stated = checkpoint.metadata["disentanglement"]
    assert f"| MIG | {stated['mig']:.3f} " in (asset / "MODEL_CARD.md").read_text()
    data = load_dataset(checkpoint.data_config)
    _, factors = factor_matrix(data)
    codes = encode_images(checkpoint.model, data.test_x).mean.astype("float64")
    assert len(codes) == stated["n_images"]
    # Scored before the float16 rounding: a code can cross a histogram bin edge, no more.
    assert mutual_information_gap(codes, factors).score == pytest.approx(stated["mig"], abs=0.02)
    assert active_units(codes) == stated["active_units"]

    train, latent_dim = checkpoint.train_config, checkpoint.model_config.latent_dim
    row = (f"| `{_name(asset)}` | {train.beta:g} | {train.epochs} | {stated['mig']:.3f} | "
           f"{stated['dci_disentanglement']:.3f} | {stated['dci_completeness']:.3f} | "
           f"{stated['dci_informativeness']:.3f} | {stated['active_units']} of {latent_dim} |")
    assert row in (PROJECT_DIR / "docs" / "disentanglement.md").read_text()


VARIATIONAL = [p for p in ASSETS if p.name != "mnist-ae"]


def test_every_shipped_vae_records_its_active_units():
    """The sidebar's 'active units' needs the recorded variances; one card once lacked them."""
    for asset in VARIATIONAL:
        metadata = load_checkpoint(asset).metadata
        assert len(metadata.get("posterior_mean_variance", [])) == len(
            metadata["kl_per_dim"]), _name(asset)


@pytest.mark.parametrize("asset", [p for p in VARIATIONAL if p not in SCORED], ids=_name)
def test_a_shipped_vae_reproduces_its_active_units(asset, one_thread):
    checkpoint = load_checkpoint(asset)
    codes = encode_images(checkpoint.model, load_dataset(checkpoint.data_config).test_x).mean
    recorded = checkpoint.metadata["posterior_mean_variance"]
    assert active_units(codes.astype("float64")) == count_active(recorded)


IMPORTED = sorted(p.parent for p in ASSETS_DIR.glob("*/model.json"))


def test_the_shipped_imported_models_are_there():
    assert [_name(p) for p in IMPORTED] == ["pythae-mnist"]


@pytest.mark.parametrize("asset", IMPORTED, ids=_name)
def test_an_imported_model_reproduces_its_card(asset):
    """The card's figures were computed at import by onnxruntime with the evaluation's seeds:
    the same graphs on the same images give them again (up to onnxruntime's kernels)."""
    files = load_imported(asset)
    test = files.metadata["test"]
    x = load_dataset(files.data_config).test_x[: test["n_images"]]
    result = evaluate(files.model, x, iw_samples=test["iw_samples"])
    assert result.neg_elbo == pytest.approx(test["neg_elbo"], abs=0.05)
    assert result.log_px == pytest.approx(test["log_px"], abs=0.05)
