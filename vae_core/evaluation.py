"""Test-set figures: -ELBO, its KL and reconstruction terms, and log p(x).

Images are evaluated as the data their likelihood models (vae_core.discretization): one fixed
binarized copy for Bernoulli models, one fixed dequantized 8-bit copy (with the 256-level
correction) for Gaussian ones. Every figure is nats per image of that discrete data; bits/dim
divides by the number of pixel values and ln 2. A plain autoencoder has only the
reconstruction term; its other figures are None (vae_core.model_kinds says why).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .discretization import bits_per_dim, data_kind, evaluation_copy, offset_nats
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
    data: str = "binarized"  # binarized | dequantized 8-bit: what the figures are of
    n_dims: int = 0  # pixel values per image (C x H x W), for bits/dim
    kind: str = "vae"  # the model kind (ModelConfig.kind)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def objective(self) -> float:
        """What the model kind minimises, nats per image: the -ELBO, or an autoencoder's
        reconstruction term (early stopping and the best checkpoint follow it)."""
        return objective_of(self.as_dict())

    @property
    def neg_elbo_bits_per_dim(self) -> float | None:
        return None if self.neg_elbo is None else bits_per_dim(self.neg_elbo, self.n_dims)

    @property
    def recon_bits_per_dim(self) -> float:
        return bits_per_dim(self.recon, self.n_dims)

    @property
    def neg_log_px_bits_per_dim(self) -> float | None:
        return None if self.log_px is None else bits_per_dim(-self.log_px, self.n_dims)


def objective_of(figures: dict) -> float:
    """Evaluation.objective from its as_dict() (as saved in a checkpoint's metadata)."""
    return figures["recon"] if figures.get("neg_elbo") is None else figures["neg_elbo"]


# Pixel values decoded at once for log p(x): 5,000 28 x 28 digits, ~100 MB of conv
# activations; larger images get proportionally fewer samples per chunk.
IWAE_DECODED_VALUES = 5000 * 28 * 28


def _batches(x: torch.Tensor, batch_size: int):
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size]


@torch.no_grad()
def evaluate(
    model: LatentModel, x: torch.Tensor, iw_samples: int = 0, batch_size: int = 250, seed: int = 0
) -> Evaluation:
    """Average figures over the images x (N, C, H, W) in [0, 1]; iw_samples=0 skips log p(x)
    (an autoencoder always skips it: it has none).

    x is discretized with a fixed seed first, and the ELBO terms use one posterior sample per
    image with a fixed seed, so repeated evaluations of one model agree exactly.
    """
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    likelihood = model.config.likelihood
    offset = offset_nats(likelihood, x[0].numel())
    sums: dict[str, float | None] = dict.fromkeys(TERMS, 0.0)
    iw_samples = iw_samples if model.is_variational else 0
    log_px = []
    for batch in _batches(evaluation_copy(x, likelihood), batch_size):
        batch = batch.to(device)
        for key, value in loss_terms(model, batch, generator=generator).sums().items():
            sums[key] = None if value is None else sums[key] + value
        if iw_samples > 0:
            chunk = max(1, IWAE_DECODED_VALUES // batch.numel())
            log_px.append(iwae_log_px(model, batch, iw_samples, generator, chunk).cpu())
    n = x.shape[0]
    log_px_mean = log_px_err = None
    if log_px:
        values = torch.cat(log_px).double() - offset
        log_px_mean = values.mean().item()
        log_px_err = (values.std() / n**0.5).item() if n > 1 else 0.0
    offsets = {"neg_elbo": offset, "kl": 0.0, "recon": offset}
    means = {k: None if v is None else v / n + offsets[k] for k, v in sums.items()}
    return Evaluation(**means, log_px=log_px_mean, log_px_stderr=log_px_err,
                      iw_samples=iw_samples, n_images=n, data=data_kind(likelihood),
                      n_dims=x[0].numel(), kind=model.config.kind)


@torch.no_grad()
def per_image_neg_elbo(model: VAE, x: torch.Tensor, batch_size: int = 250,
                       seed: int = 0) -> torch.Tensor:
    """-ELBO of each image in x (N, C, H, W), nats, (N,): one posterior sample each, seeded,
    on the same discretized copy `evaluate` uses."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    likelihood = model.config.likelihood
    data = evaluation_copy(x, likelihood)
    values = torch.cat([elbo_terms(model, batch.to(device), generator=generator).neg_elbo.cpu()
                        for batch in _batches(data, batch_size)])
    return values + offset_nats(likelihood, x[0].numel())
