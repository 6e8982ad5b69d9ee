#!/usr/bin/env bash
# Set up (first time only) and serve the app on its shipped default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${LATENT_LAB_VENV:-.venv}/bin/streamlit" run app.py "$@"
