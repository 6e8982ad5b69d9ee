"""Streamlit-side glue: which models exist, loading them once per process, the shared sidebar.

Pages import from here and from vae_core; torch stays behind helpers that return arrays,
images and figures.
"""
