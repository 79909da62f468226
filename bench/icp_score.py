"""Benchmark: score N accounts (default 1,000,000) against the default ICP (the handbook's FY22
profiles, crates/abm-workspace/defaults/icp.toml).

In memory: abm-bench loads flat account facts (untimed) and scores them on one core (timed, best
of 3); DuckDB loads the same CSV into a table (untimed) and computes the same profile as SQL
(`CREATE TABLE ... AS SELECT`, timed, median of the runs). The two must agree on ICP, score and
grade for every account. Targets (issue 3): ≥ 2,000,000 accounts/s in memory; faster than DuckDB.

End to end: `abm icp activate` over a workspace holding N accounts imported from a CRM export
(import untimed): read every account and its sourced attributes from SQLite, build facts with
precedence and family roll-ups, score, and replace every stored fit in one transaction.
Target: ≤ 10 s for 1,000,000."""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time

from harness import BIN, DATA, ROOT, measure

TOOLS = ["github", "perforce", "jenkins", "bitbucket", "subversion", "bamboo", "azure devops", "circleci"]
SHOWN = {"github": "GitHub", "perforce": "Perforce", "jenkins": "Jenkins", "bitbucket": "BitBucket",
         "subversion": "Subversion", "bamboo": "Bamboo", "azure devops": "Azure DevOps", "circleci": "CircleCI"}

SQL = """
CREATE OR REPLACE TABLE scored AS
WITH f AS (
  SELECT *,
    string_split(lower(coalesce(tech_stack, '')), ';') AS stack,
    greatest(coalesce(dev_aberdeen, -1), coalesce(dev_crm, -1), coalesce(employees, -1)) AS dev_any,
    coalesce(dev_aberdeen, dev_crm, employees) AS dev_first,
    CASE WHEN segment = 'Large' THEN 1
         WHEN segment = 'Mid-Market' AND employees >= 501 THEN 2
         WHEN segment = 'Mid-Market' AND (employees <= 500 OR employees IS NULL) THEN 3
         ELSE 0 END AS profile
  FROM facts
), s AS (
  SELECT crm_id, profile,
    CASE profile
      WHEN 1 THEN dev_any >= 500
              AND coalesce(list_has_any(stack, ['github','perforce','jenkins','bitbucket','subversion']), false)
              AND coalesce(lower(cloud_provider) IN ('aws','gcp'), false)
              AND coalesce(first_order_available, false)
      WHEN 2 THEN dev_any >= 100
              AND (tech_stack IS NULL OR list_has_any(stack, ['github','perforce','jenkins','bitbucket','bamboo','subversion']))
              AND coalesce(first_order_available, false)
      WHEN 3 THEN (tech_stack IS NULL OR NOT list_has_any(stack, ['github','jenkins','bamboo','bitbucket']))
              AND coalesce(first_order_available, false)
      ELSE false END AS icp,
    CASE profile
      WHEN 1 THEN (CASE WHEN dev_first >= 2000 THEN 30 ELSE 0 END) + (CASE WHEN dev_first >= 1000 THEN 20 ELSE 0 END)
                + (CASE WHEN list_has_any(stack, ['github','jenkins']) THEN 20 ELSE 0 END)
                + (CASE WHEN account_rank IN ('1','1.5') THEN 15 ELSE 0 END)
                + (CASE WHEN lower(new_logo_target) IN ('core','lookalike') THEN 15 ELSE 0 END)
      WHEN 2 THEN (CASE WHEN dev_first >= 500 THEN 35 ELSE 0 END) + (CASE WHEN dev_first >= 250 THEN 25 ELSE 0 END)
                + (CASE WHEN lower(cloud_provider) IN ('aws','gcp') THEN 20 ELSE 0 END)
                + (CASE WHEN account_rank IN ('1','1.5') THEN 20 ELSE 0 END)
      WHEN 3 THEN (CASE WHEN dev_first >= 50 THEN 40 ELSE 0 END) + (CASE WHEN employees >= 250 THEN 30 ELSE 0 END)
                + (CASE WHEN lower(new_logo_target) IN ('core','lookalike') THEN 30 ELSE 0 END)
      ELSE 0 END AS score
  FROM f
)
SELECT crm_id, icp, score,
  CASE WHEN NOT icp THEN 'D' WHEN score >= 80 THEN 'A' WHEN score >= 60 THEN 'B' WHEN score >= 40 THEN 'C' ELSE 'D' END AS grade
FROM s
"""


