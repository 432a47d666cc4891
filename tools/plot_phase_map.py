#!/usr/bin/python3
"""Phase map in the style of the paper's Fig. 1: the linear-stability prediction of `xyzmf stability`
(left) and, with --sweep, what the dynamics of `xyzmf sweep` formed (right). Both panels carry the PM
boundary (growth = 0 of the stability map) and the Lifshitz points; 'x' marks points whose dynamics
disagree with the prediction. Hatched light cells are domains of the order of the same colour.
A sweep alone (--sweep without --stability) draws the prediction the sweep stored for its own grid
and lattice (/sweep/predicted, predicted_growth), without Lifshitz points."""
import argparse
import importlib.util
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import codes, files  # noqa: E402

NAMES = [codes.PHASE_NAMES[c] for c in range(5)]  # PM, FM, AFM, SDW, sXY: codes 0-4
COLOURS = np.array([matplotlib.colors.to_rgb(c) for c in ("#d9d9d9", "red", "blue", "green", "purple")])
TIE_CODE, TIE_COLOUR = codes.PHASE_CODES["FM/AFM"], matplotlib.colors.to_rgb("orange")  # k = 0 and k = pi grow equally


def load(path, group):
    source = "stability" if group == "map" else "sweep"
    return files.open_file(path, group, what=f"an xyzmf file with /{group} (written by `xyzmf {source}`)")[group]


def extent(x, y):
    """imshow edges around cell centres x, y (spacing 1 for a single cell)."""
    dx = x[1] - x[0] if len(x) > 1 else 1.0
    dy = y[1] - y[0] if len(y) > 1 else 1.0
    return (x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2), dx, dy


def pick_replicas(phase, replica):
    """Index (ny, nx) of the replica to show: the given one, or the first one with the majority phase."""
    if replica is not None:
        if not 0 <= replica < phase.shape[2]:
            sys.exit(f"plot_phase_map: --replica {replica} out of range (the sweep has {phase.shape[2]})")
        return np.full(phase.shape[:2], replica)
    counts = np.stack([(phase == c).sum(axis=2) for c in range(-1, 7)], axis=-1)
    majority = np.argmax(counts, axis=-1) - 1  # ties: the lower code
    return np.argmax(phase == majority[..., None], axis=2)


def overlay(ax, m, ext):
    x, y = m["x"][...], m["y"][...]
    if len(x) > 1 and len(y) > 1:
        ax.contour(x, y, m["growth"][...], levels=[0.0], colors="k", linewidths=1.2)
    if "lifshitz_points" in m and m.attrs["x_name"] == "Jx" and m.attrs["y_name"] == "Jy":
        lp = m["lifshitz_points"][...].reshape(-1, 2)
        ax.plot(lp[:, 0], lp[:, 1], "*", color="gold", mec="k", ms=13, zorder=5)
    ax.set_xlim(ext[:2])
    ax.set_ylim(ext[2:])
    ax.set_aspect("equal")
    ax.set_xlabel(f"{m.attrs['x_name']} / gamma")
    ax.set_ylabel(f"{m.attrs['y_name']} / gamma")


