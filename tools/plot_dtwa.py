#!/usr/bin/python3
"""Figures of results/dtwa (commands in results/dtwa/run.sh).

    plot_dtwa.py rings -o rings.png NAME:DTWA.json:EXACT.json ...
        <sz>(t) and the nearest-neighbour <sx sx>, <sz sz> of DTWA (`xyzmf dtwa --json`, band:
        two standard errors) against the exact density matrix (`xyzmf quantum --method exact
        --series --json`) and mean field, one column per point.
    plot_dtwa.py order -o order.png [--table T.txt] DTWA.h5 ...
        The 2D benchmark: the order parameter S_xx(k = 0)/N at t_end against Jy for each lattice
        size, errors from the spread of the batch means; Jy in the unnormalised-bond convention
        of the literature (ours over 2d), with mean field's Jy_c.
"""
import argparse
import importlib.util
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import files  # noqa: E402

PROG = "plot_dtwa"


def read_json(path, key):
    """The JSON object of `xyzmf ... --json` in path, which must hold `key`; FileError otherwise."""
    try:
        with open(path) as f:
            j = json.load(f)
    except OSError as e:
        raise files.FileError(path, e.strerror or str(e)) from None
    except ValueError:
        raise files.FileError(path, "not the JSON output of xyzmf") from None
    if not isinstance(j, dict) or key not in j:
        raise files.FileError(path, f"no '{key}' in it (written by the wrong command?)")
    return j


def rings(points, out):
    fig, axes = plt.subplots(2, len(points), figsize=(3.6 * len(points), 6.0), squeeze=False, sharex=True)
    for col, spec in enumerate(points):
        try:
            name, dtwa_path, exact_path = spec.split(":")
        except ValueError:
            raise files.FileError(spec, "expected NAME:DTWA.json:EXACT.json") from None
        d = read_json(dtwa_path, "cxx1")
        e = read_json(exact_path, "series")["series"]
        t = np.array(d["t"])
        top, bottom = axes[0][col], axes[1][col]
        for ax, key, ekey, label, colour in ((top, "sz", "sz", "<sz>", "C0"), (bottom, "cxx1", "cx1", "<sx sx> nn", "C1"),
                                             (bottom, "czz1", "cz1", "<sz sz> nn", "C2")):
            m, s = np.array(d[key], float), np.array(d[key + "_err"], float)
            ax.fill_between(t, m - 2 * s, m + 2 * s, color=colour, alpha=0.35, lw=0)
            ax.plot(t, m, color=colour, lw=1, label=f"{label} DTWA")
            ax.plot(e["t"], e[ekey], "k--", lw=1, label=f"{label} exact" if colour != "C2" else "exact")
        top.axhline(-1, color="grey", lw=1, ls=":", label="mean field")
        bottom.axhline(0, color="C1", lw=1, ls=":")
        bottom.axhline(1, color="C2", lw=1, ls=":", label="mean field")
        top.set_title(f"{name}: J = ({d['Jx']:g}, {d['Jy']:g}, {d['Jz']:g}), {d['trajectories']} traj.", fontsize=9)
        bottom.set_xlabel("t (1/gamma)")
        if col == 0:
            top.set_ylabel("<sz>")
            bottom.set_ylabel("nearest-neighbour correlation")
        top.legend(fontsize=7)
        bottom.legend(fontsize=7)
    fig.suptitle(f"Ring of {d['lattice'].split()[0]}, all spins down at t = 0: DTWA, exact density matrix, mean field", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"plot_dtwa.py: wrote {out}")


def order(paths, out, table):
    rows = []
    for p in paths:
        with files.open_file(p, "dtwa", what="an xyzmf file with /dtwa (written by `xyzmf dtwa -o`)") as f:
            g = f["dtwa"]
            sizes = [int(v) for v in g.attrs["sizes"]]
            N = int(np.prod(sizes))
            done = g["done"][...]
            sk = g["sk_sum"][...]  # (B, 3, ...)
            ok = done > 0
            per_batch = sk[ok, 0].reshape(ok.sum(), -1)[:, 0] / done[ok] / N  # S_xx(0)/N of each batch
            weights = done[ok] / done[ok].sum()
            mean = float(np.sum(weights * per_batch))
            err = float(np.std(per_batch, ddof=1) / np.sqrt(len(per_batch))) if len(per_batch) > 1 else float("nan")
            dim = int(g.attrs["dim"])
            rows.append((sizes[0], float(g.attrs["Jy"]) / (2 * dim), float(g.attrs["Jx"]) / (2 * dim),
                         float(g.attrs["Jz"]) / (2 * dim), mean, err, int(done.sum()), float(g.attrs["t_end"]), dim))
    rows.sort()
    lines = ["L  Jy(lit)  Jx(lit)  Jz(lit)  S_xx(0)/N  err  trajectories  t_end"]
    lines += [f"{L} {jy:.4f} {jx:.4f} {jz:.4f} {m:.5f} {e:.5f} {n} {te:g}" for L, jy, jx, jz, m, e, n, te, _ in rows]
    if table:
        with open(table, "w") as f:
            f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for L in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == L]
        jy = [r[1] for r in sel]
        # (a file of one batch has no error: no bar, as matplotlib cannot draw all-NaN ones)
        err = [0.0 if np.isnan(r[5]) else 2 * r[5] for r in sel]
        ax.errorbar(jy, [r[4] for r in sel], yerr=err, marker="o", ms=3, capsize=2, label=f"L = {L}")
        # S_xx(0) itself: the correlation volume, independent of L while domains are smaller than L
        ax2.errorbar(jy, [r[4] * L ** r[8] for r in sel], yerr=[e * L ** r[8] for e, r in zip(err, sel)], marker="o",
                     ms=3, capsize=2, label=f"L = {L}")
    jx, jz, dim = rows[0][2], rows[0][3], rows[0][8]
    # Mean field (physics.md 3.5): the paramagnet is unstable at k = 0 once (Jx - Jz)(Jy - Jz) < -G^2/4
    # in our couplings (G = gamma/2); ours are 2d times the bond convention's, so there
    # Jy_c = Jz + G^2 / (4 (2d)^2 (Jz - Jx)) (1.039 at Jx = 0.9, Jz = 1 in 2D).
    jyc = jz + 0.25 / (4 * (2 * dim) ** 2 * (jz - jx)) if jz != jx else float("nan")
    for a in (ax, ax2):
        a.axvline(jyc, color="k", ls=":", lw=1, label=f"mean field Jy_c = {jyc:.3f}")
        a.set_xlabel("Jy (bond convention: ours / 2d)")
        a.legend(fontsize=8)
    ax.set_ylabel("S_xx(k = 0) / N at t_end  (order parameter squared)")
    ax2.set_ylabel("S_xx(k = 0) at t_end  (correlation volume, sites)")
    ax2.set_yscale("log")
    ax.set_title(f"DTWA, 2D, Jx = {jx:g}, Jz = {jz:g}, gamma = 1 (bond convention), t = {rows[0][7]:g}", fontsize=9)
    ax2.set_title("the same, times N", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"plot_dtwa.py: wrote {out}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("rings")
    r.add_argument("points", nargs="+")
    r.add_argument("-o", "--output", required=True)
    o = sub.add_parser("order")
    o.add_argument("files", nargs="+")
    o.add_argument("-o", "--output", required=True)
    o.add_argument("--table")
    a = p.parse_args()
    if a.what == "rings":
        rings(a.points, a.output)
    else:
        order(a.files, a.output, a.table)
    return 0


if __name__ == "__main__":
    with files.exit_on_error(PROG):
        main()
