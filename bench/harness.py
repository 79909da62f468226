"""Shared benchmark plumbing: run a command as a child process, measure wall time and peak
memory, repeat, and print a comparison table.

Peak memory is the child's VmHWM, polled from /proc while it runs. wait4's ru_maxrss is not used
where /proc is available: Linux carries the parent's high-water mark across fork and exec, so a
child of this (large, DuckDB-holding) Python process would report the parent's memory."""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
DATA = os.path.join(ROOT, "bench", "data")
RESULTS = os.path.join(ROOT, "bench", "results")


def _vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(cmd, env=None, stdout=subprocess.DEVNULL):
    """Run cmd; return (seconds, peak RSS in MiB). Fails loudly if the command fails."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    peak = [None]
    done = threading.Event()

    def poll():
        # VmHWM only grows, so the last reading before exit is (within 10 ms) the peak.
        while not done.is_set():
            v = _vm_hwm_kib(p.pid)
            if v is not None:
                peak[0] = max(peak[0] or 0, v)
            done.wait(0.01)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(cmd)}\n{err}")
    kib = peak[0] if peak[0] is not None else usage.ru_maxrss
    return seconds, kib / 1024


def best_of(repeat, setup, cmd_fn):
    """Run setup() then the command returned by cmd_fn() `repeat` times; keep every result."""
    runs = []
    for _ in range(repeat):
        setup()
        # Flush the previous run's writes so they do not compete with this one.
        os.sync()
        time.sleep(0.5)
        runs.append(measure(cmd_fn()))
    return runs


def report(name, rows, results, notes):
    """Print a table (median of runs) and save JSON."""
    print(f"\n{name}: {rows:,} rows, median of {len(next(iter(results.values())))} runs")
    width = max(10, *(len(t) + 1 for t in results))
    print(f"{'tool':<{width}} {'seconds':>8} {'rows/s':>12} {'peak MiB':>9}")
    summary = {}
    for tool, runs in results.items():
        secs = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        summary[tool] = {"seconds": secs, "rows_per_s": rows / secs, "peak_mib": peak, "runs": runs}
        print(f"{tool:<{width}} {secs:>8.2f} {rows / secs:>12,.0f} {peak:>9.0f}")
    # The first tool against each of the others.
    a, *others = list(summary)
    for b in others:
        ratio = summary[b]["seconds"] / summary[a]["seconds"]
        print(f"ratio: {a} takes {1 / ratio:.2f}x the time of {b} ({'faster' if ratio > 1 else 'slower'})")
        summary["ratio_time_" + a + "_over_" + b] = 1 / ratio
    for n in notes:
        print(f"note: {n}")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump({"rows": rows, "results": summary, "notes": notes}, f, indent=2)


def requests_export(rows):
    """The GitLab issues export of `rows` requests (generated once, deterministic)."""
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, f"requests-{rows}.json")
    if not os.path.exists(path):
        subprocess.run([os.path.join(BIN, "abm-gen"), "requests", str(rows), path, "3"], check=True)
    return path


def fresh_workspace(name):
    """An empty abm workspace under bench/data (replacing any old one); returns (dir, abm binary)."""
    ws = os.path.join(DATA, name)
    import shutil
    shutil.rmtree(ws, ignore_errors=True)
    abm = os.path.join(BIN, "abm")
    subprocess.run([abm, "init", ws], check=True, capture_output=True)
    return ws, abm
