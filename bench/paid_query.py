"""Benchmark: paid-media queries over N ad facts (default 5,000,000) and ad-export imports.

Query: a filtered (budget in dmp, fmm) two-dimension breakdown (geo × targeting) by week over 13
weeks, with week-over-week comparison. abm: abm-bench builds the report cube from the facts
(load untimed, build timed), runs the query once cold and then warm (median of 5). DuckDB: the
same CSV loaded into a table with the dimensions decoded in SQL (untimed), then the same query
(aggregate over the range plus the week before, joined to the previous week) warm, median of 5.
The weekly sums must agree. Targets (issue 7): warm query ≤ 50 ms and faster than DuckDB.

Import: `abm ads import` of a Google Ads export of IMPORT_ROWS rows (default 500,000) into a
fresh workspace, whole process timed. Target: ≥ 200,000 rows/s."""
import argparse
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import time

from harness import BIN, DATA, RESULTS, fresh_workspace, measure

CODES = ["devopsgtm", "singleappci", "iacgitops", "devsecopsusecase", "competegh", "cdusecase", "autosd", "devsecopsplat"]
GEOS = ["amer", "emea", "apac", "pubsec", "amer-california", "emea-dach"]
TARGETING = ["pr", "rtg", "abm"]
UNITS = ["rsa", "eta", "inmail", "feed", "sponsored"]
BRAND = ["br", "nb"]
MATCH = ["exact", "phrase", "broad", "x"]
BUDGETS = ["fmm", "dmp", "corp", "abm"]
SOURCES = ["google", "linkedin", "facebook"]
START = datetime.date(2025, 11, 29)


def campaigns(rng):
    out = []
    for _ in range(400):
        if rng.random() < 0.02:
            out.append(f"{rng.choice(CODES)}_{rng.choice(GEOS)}_pr")  # does not conform
        else:
            out.append("_".join([rng.choice(CODES), rng.choice(GEOS), rng.choice(TARGETING), rng.choice(UNITS),
                                 rng.choice(BRAND), rng.choice(MATCH)]))
    return out


