#!/usr/bin/env bash
# Build abm, create a workspace with the demo world, and serve it.
#   scripts/demo.sh [WORKSPACE] [ADDR]     defaults: ./demo-workspace 127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
ws="${1:-demo-workspace}"
addr="${2:-127.0.0.1:8080}"
cargo build --release -p abm-cli
abm="${CARGO_TARGET_DIR:-target}/release/abm"
if [ ! -f "$ws/abm.toml" ] || [ ! -f "$ws/demo/manifest.json" ]; then
  "$abm" --workspace "$ws" demo
fi
echo "Open http://$addr/ and sign in as mmanager, password abm-demo (Ctrl-C stops the server)"
exec "$abm" --workspace "$ws" serve --addr "$addr"
