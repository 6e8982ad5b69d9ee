"""Numpy images -> sharp PIL images, PNG and GIF bytes (nearest-neighbour only), and the cached
decodes Explore's server path draws from them (when the page cannot decode the model)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from PIL import Image

from vae_core.distributions import Likelihood
from vae_core.hashed_samples import draw_samples
from vae_core.images import make_grid, to_pil
from vae_core.latent import decode_mean, traversal_latents

DISPLAY_PX = 224  # the main image's side: fits its column at 1280 px, so no browser rescale


def display_scale(height: int, target: int = DISPLAY_PX) -> int:
    """Integer upscale factor that brings an image of `height` rows close to `target` pixels."""
    return max(1, target // max(height, 1))


def samples_scale(height: int) -> int:
    """The samples' upscale: two tiles and their padding a row in half the main image's width."""
    return display_scale(height + 1, DISPLAY_PX // 2)


def to_image(image: np.ndarray, scale: int = 1) -> Image.Image:
    """One (C, H, W) float array in [0, 1] -> PIL 'L' or 'RGB', upscaled without blur."""
    return to_pil(torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)), scale)


def grid_image(images: np.ndarray, ncols: int, scale: int = 1) -> Image.Image:
    """(N, C, H, W) floats in [0, 1] -> one PIL image of tiles in rows of `ncols`."""
    tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    return make_grid(tensor, ncols=ncols, scale=scale)


def png_bytes(image: Image.Image) -> bytes:
    """Lossless PNG at zlib's fastest level: on Explore's upscaled images it encodes ~2.5x
    faster than the default level for ~30% more bytes, and every slider step encodes 2-3."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_data_uri(image: Image.Image) -> str:
    """A PNG as a data URI, the compact way to put a bitmap into a Plotly figure."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def encode_gif(frames: list[Image.Image], duration_ms: int = 250, loop: int = 0) -> bytes:
    """GIF bytes showing `frames` in order, each for `duration_ms`; loop=0 repeats forever.

    Frames should already be upscaled with nearest-neighbour: a GIF viewer scales smoothly.
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    buffer = io.BytesIO()
    first, *rest = frames
    # Pillow merges identical consecutive frames into one longer frame: the timing stays right.
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=duration_ms,
               loop=loop)
    return buffer.getvalue()


def side_by_side(images: list[Image.Image], gap: int = 4, fill: int = 128) -> Image.Image:
    """Images of equal height pasted left to right with grey gaps (one GIF frame of many)."""
    mode = "RGB" if any(image.mode == "RGB" for image in images) else "L"
    width = sum(image.width for image in images) + gap * (len(images) - 1)
    height = max(image.height for image in images)
    canvas = Image.new(mode, (width, height), fill if mode == "L" else (fill,) * 3)
    left = 0
    for image in images:
        canvas.paste(image.convert(mode), (left, 0))
        left += image.width + gap
    return canvas


@dataclass(frozen=True)
class DecoderView:
    """What Explore shows for one z, as PNG bytes (cheap to cache and to send)."""

    mean_png: bytes
    std_png: bytes | None  # None for a Bernoulli decoder: its std follows from the mean
    std_range: tuple[float, float]
    samples_png: bytes | None  # the samples x ~ p(x|z) in one grid: one image to send, not four
    width: int  # of the mean and std images: show them at exactly this many pixels


@torch.no_grad()
def _decode(model, z: tuple[float, ...]) -> Likelihood:
    device = next(model.parameters()).device
    return model.decode(torch.tensor([z], dtype=torch.float32, device=device))


@st.cache_data(max_entries=512, show_spinner=False)
def decoder_view(
    version: str, z: tuple[float, ...], n_samples: int, seed: int, _model, show_std: bool
) -> DecoderView:
    """Decode z with the model (identified by `version` for the cache): mean, std, samples.

    The samples come from vae_core.hashed_samples, so they are the ones the page draws for
    this z and seed; `n_samples` = 0 for a decoder that names no distribution.
    """
    likelihood = _decode(_model, z)
    mean, std = likelihood.mean[0].cpu().numpy(), likelihood.stddev[0].cpu().numpy()
    scale = display_scale(mean.shape[-2])
    std_png, low, high = None, float(std.min()), float(std.max())
    if show_std:  # stretched: low -> black, high -> white, as the caption says
        std_png = png_bytes(to_image((std - low) / max(high - low, 1e-8), scale))
    samples_png = None
    if n_samples:
        samples = draw_samples(likelihood, seed, n_samples)
        samples_png = png_bytes(grid_image(samples, ncols=2, scale=samples_scale(mean.shape[-2])))
    return DecoderView(png_bytes(to_image(mean, scale)), std_png, (low, high), samples_png,
                       mean.shape[-1] * scale)


@st.cache_data(max_entries=256, show_spinner=False)
def traversal_png(version: str, z: tuple[float, ...], dim: int, steps: int, _model) -> bytes:
    """Decoder means along z_dim = -3..3 (the other dims at z), one row of tiles as PNG."""
    values = np.linspace(-3.0, 3.0, steps, dtype=np.float32)
    images = decode_mean(_model, traversal_latents(np.asarray(z), dim, values))
    width = steps * (images.shape[-1] + 1) + 1
    return png_bytes(grid_image(images, ncols=steps, scale=max(1, 900 // width)))
