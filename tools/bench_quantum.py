#!/usr/bin/python3
"""Speed of `xyzmf quantum` trajectories on the CPU against QuTiP's mcsolve, same machine, same physics.

  bench_quantum.py [--xyzmf build/xyzmf] [--sizes 10,12] [--large] [--repeats 3] [--threads NPROC] [-o FILE.md]

For each ring size N both tools run T trajectories of the dissipative XYZ ring at (Jx, Jy, Jz) =
(4, 2, 1), gamma = 1, from all spins down (sz = -1; qutip.basis(2, 1) on every site) to t_end,
sampling the site-averaged <sz> every 0.5:
  xyzmf:  xyzmf quantum --sites N --Jx 4 --Jy 2 --Jz 1 --trajectories T --t-end TE --burn-in 0
          --sample-dt 0.5 --backend cpu --json -q --seed S  (OMP_NUM_THREADS = --threads), timed by its
          own "seconds";
  QuTiP:  mcsolve(H, psi0, tlist, c_ops, e_ops=[site-averaged sz], ntraj=T) with default Options
          tolerances (atol 1e-8, rtol 1e-6; xyzmf's --tol is 1e-10 unless --tol is given) and
          num_cpus = --threads, timed by time.perf_counter around the mcsolve call only (building H,
          c_ops, e_ops and psi0 is left out; QuTiP's own setup and worker pool are in).
The rate is trajectories x t_end per second; each is measured --repeats times (fresh seeds) and the
median is reported, with the ratio xyzmf/QuTiP (> 1: xyzmf faster). With --threads > 1 xyzmf also
runs on one thread in the same interleaved loop, and the last columns give that rate and the gain
of the threads over it. As evidence that the physics is
the same, <sz>(t_end) and <sz> averaged over t >= t_end/2 are printed for both, pooled over the
repeats, with standard errors. Defaults keep the whole benchmark to about 5 minutes on 2 cores;
--large adds N = 16 (minutes more). The load average is printed: other work on the machine slows
both tools, xyzmf's fine-grained OpenMP loops more than QuTiP's processes.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf.files import write_report  # noqa: E402
from xyzmf.machine import cpu_model  # noqa: E402

PROG = "bench_quantum"
J = (4.0, 2.0, 1.0)
DT = 0.5
# N: (trajectories, t_end), sized for about 5 minutes on 2 cores with --repeats 3
DEFAULTS = {10: (16, 5.0), 12: (8, 5.0), 16: (2, 2.0)}


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_xyzmf(a, N, T, TE, seed, threads=None):
    cmd = [a.xyzmf, "quantum", "--sites", str(N), "--Jx", f"{J[0]:g}", "--Jy", f"{J[1]:g}", "--Jz", f"{J[2]:g}",
           "--trajectories", str(T), "--t-end", f"{TE:g}", "--burn-in", "0", "--sample-dt", f"{DT:g}",
           "--backend", "cpu", "--seed", str(seed), "--json", "-q"]
    if a.tol is not None:
        cmd += ["--tol", f"{a.tol:g}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads or a.threads))
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    c0, w0 = children_cpu(), time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except OSError as e:
        sys.exit(f"{PROG}: cannot run {a.xyzmf} ({e.strerror}): give the binary with --xyzmf")
    wall, cpu = time.perf_counter() - w0, children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"{PROG}: xyzmf failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
    try:
        d = json.loads(p.stdout)
        s, series = float(d["seconds"]), d["series"]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        sys.exit(f"{PROG}: cannot read xyzmf's --json output ({e}): {p.stdout[:200]!r}")
    if int(d.get("trajectories", T)) != T:
        sys.exit(f"{PROG}: xyzmf ran {d.get('trajectories')} trajectories, asked for {T}")
    t = np.array(series["t"], float)
    sz, err = np.array(series["sz"], float), np.array(series["sz_err"], float)
    late = t >= TE / 2 - 1e-9
    print(f"  xyzmf: {s:.3f} s (wall {wall:.3f} s, cpu {cpu:.2f} s), {d.get('backend', '?')}", file=sys.stderr, flush=True)
    return dict(seconds=s, wall=wall, cpu=cpu, t=t, end=(sz[-1], err[-1]), late=sz[late].mean(), backend=d.get("backend"))


class QutipRing:
    """H, c_ops, e_ops and psi0 of the ring in QuTiP, built once per N (not timed)."""

    def __init__(self, N):
        import qutip as qt
        self.qt = qt

        def op(o, i):
            ops = [qt.qeye(2)] * N
            ops[i] = o
            return qt.tensor(ops)

        sx, sy, sz = qt.sigmax(), qt.sigmay(), qt.sigmaz()
        X, Y, Z = ([op(s, i) for i in range(N)] for s in (sx, sy, sz))
        d = 1  # a ring: H = 1/(2d) sum over bonds, each bond once
        self.H = sum(J[0] * X[i] * X[(i + 1) % N] + J[1] * Y[i] * Y[(i + 1) % N] + J[2] * Z[i] * Z[(i + 1) % N]
                     for i in range(N)) / (2 * d)
        self.c_ops = [op(qt.sigmam(), i) for i in range(N)]  # gamma = 1
        self.e_ops = [sum(Z) / N]
        self.psi0 = qt.tensor([qt.basis(2, 1)] * N)  # every spin down, sz = -1


def run_qutip(ring, a, T, tlist):
    qt = ring.qt
    opts = qt.Options(num_cpus=a.threads, average_expect=False)  # default atol, rtol
    c0, s0, w0 = children_cpu(), self_cpu(), time.perf_counter()
    r = qt.mcsolve(ring.H, ring.psi0, tlist, ring.c_ops, ring.e_ops, ntraj=T, options=opts, progress_bar=None)
    s = time.perf_counter() - w0
    cpu = children_cpu() - c0 + self_cpu() - s0
    e = np.real(np.array(r.expect, dtype=complex))  # (ntraj, 1, times) without averaging
    e = e.reshape(T, -1)
    late = tlist >= tlist[-1] / 2 - 1e-9
    end = (e[:, -1].mean(), e[:, -1].std(ddof=1) / np.sqrt(T) if T > 1 else np.nan)
    print(f"  qutip: {s:.3f} s (cpu {cpu:.2f} s)", file=sys.stderr, flush=True)
    return dict(seconds=s, cpu=cpu, end=end, late_per_traj=e[:, late].mean(axis=1))


def pooled(means_errs):
    """Mean and standard error of equal-size independent groups given as (mean, error)."""
    m = np.array([x[0] for x in means_errs])
    e = np.array([x[1] for x in means_errs])
    return m.mean(), np.sqrt(np.sum(e ** 2)) / len(m)


def parse_sizes(text):
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        sys.exit(f"{PROG}: --sizes {text!r}: expected comma-separated ring sizes, e.g. 10,12")
    if not sizes or any(n < 2 or n > 26 for n in sizes):
        sys.exit(f"{PROG}: --sizes {text!r}: ring sizes must be 2 .. 26")
    return sizes


def parse_map(text, name, kind):
    """'10=8,12=4' -> {10: 8, 12: 4}."""
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            k, v = part.split("=")
            out[int(k)] = kind(v)
        except ValueError:
            sys.exit(f"{PROG}: {name} {text!r}: expected N=VALUE pairs, e.g. 10=8,12=4")
        if out[int(k)] <= 0:
            sys.exit(f"{PROG}: {name} {text!r}: values must be > 0")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xyzmf", default="build/xyzmf", help="path of the xyzmf binary (default build/xyzmf)")
    ap.add_argument("--sizes", default="10,12", help="ring sizes N (default 10,12)")
    ap.add_argument("--large", action="store_true", help="also N = 16")
    ap.add_argument("--repeats", type=int, default=3, help="measurements per tool and N; the median is reported (default 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="OpenMP threads of xyzmf and num_cpus of QuTiP (default: all cores)")
    ap.add_argument("--trajectories", metavar="N=T,...",
                    help="trajectories per size, e.g. 10=8,12=4 (default " +
                         ",".join(f"{n}={v[0]}" for n, v in DEFAULTS.items()) + "; other N: 4)")
    ap.add_argument("--t-end", metavar="N=TE,...",
                    help="t_end per size, e.g. 10=5,12=5 (default " +
                         ",".join(f"{n}={v[1]:g}" for n, v in DEFAULTS.items()) + "; other N: 2)")
    ap.add_argument("--tol", type=float, help="xyzmf's --tol (default: xyzmf's own, 1e-10)")
    ap.add_argument("-o", "--output", help="also write the Markdown report here")
    a = ap.parse_args()
    if a.repeats < 1 or a.threads < 1:
        sys.exit(f"{PROG}: --repeats and --threads must be >= 1")
    if not os.access(a.xyzmf, os.X_OK):
        sys.exit(f"{PROG}: {a.xyzmf}: no such executable (build it, or give it with --xyzmf)")
    sizes = parse_sizes(a.sizes) + ([16] if a.large and 16 not in parse_sizes(a.sizes) else [])
    ntraj = parse_map(a.trajectories, "--trajectories", int)
    tend = parse_map(a.t_end, "--t-end", float)
    try:
        import qutip
    except ImportError:
        sys.exit(f"{PROG}: QuTiP is not importable by {sys.executable} (Debian's /usr/bin/python3 has it)")

    started = datetime.datetime.now().astimezone()
    t_start = time.perf_counter()
    rows, details, checks = [], [], []
    for N in sizes:
        T = ntraj.get(N, DEFAULTS.get(N, (4, 2.0))[0])
        TE = tend.get(N, DEFAULTS.get(N, (4, 2.0))[1])
        print(f"{PROG}: N = {N}: {T} trajectories to t = {TE:g}, {a.repeats} repeats", file=sys.stderr, flush=True)
        load0 = loadavg()
        ring = QutipRing(N)
        xs, qs, x1 = [], [], []
        for k in range(a.repeats):  # interleaved, so both see the same conditions
            xs.append(run_xyzmf(a, N, T, TE, seed=k + 1))
            qs.append(run_qutip(ring, a, T, xs[0]["t"]))
            if a.threads > 1:  # and xyzmf on one thread: what the others add
                x1.append(run_xyzmf(a, N, T, TE, seed=k + 1, threads=1))
        load1 = loadavg()
        xr = statistics.median(T * TE / x["seconds"] for x in xs)
        qr = statistics.median(T * TE / q["seconds"] for q in qs)
        x1r = statistics.median(T * TE / x["seconds"] for x in x1) if x1 else float("nan")
        rows.append(f"| {N} | {T} | {TE:g} | {xr:.3g} | {qr:.3g} | {xr / qr:.3g} | {x1r:.3g} | {xr / x1r:.3g} |")
        xcpu = statistics.median(T * TE / x["cpu"] for x in xs)
        qcpu = statistics.median(T * TE / q["cpu"] for q in qs)
        xsec = ", ".join(f"{x['seconds']:.2f}" for x in xs)
        qsec = ", ".join(f"{q['seconds']:.2f}" for q in qs)
        details.append(f"| {N} | {xsec} | {qsec} | {xcpu:.3g} | {qcpu:.3g} | "
                       f"{load0:.2f} / {load1:.2f} |")
        # the same physics: <sz> at t_end and late in the run, pooled over the repeats
        xe, qe = pooled([x["end"] for x in xs]), pooled([q["end"] for q in qs])
        ql = np.concatenate([q["late_per_traj"] for q in qs])
        ql = (ql.mean(), ql.std(ddof=1) / np.sqrt(len(ql)) if len(ql) > 1 else np.nan)
        xl = np.mean([x["late"] for x in xs])
        z = abs(xe[0] - qe[0]) / np.hypot(xe[1], qe[1]) if np.hypot(xe[1], qe[1]) > 0 else np.inf
        checks.append(f"| {N} | {a.repeats * T} | {xe[0]:+.4f} +- {xe[1]:.4f} | {qe[0]:+.4f} +- {qe[1]:.4f} | "
                      f"{z:.1f} ({'agree' if z <= 2 else 'DIFFER'} at 2 s.e.) | {xl:+.4f} | {ql[0]:+.4f} +- {ql[1]:.4f} |")

    tol = f"{a.tol:g}" if a.tol is not None else "1e-10 (default)"
    lines = [
        "## xyzmf quantum trajectories vs QuTiP mcsolve (CPU)",
        "",
        f"{started:%Y-%m-%d %H:%M %Z}; {os.cpu_count()} CPUs (nproc), {cpu_model()}; "
        f"xyzmf `{a.xyzmf}` ({xs[0]['backend']}), QuTiP {qutip.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}",
        "",
        f"Ring, (Jx, Jy, Jz) = ({J[0]:g}, {J[1]:g}, {J[2]:g}), gamma = 1, from all spins down, site-averaged <sz> "
        f"sampled every {DT:g}; rate = trajectories x t_end / seconds, median of {a.repeats}; "
        f"{a.threads} threads / processes each. QuTiP: mcsolve only (building H, c_ops, e_ops, psi0 not timed), "
        f"default tolerances (atol 1e-8, rtol 1e-6); xyzmf --tol {tol}, its reported `seconds`.",
        "",
        f"| N | trajectories | t_end | xyzmf traj*time/s | QuTiP traj*time/s | ratio xyzmf/QuTiP "
        f"| xyzmf on 1 thread | {a.threads} threads / 1 |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Per measurement: seconds of each repeat; rates per CPU-second (user + system of the process and its "
        "children); load average (1 min) before / after.",
        "",
        "| N | xyzmf s | QuTiP s | xyzmf traj*time/CPU-s | QuTiP traj*time/CPU-s | load |",
        "|---|---|---|---|---|---|",
        *details,
        "",
        "Same physics: site-averaged <sz>, pooled over the repeats (independent seeds), +- standard error; "
        "'late' = averaged over t >= t_end/2.",
        "",
        "| N | trajectories | xyzmf <sz>(t_end) | QuTiP <sz>(t_end) | difference / s.e. | xyzmf late | QuTiP late |",
        "|---|---|---|---|---|---|---|",
        *checks,
        "",
        f"Total {time.perf_counter() - t_start:.0f} s.",
    ]
    if a.output:
        write_report(a.output, lines)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
