#!/usr/bin/python3
"""Plot sXY vortex coarsening: vortex (solid) and antivortex (dashed) counts against t on log-log
axes, one colour per file, from /analysis/coarsening (written by `xyzmf analyze FILE --all-snapshots`
or `xyzmf run --analyze`). t = 0 and zero counts are left out."""
import argparse
import importlib.util
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import files  # noqa: E402


def load(path):
    f = files.open_file(path, "parameters")
    if "/analysis/coarsening" not in f:
        sys.exit(f"plot_vortex_count: {path}: no /analysis/coarsening: run `xyzmf analyze {path} --all-snapshots`")
    c = f["/analysis/coarsening"]
    t, nv, na = c["t"][...], c["vortices"][...], c["antivortices"][...]
    p = f["parameters"].attrs
    if int(p["dim"]) == 1:
        sys.exit(f"plot_vortex_count: {path}: a 1D lattice has no vortices")
    if not np.isfinite(nv).any():
        sys.exit(f"plot_vortex_count: {path}: no vortex counts (not an sXY point: Jx={p['Jx']:g} Jy={p['Jy']:g} "
                 f"Jz={p['Jz']:g})")
    return f, t, nv, na


def positive(t, n):
    keep = (t > 0) & np.isfinite(n) & (n > 0)
    return t[keep], n[keep]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="+", metavar="FILE", help="HDF5 files with /analysis/coarsening")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--fit", action="store_true",
                    help="fit n ~ t^-a to the vortex counts over the later half of each file's points "
                         "(printed and drawn dotted)")
    args = ap.parse_args()

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    params = []
    for i, path in enumerate(args.files):
        f, t, nv, na = load(path)
        p = f["parameters"].attrs
        params.append(tuple(float(p[k]) for k in ("Jx", "Jy", "Jz", "gamma", "gamma_phi")))
        color = f"C{i % 10}"
        label = f"{os.path.basename(path)} (L = {'x'.join(str(v) for v in p['sizes'])})"
        tv, v = positive(t, nv)
        ta, a = positive(t, na)
        if len(tv) == 0 and len(ta) == 0:
            print(f"plot_vortex_count: {path}: no vortices after t = 0, nothing to draw", file=sys.stderr)
            continue
        ax.loglog(tv, v, "o-", color=color, ms=4, label=label + ": vortices")
        ax.loglog(ta, a, "s--", color=color, ms=7, mfc="none", label="antivortices (dashed)")
        if args.fit:
            late = slice(len(tv) // 2, None)
            if len(tv[late]) < 2:
                print(f"plot_vortex_count: {path}: too few points to fit ({len(tv)} with t > 0, n > 0)",
                      file=sys.stderr)
                continue
            slope, icpt = np.polyfit(np.log(tv[late]), np.log(v[late]), 1)
            tf = tv[late]
            ax.loglog(tf, np.exp(icpt) * tf ** slope, ":", color="k", lw=2.5,
                      label=f"fit: t^-{-slope:.2f}" if slope <= 0 else f"fit: t^+{slope:.2f}")
            print(f"plot_vortex_count: {path}: vortices ~ t^-a, a = {-slope:.3f} "
                  f"(fit over t in [{tf[0]:g}, {tf[-1]:g}], {len(tf)} points)")
    if not ax.lines:
        sys.exit("plot_vortex_count: no vortex counts to plot")
    ax.set_xlabel("t (1/gamma)")
    ax.set_ylabel("number of (anti)vortices")
    ax.grid(True, which="both", alpha=0.3)
    for axis in (ax.xaxis, ax.yaxis):  # label some minor ticks when the data span only a decade or two
        axis.set_major_formatter(LogFormatter())
        axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.legend(fontsize=8)
    if len(set(params)) == 1:
        jx, jy, jz, g, gp = params[0]
        ax.set_title(f"vortex coarsening, Jx={jx:g} Jy={jy:g} Jz={jz:g} gamma={g:g} gamma_phi={gp:g}")
    else:
        ax.set_title("vortex coarsening (couplings differ between files)")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot_vortex_count: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_vortex_count"):
        main()
