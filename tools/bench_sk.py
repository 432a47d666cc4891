#!/usr/bin/python3
"""Measure the cost of analysing one snapshot (S(k) and the whole `xyzmf analyze`) for
results/bench/structure-factor.md; with --baseline, another build's whole analyze in turn
with this one's on the same files, and their ratio."""
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

CASES = [("2", "1024"), ("2", "2048"), ("3", "128")]
# A coarsening series as vortex studies analyse it: five snapshots and the final
# state of one run, `analyze --all-snapshots --sk-storage radial` in one process.
SERIES = [("2", "1024"), ("2", "2048")]


def analyse(binary, path, out):
    """One whole `analyze` into a new file: (wall ms, S(k) ms)."""
    t0 = datetime.datetime.now()
    res = subprocess.run([binary, "analyze", path, "--json", "--out", out, "--overwrite"], check=True,
                         capture_output=True, text=True)
    return (datetime.datetime.now() - t0).total_seconds() * 1e3, json.loads(res.stdout)["structure_factor_ms"]


def analyse_series(binary, path, out):
    """A run's every state analysed by one `analyze --all-snapshots` (wall ms)."""
    t0 = datetime.datetime.now()
    subprocess.run([binary, "analyze", path, "--all-snapshots", "--sk-storage", "radial", "--out", out, "--overwrite"],
                   check=True, capture_output=True)
    return (datetime.datetime.now() - t0).total_seconds() * 1e3


# The same series through the Python module in-process (the module beside the
# binary, <build>/python), as a notebook analyses it: the program's heap policy
# (src/cli/main.cpp) does not apply there.
PY_SERIES = """
import sys, time, xyzmf
t0 = time.perf_counter()
xyzmf.analyze(sys.argv[1], all_snapshots=True, sk_storage="radial", out=sys.argv[2], overwrite=True)
print((time.perf_counter() - t0) * 1e3)
"""


