"""Encoders, decoders and the VAE that joins them."""

from .vae import VAE

__all__ = ["VAE"]