def write_facts(path, n):
    rng = random.Random(7)
    camps = campaigns(rng)
    with open(path, "w") as f:
        f.write("date,source,campaign,content,budget,currency,spend_micros,impressions,clicks,conversions_milli\n")
        for i in range(n):
            day = START + datetime.timedelta(days=rng.randrange(365))
            imps = rng.randrange(50, 5000)
            clicks = rng.randrange(0, imps // 20 + 1)
            f.write(f"{day},{rng.choice(SOURCES)},{rng.choice(camps)},ebook_digital_x-pr_english_,{rng.choice(BUDGETS)},USD,"
                    f"{rng.randrange(1_000_000, 500_000_000)},{imps},{clicks},{rng.randrange(0, 3) * 1000}\n")


def write_google_export(path, n):
    rng = random.Random(9)
    camps = [c for c in campaigns(rng) if c.count("_") == 5]
    with open(path, "w") as f:
        f.write("Campaign report\n\"November 29, 2025 - November 28, 2026\"\n")
        f.write("Day,Campaign,Ad group,Impr.,Clicks,CTR,Avg. CPC,Cost,Conversions,Cost / conv.,Conv. rate,Currency code,Final URL\n")
        # Unique (day, campaign, ad group) rows, as Google reports them.
        groups = [f"group {g}" for g in range(max(1, n // (365 * len(camps)) + 1))]
        written = 0
        for day in range(365):
            d = START + datetime.timedelta(days=day)
            for c in camps:
                for g in groups:
                    if written >= n:
                        break
                    imps = rng.randrange(50, 5000)
                    clicks = rng.randrange(1, imps // 20 + 2)
                    cost = clicks * rng.uniform(1, 6)
                    url = f"https://x.example/?utm_source=google&utm_campaign={c}&utm_content=ebook_digital_x-pr_english_&utm_budget=dmp"
                    f.write(f"{d},{c},{g},\"{imps:,}\",{clicks},{clicks / imps * 100:.2f}%,{cost / clicks:.2f},\"{cost:,.2f}\",1.00,{cost:.2f},"
                            f"{100 / clicks:.2f}%,USD,{url}\n")
                    written += 1
        f.write("Total: Account,--,--,0,0,--,--,0,0,--,--,USD,--\n")
    return written


DUCK_SQL = """
WITH agg AS (
  SELECT date_trunc('week', date)::DATE AS week, geo, targeting,
         sum(spend_micros) AS spend_micros, sum(impressions) AS impressions, sum(clicks) AS clicks
  FROM facts
  WHERE budget IN ('dmp', 'fmm') AND date BETWEEN DATE '2026-07-27' AND DATE '2026-11-01'
  GROUP BY ALL
)
SELECT c.week, c.geo, c.targeting, c.spend_micros, c.impressions, c.clicks,
       p.spend_micros AS prev_spend_micros, p.clicks AS prev_clicks
FROM agg c LEFT JOIN agg p ON p.week = c.week - INTERVAL 7 DAY AND p.geo = c.geo AND p.targeting = c.targeting
WHERE c.week >= DATE '2026-08-03'
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--import-rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import duckdb
    os.makedirs(DATA, exist_ok=True)
    facts = os.path.join(DATA, f"ad-facts-{args.rows}.csv")
    if not os.path.exists(facts):
        write_facts(facts, args.rows)
    out = os.path.join(DATA, "paid-abm.csv")
    r = subprocess.run([os.path.join(BIN, "abm-bench"), "paid-query", facts, out], check=True, capture_output=True, text=True)
    abm = json.loads(r.stdout)

    con = duckdb.connect()
    con.execute(f"""CREATE TABLE facts AS
      SELECT *,
        CASE WHEN len(string_split(campaign, '_')) = 6 THEN split_part(split_part(campaign, '_', 2), '-', 1) ELSE '(none)' END AS geo,
        CASE WHEN len(string_split(campaign, '_')) = 6 THEN split_part(campaign, '_', 3) ELSE '(none)' END AS targeting
      FROM read_csv('{facts}', header = true)""")
    con.execute(DUCK_SQL).fetchall()  # warm up
    duck = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = con.execute(DUCK_SQL).fetchall()
        duck.append(time.perf_counter() - t)
    want = {(str(w), g, t): (round(s / 1e6, 2), i, c) for w, g, t, s, i, c, _, _ in rows}
    with open(out) as f:
        got = {(r["week"], r["geo"], r["targeting"]): (round(float(r["spend"]), 2), int(r["impressions"]), int(r["clicks"]))
               for r in csv.DictReader(f)}
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[:4]
        sys.exit(f"abm and DuckDB disagree ({len(got)} vs {len(want)} groups): {diff}")
    duck_warm = sorted(duck)[len(duck) // 2]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"\npaid-query: {args.rows:,} facts; budget filter, geo × targeting by week, 13 weeks, week over week")
    print(f"{'tool':<10} {'warm ms':>9} {'cold ms':>9} {'build s':>8}")
    print(f"{'abm':<10} {abm['warm_seconds'] * 1000:>9.1f} {abm['cold_seconds'] * 1000:>9.1f} {abm['build_seconds']:>8.2f}")
    print(f"{'duckdb':<10} {duck_warm * 1000:>9.1f} {'':>9} {'':>8}  ({threads} threads)")
    print(f"ratio: abm takes {abm['warm_seconds'] / duck_warm:.2f}x the time of DuckDB warm; {len(got)} weekly groups identical")

    export = os.path.join(DATA, f"google-ads-{args.import_rows}.csv")
    if not os.path.exists(export):
        write_google_export(export, args.import_rows)
    ws, abm_bin = fresh_workspace("paid-workspace")
    secs, peak = measure([abm_bin, "--workspace", ws, "ads", "import", export])
    print(f"import: abm ads import of a {args.import_rows:,}-row Google Ads export: {secs:.2f} s "
          f"({args.import_rows / secs:,.0f} rows/s), peak {peak:.0f} MiB")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "paid-query.json"), "w") as f:
        json.dump({"facts": args.rows, "abm": abm, "duckdb_warm_seconds": duck, "duckdb_threads": threads,
                   "import_rows": args.import_rows, "import_seconds": secs, "import_peak_mib": peak}, f, indent=2)


if __name__ == "__main__":
    main()
