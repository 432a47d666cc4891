#!/usr/bin/python3
"""Measure structure-factor cost per snapshot (three FFTW transforms) for results/bench/structure-factor.md."""
import argparse
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf.files import write_report  # noqa: E402

CASES = [("2", "1024"), ("3", "128")]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary")
    ap.add_argument("--repeats", type=int, default=5, help="analyses per case (the median is reported)")
    ap.add_argument("-o", "--output", default="results/bench/structure-factor.md", help="markdown file to write")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dim, L in CASES:
            path = os.path.join(tmp, f"s{dim}.h5")
            subprocess.run([args.xyzmf, "run", "-q", "--backend", "cpu", "--dim", dim, "--size", L, "--t-end", "0",
                            "--Jx", "1", "--Jy", "-1", "--Jz", "0", "-o", path], check=True)
            sk, total = [], []
            for _ in range(args.repeats):
                t0 = datetime.datetime.now()
                out = subprocess.run([args.xyzmf, "analyze", path, "--json"], check=True, capture_output=True, text=True)
                total.append((datetime.datetime.now() - t0).total_seconds() * 1e3)
                sk.append(json.loads(out.stdout)["structure_factor_ms"])
            rows.append((dim, L, statistics.median(sk), statistics.median(total)))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Structure-factor cost per snapshot", "",
             f"Measured {now} on {os.cpu_count()} cores with `/usr/bin/python3 tools/bench_sk.py` (median of "
             f"{args.repeats}). `S(k)` = the three FFTW r2c transforms (threaded plan, FFTW_ESTIMATE) plus unfolding "
             "to the full grid, as timed inside `xyzmf analyze` (`structure_factor_ms` of --json). `whole analyze` = "
             "the full command: reading the state, S(k), ds/dt, classification, sXY vortices, writing HDF5.", "",
             "| lattice | sites | S(k) ms | whole analyze ms |", "|---|---|---|---|"]
    for dim, L, sk, total in rows:
        lines.append(f"| {L}^{dim} | {int(L) ** int(dim):,} | {sk:.0f} | {total:.0f} |")
    lines.append("")
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
