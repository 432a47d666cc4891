#!/usr/bin/python3
"""Measure the CPU benchmark table of results/bench/cpu.md in one session: xyzmf's fused and four-sweep
RK4 steppers, numba's parallel RK4 and numpy's RK4 of the same equations, the STREAM-like triad and the
fused stepper's arithmetic roof."""
import argparse
import datetime
import importlib.util
import os
import re
import subprocess
import sys

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf.files import write_report  # noqa: E402
from xyzmf.machine import cpu_model  # noqa: E402

CASES = [(2, 256), (2, 1024), (2, 2048), (3, 64), (3, 128)]


def run(cmd):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    print(out, file=sys.stderr, flush=True)
    return out


def number(pattern, text):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"bench_table: cannot parse {pattern!r} in: {text}")
    return float(m.group(1))


def rate(text):
    return number(r"median ([\d.e+]+) site-steps/s", text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per case (medians are reported)")
    ap.add_argument("--no-python", action="store_true", help="skip the numba and numpy columns (quick runs)")
    ap.add_argument("-o", "--output", default="results/bench/cpu.md", help="markdown table to write")
    args = ap.parse_args()
    reps = str(args.repeats)

    triad = [number(r"median ([\d.]+) GB/s", run([args.xyzmf, "bench", "--triad", "--repeats", reps]))
             for _ in range(3)]
    triad_gbs = sorted(triad)[1]
    roofs = {}
    rows = []
    for prec in ("double", "float"):
        for dim, L in CASES:
            if (prec, dim) not in roofs:
                roofs[prec, dim] = rate(run([args.xyzmf, "bench", "--roof", "--dim", str(dim), "--precision", prec,
                                             "--repeats", reps]))
            size = ["--dim", str(dim), "--size", str(L)]
            bench = [args.xyzmf, "bench", "--backend", "cpu", "--precision", prec, "--repeats", reps] + size
            four = rate(run(bench + ["--stepper", "four-sweep"]))
            text = run(bench + ["--stepper", "fused"])
            fused, per_pass = rate(text), int(number(r"fused, (\d+) step", text))
            bytes_ = number(r"\(([\d.]+) B/site-step\)", text)
            numba = numpy = float("nan")
            if not args.no_python:
                py_reps = "3" if L ** dim > 1 << 21 else reps
                py = ["--precision", prec, "--repeats", py_reps] + size
                numba = rate(run(["/usr/bin/python3", "tools/bench_numba.py"] + py))
                numpy = rate(run(["/usr/bin/python3", "tools/bench_numpy.py"] + py))
            rows.append((prec, dim, L, four, fused, per_pass, bytes_, roofs[prec, dim], numba, numpy))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# CPU stepping throughput (RK4)",
        "",
        f"Measured {now} on {cpu_model()}, {os.cpu_count()} cores, with `/usr/bin/python3 tools/bench_table.py` "
        f"(xyzmf built by tools/build.sh: Release, -march=native, OpenMP on all cores). Every figure is a median of "
        f"{args.repeats} repeats (numba and numpy: 3 at the largest sizes), all measured in this one session.",
        "",
        f"Memory bandwidth, STREAM-like triad `a = b + s c` (`xyzmf bench --triad`, 24 B/element counted): "
        f"**{triad_gbs:.1f} GB/s** (median of three medians: {', '.join(f'{t:.1f}' for t in triad)}).",
        "",
        "Columns: *four-sweep* = `xyzmf bench --stepper four-sweep` (one sweep per RK stage, 384 B/site-step in "
        "double, 192 in float); *fused* = `xyzmf bench` (the default: one pass over memory per *steps/pass* steps, "
        "48 B per site and pass in double, 24 in float, so *B/site-step* = that / steps per pass); *GB/s* = fused "
        "site-steps/s x B/site-step; *roof* = `xyzmf bench --roof`, the fused "
        "stepper's per-site arithmetic on L1-resident data on every thread, so *fused / roof* is the fraction of "
        "the arithmetic roof reached; *numba* = tools/bench_numba.py (parallel, one fused kernel per RK stage); "
        "*numpy* = tools/bench_numpy.py (np.roll).",
        "",
        "| precision | d | L | sites | four-sweep | fused | steps/pass | fused / four-sweep | B/site-step | fused GB/s | "
        "GB/s / triad | roof | fused / roof | numba | fused / numba | numpy | fused / numpy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for prec, dim, L, four, fused, per_pass, bytes_, roof, numba, numpy in rows:
        gbs = fused * bytes_ / 1e9
        lines.append(f"| {prec} | {dim} | {L} | {L ** dim:,} | {four:.3g} | **{fused:.3g}** | {per_pass} | "
                     f"{fused / four:.2f}x | {bytes_:.0f} | "
                     f"{gbs:.2f} | {gbs / triad_gbs:.2f} | {roof:.3g} | {fused / roof:.2f} | {numba:.3g} | "
                     f"{fused / numba:.1f}x | {numpy:.3g} | {fused / numpy:.1f}x |")
    lines.append("")
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
