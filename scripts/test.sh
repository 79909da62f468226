#!/usr/bin/env bash
# Run every test: unit, property, conformance (SQLite and a real PostgreSQL server started here),
# CLI end-to-end and HTTP tests.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/pg-test-server.sh
trap abm_pg_stop EXIT
export ABM_REQUIRE_POSTGRES=1

cargo test --workspace --release "$@"
