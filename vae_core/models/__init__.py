"""Encoders, decoders and the two model kinds that join them (VAE, plain autoencoder)."""

from .vae import VAE, Autoencoder, LatentModel, build_model

__all__ = ["VAE", "Autoencoder", "LatentModel", "build_model"]
