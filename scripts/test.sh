#!/usr/bin/env bash
# Run every test: unit, property, conformance (SQLite and a real PostgreSQL server started here),
# CLI end-to-end, HTTP and browser tests (headless Chromium; screenshots in target/browser-artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's Chromium through chromedriver; install both when missing.
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  echo "Installing chromium and chromium-driver for the browser tests"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver >/dev/null
fi
export ABM_REQUIRE_BROWSER=1

source scripts/pg-test-server.sh
trap abm_pg_stop EXIT
export ABM_REQUIRE_POSTGRES=1

cargo test --workspace --release "$@"
