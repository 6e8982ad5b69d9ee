"""One image through the VAE: model input, reconstruction, posterior, samples, -ELBO, log p(x).

Heavy results are cached by (model version, sha256 of the model input), so an upload and a test
image share one path, and a rerun with the same image costs nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image

from vae_core.data import preprocess_image
from vae_core.data.preprocess import open_image, to_mode
from vae_core.evaluation import evaluate
from vae_core.latent import (
    decode_distribution,
    decode_mean,
    encode_images,
    interpolate,
    sample_posterior,
)
from vae_core.model_kinds import names_likelihood

from .active_model import ActiveModel
from .render import display_scale, encode_gif, to_image

ELBO_SAMPLES = 64  # posterior draws averaged for one image's -ELBO: one draw is too noisy
IW_SAMPLES = 200
N_SAMPLES = 8
PREVIEW_PX = 280


@dataclass(frozen=True)
class Analysis:
    """One image x (C, H, W) under the model. Figures are nats for this image."""

    x: np.ndarray
    reconstruction: np.ndarray  # decoder mean at the posterior mean
    mu: np.ndarray  # (D,)
    sigma: np.ndarray  # (D,)
    posterior_draws: np.ndarray  # (N_SAMPLES, C, H, W) decoder means at z ~ q(z|x)
    likelihood_draws: np.ndarray  # (N_SAMPLES, C, H, W) x ~ p(x|z = mu)
    neg_elbo: float | None  # None for a plain autoencoder, as are kl and log_px
    kl: float | None
    recon: float | None  # -E_q[log p(x|z)] (an autoencoder: -log p(x|z) at its code); None
    # for a decoder that names no likelihood (vae_core.model_kinds.NO_LIKELIHOOD)
    log_px: float | None  # IWAE estimate with IW_SAMPLES samples


def digest(data: bytes | np.ndarray) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.tobytes()).hexdigest()


@st.cache_data(max_entries=32, show_spinner=False)
def _prepare(key: str, image_shape: tuple, style: str, _data: bytes) -> np.ndarray:
    return preprocess_image(_data, image_shape, style).numpy()


def prepare_upload(data: bytes, active: ActiveModel) -> np.ndarray:
    """Uploaded bytes -> the model's input (C, H, W); raises ImageInputError for bad files."""
    return _prepare(digest(data), active.image_shape, active.input_style, data)


def preview(data: bytes) -> Image.Image:
    """The upload as the person sent it, fitted into PREVIEW_PX (small images: sharp upscale)."""
    image = to_mode(open_image(data), "RGB")
    if max(image.size) >= PREVIEW_PX:
        return _full_width(image.resize(preview_size(*image.size), Image.Resampling.BICUBIC))
    scale = PREVIEW_PX // max(image.size)
    return _full_width(image.resize((image.width * scale, image.height * scale),
                                    Image.Resampling.NEAREST))


def preview_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled so the longer side is PREVIEW_PX, the other at least 1 px: a
    10000x3 strip would round to 280x0, which no image encoder writes."""
    ratio = PREVIEW_PX / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _full_width(image: Image.Image) -> Image.Image:
    """A narrow image centred on a transparent canvas PREVIEW_PX wide: the page shows the
    caption as wide as the image, and under a 1 px wide preview it was hidden."""
    if image.width >= PREVIEW_PX:
        return image
    canvas = Image.new("RGBA", (PREVIEW_PX, image.height))
    canvas.paste(image, ((PREVIEW_PX - image.width) // 2, 0))
    return canvas


def analyse(active: ActiveModel, x: np.ndarray, seed: int = 0) -> Analysis:
    """Everything the page shows about image x (C, H, W), cached per model and image."""
    return _analyse(active.version, digest(x), seed, active, x)


@st.cache_data(max_entries=32, show_spinner="Encoding and scoring the image...")
def _analyse(version: str, key: str, seed: int, _active: ActiveModel, _x: np.ndarray) -> Analysis:
    return compute_analysis(_active.model, _x, seed)


def compute_analysis(model, x: np.ndarray, seed: int = 0) -> Analysis:
    """The uncached computation behind analyse(): the same (model, x, seed) gives the same
    figures and draws."""
    posterior = encode_images(model, x[None])
    mu, sigma = posterior.mean[0], posterior.std[0]
    _, _, likelihood_draws = decode_distribution(model, mu, N_SAMPLES, seed)
    batch = torch.from_numpy(x)[None]
    if names_likelihood(model.config.likelihood):
        # Many copies of one image: the average of one-draw ELBOs is a many-draw ELBO.
        terms = evaluate(model, batch.repeat(ELBO_SAMPLES, 1, 1, 1), seed=seed)
        figures = dict(neg_elbo=terms.neg_elbo, kl=terms.kl, recon=terms.recon,
                       log_px=evaluate(model, batch, iw_samples=IW_SAMPLES, seed=seed).log_px)
    else:
        kl = model.encode(batch).kl().item() if model.is_variational else None
        figures = dict(neg_elbo=None, kl=kl, recon=None, log_px=None)
    return Analysis(
        x=x, reconstruction=decode_mean(model, mu[None])[0], mu=mu, sigma=sigma,
        posterior_draws=decode_mean(model, sample_posterior(model, x, N_SAMPLES, seed)),
        likelihood_draws=likelihood_draws, **figures,
    )


POSTERIOR_TITLE = "q(z|x): μ ± σ per latent dimension; grey band: the prior's ±1σ"


def posterior_figure(mu: np.ndarray, sigma: np.ndarray) -> go.Figure:
    """mu_j with +-sigma_j error bars per latent dimension, over the prior's +-1 band.

    The band is named in the title: a label inside it hid behind the bars."""
    dims = [f"z{j}" for j in range(mu.size)]
    fig = go.Figure(go.Bar(x=dims, y=mu, error_y=dict(type="data", array=sigma),
                           name="q(z|x): μ ± σ",
                           hovertemplate="%{x}: μ %{y:.2f} ± %{error_y.array:.2f}<extra></extra>"))
    fig.add_hrect(y0=-1, y1=1, fillcolor="grey", opacity=0.15, line_width=0)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), yaxis_title="z",
                      showlegend=False, title=dict(text=POSTERIOR_TITLE, font=dict(size=14)))
    return fig


def strip_layout(steps: int, height: int, width: int, strip_px: int, frame_px: int) -> tuple:
    """(frames per row, integer scale) for an interpolation strip: every frame is upscaled to
    about `frame_px` however many steps there are, and rows wrap within `strip_px`."""
    scale = display_scale(height, frame_px)
    per_row = max(1, min(steps, strip_px // ((width + 1) * scale)))  # make_grid: 1 px gaps
    return per_row, scale


@st.cache_data(max_entries=16, show_spinner=False)
def _path_images(version: str, key: str, mode: str, steps: int, _active: ActiveModel,
                 _z: np.ndarray) -> np.ndarray:
    return decode_mean(_active.model, interpolate(_z[0], _z[1], steps, mode))


def interpolation(active: ActiveModel, a: Analysis, b: Analysis, steps: int, mode: str):
    """Decoded means along the `mode` path between two posterior means: (steps, C, H, W)."""
    z = np.stack([a.mu, b.mu])
    return _path_images(active.version, digest(z), mode, steps, active, z)


def strip_gif(images: np.ndarray, scale: int) -> bytes:
    """An animated GIF along the strip and back again, each frame upscaled without blur."""
    frames = [to_image(image, scale) for image in images]
    return encode_gif(frames + frames[-2:0:-1], duration_ms=150)
