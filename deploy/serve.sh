#!/usr/bin/env bash
# Serves Latent Lab from two Streamlit processes behind haproxy (deploy/haproxy.cfg): each
# browser stays on one process (a cookie), both share one runs folder, so a run started through
# one is listed, followed and cancelled through the other. One machine (see docs/deployment.md).
#   LATENT_LAB_BIND     where visitors connect (default 0.0.0.0:8501)
#   LATENT_LAB_PORT_A/B the processes' ports on 127.0.0.1 (default 8502, 8503)
#   LATENT_LAB_RUNS     the shared runs folder (default runs/); LATENT_LAB_MODE etc. as usual
# Stops everything when any of the three stops, or on Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${LATENT_LAB_VENV:-.venv}/bin/python"
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 1; }
[ -x "$python" ] || { echo "$python is missing: run bash scripts/setup.sh first" >&2; exit 1; }
export LATENT_LAB_RUNS="${LATENT_LAB_RUNS:-$PWD/runs}"
# One cookie secret for both, so a cookie one process signed (XSRF) is valid at the other.
STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-$("$python" -c 'import secrets; print(secrets.token_hex(32))')}"
export STREAMLIT_SERVER_COOKIE_SECRET
export LATENT_LAB_BIND="${LATENT_LAB_BIND:-0.0.0.0:8501}"
export LATENT_LAB_PROCESS_A="127.0.0.1:${LATENT_LAB_PORT_A:-8502}"
export LATENT_LAB_PROCESS_B="127.0.0.1:${LATENT_LAB_PORT_B:-8503}"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
trap 'exit 143' INT TERM
for address in "$LATENT_LAB_PROCESS_A" "$LATENT_LAB_PROCESS_B"; do
  "$python" -m streamlit run app.py --server.address 127.0.0.1 --server.port "${address##*:}" \
    --server.headless true &
  pids+=($!)
done
# The proxy opens once both answer: a process still starting would fail its first health checks,
# and new visitors would all go to the other until it was marked up again.
"$python" -c '
import sys, time, urllib.request
for address in sys.argv[1:]:
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/_stcore/health", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"{address} did not answer within 300 s")
            time.sleep(0.5)
' "$LATENT_LAB_PROCESS_A" "$LATENT_LAB_PROCESS_B"
haproxy -db -f deploy/haproxy.cfg &
pids+=($!)
wait -n
