"""Benchmark: plan a milestone over N requests (default 100,000 imported, untimed, from a GitLab
export): each team member's capacity (business days on the US calendar, the handbook's calls) at
70%, then their open work due by the milestone's end filled in priority order (Top, High, Med,
Low, unprioritised; then due date, then id), nothing of lower priority once something does not
fit.

abm: `abm plan milestone "Mktg: 2026-12-06" --format json`, the whole process timed.
Peer: Python reading the same requests from abm's SQLite file (sqlite3 + json), numpy for the
business days, the same fill. The committed and dropped requests must agree for every person."""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

from harness import BIN, DATA, ROOT, fresh_workspace, measure, report, requests_export

TODAY = "2026-11-28"
MILESTONE = "Mktg: 2026-12-06"
TEAM = [("mmanager", "manager"), ("aabm", "member"), ("bcampaigns", "member"), ("cdigital", "member"), ("dops", "member")]


def peer(db, holidays_path, out_path):
    """The peer, timed in its own process."""
    import numpy as np
    start, end = np.datetime64("2026-11-23"), np.datetime64("2026-12-06")
    cal = np.busdaycalendar(weekmask="1111100", holidays=np.loadtxt(holidays_path, dtype="datetime64[D]"))
    days = [d for d in np.arange(start, end + 1) if np.is_busday(d, busdaycal=cal)]
    # The handbook's calls: bi-weekly Tue from 2026-11-24, bi-weekly Wed from 11-25, weekly Thu from 11-26.
    meetings = [(1, 14, np.datetime64("2026-11-24")), (2, 14, np.datetime64("2026-11-25")), (3, 7, np.datetime64("2026-11-26"))]
    meeting_hours = sum(1.0 for d in days for wd, every, first in meetings
                        if d >= first and (d - first).astype(int) % every == 0)
    available = 8.0 * len(days) - meeting_hours
    budget = round(available * 0.7 * 100) / 100
    weight_hours = {1: 4.0, 2: 8.0, 3: 16.0, 4: 24.0, 5: 40.0}
    rank = {"Top": 0, "High": 1, "Med": 2, "Low": 3}
    work = {u: [] for u, _ in TEAM}
    con = sqlite3.connect(db)
    for rid, doc in con.execute("SELECT id, doc FROM requests WHERE closed_at IS NULL ORDER BY id"):
        r = json.loads(doc)
        r["id"] = rid  # the column is the truth; the document's id is not kept up to date
        if r["due_date"] is None or r["due_date"] > "2026-12-06" or r["assignee"] not in work:
            continue
        labels = r["labels"]
        if "mktg-status::plan" in labels:
            continue
        pri = next((l.split("::", 1)[1] for l in labels if l.startswith("ABM-Priority::")), None)
        work[r["assignee"]].append((rank.get(pri, 4), r["due_date"] is None, r["due_date"], r["id"],
                                    weight_hours[r["weight"] or 1]))
    out = {}
    for who, items in work.items():
        items.sort()
        used, cut, committed, dropped = 0.0, None, [], []
        for rk, _, _, rid, hours in items:
            if cut is not None and rk > cut:
                dropped.append(rid)
            elif used + hours <= budget + 1e-9:
                used += hours
                committed.append(rid)
            else:
                dropped.append(rid)
                cut = rk if cut is None else cut
        out[who] = {"budget": budget, "committed": committed, "dropped": dropped}
    with open(out_path, "w") as f:
        json.dump(out, f)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        return peer(*sys.argv[2:5])
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    issues = requests_export(args.rows)
    ws, abm = fresh_workspace("plan-workspace")
    env = dict(os.environ, ABM_TODAY=TODAY)
    team = os.path.join(DATA, "plan-team.csv")
    with open(team, "w") as f:
        f.write("Username,Name,Role\n" + "".join(f"{u},{u},{r}\n" for u, r in TEAM))
    subprocess.run([abm, "--workspace", ws, "--as", "mmanager", "team", "import", team], check=True, capture_output=True, env=env)
    t = time.perf_counter()
    subprocess.run([abm, "--workspace", ws, "requests", "import", issues], check=True, capture_output=True, env=env)
    import_secs = time.perf_counter() - t
    holidays = os.path.join(DATA, "us-federal-holidays.txt")
    out = subprocess.run([abm, "calendar", "holidays", "--calendar", "us", "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    with open(holidays, "w") as f:
        f.write("\n".join(line.split(",")[0] for line in out) + "\n")
    abm_json = os.path.join(DATA, "plan-abm.json")
    peer_json = os.path.join(DATA, "plan-peer.json")
    results = {"abm": [], "python": []}
    for _ in range(args.repeat):
        with open(abm_json, "w") as f:
            results["abm"].append(measure([abm, "--workspace", ws, "plan", "milestone", MILESTONE, "--format", "json"],
                                          env=env, stdout=f))
        results["python"].append(measure([sys.executable, os.path.abspath(__file__), "--peer",
                                          os.path.join(ws, "abm.db"), holidays, peer_json]))
    with open(abm_json) as f:
        plan = json.load(f)
    with open(peer_json) as f:
        want = json.load(f)
    got = {p["capacity"]["username"]: {"budget": p["capacity"]["budget_hours"],
                                       "committed": [i["id"] for i in p["committed"]],
                                       "dropped": [d["id"] for d in p["dropped"]]} for p in plan["people"]}
    if got != want:
        sys.exit(f"abm and the peer disagree:\nabm  {json.dumps(got)[:600]}\npeer {json.dumps(want)[:600]}")
    planned = sum(len(p["committed"]) + len(p["dropped"]) for p in got.values())
    report("plan-milestone", args.rows, results, [
        f"{planned:,} open requests due by the milestone's end were planned for {len(got)} people; "
        f"commitments and drops identical in both",
        f"import of the GitLab export (not in the timing): {import_secs:.2f} s",
    ])


if __name__ == "__main__":
    main()
