#!/usr/bin/env bash
# Benchmarks: abm against DuckDB on the same data, in the same run.
#   bench/run.sh                      every benchmark at its default size
#   bench/run.sh accounts-import      one benchmark
#   ROWS=100000 bench/run.sh accounts-import   a smaller size
# Data is generated once into bench/data/; results go to bench/results/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p abm-cli -p abm-demo
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
which="${1:-all}"
case "$which" in
  all|accounts-import) python3 bench/accounts_import.py --rows "${ROWS:-1000000}" --repeat "${REPEAT:-3}" ;;
  *) echo "unknown benchmark $which (known: accounts-import)" >&2; exit 1 ;;
esac
