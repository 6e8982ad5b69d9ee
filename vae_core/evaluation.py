"""Test-set figures in nats per image: -ELBO, its KL and reconstruction terms, and log p(x).

A plain autoencoder has only the reconstruction term; its other figures are None (see
vae_core.model_kinds for why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .models import VAE, LatentModel
from .objectives import TERMS, elbo_terms, iwae_log_px, loss_terms


@dataclass(frozen=True)
class Evaluation:
    neg_elbo: float | None  # None for a plain autoencoder, as is kl
    kl: float | None
    recon: float
    log_px: float | None  # importance-weighted estimate; None when not computed
    log_px_stderr: float | None
    iw_samples: int
    n_images: int
    kind: str = "vae"  # the model kind (ModelConfig.kind)

    def as_dict(self) -> dict:
        return asdict(self)


def _batches(x: torch.Tensor, batch_size: int):
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size]


@torch.no_grad()
def evaluate(
    model: LatentModel, x: torch.Tensor, iw_samples: int = 0, batch_size: int = 250, seed: int = 0
) -> Evaluation:
    """Average figures over the images x (N, C, H, W); iw_samples=0 skips log p(x) (an
    autoencoder always skips it: it has none).

    The ELBO terms use one posterior sample per image with a fixed seed, so repeated
    evaluations of one model agree exactly.
    """
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    sums: dict[str, float | None] = dict.fromkeys(TERMS, 0.0)
    iw_samples = iw_samples if model.is_variational else 0
    log_px = []
    for batch in _batches(x, batch_size):
        batch = batch.to(device)
        for key, value in loss_terms(model, batch, generator=generator).sums().items():
            sums[key] = None if value is None else sums[key] + value
        if iw_samples > 0:
            # ~5,000 decoded images per chunk keeps conv activations to ~100 MB.
            chunk = max(1, 5000 // batch.shape[0])
            log_px.append(iwae_log_px(model, batch, iw_samples, generator, chunk).cpu())
    n = x.shape[0]
    log_px_mean = log_px_err = None
    if log_px:
        values = torch.cat(log_px).double()
        log_px_mean = values.mean().item()
        log_px_err = (values.std() / n**0.5).item() if n > 1 else 0.0
    means = {key: None if value is None else value / n for key, value in sums.items()}
    return Evaluation(**means, log_px=log_px_mean, log_px_stderr=log_px_err,
                      iw_samples=iw_samples, n_images=n, kind=model.config.kind)


@torch.no_grad()
def per_image_neg_elbo(model: VAE, x: torch.Tensor, batch_size: int = 250,
                       seed: int = 0) -> torch.Tensor:
    """-ELBO of each image in x (N, C, H, W), nats, (N,): one posterior sample each, seeded."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.cat([elbo_terms(model, batch.to(device), generator=generator).neg_elbo.cpu()
                      for batch in _batches(x, batch_size)])
