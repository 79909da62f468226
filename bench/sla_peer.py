"""The SLA recompute a marketing-ops analyst would write with numpy, as the peer for abm's.

Reads the same GitLab issues export abm imports, rebuilds each request's SLA clock from its label
history by the same rules (details complete at submission, or when it last came back from
`mktg-status::blocked` before reaching `wip`; later blocks pause the clock and the SLA date moves
by the business days spent blocked), then computes SLA dates and business days remaining with
vectorised np.busday_offset / np.busday_count (overdue spans counted as abm counts them: minus
the business days in [sla date, today)). Writes `iid,sla_date,remaining` (empty when the
clock has not started).

Timestamps become days in the team's time zone (abm.toml's time_zone), as abm does.

usage: sla_peer.py ISSUES.json WORKSPACE_DIR HOLIDAYS.txt TODAY OUT.csv"""
import json
import os
import sys
import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np


def main():
    issues_path, workspace, holidays_path, today, out = sys.argv[1:6]
    templates_dir = os.path.join(workspace, "templates")
    with open(os.path.join(workspace, "abm.toml"), "rb") as f:
        tz = ZoneInfo(tomllib.load(f).get("time_zone", "UTC"))

    def day(stamp):
        return datetime.fromisoformat(stamp).astimezone(tz).date().isoformat()

    templates = {}
    for name in os.listdir(templates_dir):
        if name.endswith(".toml"):
            with open(os.path.join(templates_dir, name), "rb") as f:
                t = tomllib.load(f)
            required = [x["name"] for x in t.get("fields", []) if x.get("required", True)]
            templates[name[:-5]] = (t.get("turnaround_business_days", 5), required)
    with open(issues_path) as f:
        issues = json.load(f)
    cal = np.busdaycalendar(weekmask="1111100", holidays=np.loadtxt(holidays_path, dtype="datetime64[D]"))

    iids, starts, turnarounds = [], [], []
    pause_owner, pause_from, pause_to = [], [], []
    for issue in issues:
        turnaround, required = templates[issue["template"]]
        fields = issue.get("fields") or {}
        if any(not str(fields.get(r) or "").strip() for r in required):
            continue
        events = sorted(
            ((e["created_at"], e["label"]["name"]) for e in issue["resource_label_events"]
             if e["action"] == "add" and e["label"]["name"].startswith("mktg-status::")),
            key=lambda e: e[0],
        )
        marks = []  # (kind, day)
        pending = issue["created_at"]
        status = None
        for at, label in events:
            to = label.rsplit("::", 1)[1]
            was_blocked = status == "blocked"
            if not marks:
                if to == "blocked":
                    pending = None
                elif was_blocked:
                    pending = at
                if to == "wip" and pending is not None:
                    marks.append(("complete", day(pending)))
            elif to == "blocked" and not was_blocked:
                marks.append(("blocked", day(at)))
            elif to != "blocked" and was_blocked:
                marks.append(("complete", day(at)))
            status = to
        if not marks and status not in ("blocked", "plan") and pending is not None:
            marks.append(("complete", day(pending)))
        if not marks:
            continue
        k = len(iids)
        iids.append(issue["iid"])
        starts.append(marks[0][1])
        turnarounds.append(turnaround)
        blocked = None
        for kind, day in marks[1:]:
            if kind == "blocked" and blocked is None:
                blocked = day
            elif kind == "complete" and blocked is not None:
                pause_owner.append(k)
                pause_from.append(blocked)
                pause_to.append(day)
                blocked = None

    starts = np.array(starts, dtype="datetime64[D]")
    sla = np.busday_offset(starts, np.array(turnarounds), roll="forward", busdaycal=cal)
    lost = np.zeros(len(iids), dtype=np.int64)
    if pause_owner:
        per = np.busday_count(np.array(pause_from, dtype="datetime64[D]"), np.array(pause_to, dtype="datetime64[D]"),
                              busdaycal=cal)
        np.add.at(lost, np.array(pause_owner), np.maximum(per, 0))
    sla = np.busday_offset(sla, lost, roll="forward", busdaycal=cal)
    today = np.datetime64(today)
    # abm counts an overdue span as minus the business days in [sla, today), so that the Saturday
    # after a Friday SLA date is already one day late; numpy's reversed count is (sla, today].
    remaining = np.where(sla >= today, np.busday_count(today, sla, busdaycal=cal),
                         -np.busday_count(sla, today, busdaycal=cal))
    with open(out, "w") as f:
        f.write("iid,sla_date,remaining\n")
        for i, d, r in zip(iids, sla.astype(str), remaining):
            f.write(f"{i},{d},{r}\n")


if __name__ == "__main__":
    main()
