#!/usr/bin/python3
"""Fig. 2(b), 2(c) of the paper: an sXY steady state in the xy plane, for states written by
`xyzmf run` at Jx = -Jy, Jz = 0 (meant for a 2 x 2 lattice). The spins of sublattice A (sum of
the lattice indices even) and of B are averaged and their in-plane parts (x, y) drawn as arrows
from the origin, with the unit circle. Stationary two-sublattice states form a U(1) family
(physics.md section 5): B is A mirrored in the line phi = pi/4 (Jx > 0), so
phi_A = pi/4 + theta, phi_B = pi/4 - theta with theta free, and different random starts end at
different theta. Prints phi_A, phi_B, theta and phi_A + phi_B (which must be pi/2 mod 2 pi), and
the largest |ds/dt| and spread within a sublattice, to show the state is a stationary
two-sublattice one. Two runs from different seeds show the free angle: theta differs between
them, phi_A + phi_B does not. Two files give two panels side by side."""
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

PROG = "plot_sxy_sublattices"


def wrap(a):
    """Angle in degrees, into (-180, 180]."""
    return 180 - (180 - a) % 360


def analyse(path):
    f = files.open_file(path, "parameters", what="an xyzmf run file (written by `xyzmf run`)")
    name = files.pick_state(f)
    p, s, t = f["parameters"].attrs, f[name]["spins"][...], float(f[name]["t"][()])
    # the residual of the mean-field equations (physics.md section 2): small only if the state is stationary
    dsdt = fields.ds_dt(s, p)
    odd = fields.sublattice_b(s.shape[:-1])
    A, B = s[~odd].mean(0), s[odd].mean(0)
    spread = max(np.abs(s[~odd] - A).max(), np.abs(s[odd] - B).max())  # a domain wall or vortex would show here
    phiA, phiB = (np.degrees(np.arctan2(v[1], v[0])) for v in (A, B))
    mirror = 45.0 if p["Jx"] > 0 else -45.0  # the line B is mirrored in: M = Jx [[0, 1], [1, 0]]
    if not np.isclose(p["Jx"], -p["Jy"]) or p["Jz"] != 0:
        print(f"{PROG}: {path}: warning: Jx = {p['Jx']:g}, Jy = {p['Jy']:g}, Jz = {p['Jz']:g}; "
              "the theta family below is that of Jx = -Jy, Jz = 0")
    # (phi_A - phi_B)/2 is defined only mod pi; take the branch with phi_A = pi/4 + theta
    r = dict(p=p, t=t, A=A, B=B, phiA=phiA, phiB=phiB, theta=wrap(phiA - mirror), sum=wrap(phiA + phiB),
             res=np.linalg.norm(dsdt, axis=-1).max(), spread=spread, sizes="x".join(str(v) for v in p["sizes"]))
    print(f"{PROG}: {path}: seed {p['seed']}, {r['sizes']}, t = {t:g}: A = {np.round(A, 4)}, B = {np.round(B, 4)}")
    print(f"{PROG}:   phi_A = {phiA:.2f} deg, phi_B = {phiB:.2f} deg, theta = {r['theta']:.2f} deg, "
          f"phi_A + phi_B = {r['sum']:.2f} deg (mod 360; expected {2 * mirror:g})")
    print(f"{PROG}:   max |ds/dt| = {r['res']:.2g}, largest spread within a sublattice = {spread:.2g}")
    if r["res"] > 1e-4 or spread > 1e-3 or abs(wrap(r["sum"] - 2 * mirror)) > 0.5:
        print(f"{PROG}: {path}: warning: not a stationary two-sublattice sXY state")
    return r


def draw(ax, r):
    c = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(c), np.sin(c), color="0.6", lw=0.8, label="unit circle")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    m = np.radians(r["sum"] / 2)  # the mirror line, about which A and B turn in opposite senses as theta varies
    ax.plot([-1.1 * np.cos(m), 1.1 * np.cos(m)], [-1.1 * np.sin(m), 1.1 * np.sin(m)], ":", color="0.4", lw=1,
            label=f"mirror line phi = {r['sum'] / 2:g} deg")
    for sign, rad, col in ((1, 0.22, "red"), (-1, 0.3, "blue")):  # theta measured from the mirror line
        a = np.radians(r["sum"] / 2 + sign * np.linspace(0, r["theta"], 60))
        ax.plot(rad * np.cos(a), rad * np.sin(a), color=col, lw=1)
    ax.plot([], [], color="0.3", lw=1, label=f"arcs: +theta (A), -theta (B), theta = {r['theta']:.1f} deg")
    for v, phi, lab, col in ((r["A"], r["phiA"], "A", "red"), (r["B"], r["phiB"], "B", "blue")):
        ax.annotate("", xy=v[:2], xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=col, lw=2.2, mutation_scale=18))
        ax.plot([], [], color=col, lw=2.2, label=f"{lab}: phi_{lab} = {phi:.1f} deg, |s_xy| = {np.hypot(*v[:2]):.3f}")
        ax.text(*(v[:2] * 1.18), lab, color=col, fontsize=14, weight="bold", ha="center", va="center")
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=9)  # below, so no arrow is hidden
    p = r["p"]
    ax.set_title(f"Jx={p['Jx']:g} Jy={p['Jy']:g} Jz={p['Jz']:g}, {r['sizes']}, seed {p['seed']}, t={r['t']:g}\n"
                 f"theta = {r['theta']:.1f} deg, phi_A + phi_B = {r['sum']:.1f} deg, max |ds/dt| = {r['res']:.1g}",
                 fontsize=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="FILE", help="one or two HDF5 files written by `xyzmf run` (final state, else the last snapshot)")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    args = ap.parse_args()
    if len(args.files) > 2:
        ap.error("at most two files")
    rs = [analyse(path) for path in args.files]
    if len(rs) == 2:
        # theta -> theta + pi (all spins turned by pi about z) and theta -> -theta (A and B exchanged by a
        # translation) map a state onto an equivalent one, so only theta folded into [0, 90] deg tells states apart
        fold = [90 - abs(90 - r["theta"] % 180) for r in rs]
        print(f"{PROG}: theta differs by {wrap(rs[1]['theta'] - rs[0]['theta']):.2f} deg; "
              f"folded into [0, 90] deg: {fold[0]:.2f} and {fold[1]:.2f} deg, {abs(fold[1] - fold[0]):.2f} deg apart")
    fig, axs = plt.subplots(1, len(rs), figsize=(5.6 * len(rs), 6.8), squeeze=False)
    for ax, r in zip(axs[0], rs):
        draw(ax, r)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110, bbox_inches="tight")
    print(f"{PROG}: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error(PROG):
        main()
