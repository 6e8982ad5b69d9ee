"""The two model kinds in words: their names, and why a plain autoencoder lacks some figures.

One place for these sentences, so the CLI, the model card and every page say the same thing.
"""

from __future__ import annotations

from .config import ModelConfig

KIND_NAMES = {"vae": "VAE", "ae": "plain autoencoder (AE)"}

# What a plain autoencoder does not have, and why; keyed by the figure's field name.
NOT_FOR_AE = {
    "neg_elbo": "-ELBO does not apply to a plain autoencoder: it has no prior and no KL term, "
                "only a reconstruction loss",
    "kl": "KL does not apply to a plain autoencoder: its encoder gives one code per input, not "
          "a distribution, and there is no prior to compare it with",
    "log_px": "log p(x) does not apply to a plain autoencoder: without a prior p(z) it defines "
              "no distribution over images",
    "posterior_std": "a plain autoencoder has no posterior spread: each input has exactly one "
                     "code (sigma = 0), so z = mu + sigma * eps is just mu",
    "prior": "a plain autoencoder has no prior: z ~ N(0, I) is not where its codes are, so "
             "these decodes need not look like data",
}


# An imported decoder that gives only a mean image (vae_core.imported, --decoder-output mean or
# tanh) names no p(x|z): the figures built on its density do not exist.
NO_LIKELIHOOD = ("this model's decoder gives a mean image and names no likelihood p(x|z), so "
                 "-ELBO, reconstruction nats and log p(x) do not exist for it (import it with "
                 "--decoder-output probs or logits if its output is a Bernoulli's)")


# What an imported model's graphs cannot tell (vae_core.imported): the options of import-onnx.
INPUT_RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0)}  # the pixels the encoder expects
DECODER_OUTPUTS = {
    "probs": "Bernoulli probabilities in [0, 1] (a sigmoid at the end)",
    "logits": "Bernoulli logits (no sigmoid at the end)",
    "mean": "a mean image in [0, 1], no likelihood named",
    "tanh": "a mean image in [-1, 1] (a tanh at the end), no likelihood named",
}


def names_likelihood(likelihood: str) -> bool:
    """Whether a config's `likelihood` defines p(x|z): every vae_core model's does; an imported
    decoder that gives only a mean image does not (see NO_LIKELIHOOD)."""
    return likelihood != "mean_only"


def kind_name(config: ModelConfig) -> str:
    return KIND_NAMES[config.kind]

