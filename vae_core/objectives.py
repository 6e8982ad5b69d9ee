"""The training objectives and log p(x) estimates.

A VAE minimises the -ELBO (with beta, KL warm-up, free bits), or with objective "beta_tcvae" the
-ELBO plus (beta - 1) times the total correlation of the aggregate posterior (Chen et al. 2018:
beta weighs only the part of the KL that ties latent dimensions together); a plain autoencoder
minimises the reconstruction term alone, -log p(x|z) at its one code z. All figures are nats per
image: per-example sums over pixels and latent dimensions, averaged over the batch once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .config import TrainConfig
from .distributions import DiagonalGaussian, standard_normal_log_prob
from .models import VAE, LatentModel

TERMS = ("neg_elbo", "kl", "recon")


@dataclass(frozen=True)
class ElboTerms:
    """Per-example terms, (B,) each. loss is what is minimised; neg_elbo is the true -ELBO.

    A plain autoencoder has no KL and no ELBO: those are None, and loss is recon.
    """

    loss: torch.Tensor
    neg_elbo: torch.Tensor | None
    kl: torch.Tensor | None
    recon: torch.Tensor  # -E_q[log p(x|z)], one-sample estimate (the AE: at its code)

    def sums(self) -> dict[str, float | None]:
        """Each term summed over the batch (None where it does not apply), for bookkeeping."""
        return {name: None if getattr(self, name) is None
                else getattr(self, name).detach().sum().item() for name in TERMS}


def kl_weight(beta: float, warmup_epochs: int, epoch_progress: float) -> float:
    """beta, ramped linearly from 0 over the first `warmup_epochs`; epoch_progress starts at 0."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, epoch_progress / warmup_epochs)


def penalty_weights(train: TrainConfig, epoch_progress: float) -> tuple[float, float]:
    """(weight of the KL, weight of the total correlation) at this point of training.

    "elbo": beta * KL. "beta_tcvae": KL + (beta - 1) * TC, which is index-code mutual
    information + beta * TC + dimension-wise KL; the warm-up ramps both from 0."""
    if train.objective == "beta_tcvae":
        ramp = kl_weight(1.0, train.warmup_epochs, epoch_progress)
        return ramp, ramp * (train.beta - 1.0)
    return kl_weight(train.beta, train.warmup_epochs, epoch_progress), 0.0


def total_correlation(posterior: DiagonalGaussian, z: torch.Tensor) -> torch.Tensor:
    """Minibatch-weighted-sampling estimate of TC = KL(q(z) || prod_d q(z_d)) at each sample,
    (B,) nats, with the batch standing in for the data set (Chen et al. 2018, section 4.1):
    log q(z_i) ~= logsumexp_j log q(z_i | x_j) - log B, and likewise per dimension. Biased
    for small batches; its gradient is what training needs."""
    pairwise = posterior.pairwise_log_density(z)  # (B, B, D)
    log_batch = math.log(z.shape[0])
    log_qz = torch.logsumexp(pairwise.sum(dim=2), dim=1) - log_batch
    log_qz_dims = (torch.logsumexp(pairwise, dim=1) - log_batch).sum(dim=1)
    return log_qz - log_qz_dims


def loss_terms(
    model: LatentModel, x: torch.Tensor, kl_scale: float = 1.0, free_bits: float = 0.0,
    generator: torch.Generator | None = None, tc_scale: float = 0.0,
) -> ElboTerms:
    """The terms the model kind trains on: elbo_terms for a VAE, reconstruction_terms for an
    autoencoder (which has no KL, so kl_scale, free_bits and tc_scale do not apply to it)."""
    if model.is_variational:
        return elbo_terms(model, x, kl_scale, free_bits, generator, tc_scale)
    return reconstruction_terms(model, x)


def reconstruction_terms(model: LatentModel, x: torch.Tensor) -> ElboTerms:
    """A plain autoencoder's loss: -log p(x|z) at z = its code for x, nats per image (B,)."""
    _code, _z, likelihood = model(x)
    recon = -likelihood.log_prob(x)
    return ElboTerms(loss=recon, neg_elbo=None, kl=None, recon=recon)


def elbo_terms(
    model: VAE, x: torch.Tensor, kl_scale: float = 1.0, free_bits: float = 0.0,
    generator: torch.Generator | None = None, tc_scale: float = 0.0,
) -> ElboTerms:
    """One reparameterized sample per example.

    free_bits: each latent dimension's batch-mean KL below this many nats is not penalised
    (Kingma et al. 2016), which keeps dimensions from collapsing to the prior early on.
    tc_scale: the weight of the total correlation added to the loss (beta-TCVAE); the -ELBO
    reported is the true one either way.
    """
    posterior, z, likelihood = model(x, generator)
    recon = -likelihood.log_prob(x)  # (B,)
    kl_per_dim = posterior.kl_per_dim()  # (B, D)
    kl = kl_per_dim.sum(dim=1)
    if free_bits > 0:
        clamped = torch.clamp(kl_per_dim.mean(dim=0), min=free_bits)  # (D,)
        kl_penalty = clamped.sum().expand_as(kl)  # a batch-level term, broadcast per example
    else:
        kl_penalty = kl
    loss = recon + kl_scale * kl_penalty
    if tc_scale != 0:
        loss = loss + tc_scale * total_correlation(posterior, z)
    return ElboTerms(loss=loss, neg_elbo=recon + kl, kl=kl, recon=recon)


def iwae_log_px(
    model: VAE, x: torch.Tensor, k: int, generator: torch.Generator | None = None,
    chunk: int = 100,
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x), (B,) nats (Burda et al. 2016).

    log p(x) ~= logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k, z_i ~ q(z|x).
    It is a lower bound that tightens to log p(x) as k grows; k = 1 gives the ELBO.
    Samples are drawn `chunk` at a time so memory stays flat in k.
    """
    posterior = model.encode(x)
    log_weights = []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        z = posterior.rsample_n(n, generator)  # (n, B, D)
        flat_z = z.reshape(-1, z.shape[-1])  # (n * B, D)
        x_rep = x.unsqueeze(0).expand(n, *x.shape).reshape(-1, *x.shape[1:])
        log_px_z = model.decode(flat_z).log_prob(x_rep).view(n, -1)  # (n, B)
        log_weights.append(log_px_z + standard_normal_log_prob(z) - posterior.log_prob(z))
    return torch.logsumexp(torch.cat(log_weights, dim=0), dim=0) - math.log(k)
