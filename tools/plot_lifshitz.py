#!/usr/bin/python3
"""Fig. 3(a) of the paper: the most unstable wave vector k (d = 1) along the lower PM boundary
in the (Jx, Jy) plane, against Jx, with the Lifshitz point where k leaves 0 (physics.md 3.7).
Runs `xyzmf stability --json --dim 1 --lifshitz` on a grid; for every Jx column it walks down
from the diagonal Jy = Jx (XXZ: always PM) to the first unstable Jy, interpolates u = cos k to
growth = 0, and plots k = arccos(u). Columns whose first instability is not FM or SDW (e.g. the
AFM edge at Jy < 0 for small Jx) are left out. The dashed curve is the closed form of 3.7."""
import argparse
import json
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def axis(text, opt):
    try:
        lo, hi, n = text.split(":")
        lo, hi, n = float(lo), float(hi), int(n)
    except ValueError:
        sys.exit(f"plot_lifshitz: {opt} {text}: expected LO:HI:N")
    if n < 2 or hi <= lo:
        sys.exit(f"plot_lifshitz: {opt} {text}: need HI > LO and N >= 2")
    return lo, hi, n


def find_binary(path):
    if path:
        if not os.access(path, os.X_OK):
            sys.exit(f"plot_lifshitz: {path}: not an executable")
        return path
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "xyzmf")
    found = here if os.access(here, os.X_OK) else shutil.which("xyzmf")
    if not found:
        sys.exit("plot_lifshitz: no xyzmf binary (build/xyzmf or on PATH); give --xyzmf PATH")
    return found


def lower_boundary(x, y, phase, growth, u):
    """Per Jx column: (Jy, u, phase) at the first growth > 0 walking down from Jy = Jx, interpolated to growth = 0."""
    out = np.full((len(x), 3), np.nan)
    for ix, jx in enumerate(x):
        iy = np.searchsorted(y, jx, side="right") - 1
        while iy >= 0 and growth[iy, ix] <= 0:
            iy -= 1
        if iy < 0 or iy == len(y) - 1:
            continue  # nothing unstable below the diagonal, or no stable point above it on the grid
        g0, g1 = growth[iy + 1, ix], growth[iy, ix]  # stable, unstable
        f = g0 / (g0 - g1)
        out[ix] = (y[iy + 1] + f * (y[iy] - y[iy + 1]), u[iy + 1, ix] + f * (u[iy, ix] - u[iy + 1, ix]), phase[iy, ix])
    return out