def analyse_series_python(binary, path, out):
    """The series by xyzmf.analyze in a Python process (wall ms of the call), or None without the module."""
    package = os.path.join(os.path.dirname(os.path.abspath(binary)), "python")
    if not os.path.isdir(os.path.join(package, "xyzmf")):
        return None
    res = subprocess.run([sys.executable, "-c", PY_SERIES, path, out], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": package, "XYZMF_EXE": os.path.abspath(binary)})
    return float(res.stdout.split()[-1])


def version(binary):
    return subprocess.run([binary, "--version"], check=True, capture_output=True, text=True).stdout.split()[-1].strip("()")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary")
    ap.add_argument("--baseline", help="another xyzmf binary, timed in turn with --xyzmf on the same files")
    ap.add_argument("--repeats", type=int, default=5, help="analyses per case (the median is reported)")
    ap.add_argument("-o", "--output", default="results/bench/structure-factor.md", help="markdown file to write")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dim, L in CASES:
            path, out = os.path.join(tmp, f"s{dim}-{L}.h5"), os.path.join(tmp, "analysis.h5")
            subprocess.run([args.xyzmf, "run", "-q", "--backend", "cpu", "--dim", dim, "--size", L, "--t-end", "0",
                            "--Jx", "1", "--Jy", "-1", "--Jz", "0", "-o", path], check=True)
            sk, total, base, ratio = [], [], [], []
            for _ in range(args.repeats):
                ms, sk_ms = analyse(args.xyzmf, path, out)
                total.append(ms)
                sk.append(sk_ms)
                if args.baseline:
                    b, _ = analyse(args.baseline, path, out)
                    base.append(b)
                    ratio.append(ms / b)
            rows.append((dim, L, statistics.median(sk), statistics.median(total),
                         statistics.median(base) if base else None, statistics.median(ratio) if ratio else None))
        series = []
        for dim, L in SERIES:
            path, out = os.path.join(tmp, f"series{dim}-{L}.h5"), os.path.join(tmp, "analysis.h5")
            subprocess.run([args.xyzmf, "run", "-q", "--backend", "cpu", "--dim", dim, "--size", L, "--t-end", "0.5",
                            "--snapshot-every", "0.1", "--Jx", "1", "--Jy", "-1", "--Jz", "0", "-o", path], check=True)
            total, base, ratio, py, py_base, py_ratio = [], [], [], [], [], []
            for _ in range(args.repeats):
                total.append(analyse_series(args.xyzmf, path, out))
                py.append(analyse_series_python(args.xyzmf, path, out))
                if args.baseline:
                    base.append(analyse_series(args.baseline, path, out))
                    ratio.append(total[-1] / base[-1])
                    py_base.append(analyse_series_python(args.baseline, path, out))
                    if py[-1] is not None and py_base[-1] is not None:
                        py_ratio.append(py[-1] / py_base[-1])
            median = lambda v: statistics.median(v) if v and None not in v else None  # noqa: E731
            series.append((dim, L, statistics.median(total), median(base), median(ratio), median(py), median(py_base),
                           median(py_ratio)))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "/usr/bin/python3 tools/bench_sk.py" + (" --baseline OLD" if args.baseline else "")
    lines = ["# Structure-factor cost per snapshot", "",
             f"Measured {now} on {os.cpu_count()} cores with `{cmd}` (median of "
             f"{args.repeats}), xyzmf {version(args.xyzmf)}. `S(k)` = the three FFTW r2c transforms (threaded plan, "
             "FFTW_ESTIMATE) plus unfolding to the full grid, as timed inside `xyzmf analyze` (`structure_factor_ms` "
             "of --json). `whole analyze` = the full command on a random sXY state: reading it, S(k), ds/dt, "
             "classification, sXY vortices, writing the analysis into a new file (the structure factors stored as the run stored its spins: uncompressed here)."]
    head = "| lattice | sites | S(k) ms | whole analyze ms |"
    rule = "|---|---|---|---|"
    if args.baseline:
        lines[-1] += (f" OLD = xyzmf {version(args.baseline)}, timed in turn with it on the same files; the ratio is "
                      "the median of the pairs' ratios.")
        head += " OLD whole analyze ms | ratio |"
        rule += "---|---|"
    lines += ["", head, rule]
    for dim, L, sk, total, base, ratio in rows:
        row = f"| {L}^{dim} | {int(L) ** int(dim):,} | {sk:.0f} | {total:.0f} |"
        if base is not None:
            row += f" {base:.0f} | {ratio:.2f} |"
        lines.append(row)
    lines += ["", "A run's six states (five snapshots and the final state, the run's first 0.5 / gamma from random) "
              "analysed by one `xyzmf analyze FILE --all-snapshots --sk-storage radial --out NEW`, and by the Python "
              "module in-process, `xyzmf.analyze(FILE, all_snapshots=True, sk_storage=\"radial\", out=NEW)` (the "
              "call alone, in a fresh interpreter; the module beside each binary):", "",
              "| lattice | whole analyze ms |" + (" OLD ms | ratio |" if args.baseline else "") + " Python ms |"
              + (" OLD Python ms | ratio |" if args.baseline else ""),
              "|---|---|" + ("---|---|" if args.baseline else "") + "---|" + ("---|---|" if args.baseline else "")]
    cell = lambda v, f: "n/a" if v is None else format(v, f)  # noqa: E731
    for dim, L, total, base, ratio, py, py_base, py_ratio in series:
        row = f"| {L}^{dim} | {total:.0f} |" + (f" {cell(base, '.0f')} | {cell(ratio, '.2f')} |" if args.baseline else "")
        row += f" {cell(py, '.0f')} |" + (f" {cell(py_base, '.0f')} | {cell(py_ratio, '.2f')} |" if args.baseline else "")
        lines.append(row)
    lines.append("")
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
