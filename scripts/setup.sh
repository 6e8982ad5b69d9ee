#!/usr/bin/env bash
# Creates .venv (or $LATENT_LAB_VENV) and installs what the app needs; --dev adds the test tools
# and Debian's Chromium and haproxy for the tests. Re-running is quick: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LATENT_LAB_VENV:-.venv}"
requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamps="$venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-12)"
stamp="$stamps-$(basename $requirements .txt)"
# The dev install holds everything the app needs: after the tests, the app starts without pip.
if [ ! -f "$stamp" ] && [ ! -f "$stamps-requirements-dev" ]; then
  "$venv/bin/pip" install --quiet --upgrade pip
  # The CPU build first: a bare `torch` requirement could pull a multi-GB CUDA build.
  "$venv/bin/pip" install --quiet "torch==2.13.0" || "$venv/bin/pip" install --quiet "torch>=2.4,<2.14"
  "$venv/bin/pip" install --quiet -r "$requirements"
  touch "$stamp"
fi

if [ "${1:-}" = "--dev" ] && { [ ! -x /usr/bin/chromium ] || ! command -v haproxy >/dev/null; }; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium chromium-driver haproxy >/dev/null
fi
