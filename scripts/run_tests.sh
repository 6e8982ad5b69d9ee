#!/usr/bin/env bash
# Set up (first time only), lint, and run the whole test suite: unit, AppTest and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
venv="${LATENT_LAB_VENV:-.venv}"
"$venv/bin/ruff" check .
exec "$venv/bin/python" -m pytest "$@"
