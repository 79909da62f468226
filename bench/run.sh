#!/usr/bin/env bash
# Benchmarks: abm against DuckDB on the same data, in the same run.
#   bench/run.sh                      every benchmark at its default size
#   bench/run.sh accounts-import      one benchmark (accounts-import, calendar-offsets, sla-recompute, plan-milestone, icp-score, paid-query, engagement)
#   ROWS=100000 bench/run.sh accounts-import   a smaller size
# Data is generated once into bench/data/; results go to bench/results/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p abm-cli -p abm-demo -p abm-bench
python3 -c "import duckdb, numpy" 2>/dev/null || python3 -m pip install --quiet duckdb numpy
which="${1:-all}"
case "$which" in
  all|accounts-import|calendar-offsets|sla-recompute|plan-milestone|icp-score|paid-query|engagement) ;;
  *) echo "unknown benchmark $which (known: accounts-import, calendar-offsets, sla-recompute, plan-milestone, icp-score, paid-query, engagement)" >&2; exit 1 ;;
esac
if [ "$which" = all ] || [ "$which" = accounts-import ]; then
  python3 bench/accounts_import.py --rows "${ROWS:-1000000}" --repeat "${REPEAT:-3}"
fi
if [ "$which" = all ] || [ "$which" = calendar-offsets ]; then
  python3 bench/calendar_offsets.py --pairs "${ROWS:-1000000}" --repeat "${REPEAT:-3}"
fi
if [ "$which" = all ] || [ "$which" = sla-recompute ]; then
  python3 bench/sla_recompute.py --rows "${ROWS:-100000}" --repeat "${REPEAT:-3}"
fi
if [ "$which" = all ] || [ "$which" = plan-milestone ]; then
  python3 bench/plan_milestone.py --rows "${ROWS:-100000}" --repeat "${REPEAT:-3}"
fi
if [ "$which" = all ] || [ "$which" = icp-score ]; then
  python3 bench/icp_score.py --rows "${ROWS:-1000000}" --repeat "${REPEAT:-3}"
fi
if [ "$which" = all ] || [ "$which" = paid-query ]; then
  python3 bench/paid_query.py --rows "${ROWS:-5000000}" --repeat "${REPEAT:-5}"
fi
if [ "$which" = all ] || [ "$which" = engagement ]; then
  python3 bench/engagement.py --rows "${ROWS:-10000000}" --accounts "${ACCOUNTS:-1000000}"
fi
