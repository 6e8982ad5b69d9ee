"""Samples x ~ p(x|z) from a counter-based generator that the browser reproduces exactly.

torch's generator cannot be rerun in JavaScript, so Explore's samples come from a hash instead:
each pixel's uniforms are a function of (seed, sample index, pixel index) alone, the same in
numpy here and in ui/frontend/page_samples.js. A z and a seed then give the same images on the
server and in the page, and the first k samples do not depend on how many are drawn.

Per value (pixel p of sample i, flat over C, H, W):
    bits(c) = mix(mix(mix(seed) + i) + c)       uint32, wrapping; mix is lowbias32
    u1, u2  = (bits(2p) + 0.5) / 2**32, (bits(2p + 1) + 0.5) / 2**32     in (0, 1)
    Bernoulli: x = 1 if u1 < p(x=1|z) else 0
    Gaussian:  x = clip(loc + std * sqrt(-2 ln u1) cos(2 pi u2), 0, 1)   (Box-Muller)
The arithmetic is float64 on both sides; Gaussian draws agree to float32 rounding (1 ulp),
Bernoulli draws exactly, given the same parameters.
"""

from __future__ import annotations

import numpy as np
import torch

from .distributions import BernoulliLikelihood, GaussianLikelihood, Likelihood

MAX_SEED = 2**32 - 1
_TWO_32 = float(2**32)


def mix(x: np.ndarray) -> np.ndarray:
    """lowbias32 (C. Wellons' integer hash prospector): a bijection on uint32 that scrambles
    every input bit into every output bit."""
    x = np.asarray(x, dtype=np.uint32)
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def _sample_key(seed: int, sample: int) -> np.ndarray:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"a sample seed is an integer from 0 to {MAX_SEED}, not {seed}")
    return mix(mix(np.array([seed], dtype=np.uint32)) + np.uint32(sample))


def uniform_pairs(seed: int, sample: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(u1, u2): two float64 uniforms in (0, 1) per value, `count` values, for one sample."""
    counters = np.arange(2 * count, dtype=np.uint32)
    bits = mix(_sample_key(seed, sample) + counters).astype(np.float64)
    u = (bits + 0.5) / _TWO_32
    return u[0::2], u[1::2]


def bernoulli_draws(probs: np.ndarray, seed: int, n: int) -> np.ndarray:
    """n binary images drawn from per-pixel probabilities (C, H, W): (n, C, H, W) float32."""
    flat = np.asarray(probs, dtype=np.float32).reshape(-1).astype(np.float64)
    draws = [uniform_pairs(seed, i, flat.size)[0] < flat for i in range(n)]
    return np.stack(draws).astype(np.float32).reshape(n, *np.shape(probs))


def gaussian_draws(loc: np.ndarray, std: np.ndarray, seed: int, n: int) -> np.ndarray:
    """n images drawn from N(loc, std^2) per pixel, clipped to [0, 1]: (n, C, H, W) float32."""
    loc64 = np.asarray(loc, dtype=np.float32).reshape(-1).astype(np.float64)
    std64 = np.broadcast_to(np.asarray(std, dtype=np.float32), np.shape(loc)).reshape(-1)
    draws = []
    for i in range(n):
        u1, u2 = uniform_pairs(seed, i, loc64.size)
        normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        draws.append(np.clip(loc64 + std64.astype(np.float64) * normal, 0.0, 1.0))
    return np.stack(draws).astype(np.float32).reshape(n, *np.shape(loc))


def draw_samples(likelihood: Likelihood, seed: int, n: int) -> np.ndarray:
    """n samples of p(x|z) for the first z of a decoded batch: (n, C, H, W) float32.

    Raises ValueError for a decoder that names no distribution (a mean image has no samples).
    """
    if isinstance(likelihood, BernoulliLikelihood):
        return bernoulli_draws(_first(likelihood.mean), seed, n)
    if isinstance(likelihood, GaussianLikelihood):
        return gaussian_draws(_first(likelihood.loc), _first(likelihood.stddev), seed, n)
    raise ValueError("this decoder gives a mean image only: there is no p(x|z) to sample")


def _first(values: torch.Tensor) -> np.ndarray:
    return values[0].detach().cpu().numpy()
