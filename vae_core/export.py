"""Export a run's latest checkpoint as a shippable model: weights, config and a model card.

The exported directory holds model.safetensors + config.json (no optimizer state), the run's
train.json, and MODEL_CARD.md with the figures and the command that reproduces the model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .checkpoint import check_replaceable, load_checkpoint, resolve_checkpoint_dir, save_checkpoint
from .data import load_dataset
from .latent import per_dimension_kl
from .model_kinds import NOT_FOR_AE, kind_name
from .run_files import RUN_CONFIG_FILE

ACTIVE_DIMENSION_NATS = 0.01  # a dimension whose average KL is below this is unused


def export_run(run_dir: Path, out_dir: Path, name: str | None = None) -> Path:
    """Copy the run's latest model into out_dir with a model card; returns out_dir."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    check_replaceable(out_dir)  # before the slow part: `export runs/x assets` fails at once
    checkpoint = load_checkpoint(resolve_checkpoint_dir(run_dir))
    metadata, kl = dict(checkpoint.metadata), None
    if checkpoint.model.is_variational:  # a plain autoencoder has no KL per dimension
        kl = per_dimension_kl(checkpoint.model, load_dataset(checkpoint.data_config).test_x)
        metadata["kl_per_dimension"] = [round(float(v), 4) for v in kl]
    # Half-precision weights halve what ships; loading casts them back to float32.
    checkpoint.model.half()
    save_checkpoint(out_dir, checkpoint.model, checkpoint.data_config, checkpoint.train_config,
                    metadata={**metadata, "weights_dtype": "float16"})
    checkpoint.model.float()
    shutil.copyfile(run_dir / RUN_CONFIG_FILE, out_dir / "train.json")
    card = model_card(name or out_dir.name, checkpoint, kl, out_dir)
    (out_dir / "MODEL_CARD.md").write_text(card)
    return out_dir


def model_card(name: str, checkpoint, kl, out_dir: Path) -> str:
    model, data, train = checkpoint.model_config, checkpoint.data_config, checkpoint.train_config
    meta, test = checkpoint.metadata, checkpoint.metadata.get("test", {})
    n_params = sum(p.numel() for p in checkpoint.model.parameters())
    log_px = test.get("log_px")
    log_px_text = (f"{-log_px:.2f} ± {test.get('log_px_stderr', 0):.2f} "
                   f"(IWAE, k={test.get('iw_samples')})") if log_px is not None else "not computed"
    rel = out_dir.as_posix()
    return f"""# Model card: {name}

A {kind_name(model)} trained by Latent Lab's own CLI on **{data.name}**.

| | |
|---|---|
| data | {data.name}, {meta.get('n_train', '?')} training / {test.get('n_images', '?')} test images, split seed {data.split_seed} |
| model | {model.arch}, hidden {list(model.hidden)}, latent {model.latent_dim}, likelihood {model.likelihood}, {n_params:,} parameters |
| training | {meta.get('epoch')} epochs, batch {train.batch_size}, Adam lr {train.lr}, beta {train.beta}, warm-up {train.warmup_epochs}, free bits {train.free_bits}, seed {train.seed} |
| training time | {meta.get('train_seconds', 0):.0f} s on {meta.get('device', '?')} |
{_figure_rows(checkpoint, kl, log_px_text)}

Reproduce (same code, CPU, seed fixed):

```
python -m vae_core train --config {rel}/train.json --out runs/{name}
python -m vae_core export runs/{name} {rel}
```
"""


def _figure_rows(checkpoint, kl, log_px_text: str) -> str:
    """The card's test figures: the -ELBO family for a VAE, reconstruction only for an AE."""
    test, latent_dim = checkpoint.metadata.get("test", {}), checkpoint.model_config.latent_dim
    recon = f"{test.get('recon', float('nan')):.2f}"
    if kl is None:
        return (f"| test reconstruction | {recon} nats/image (-log p(x|z) at each image's code) |\n"
                f"| -ELBO, KL, log p(x) | do not apply: {NOT_FOR_AE['kl']} |")
    active = int((kl > ACTIVE_DIMENSION_NATS).sum())
    return (f"| test -ELBO | {test.get('neg_elbo', float('nan')):.2f} nats/image (KL "
            f"{test.get('kl', float('nan')):.2f}, reconstruction {recon}) |\n"
            f"| test -log p(x) | {log_px_text} nats/image |\n"
            f"| active dimensions | {active} of {latent_dim} (average KL > "
            f"{ACTIVE_DIMENSION_NATS} nats) |")
