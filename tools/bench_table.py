#!/usr/bin/python3
"""Measure the CPU benchmark table of results/bench/: xyzmf bench vs numpy RK4 vs a STREAM triad, one session."""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

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


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per case (medians are reported)")
    ap.add_argument("-o", "--output", default="results/bench/cpu.md", help="markdown table to write")
    args = ap.parse_args()

    triad = [number(r"median ([\d.]+) GB/s", run([args.xyzmf, "bench", "--triad", "--repeats", str(args.repeats)]))
             for _ in range(3)]
    triad_gbs = sorted(triad)[1]
    rows = []
    for prec in ("double", "float"):
        for dim, L in CASES:
            size = ["--dim", str(dim), "--size", str(L)]
            x = run([args.xyzmf, "bench", "--backend", "cpu", "--precision", prec, "--repeats", str(args.repeats)] + size)
            np_reps = "3" if L ** dim > 1 << 21 else str(args.repeats)
            n = run(["/usr/bin/python3", "tools/bench_numpy.py", "--precision", prec, "--repeats", np_reps] + size)
            rows.append((prec, dim, L, number(r"median ([\d.e+]+) site-steps/s", x), number(r"\| ([\d.]+) GB/s", x),
                         number(r"median ([\d.e+]+) site-steps/s", n)))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# CPU stepping throughput (RK4)",
        "",
        f"Measured {now} on {cpu_model()}, {os.cpu_count()} cores, with `/usr/bin/python3 tools/bench_table.py` "
        f"(xyzmf built by tools/build.sh: Release, -march=native, OpenMP on all cores). Every figure is a median of "
        f"{args.repeats} repeats (numpy: 3 at the largest sizes) measured in this one session.",
        "",
        f"Memory bandwidth, STREAM-like triad `a = b + s c` (`xyzmf bench --triad`, 24 B/element counted): "
        f"**{triad_gbs:.1f} GB/s** (median of three medians: {', '.join(f'{t:.1f}' for t in triad)}).",
        "",
        "GB/s = site-steps/s x the bytes an RK4 step must move (384 B/site in double, 192 in float: 9 reads + "
        "7 writes of a 3-vector, docs/ARCHITECTURE.md). numpy = tools/bench_numpy.py, the same equations with np.roll.",
        "",
        "| precision | d | L | sites | xyzmf site-steps/s | xyzmf GB/s | GB/s / triad | numpy site-steps/s | xyzmf / numpy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for prec, dim, L, rate, gbs, nrate in rows:
        lines.append(f"| {prec} | {dim} | {L} | {L ** dim:,} | {rate:.3g} | {gbs:.2f} | {gbs / triad_gbs:.2f} | "
                     f"{nrate:.3g} | {rate / nrate:.1f}x |")
    lines.append("")
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
