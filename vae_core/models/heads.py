"""Likelihood heads: the decoder's raw outputs -> p(x|z). One definition for torch and the page.

`VAE.decode` calls a head; `describe()` gives the page (ui/frontend/decoder.js) the same head as
data: its kind and constants. The formulas, per pixel, with raw outputs split into C channels each:
- bernoulli: mean = sigmoid(raw)  (raw are logits)
- gaussian_fixed: mean = sigmoid(raw), std = fixed_std
- gaussian: loc = raw[:C] (or sigmoid(raw[:C]) for gaussian_mean='sigmoid'),
  std = exp(log_min_std + log_std_range * sigmoid(raw[C:]))
"""

from __future__ import annotations

import math

import torch

from ..config import ModelConfig
from ..distributions import BernoulliLikelihood, GaussianLikelihood, Likelihood


class BernoulliHead:
    n_params = 1  # raw outputs per pixel and channel

    def __call__(self, raw: torch.Tensor) -> Likelihood:
        return BernoulliLikelihood(raw)

    def describe(self) -> dict:
        return {"kind": "bernoulli"}


class FixedStdGaussianHead:
    n_params = 1

    def __init__(self, std: float) -> None:
        self.std = std

    def __call__(self, raw: torch.Tensor) -> Likelihood:
        return GaussianLikelihood(torch.sigmoid(raw), torch.full_like(raw, math.log(self.std)))

    def describe(self) -> dict:
        return {"kind": "gaussian_fixed", "std": self.std}


class LearnedStdGaussianHead:
    """A bounded std keeps the density finite on constant pixels (an all-black border)."""

    n_params = 2

    def __init__(self, min_std: float, max_std: float, mean: str = "identity") -> None:
        self.log_min_std = math.log(min_std)
        self.log_std_range = math.log(max_std) - self.log_min_std
        self.mean = mean

    def __call__(self, raw: torch.Tensor) -> Likelihood:
        loc_raw, std_raw = raw.chunk(2, dim=1)
        log_std = self.log_min_std + self.log_std_range * torch.sigmoid(std_raw)
        loc = torch.sigmoid(loc_raw) if self.mean == "sigmoid" else loc_raw
        return GaussianLikelihood(loc, log_std)

    def describe(self) -> dict:
        return {"kind": "gaussian", "log_min_std": self.log_min_std,
                "log_std_range": self.log_std_range, "mean": self.mean}


Head = BernoulliHead | FixedStdGaussianHead | LearnedStdGaussianHead


def likelihood_head(config: ModelConfig) -> Head:
    if config.likelihood == "bernoulli":
        return BernoulliHead()
    if config.likelihood == "gaussian_fixed":
        return FixedStdGaussianHead(config.fixed_std)
    return LearnedStdGaussianHead(config.min_std, config.max_std, config.gaussian_mean)
