"""Latent Lab's VAE library: models, objectives, data, training and checkpoints.

Imports no Streamlit; usable from a notebook, the CLI (`python -m vae_core`) or the app.
"""

from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from .distributions import BernoulliLikelihood, DiagonalGaussian, GaussianLikelihood
from .evaluation import Evaluation, evaluate
from .models import VAE
from .objectives import elbo_terms, iwae_log_px

__all__ = [
    "VAE", "BernoulliLikelihood", "Checkpoint", "CheckpointError", "ConfigError", "DataConfig",
    "DiagonalGaussian", "Evaluation", "GaussianLikelihood", "ModelConfig", "RunConfig",
    "TrainConfig", "elbo_terms", "evaluate", "iwae_log_px", "load_checkpoint", "save_checkpoint",
]
