#!/usr/bin/python3
"""Cost of snapshots: a 1024^2 double run with a snapshot every 10 steps against the same run without
snapshots (and with --compress 1), interleaved repeats in one session; writes results/bench/snapshots.md."""
import argparse
import datetime
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf.files import write_report  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (medians are reported)")
    ap.add_argument("--size", type=int, default=1024, help="lattice side (2D)")
    ap.add_argument("--steps", type=int, default=400, help="RK4 steps per run (dt = 0.01)")
    ap.add_argument("-o", "--output", default="results/bench/snapshots.md", help="markdown file to write")
    args = ap.parse_args()
    t_end = args.steps * 0.01
    base = [args.xyzmf, "run", "--size", str(args.size), "--dt", "0.01", "--t-end", f"{t_end:g}",
            "--steady-tol", "0", "--overwrite"]
    # The last two rows step on one thread, leaving the writer a core of its own,
    # as on any machine with more cores than stepping threads.
    variants = [("no snapshots (only t = 0 and the final state)", ["--snapshot-every", "1e6"], 0),
                ("snapshot every 10 steps", ["--snapshot-every", "0.1"], 0),
                ("snapshot every 10 steps, --compress 1", ["--snapshot-every", "0.1", "--compress", "1"], 0),
                ("one stepping thread: no snapshots", ["--snapshot-every", "1e6"], 1),
                ("one stepping thread: snapshot every 10 steps", ["--snapshot-every", "0.1"], 1)]
    wall = {v[0]: [] for v in variants}
    loop = {v[0]: [] for v in variants}
    size = {}
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        for _ in range(args.repeats):
            for name, extra, threads in variants:
                out = os.path.join(tmp, "s.h5")
                cmd = base + extra + ["-o", out]
                env = dict(os.environ, OMP_NUM_THREADS=str(threads)) if threads else None
                print("+", f"OMP_NUM_THREADS={threads}" if threads else "", " ".join(cmd), file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                text = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
                wall[name].append(time.perf_counter() - t0)
                loop[name].append(float(re.search(r"steps in ([\d.e+]+) s", text).group(1)))
                size[name] = os.path.getsize(out)
                os.remove(out)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    def ref(threads):
        name = variants[0][0] if not threads else variants[3][0]
        return statistics.median(wall[name]), statistics.median(loop[name])
    lines = [
        "# Snapshot cost",
        "",
        f"Measured {now} on {os.cpu_count()} cores with `/usr/bin/python3 tools/bench_snapshots.py` "
        f"({args.size}^2 double, {args.steps} fused RK4 steps of dt = 0.01, {args.repeats} interleaved repeats, "
        f"medians). *wall* is the whole command; *loop* is the time loop as `xyzmf run` reports it. "
        f"Snapshots are downloaded, then written by the writer thread while the next steps run. Ratios are "
        f"against the run without snapshots on as many stepping threads (all cores, or OMP_NUM_THREADS=1).",
        "",
        "| run | wall (s) | wall / no snapshots | loop (s) | loop / no snapshots | file size (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for name, _, threads in variants:
        w0, l0 = ref(threads)
        w, l = statistics.median(wall[name]), statistics.median(loop[name])
        lines.append(f"| {name} | {w:.2f} | {w / w0:.2f} | {l:.2f} | {l / l0:.2f} | {size[name] / 1e6:.0f} |")
    lines.append("")
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
