"""Benchmark: recompute the SLA state of N requests (default 100,000).

abm: `abm sla status --all --format csv` on a workspace holding the requests (imported once from a
GitLab issues export, not timed): reads every request from SQLite, runs its SLA clock on the US
calendar and prints SLA date, business days remaining, at risk and breached. The whole process is
timed. numpy peer: `sla_peer.py` reads the same export, rebuilds the clocks from the label history
and computes the same dates with vectorised busday_offset / busday_count. Answers must agree for
every request. Target (issue 5): abm ≤ 1 s."""
import argparse
import csv
import os
import shutil
import subprocess
import sys

from harness import BIN, DATA, ROOT, fresh_workspace, measure, report, requests_export

TODAY = "2026-11-28"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    issues = requests_export(args.rows)
    ws, abm = fresh_workspace("sla-workspace")
    env = dict(os.environ, ABM_TODAY=TODAY)
    import_secs, import_mib = measure([abm, "--workspace", ws, "requests", "import", issues], env=env)
    holidays = os.path.join(DATA, "us-federal-holidays.txt")
    out = subprocess.run([abm, "calendar", "holidays", "--calendar", "us", "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    with open(holidays, "w") as f:
        f.write("\n".join(line.split(",")[0] for line in out) + "\n")

    abm_csv = os.path.join(DATA, "sla-abm.csv")
    peer_csv = os.path.join(DATA, "sla-numpy.csv")
    results = {"abm": [], "numpy": []}
    for _ in range(args.repeat):
        with open(abm_csv, "w") as f:
            results["abm"].append(measure([abm, "--workspace", ws, "sla", "status", "--all", "--format", "csv"],
                                          env=env, stdout=f))
        results["numpy"].append(measure([sys.executable, os.path.join(ROOT, "bench", "sla_peer.py"), issues,
                                         ws, holidays, TODAY, peer_csv]))
    with open(abm_csv) as f:
        got = {int(r["id"]): (r["SLA date"], r["business days left"]) for r in csv.DictReader(f) if r["SLA date"]}
    with open(peer_csv) as f:
        want = {int(r["iid"]): (r["sla_date"], r["remaining"]) for r in csv.DictReader(f)}
    if got != want:
        bad = sorted(set(got.items()) ^ set(want.items()))[:5]
        sys.exit(f"abm and numpy disagree ({len(got)} vs {len(want)} clocks); first differences: {bad}")
    report("sla-recompute", args.rows, results, [
        f"{len(got):,} requests have a running or finished clock; SLA dates and business days remaining identical in both",
        f"import of the GitLab export (not in the timing): {import_secs:.2f} s, peak {import_mib:.0f} MiB",
    ])


if __name__ == "__main__":
    main()
