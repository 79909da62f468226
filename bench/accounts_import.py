"""Benchmark: import N accounts from a CRM export CSV.

abm: `abm accounts import` into a fresh SQLite workspace (checks every row, normalises domains,
rolls families up, writes accounts with their sourced attribute values and domains in one
transaction).
DuckDB: `CREATE TABLE accounts AS SELECT * FROM read_csv(...)` into a fresh database file (no
checks, no hierarchy, one table) - the fastest way a peer tool loads the same file.
Targets (issue 2): >= 200,000 rows/s into SQLite, peak memory < 1 GiB."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from harness import BIN, DATA, best_of, report

DUCKDB_LOAD = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE accounts AS SELECT * FROM read_csv(?, header = true)", [sys.argv[1]])
n = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
assert n == int(sys.argv[3]), n
con.close()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    csv = os.path.join(DATA, f"accounts-{args.rows}.csv")
    if not os.path.exists(csv):
        subprocess.run([os.path.join(BIN, "abm-gen"), "accounts", str(args.rows), csv], check=True)
    tmp = tempfile.mkdtemp(prefix="abm-bench-")
    ws = os.path.join(tmp, "ws")
    duck = os.path.join(tmp, "duck.db")

    def fresh_abm():
        shutil.rmtree(ws, ignore_errors=True)
        subprocess.run([os.path.join(BIN, "abm"), "init", ws], check=True, stdout=subprocess.DEVNULL)

    def fresh_duck():
        for f in (duck, duck + ".wal"):
            if os.path.exists(f):
                os.remove(f)

    results = {
        "abm": best_of(args.repeat, fresh_abm, lambda: [os.path.join(BIN, "abm"), "--workspace", ws, "accounts", "import", csv]),
        "duckdb": best_of(args.repeat, fresh_duck, lambda: [sys.executable, "-c", DUCKDB_LOAD, csv, duck, str(args.rows)]),
    }
    shutil.rmtree(tmp, ignore_errors=True)
    report(
        "accounts-import",
        args.rows,
        results,
        [
            "abm checks and normalises every row, rolls families up and writes accounts and domains with their indexes; DuckDB loads one table unchecked",
            "DuckDB's time includes starting Python and importing duckdb (about 0.1 s)",
        ],
    )


if __name__ == "__main__":
    main()