def write_facts(path, n):
    rng = random.Random(11)
    with open(path, "w") as f:
        f.write("crm_id,segment,employees,dev_aberdeen,dev_crm,tech_stack,cloud_provider,first_order_available,"
                "account_rank,new_logo_target\n")
        for i in range(n):
            seg = rng.choices(["Large", "Mid-Market", "SMB", "PubSec"], [25, 35, 30, 10])[0]
            emp = {"Large": rng.randint(2001, 80000), "Mid-Market": rng.randint(101, 2000),
                   "SMB": rng.randint(1, 100), "PubSec": rng.randint(50, 30000)}[seg]
            emp_s = "" if rng.random() < 0.05 else str(emp)
            dev_a = "" if rng.random() < 0.3 else str(max(0, int(emp * rng.uniform(0.02, 0.6))))
            dev_c = "" if rng.random() < 0.8 else str(max(0, int(emp * rng.uniform(0.05, 0.5))))
            stack = "" if rng.random() < 0.2 else ";".join(SHOWN[t] for t in rng.sample(TOOLS, rng.randint(1, 3)))
            cloud = "" if rng.random() < 0.2 else rng.choice(["AWS", "GCP", "Azure"])
            fo = "true" if rng.random() < 0.8 else "false"
            rank = rng.choice(["", "", "", "1", "1.5", "2", "3"])
            logo = rng.choice(["", "", "Core", "Lookalike", "Existing"])
            f.write(f"0015g{i:013d},{seg},{emp_s},{dev_a},{dev_c},{stack},{cloud},{fo},{rank},{logo}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import duckdb
    os.makedirs(DATA, exist_ok=True)
    facts = os.path.join(DATA, f"icp-facts-{args.rows}.csv")
    if not os.path.exists(facts):
        write_facts(facts, args.rows)
    icp_toml = os.path.join(ROOT, "crates", "abm-workspace", "defaults", "icp.toml")
    abm_out = os.path.join(DATA, "icp-abm.csv")
    r = subprocess.run([os.path.join(BIN, "abm-bench"), "icp-score", facts, icp_toml, abm_out],
                       check=True, capture_output=True, text=True)
    abm_secs = json.loads(r.stdout)["seconds"]

    con = duckdb.connect()
    con.execute(f"""CREATE TABLE facts AS SELECT * FROM read_csv('{facts}', header = true, columns = {{
        'crm_id': 'VARCHAR', 'segment': 'VARCHAR', 'employees': 'BIGINT', 'dev_aberdeen': 'BIGINT',
        'dev_crm': 'BIGINT', 'tech_stack': 'VARCHAR', 'cloud_provider': 'VARCHAR',
        'first_order_available': 'BOOLEAN', 'account_rank': 'VARCHAR', 'new_logo_target': 'VARCHAR'}})""")
    duck = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        con.execute(SQL)
        duck.append(time.perf_counter() - t)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    want = {row[0]: (bool(row[1]), int(row[2]), row[3]) for row in con.execute("SELECT * FROM scored").fetchall()}
    with open(abm_out) as f:
        got = {r["crm_id"]: (r["icp"] == "true", int(r["score"]), r["grade"]) for r in csv.DictReader(f)}
    if got != want:
        bad = [(k, got.get(k), want.get(k)) for k in list(want)[:200000] if got.get(k) != want.get(k)][:5]
        sys.exit(f"abm and DuckDB disagree; first differences (abm, duckdb): {bad}")
    duck_secs = sorted(duck)[len(duck) // 2]
    n = args.rows
    print(f"\nicp-score in memory: {n:,} accounts, default ICP; abm best of 3 on one core, DuckDB median of {args.repeat} on {threads} threads")
    print(f"{'tool':<10} {'seconds':>8} {'accounts/s':>14}")
    print(f"{'abm':<10} {abm_secs:>8.3f} {n / abm_secs:>14,.0f}")
    print(f"{'duckdb':<10} {duck_secs:>8.3f} {n / duck_secs:>14,.0f}")
    print(f"ratio: abm takes {abm_secs / duck_secs:.2f}x the time of DuckDB; ICP, score and grade identical for every account")

    # End to end from the store.
    accounts = os.path.join(DATA, f"accounts-{n}.csv")
    if not os.path.exists(accounts):
        subprocess.run([os.path.join(BIN, "abm-gen"), "accounts", str(n), accounts], check=True, capture_output=True)
    ws = os.path.join(DATA, "icp-workspace")
    shutil.rmtree(ws, ignore_errors=True)
    abm = os.path.join(BIN, "abm")
    subprocess.run([abm, "init", ws], check=True, capture_output=True)
    subprocess.run([abm, "--workspace", ws, "accounts", "import", accounts], check=True, capture_output=True)
    e2e = []
    for _ in range(args.repeat):
        e2e.append(measure([abm, "--workspace", ws, "--as", "bench", "icp", "activate"]))
    secs = sorted(s for s, _ in e2e)[len(e2e) // 2]
    peak = max(m for _, m in e2e)
    print(f"icp-score end to end: abm icp activate over {n:,} stored accounts: {secs:.2f} s "
          f"({n / secs:,.0f} accounts/s), peak {peak:.0f} MiB")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "icp-score.json"), "w") as f:
        json.dump({"accounts": n, "abm_in_memory_seconds": abm_secs, "duckdb_seconds": duck,
                   "duckdb_threads": threads, "abm_end_to_end": e2e}, f, indent=2)


if __name__ == "__main__":
    main()