class stored_prediction:
    """The linear-stability prediction a sweep file stores for its own grid and lattice, in the
    shape of a stability map's /map group (phase, growth, x, y and the attributes read here)."""

    def __init__(self, s):
        self.data = {"x": s["x"], "y": s["y"], "phase": s["predicted"], "growth": s["predicted_growth"]}
        a = s.attrs
        self.attrs = {k: a[k] for k in ("x_name", "y_name", "Jx", "Jy", "Jz", "gamma", "gamma_phi", "dim")}
        self.attrs["lattice"] = "x".join(str(v) for v in a["sizes"]) + " lattice, as the sweep's"

    def __getitem__(self, key):
        return self.data[key]

    def __contains__(self, key):
        return key in self.data


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stability", metavar="MAP.h5",
                    help="HDF5 file written by `xyzmf stability -o` (a finer grid and the Lifshitz points; "
                         "default with --sweep: the prediction the sweep stored on its own grid)")
    ap.add_argument("--sweep", metavar="SWEEP.h5", help="HDF5 file written by `xyzmf sweep` (adds the dynamics panel)")
    ap.add_argument("--replica", type=int, help="sweep replica to show (default: per point the majority phase over replicas)")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--title", help="figure title (default: the fixed parameters)")
    args = ap.parse_args()
    if not args.stability and not args.sweep:
        ap.error("give --stability MAP.h5, --sweep SWEEP.h5, or both")

    s = load(args.sweep, "sweep") if args.sweep else None
    m = load(args.stability, "map") if args.stability else stored_prediction(s)
    ma = m.attrs
    if s is not None:
        for key in ("x_name", "y_name"):
            if s.attrs[key] != ma[key]:
                sys.exit(f"plot_phase_map: axes differ: map {key} = {ma[key]}, sweep {key} = {s.attrs[key]}")
        for key in ("Jx", "Jy", "Jz", "gamma", "gamma_phi"):
            if key not in (ma["x_name"], ma["y_name"]) and not np.isclose(s.attrs[key], ma[key]):
                sys.exit(f"plot_phase_map: {key} differs: map {ma[key]:g}, sweep {s.attrs[key]:g}")

    fig, axes = plt.subplots(1, 2 if s is not None else 1, figsize=(13, 6.6) if s is not None else (7, 6.6), squeeze=False)
    ax = axes[0]
    ext, _, _ = extent(m["x"][...], m["y"][...])
    phase = m["phase"][...]
    rgb = COLOURS[np.clip(phase, 0, 4)]
    rgb[phase == TIE_CODE] = TIE_COLOUR
    ax[0].imshow(rgb, origin="lower", extent=ext, interpolation="nearest")
    overlay(ax[0], m, ext)
    ax[0].set_title(f"linear stability of PM (d = {ma['dim']}, {ma['lattice']})", fontsize=10)

    handles = [Patch(color=COLOURS[c], label=NAMES[c]) for c in range(5)]
    if (phase == TIE_CODE).any():
        handles.append(Patch(color=TIE_COLOUR, label="FM/AFM tie (first-order line)"))
    handles.append(Line2D([], [], color="k", label="PM boundary (growth = 0)"))
    if "lifshitz_points" in m:
        handles.append(Line2D([], [], ls="", marker="*", color="gold", mec="k", ms=13, label="Lifshitz point"))
    if s is not None:
        x, y = s["x"][...], s["y"][...]
        sext, dx, dy = extent(x, y)
        ph, order, agree = s["phase"][...], s["order"][...], s["agree"][...]
        r = pick_replicas(ph, args.replica)
        iy, ix = np.indices(r.shape)
        p, o, a = ph[iy, ix, r], order[iy, ix, r], agree[iy, ix, r]
        rgba = np.ones(p.shape + (4,))
        rgba[..., 3] = 0.0  # not done: transparent
        for c in range(5):
            rgba[p == c, :3], rgba[p == c, 3] = COLOURS[c], 1.0
        dom = p == 5
        base = np.where((o >= 1) & (o <= 4), o, 0)
        rgba[dom, :3] = 0.45 * COLOURS[base[dom]] + 0.55  # lighter: blend with white
        rgba[dom, 3] = 1.0
        rgba[p == 6] = (0, 0, 0, 1)
        ax[1].imshow(rgba, origin="lower", extent=sext, interpolation="nearest")
        cells = [Rectangle((x[j] - dx / 2, y[i] - dy / 2), dx, dy) for i, j in zip(*np.nonzero(dom))]
        ax[1].add_collection(PatchCollection(cells, facecolor="none", edgecolor="0.3", hatch="...", linewidth=0))
        bad = a == 0
        ax[1].plot(x[ix[bad]], y[iy[bad]], "x", color="orange", mew=2, ms=7, zorder=4)
        overlay(ax[1], m, sext)
        nrep = ph.shape[2]
        which = f"replica {args.replica}" if args.replica is not None else (f"majority of {nrep} replicas" if nrep > 1 else "1 replica")
        ax[1].set_title(f"dynamics from random states ({'x'.join(str(v) for v in s.attrs['sizes'])}, "
                        f"t_end = {s.attrs['t_end']:g}, {which})", fontsize=10)
        handles += [Patch(facecolor="#f2b3b3", edgecolor="0.3", hatch="...", label="domains (colour of their order)"),
                    Patch(color="k", label="not stationary"),
                    Line2D([], [], ls="", marker="x", color="orange", mew=2, label="disagrees with prediction")]
        n = {v: int((agree == v).sum()) for v in (1, 2, 0)}
        print(f"plot_phase_map: agreement over {int((agree >= 0).sum())} lattices: {n[1]} agree, "
              f"{n[2]} agree as domains of the predicted order, {n[0]} disagree")

    fixed = [f"{k} = {ma[k]:g}" for k in ("Jx", "Jy", "Jz", "gamma_phi") if k not in (ma["x_name"], ma["y_name"])]
    fig.suptitle(args.title or f"phase map, {', '.join(fixed)} (units of gamma = {ma['gamma']:g})")
    extra = handles[5:] + [Patch(visible=False, label=" ")] * (10 - len(handles))
    handles = [h for pair in zip(handles[:5], extra) for h in pair]  # row 1: the phases, row 2: the rest
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.09, 1, 0.97))
    fig.savefig(args.output, dpi=110)
    print(f"plot_phase_map: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_phase_map"):
        main()
