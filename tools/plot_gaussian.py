#!/usr/bin/python3
"""Maps of the Gaussian fluctuation theory from `xyzmf gaussian -o FILE.h5 --x ... --y ...`.

--what xi2 draws the paper's Fig. 3(b): the squeezing xi^2 of the k = 0 and k = pi modes (the
smaller of the two where they differ; at Jz = 0 they are equal). --what rate draws the slowest
relaxation rate, --what sz the excitation density <sz> + 1 (log scale: it diverges at the PM
boundary in d = 1 and 2). Where the paramagnet is unstable the theory does not apply and the map is
left white (at Jz = 0 that region is the sXY phase); the black line is that boundary.
"""
import argparse
import importlib.util
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import files  # noqa: E402

WHAT = {
    "xi2": ("squeezing $\\xi^2$ of k = 0, $\\pi$ (Gaussian theory)", "$\\xi^2$", "viridis"),
    "rate": ("slowest relaxation rate (Gaussian poles)", "rate / $\\gamma$", "magma"),
    "sz": ("excitation density $\\langle\\sigma^z\\rangle + 1$", "$\\langle\\sigma^z\\rangle + 1$", "cividis"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", help="HDF5 file written by `xyzmf gaussian -o` over a map (--x, --y)")
    ap.add_argument("--what", choices=sorted(WHAT), default="xi2", help="which map to draw (default xi2)")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    a = ap.parse_args()
    f = files.open_file(a.file, "gaussian", what="an xyzmf file with /gaussian (written by `xyzmf gaussian -o`)")
    g = f["gaussian"]
    x, y = g["x"][()], g["y"][()]
    if len(x) < 2 or len(y) < 2:
        sys.exit(f"plot_gaussian: {a.file}: one point, not a map (run with --x and --y)")
    applies = g["applies"][()] == 1
    if a.what == "xi2":
        v = np.fmin(g["xi2_k0"][()], g["xi2_kpi"][()])
    elif a.what == "rate":
        v = g["relaxation_rate"][()]
    else:
        v = g["sz"][()] + 1
    v = np.where(applies, v, np.nan)
    title, label, cmap = WHAT[a.what]
    attrs = {k: g.attrs[k] for k in g.attrs}
    fixed = ", ".join(f"{k} = {float(attrs[k]):g}" for k in ("Jz", "gamma")
                      if k in attrs and k not in (attrs["x_name"], attrs["y_name"]))
    lattice = str(attrs.get("lattice", ""))
    dim = int(attrs.get("dim", 2))

    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    edges = [x[0] - (x[1] - x[0]) / 2, x[-1] + (x[1] - x[0]) / 2, y[0] - (y[1] - y[0]) / 2, y[-1] + (y[1] - y[0]) / 2]
    norm = LogNorm(vmin=np.nanmax([np.nanmin(v), 1e-6]), vmax=np.nanmax(v)) if a.what == "sz" else None
    im = ax.imshow(v, origin="lower", extent=edges, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.contour(x, y, applies.astype(float), levels=[0.5], colors="k", linewidths=0.8)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_xlabel(f"{attrs['x_name']} / $\\gamma$")
    ax.set_ylabel(f"{attrs['y_name']} / $\\gamma$")
    where = "infinite" if lattice.startswith("infinite") else lattice
    ax.set_title(f"{title}\n{fixed}, {where} {dim}D lattice\nwhite: PM unstable, no Gaussian steady state",
                 fontsize=8.5)
    fig.tight_layout()
    fig.savefig(a.output, dpi=130)
    ok = v[applies]
    print(f"plot_gaussian: {a.what}: {applies.sum()} of {applies.size} points apply, range "
          f"{np.nanmin(ok):.4g} .. {np.nanmax(ok):.4g}; wrote {a.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_gaussian"):
        main()