def closed_form(jx, jz, g):
    """physics.md 3.7 (Jz > 0): Jy on the SDW boundary (Jx - Jy)^2 / (Jx Jy) = G^2 / Jz^2 and k = arccos(min(u*, 1))."""
    c = (g / jz) ** 2
    r = (2 + c - np.sqrt((2 + c) ** 2 - 4)) / 2  # Jy / Jx, the root below the diagonal
    ustar = jz * (1 + r) / (2 * jx * r)
    return np.arccos(np.clip(ustar, -1, 1)) / np.pi


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--Jz", type=float, default=1.0, help="Jz, units of gamma (default 1, the paper's Fig. 1(a))")
    ap.add_argument("--gamma", type=float, default=1.0, help="decay rate gamma (default 1)")
    ap.add_argument("--gamma-phi", type=float, default=0.0, help="dephasing rate gamma_phi (default 0)")
    ap.add_argument("--jx", default="0.5:6:276", metavar="LO:HI:N", help="Jx grid (default 0.5:6:276)")
    ap.add_argument("--jy", default="-1:6:701", metavar="LO:HI:N", help="Jy grid, must reach below the boundary (default -1:6:701)")
    ap.add_argument("--xyzmf", metavar="PATH", help="xyzmf binary (default: ../build/xyzmf next to this script, else PATH)")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    args = ap.parse_args()
    (xlo, xhi, nx), (ylo, yhi, ny) = axis(args.jx, "--jx"), axis(args.jy, "--jy")

    cmd = [find_binary(args.xyzmf), "stability", "--json", "--dim", "1", "--lifshitz", "--x", f"Jx:{xlo:g}:{xhi:g}:{nx}",
           "--y", f"Jy:{ylo:g}:{yhi:g}:{ny}", "--Jz", f"{args.Jz:g}", "--gamma", f"{args.gamma:g}",
           "--gamma-phi", f"{args.gamma_phi:g}"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"plot_lifshitz: {' '.join(cmd)} failed: {res.stderr.strip().splitlines()[-1:] or res.returncode}")
    try:
        d = json.loads(res.stdout)
        x, y = np.array(d["x"]["values"]), np.array(d["y"]["values"])
        grid = [np.array(d[key], dtype=float).reshape(len(y), len(x)) for key in ("phase", "growth", "u")]
    except (ValueError, KeyError) as e:
        sys.exit(f"plot_lifshitz: unexpected JSON from xyzmf stability ({e})")

    b = lower_boundary(x, y, *grid)
    ok = np.isin(b[:, 2], (1, 3))  # FM or SDW
    if not ok.any():
        sys.exit(f"plot_lifshitz: no FM/SDW edge below the diagonal on this grid (Jz = {args.Jz:g}); widen --jx/--jy")
    k = np.where(ok, np.arccos(np.clip(b[:, 1], -1, 1)) / np.pi, np.nan)
    lps = [p for p in d.get("lifshitz", []) if p["Jx"] > p["Jy"] and xlo <= p["Jx"] <= xhi]

    fig, (ax, axb) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.plot(x[ok & (b[:, 2] == 1)], k[ok & (b[:, 2] == 1)], ".", color="red", ms=4, label="xyzmf: FM edge (k = 0)")
    ax.plot(x[ok & (b[:, 2] == 3)], k[ok & (b[:, 2] == 3)], ".", color="green", ms=4, label="xyzmf: SDW edge")
    if args.Jz > 0:  # from the first FM/SDW column on (not where the walk ends on another edge)
        xs = np.linspace(x[ok].min(), xhi, 800)
        ax.plot(xs, closed_form(xs, args.Jz, args.gamma / 2 + 2 * args.gamma_phi), "k--", lw=0.8,
                label="closed form, physics.md 3.7")
    for lp in lps:
        for a in (ax, axb):
            a.axvline(lp["Jx"], color="0.4", ls="--", lw=1)
        ax.text(lp["Jx"], 0.97, f" Lifshitz point Jx = {lp['Jx']:.4f}", va="top", transform=ax.get_xaxis_transform())
    ax.set_xlabel("Jx / gamma")
    ax.set_ylabel("most unstable k / pi (d = 1)")
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(bottom=-0.02)
    ax.legend(loc="center right", fontsize=9)
    ax.set_title("unstable wave vector along the lower PM boundary")

    axb.plot(x[ok], b[ok, 0], "-", color="k", label="lower PM boundary")
    axb.plot([xlo, xhi], [xlo, xhi], ":", color="0.5", label="Jy = Jx (XXZ, PM)")
    for lp in lps:
        axb.plot(lp["Jx"], lp["Jy"], "*", color="gold", mec="k", ms=13, label=f"Lifshitz point ({lp['Jx']:.4f}, {lp['Jy']:.4f})")
    axb.set_xlabel("Jx / gamma")
    axb.set_ylabel("Jy / gamma")
    axb.set_xlim(xlo, xhi)
    axb.set_ylim(ylo, yhi)
    axb.legend(fontsize=8, loc="upper left")
    axb.set_title("where: the boundary in the (Jx, Jy) plane")
    fig.suptitle(f"Jz = {args.Jz:g}, gamma = {args.gamma:g}, gamma_phi = {args.gamma_phi:g}, grid {nx} x {ny}")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot_lifshitz: {int(ok.sum())} of {nx} Jx columns on the FM/SDW edge; "
          + (", ".join(f"Lifshitz point Jx = {p['Jx']:.4f}, Jy = {p['Jy']:.4f}" for p in lps) or "no Lifshitz point in range"))
    print(f"plot_lifshitz: wrote {args.output}")


if __name__ == "__main__":
    main()
