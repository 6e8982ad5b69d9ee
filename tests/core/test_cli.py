"""python -m vae_core train | eval | sample | reconstruct | export, driven through main()."""

import json

from PIL import Image

from vae_core.checkpoint import load_checkpoint
from vae_core.cli import main

TINY = ["--dataset", "digits", "--n-samples", "200", "--arch", "mlp", "--hidden", "16",
        "--latent-dim", "2", "--batch-size", "32", "--iw-samples", "5", "--quiet"]


def test_train_eval_sample_reconstruct_export(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(run), *TINY]) == 0
    assert load_checkpoint(run).metadata["epoch"] == 2
    capsys.readouterr()

    assert main(["eval", str(run), "--iw-samples", "20", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n_images"] == 40 and figures["log_px"] <= 0
    # The same weights, test set and seed as the trainer's last evaluation: the same -ELBO.
    assert figures["neg_elbo"] == load_checkpoint(run).metadata["test"]["neg_elbo"]
    assert -figures["log_px"] < figures["neg_elbo"] + 1.0  # IWAE is the tighter bound

    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "s.png"),
                 "--scale", "2"]) == 0
    side = (4 * (8 + 1) + 1) * 2  # 4x4 tiles of 8 px, 1 px padding, upscaled twice
    assert Image.open(tmp_path / "s.png").size == (side, side)
    assert main(["reconstruct", str(run), "--n", "8", "--out", str(tmp_path / "r.png")]) == 0
    grid = Image.open(tmp_path / "r.png")
    assert grid.size == ((8 * 9 + 1) * 3, (2 * 9 + 1) * 3)  # originals above reconstructions

    assert main(["export", str(run), str(tmp_path / "asset")]) == 0
    exported = load_checkpoint(tmp_path / "asset")
    assert exported.metadata["weights_dtype"] == "float16"
    assert len(exported.metadata["kl_per_dim"]) == 2
    assert "Reproduce" in (tmp_path / "asset" / "MODEL_CARD.md").read_text()
    assert main(["export", str(run), str(tmp_path / "asset")]) == 0  # re-export: ours, replaced

    capsys.readouterr()
    assert main(["export", str(run), str(tmp_path)]) == 2  # `export runs/x assets`
    assert "not a checkpoint this tool wrote" in capsys.readouterr().err
    assert (tmp_path / "asset" / "model.safetensors").is_file() and (run / "run.json").is_file()


def test_config_file_with_flag_override_and_resume(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"data": {"name": "digits", "n_samples": 200},
                                  "model": {"arch": "mlp", "hidden": [16], "latent_dim": 3},
                                  "train": {"epochs": 1, "batch_size": 32, "iw_samples": 5}}))
    run = tmp_path / "run"
    assert main(["train", "--config", str(config), "--latent-dim", "2", "--out", str(run),
                 "--quiet"]) == 0
    assert load_checkpoint(run).model_config.latent_dim == 2
    saved = json.loads((run / "run.json").read_text())
    saved["train"]["epochs"] = 2
    (run / "run.json").write_text(json.dumps(saved))
    assert main(["train", "--resume", "--out", str(run), "--quiet"]) == 0
    assert load_checkpoint(run).metadata["epoch"] == 2


def test_errors_are_one_line_messages_not_tracebacks(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    assert "holds no checkpoint" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "r"), "--dataset", "images"]) == 2
    assert "needs a path" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"latent_dim": 0}}')
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "r2")]) == 2
    assert "latent_dim" in capsys.readouterr().err


def test_train_an_autoencoder_and_say_what_does_not_apply(tmp_path, capsys):
    run = tmp_path / "ae"
    assert main(["train", "--model", "ae", "--epochs", "1", "--out", str(run), *TINY]) == 0
    checkpoint = load_checkpoint(run)
    assert checkpoint.model_config.kind == "ae" and not checkpoint.model.is_variational
    capsys.readouterr()

    assert main(["eval", str(run), "--iw-samples", "20", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["kind"] == "ae" and figures["recon"] > 0
    assert figures["neg_elbo"] is None and figures["kl"] is None and figures["log_px"] is None
    assert main(["eval", str(run)]) == 0
    text = capsys.readouterr().out
    for figure in ("-ELBO", "KL", "log p(x)"):
        assert f"{figure} does not apply" in text

    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert "has no prior" in capsys.readouterr().out
    assert main(["export", str(run), str(tmp_path / "asset")]) == 0
    card = (tmp_path / "asset" / "MODEL_CARD.md").read_text()
    assert "plain autoencoder (AE)" in card and "do not apply" in card
    assert "kl_per_dim" not in load_checkpoint(tmp_path / "asset").metadata


def test_train_a_beta_tcvae_and_say_so_on_its_card(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(run), "--objective", "beta_tcvae",
                 "--beta", "6", *TINY]) == 0
    assert load_checkpoint(run).train_config.objective == "beta_tcvae"
    assert main(["export", str(run), str(tmp_path / "asset")]) == 0
    card = (tmp_path / "asset" / "MODEL_CARD.md").read_text()
    assert "beta-TCVAE (beta weighs the total correlation), beta 6.0" in card
