#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite (unit, AppTest and browser tests),
# then the linter. Extra arguments go to pytest. Fails if either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev || exit 1
venv="${LATENT_LAB_VENV:-.venv}"
"$venv/bin/python" -m pytest "$@"
tests=$?
"$venv/bin/ruff" check .
lint=$?
[ "$tests" -eq 0 ] && [ "$lint" -eq 0 ]
