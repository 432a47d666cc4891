#!/usr/bin/python3
"""List every sweep point where the dynamics disagree with linear stability, with the likely reason, as markdown."""
import argparse
import importlib.util
import os
import sys

import numpy as np

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import files  # noqa: E402
from xyzmf.codes import ORDER_NAMES as ORDERS, PHASE_NAMES as PHASES  # noqa: E402


def growth(Jx, Jy, Jz, gamma, gphi, u):
    """Re lambda at u (physics.md 3.5)."""
    q = -(Jx * u - Jz) * (Jy * u - Jz)
    G = gamma / 2 + 2 * gphi
    return -G + 2 * np.sqrt(q) if q > 0 else -G


def reason(pred, phase, order, g_plus, g_minus, lattice):
    if phase == 6:
        return "persistent dynamics: the lattice keeps moving (oscillating domain walls or a limit cycle)"
    if pred == 0:
        return "PM is linearly stable but an ordered state is reached from a random start: bistability"
    if {pred, order} == {1, 2} and g_plus > 0 and g_minus > 0:
        return "both k = 0 and k = pi are unstable here (first-order FM-AFM line): a random start can pick either"
    if pred == 3 and phase in (1, 2, 5):
        return f"SDW predicted, but on a {lattice} lattice the allowed k near the optimum are few: finite size / domains"
    if pred in (1, 2) and order == 3:
        return ("a modulated state next to the predicted uniform/staggered one: near the SDW boundary the nonlinear "
                "dynamics select a nearby k")
    if phase == 5:
        return f"domains whose dominant peak is {ORDERS[order]}, not the predicted order: coarsening not finished"
    if phase == 0:
        return "decayed to PM although PM is unstable: growth rate small, random start inside PM's basin at this size"
    return "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sweep", help="HDF5 file from xyzmf sweep")
    ap.add_argument("-o", "--output", required=True, help="markdown file to write")
    ap.add_argument("--title", default="Points where dynamics and stability disagree", help="heading")
    a = ap.parse_args()
    g = files.open_file(a.sweep, "sweep", what="a sweep file (written by `xyzmf sweep`)")["sweep"]
    x, y = g["x"][...], g["y"][...]
    phase, order, agree, pred = g["phase"][...], g["order"][...], g["agree"][...], g["predicted"][...]
    m_perp, residual = g["m_perp"][...], g["residual"][...]
    at = g.attrs
    names = (at["x_name"], at["y_name"])
    fixed = {k: float(at[k]) for k in ("Jx", "Jy", "Jz", "gamma", "gamma_phi")}
    lattice = "x".join(str(int(n)) for n in at["sizes"])
    rows, counts = [], {}
    for iy in range(len(y)):
        for ix in range(len(x)):
            for r in range(phase.shape[2]):
                if agree[iy, ix, r] != 0:
                    continue
                c = dict(fixed)
                c[names[0]], c[names[1]] = x[ix], y[iy]
                gp = growth(c["Jx"], c["Jy"], c["Jz"], c["gamma"], c["gamma_phi"], 1.0)
                gm = growth(c["Jx"], c["Jy"], c["Jz"], c["gamma"], c["gamma_phi"], -1.0)
                why = reason(pred[iy, ix], phase[iy, ix, r], order[iy, ix, r], gp, gm, lattice)
                counts[why] = counts.get(why, 0) + 1
                rows.append(f"| {x[ix]:.2f} | {y[iy]:.2f} | {r} | {PHASES[pred[iy, ix]]} | {PHASES[phase[iy, ix, r]]} | "
                            f"{ORDERS[order[iy, ix, r]]} | {m_perp[iy, ix, r]:.3f} | {residual[iy, ix, r]:.2g} | {why} |")
    total = int((agree >= 0).sum())
    out = [f"# {a.title}", "",
           f"From `{a.sweep}` ({names[0]} x {names[1]}, {len(x)} x {len(y)} points, {phase.shape[2]} replica(s), "
           f"lattice {lattice}, Jz = {fixed['Jz']:g}, t_end = {float(at['t_end']):g}). "
           f"Agreement: {int((agree == 1).sum())} same phase, {int((agree == 2).sum())} domains of the predicted order, "
           f"{len(rows)} disagree, of {total}.", "", "Reasons:", ""]
    out += [f"- {n} x {w}" for w, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    out += ["", f"| {names[0]} | {names[1]} | replica | predicted | dynamics | order | m_perp | residual | why |",
            "|---|---|---|---|---|---|---|---|---|"] + rows + [""]
    with open(a.output, "w") as fh:
        fh.write("\n".join(out))
    print(f"sweep_disagreements: {len(rows)} disagreements of {total} -> {a.output}")


if __name__ == "__main__":
    with files.exit_on_error("sweep_disagreements"):
        main()
