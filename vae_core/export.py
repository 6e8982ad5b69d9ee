"""Export a run's model as a shippable one: weights, config and a model card.

The model is the run's best by validation -ELBO (checkpoints/best) when it has one, else its
latest checkpoint.

The exported directory holds model.safetensors + config.json (no optimizer state), the run's
train.json, and MODEL_CARD.md with the figures and the command that reproduces the model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .active_units import ACTIVE_UNIT_VARIANCE, count_active, model_posterior_mean_variance
from .checkpoint import (
    best_checkpoint_dir,
    check_replaceable,
    load_checkpoint,
    resolve_checkpoint_dir,
    save_checkpoint,
)
from .data import load_dataset
from .discretization import EVALUATION_SEED, bits_per_dim
from .disentanglement_report import disentanglement_metadata, disentanglement_rows
from .evaluation import objective_of
from .latent import kl_per_dim
from .model_kinds import NOT_FOR_AE, kind_name
from .runs import RUN_CONFIG_FILE


def export_run(run_dir: Path, out_dir: Path, name: str | None = None) -> Path:
    """Copy the run's best (else latest) model into out_dir with a model card; returns out_dir."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    check_replaceable(out_dir)  # before the slow part: `export runs/x assets` fails at once
    checkpoint = load_checkpoint(best_checkpoint_dir(run_dir) or resolve_checkpoint_dir(run_dir))
    metadata = dict(checkpoint.metadata)
    if checkpoint.model.is_variational:  # a plain autoencoder has no KL, posterior or units
        metadata.update(_variational_metadata(checkpoint.model, checkpoint.data_config))
    # Half-precision weights halve what ships; loading casts them back to float32.
    checkpoint.model.half()
    save_checkpoint(out_dir, checkpoint.model, checkpoint.data_config, checkpoint.train_config,
                    metadata={**metadata, "weights_dtype": "float16"})
    checkpoint.model.float()
    shutil.copyfile(run_dir / RUN_CONFIG_FILE, out_dir / "train.json")
    card = model_card(name or out_dir.name, checkpoint, metadata, out_dir)
    (out_dir / "MODEL_CARD.md").write_text(card)
    return out_dir


def _variational_metadata(model, data_config) -> dict:
    """KL per dimension, posterior-mean variances and, for data with factors, the scores."""
    data = load_dataset(data_config)
    kl = kl_per_dim(model, data.test_x)
    return {"kl_per_dim": [round(float(v), 4) for v in kl],
            "posterior_mean_variance": model_posterior_mean_variance(model, data.test_x),
            **disentanglement_metadata(model, data)}


def model_card(name: str, checkpoint, meta: dict, out_dir: Path) -> str:
    model, data, train = checkpoint.model_config, checkpoint.data_config, checkpoint.train_config
    test = meta.get("test", {})
    n_params = sum(p.numel() for p in checkpoint.model.parameters())
    rel = out_dir.as_posix()
    return f"""# Model card: {name}

A {kind_name(model)} trained by Latent Lab's own CLI on **{data.name}**.

| | |
|---|---|
| data | {data.name}: {meta.get('n_train', '?')} training, {meta.get('n_validation', 0)} validation (held out of training), {test.get('n_images', '?')} test images, split seed {data.split_seed} |
| model | {model.arch}, hidden {list(model.hidden)}, latent {model.latent_dim}, likelihood {model.likelihood}, {n_params:,} parameters |
| training | {_training_text(meta, train, not model.is_variational)} |
| training time | {meta.get('train_seconds', 0):.0f} s on {meta.get('device', '?')} |
| test data | {_test_data_text(test)} |
{_figure_rows(meta, model.latent_dim, not model.is_variational)}
Reproduce (same code, CPU, seed fixed):

```
python -m vae_core train --config {rel}/train.json --out runs/{name}
python -m vae_core export runs/{name} {rel}
```
"""


def _figure_rows(meta: dict, latent_dim: int, autoencoder: bool) -> str:
    """The card's test figures, each row ending in a newline: the -ELBO family, active units
    and any disentanglement scores for a VAE; reconstruction only for an AE."""
    test = meta.get("test", {})
    if autoencoder:
        return (f"| test reconstruction | {figure_text(test.get('recon'), test)} (-log p(x|z) at "
                f"each image's code) |\n| -ELBO, KL, log p(x) | do not apply: "
                f"{NOT_FOR_AE['kl']} |\n")
    active = count_active(meta["posterior_mean_variance"])
    return (f"| test -ELBO | {figure_text(test.get('neg_elbo'), test)} (KL "
            f"{test.get('kl', float('nan')):.2f}, reconstruction "
            f"{test.get('recon', float('nan')):.2f}) |\n"
            f"| test -log p(x) | {_log_px_text(test)} |\n"
            f"| active units | {active} of {latent_dim} (variance of the posterior mean over the "
            f"test set > {ACTIVE_UNIT_VARIANCE}, Burda et al. 2016) |\n"
            + disentanglement_rows(meta.get("disentanglement")))


def figure_text(nats: float | None, test: dict) -> str:
    """'103.51 nats/image (0.190 bits/dim)': a figure with both of its units."""
    if nats is None:
        return "not computed"
    n_dims = test.get("n_dims") or 0
    bits = f" ({bits_per_dim(nats, n_dims):.3f} bits/dim)" if n_dims else ""
    return f"{nats:.2f} nats/image{bits}"


def _log_px_text(test: dict) -> str:
    log_px = test.get("log_px")
    if log_px is None:
        return "not computed"
    return (f"{figure_text(-log_px, test)}, ± {test.get('log_px_stderr', 0):.2f} nats "
            f"(IWAE, k={test.get('iw_samples')})")


def _test_data_text(test: dict) -> str:
    if test.get("data") == "dequantized 8-bit":
        return (f"8-bit pixels, uniformly dequantized (one draw, seed {EVALUATION_SEED}); "
                "figures include the 256-level correction, so they bound -log P of the 8-bit "
                "image")
    return f"binarized pixels (one Bernoulli draw per pixel, seed {EVALUATION_SEED})"


def _training_text(meta: dict, train, autoencoder: bool) -> str:
    validation = meta.get("validation")
    tcvae = train.objective == "beta_tcvae"
    objective = "beta-TCVAE (beta weighs the total correlation), " if tcvae else ""
    kl_terms = ("" if autoencoder else f"{objective}beta {train.beta}, "
                f"warm-up {train.warmup_epochs}, free bits {train.free_bits}, ")
    text = (f"{meta.get('epoch')} epochs, batch {train.batch_size}, Adam lr {train.lr}, "
            f"{kl_terms}seed {train.seed}")
    if validation:
        objective = "reconstruction" if autoencoder else "-ELBO"
        text += (f"; this is the epoch with the best validation {objective} "
                 f"({objective_of(validation):.2f} nats/image)")
        if train.patience:
            text += f", early stopping patience {train.patience}"
    return text
