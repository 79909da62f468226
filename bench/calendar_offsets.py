"""Benchmark: business-day arithmetic over N (date, offset) pairs with the US federal holidays.

abm: abm-core's BusinessCalendar::offset (roll forward, then count), timed in-process by
abm-bench. numpy: np.busday_offset(dates, offsets, roll='forward', holidays=...) on arrays.
Both get the same pairs and holidays and only the arithmetic is timed; the answers must agree.
Target (issue 5): faster than numpy."""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from harness import BIN, DATA, RESULTS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import numpy as np

    os.makedirs(DATA, exist_ok=True)
    pairs_csv = os.path.join(DATA, f"busday-pairs-{args.pairs}.csv")
    holidays_txt = os.path.join(DATA, "us-federal-holidays.txt")
    # The holidays abm uses, from abm itself.
    out = subprocess.run([os.path.join(BIN, "abm"), "calendar", "holidays", "--calendar", "us", "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    with open(holidays_txt, "w") as f:
        f.write("\n".join(line.split(",")[0] for line in out) + "\n")
    if not os.path.exists(pairs_csv):
        rng = random.Random(5)
        base = np.datetime64("2020-01-01")
        with open(pairs_csv, "w") as f:
            f.write("date,offset\n")
            for _ in range(args.pairs):
                f.write(f"{base + rng.randrange(0, 3650)},{rng.randrange(-90, 91)}\n")
    holidays = np.loadtxt(holidays_txt, dtype="datetime64[D]")
    raw = np.loadtxt(pairs_csv, delimiter=",", skiprows=1, dtype=str)
    dates = raw[:, 0].astype("datetime64[D]")
    offsets = raw[:, 1].astype(np.int64)
    cal = np.busdaycalendar(weekmask="1111100", holidays=holidays)

    numpy_runs, abm_runs = [], []
    expected = None
    for _ in range(args.repeat):
        t = time.perf_counter()
        expected = np.busday_offset(dates, offsets, roll="forward", busdaycal=cal)
        numpy_runs.append(time.perf_counter() - t)
        with tempfile.NamedTemporaryFile(suffix=".txt") as outf:
            r = subprocess.run([os.path.join(BIN, "abm-bench"), "calendar-offsets", pairs_csv, holidays_txt, outf.name],
                               check=True, capture_output=True, text=True)
            abm_runs.append(json.loads(r.stdout)["seconds"])
            got = np.loadtxt(outf.name, dtype="datetime64[D]")
        mismatches = int((got != expected).sum())
        if mismatches:
            sys.exit(f"abm and numpy disagree on {mismatches} of {args.pairs} pairs")
    a, n = sorted(abm_runs)[len(abm_runs) // 2], sorted(numpy_runs)[len(numpy_runs) // 2]
    print(f"\ncalendar-offsets: {args.pairs:,} (date, offset) pairs, US federal holidays, median of {args.repeat} runs")
    print(f"{'tool':<10} {'seconds':>8} {'pairs/s':>14}")
    print(f"{'abm':<10} {a:>8.4f} {args.pairs / a:>14,.0f}")
    print(f"{'numpy':<10} {n:>8.4f} {args.pairs / n:>14,.0f}")
    print(f"ratio: abm takes {a / n:.2f}x the time of numpy ({'faster' if a < n else 'slower'}); answers identical")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "calendar-offsets.json"), "w") as f:
        json.dump({"pairs": args.pairs, "abm_seconds": abm_runs, "numpy_seconds": numpy_runs}, f, indent=2)


if __name__ == "__main__":
    main()
