#!/usr/bin/python3
"""Plot an xyzmf run file: the final (or a snapshot's) spin texture and the time series.

Where Jx Jy != 0 the first panel is the sXY phase field psi (atan2(y, x) on A sites, i + j
even; atan2(Jx x, -Jy y) on B sites), which is smooth inside an sXY domain, with the vortices
(white +) and antivortices (black o) that `run --analyze` or `xyzmf analyze` stored; the plain
angle atan2(y, x) alternates between the sublattices there and would wind everywhere."""
import argparse
import importlib.util
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import fields, files  # noqa: E402


def load(path, snapshot):
    f = files.open_file(path)
    group = f[files.pick_state(f, snapshot)]
    return f, group, group["spins"][...], float(group["t"][()])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", help="HDF5 file written by `xyzmf run`")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--snapshot", type=int, help="snapshot index to show instead of the final state")
    args = ap.parse_args()

    f, group, s, t = load(args.file, args.snapshot)
    p = f["parameters"].attrs
    dim = int(p["dim"])
    if dim == 3:
        s = s[0]  # the z = 0 plane
    title = (f"Jx={p['Jx']:g} Jy={p['Jy']:g} Jz={p['Jz']:g} gamma={p['gamma']:g} "
             f"gamma_phi={p['gamma_phi']:g}, {'x'.join(str(v) for v in p['sizes'])}, t={t:g}")

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.8))
    if dim == 1:
        for c, name in enumerate("xyz"):
            ax[0].plot(s[:, c], ".-", label=name)
        ax[0].set_xlabel("site")
        ax[0].legend()
        ax[0].set_title("spins along the chain")
        ax[1].plot(np.arctan2(s[:, 1], s[:, 0]), ".")
        ax[1].set_ylim(-np.pi, np.pi)
        ax[1].set_xlabel("site")
        ax[1].set_ylabel("atan2(y, x)")
        ax[1].set_title("in-plane angle (domain walls are its jumps)")
    else:
        x, y = s[..., 0], s[..., 1]
        jx, jy = float(p["Jx"]), float(p["Jy"])
        plane = " (z = 0 plane)" if dim == 3 else ""
        if jx * jy != 0:
            psi = np.ma.masked_invalid(fields.psi(s, jx, jy, 0.02))  # undefined without in-plane amplitude
            im = ax[0].imshow(psi, cmap="hsv", vmin=-np.pi, vmax=np.pi, origin="lower", interpolation="nearest")
            fig.colorbar(im, ax=ax[0], label="sXY phase psi (rad)")
            panel = "sXY phase field psi" + plane
            a = group.get("analysis")
            if a is not None and "vortex_positions" in a:
                pos, q = fields.plane_vortices(a, dim)  # in 3D: the z = 0 plane's
                ax[0].plot(pos[q > 0, 0], pos[q > 0, 1], "w+", ms=6, mew=1.5, label=f"vortex ({(q > 0).sum()})")
                ax[0].plot(pos[q < 0, 0], pos[q < 0, 1], "ko", ms=4, mfc="none", mew=1.2,
                           label=f"antivortex ({(q < 0).sum()})")
                ax[0].legend(loc="upper right", fontsize=7, framealpha=0.8)
                panel += ", vortices"
            else:
                panel += " (vortices: run --analyze)"
            ax[0].set_title(panel)
        else:
            phi = np.arctan2(y, x)
            im = ax[0].imshow(phi, cmap="hsv", vmin=-np.pi, vmax=np.pi, origin="lower", interpolation="nearest")
            fig.colorbar(im, ax=ax[0], label="atan2(y, x)")
            ax[0].set_title("in-plane angle" + plane)
        im = ax[1].imshow(s[..., 2], cmap="viridis", origin="lower", interpolation="nearest")
        fig.colorbar(im, ax=ax[1], label="z")
        ax[1].set_title("z component")
        for a in ax[:2]:
            a.set_xlabel("x")
            a.set_ylabel("y")

    ts = f["timeseries"]
    tt = ts["t"][...]
    if len(tt):
        mean, stag = ts["mean"][...], ts["staggered"][...]
        ax[2].plot(tt, np.hypot(mean[:, 0], mean[:, 1]), label="|mean (x, y)|")
        ax[2].plot(tt, np.hypot(stag[:, 0], stag[:, 1]), label="|staggered (x, y)|")
        ax[2].plot(tt, mean[:, 2], label="mean z")
        ax2 = ax[2].twinx()
        ax2.semilogy(tt, np.maximum(ts["residual"][...], 1e-300), "k:", label="residual max|ds/dt|")
        ax2.set_ylabel("residual")
        ax[2].set_xlabel("t (1/gamma)")
        ax[2].legend(loc="center right", fontsize=8)
        ax[2].set_title("time series")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot_run: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_run"):
        main()
