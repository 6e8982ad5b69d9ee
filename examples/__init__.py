"""Models written outside vae_core, as users bring them (`python -m vae_core import-torch`)."""
