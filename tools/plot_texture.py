#!/usr/bin/python3
"""Plot the sXY texture of an xyzmf state: the phase field psi (atan2(y, x) on A sites, (i + j)
even; atan2(Jx x, -Jy y) on B sites) with the in-plane spins as arrows and the vortices (+) and
antivortices (o) found by `xyzmf analyze`, next to the plain angle atan2(y, x). 2D lattices;
3D: the z = 0 plane."""
import argparse
import importlib.util
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from mpl_toolkits.axes_grid1 import make_axes_locatable  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import fields, files  # noqa: E402


def load(path, snapshot):
    f = files.open_file(path, "parameters")
    name = files.pick_state(f, snapshot)
    if "spins" not in f[name]:
        sys.exit(f"plot_texture: {path}: {name} has no spins (an `analyze --out` file? plot the run file)")
    return f, name


def windings(angle):
    """Number of plaquettes (periodic) around which the angle winds by a nonzero multiple of 2 pi."""
    return int(np.count_nonzero(fields.plaquette_windings(angle)))  # masked (NaN) corners: not counted


def parse_crop(text, lx, ly):
    try:
        (x0, x1), (y0, y1) = [[int(v) if v else None for v in part.split(":")] for part in text.split(",")]
    except ValueError:
        sys.exit(f"plot_texture: --crop {text}: expected X0:X1,Y0:Y1 (integers, either end may be empty)")
    x0, x1, _ = slice(x0, x1).indices(lx)
    y0, y1, _ = slice(y0, y1).indices(ly)
    if x1 <= x0 or y1 <= y0:
        sys.exit(f"plot_texture: --crop {text}: empty window on a {lx}x{ly} lattice")
    return x0, x1, y0, y1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", help="HDF5 file written by `xyzmf run` (vortices need `--analyze` or `xyzmf analyze`)")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--snapshot", type=int, metavar="N",
                    help="snapshot N instead of the final state (default: final, else the last snapshot)")
    ap.add_argument("--crop", metavar="X0:X1,Y0:Y1",
                    help="window in sites (Python slice rules, either end may be empty), e.g. 0:32,16:48")
    ap.add_argument("--every", type=int, metavar="K",
                    help="draw every K-th spin as an arrow (default: about 64 arrows per side)")
    args = ap.parse_args()

    f, name = load(args.file, args.snapshot)
    g, p = f[name], f["parameters"].attrs
    dim, jx, jy = int(p["dim"]), float(p["Jx"]), float(p["Jy"])
    if dim == 1:
        sys.exit(f"plot_texture: {args.file}: 1D lattice has no 2D texture (use plot_run.py)")
    if jx * jy == 0:
        sys.exit(f"plot_texture: {args.file}: the sXY phase field needs Jx Jy != 0 (Jx={jx:g}, Jy={jy:g}); "
                 f"use plot_run.py")
    s = g["spins"][...]
    if dim == 3:
        s = s[0]  # the z = 0 plane
    x, y = s[..., 0], s[..., 1]
    ly, lx = x.shape
    an = g["analysis"] if "analysis" in g else None
    amin = float(an.attrs.get("threshold_vortex_amplitude", 0.02)) if an is not None else 0.02
    j, i = np.indices(x.shape)
    psi = np.ma.masked_invalid(fields.psi(s, jx, jy, amin))
    phi = np.arctan2(y, x)

    x0, x1, y0, y1 = parse_crop(args.crop, lx, ly) if args.crop else (0, lx, 0, ly)
    win = (slice(y0, y1), slice(x0, x1))
    every = args.every if args.every is not None else max(1, int(np.ceil(max(x1 - x0, y1 - y0) / 64)))
    if every < 1:
        sys.exit("plot_texture: --every must be at least 1")
    extent = (x0 - 0.5, x1 - 0.5, y0 - 0.5, y1 - 0.5)
    aspect = (y1 - y0) / (x1 - x0)
    fig, ax = plt.subplots(1, 2, figsize=(14, min(max(5.4 * aspect, 2.5), 12) + 1.8))
    for a, field, label in ((ax[0], psi, "sXY phase psi"), (ax[1], phi, "atan2(y, x)")):
        im = a.imshow(field[win], cmap="twilight", vmin=-np.pi, vmax=np.pi, origin="lower",
                      interpolation="nearest", extent=extent)
        cb = fig.colorbar(im, cax=make_axes_locatable(a).append_axes("right", size="4%", pad=0.1), label=label)
        cb.set_ticks(np.linspace(-np.pi, np.pi, 5), labels=["-pi", "-pi/2", "0", "pi/2", "pi"])
        a.set_xlabel("x")
        a.set_ylabel("y")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.yaxis.set_major_locator(MaxNLocator(integer=True))
    qy, qx = j[win][::every, ::every], i[win][::every, ::every]
    u, v = x[qy, qx], y[qy, qx]
    longest = max(np.hypot(u, v).max(), 1e-12)  # the longest arrow spans 0.9 * every sites
    ax[0].quiver(qx, qy, u, v, pivot="middle", angles="xy", scale_units="xy", scale=longest / (0.9 * every),
                 color="k", width=0.0025, headwidth=3.5, headlength=4, alpha=0.75)
    plane = " (z = 0 plane)" if dim == 3 else ""
    marked = an is not None and "vortex_positions" in an
    if not marked:
        why = ("no vortex analysis: run xyzmf analyze" if an is None else
               "no vortices in the analysis (not an sXY point: Jz = 0, Jx Jy < 0)")
        ax[0].set_title(f"psi and in-plane spins (every {every}){plane}\n{why}")
    else:
        pos, q = fields.plane_vortices(an, dim)  # in 3D: the z = 0 plane's
        # plaquettes across the periodic boundary have centres on the image edge (x = Lx - 0.5): kept
        keep = (pos[:, 0] >= x0 - 0.5) & (pos[:, 0] <= x1 - 0.5) & (pos[:, 1] >= y0 - 0.5) & (pos[:, 1] <= y1 - 0.5)
        for sel, mk, col, lab in ((q > 0, "P", "red", "vortices"), (q < 0, "o", "blue", "antivortices")):
            pts = pos[keep & sel]
            ms = np.clip(500 / max(x1 - x0, y1 - y0), 6, 10)
            ax[0].plot(pts[:, 0], pts[:, 1], mk, ms=ms, mfc=col, mec="white", mew=ms / 10, ls="none", clip_on=False,
                       label=f"{lab}: {len(pts)} shown")
        total = (f"{an.attrs.get('vortices', '?')} vortices, {an.attrs.get('antivortices', '?')} antivortices "
                 f"in the lattice")
        if dim == 3:
            total += f" ({an.attrs.get('vortex_lines', '?')} lines)"
        ax[0].set_title(f"psi, in-plane spins (every {every}), vortices{plane}\n{total}")
        fig.legend(loc="lower center", ncol=2, fontsize=9)
    ax[1].set_title(f"plain in-plane angle atan2(y, x){plane}\n"
                    f"winds around {windings(phi)} of the {phi.size} plaquettes "
                    f"(psi: {windings(psi.filled(np.nan))})")
    t = float(g["t"][()])
    phase = f", phase: {an.attrs.get('phase', '?')}" if an is not None else ""
    fig.suptitle(f"{os.path.basename(args.file)} {name}: Jx={jx:g} Jy={jy:g} Jz={p['Jz']:g} gamma={p['gamma']:g} "
                 f"gamma_phi={p['gamma_phi']:g}, {'x'.join(str(v) for v in p['sizes'])}, t={t:g}{phase}")
    fig.tight_layout(rect=(0, 0.05 if marked else 0, 1, 1))
    fig.savefig(args.output, dpi=110)
    print(f"plot_texture: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_texture"):
        main()
