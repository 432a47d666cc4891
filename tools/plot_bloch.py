#!/usr/bin/python3
"""Fig. 2(a) of the paper: spins and effective fields of one A site and one B site (A: sum of the
lattice indices even) on the Bloch sphere, for a state written by `xyzmf run` (meant for the sXY
steady state at Jx = -Jy, Jz = 0). The field is h_n = 1/(2d) sum_{m in nn(n)} (Jx x_m, Jy y_m, Jz z_m)
(physics.md section 2), computed here from the spins. By default the A site is the one at the
centre of the most uniform patch (site (0, 0) for a uniform state) and B its +x neighbour.
As in the paper, the arrows are drawn normalised to unit length, so they end on the sphere and the
tilt of s out of the equator (h lies in it at Jz = 0) shows; the true lengths are printed and in the title."""
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
    f = files.open_file(path, "parameters", what="an xyzmf run file (written by `xyzmf run`)")
    if snapshot is None and "final" not in f:  # no fallback to the last snapshot: say which state is drawn
        sys.exit(f"plot_bloch: {path}: no /final (the run did not end normally; use --snapshot N)")
    name = files.pick_state(f, snapshot)
    return f["parameters"].attrs, f[name]["spins"][...], float(f[name]["t"][()])


def field(s, p):
    dim = int(p["dim"])
    if s.ndim - 1 != dim:
        sys.exit(f"plot_bloch: spins have shape {s.shape}, but the file says dim = {dim}")
    return fields.effective_field(s, p)


def pick_site(s):
    """Lattice index of the A site whose neighbourhood is the most uniform (each sublattice on its own)."""
    axes = range(s.ndim - 1)
    dev = sum(((s - np.roll(s, sh, axis=ax)) ** 2).sum(-1) for ax in axes for sh in (2, -2))
    for ax in axes:  # smear over a few sites, so the pick sits inside a patch, not on its edge
        dev = sum(np.roll(dev, sh, axis=ax) for sh in (-2, -1, 0, 1, 2))
    dev = dev + np.roll(dev, -1, axis=s.ndim - 2)  # ... and its +x neighbour's patch too
    dev[fields.sublattice_b(dev.shape)] = np.inf
    return np.unravel_index(np.argmin(dev), dev.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", help="HDF5 file written by `xyzmf run`")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--snapshot", type=int, metavar="N", help="use snapshot N instead of the final state")
    ap.add_argument("--site", metavar="X,Y[,Z]", help="lattice coordinates of the first site (default: automatic); the second is its +x neighbour")
    ap.add_argument("--view", metavar="ELEV,AZIM", help="camera elevation and azimuth in degrees (default: elevation 25, azimuth chosen so no arrow points at the eye)")
    args = ap.parse_args()

    p, s, t = load(args.file, args.snapshot)
    h = field(s, p)
    shape = s.shape[:-1]
    if args.site:
        try:
            site = tuple(int(v) for v in args.site.split(","))[::-1]  # X,Y,Z -> array index (z, y, x)
        except ValueError:
            sys.exit(f"plot_bloch: --site {args.site}: expected integers X,Y[,Z]")
        if len(site) != len(shape):
            sys.exit(f"plot_bloch: --site {args.site}: the lattice is {len(shape)}D")
        site = tuple(i % n for i, n in zip(site, shape))
    else:
        site = pick_site(s)
    other = site[:-1] + ((site[-1] + 1) % shape[-1],)
    sites = {("A" if sum(n) % 2 == 0 else "B"): n for n in (site, other)}
    if len(sites) != 2:
        sys.exit(f"plot_bloch: sites {site[::-1]} and {other[::-1]} are on the same sublattice (odd Lx?)")
    dsdt = fields.ds_dt(s, p, h)

    fig = plt.figure(figsize=(7.5, 7.5))
    ax = fig.add_subplot(projection="3d")
    u, v = np.mgrid[0:2 * np.pi:25j, 0:np.pi:13j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.8", lw=0.5)
    for i, lab in enumerate("xyz"):
        e = np.eye(3)[i] * 1.25
        ax.plot(*zip(-e, e), color="0.5", lw=0.8)
        ax.text(*(e * 1.05), lab, color="0.3")
    ax.plot(np.cos(u[:, 0]), np.sin(u[:, 0]), 0 * u[:, 0], color="0.55", lw=0.8)  # equator
    colours = {"A": ("red", "darkorange"), "B": ("blue", "deepskyblue")}
    arrows = []  # (vector, label, colour, linestyle); a B arrow equal to the A one is drawn once, labelled for both
    for name, n in sorted(sites.items()):
        for vec, lab, col, ls in ((s[n], "s", colours[name][0], "-"), (h[n], "h", colours[name][1], "--")):
            same = [a for a in arrows if a[1][0] == lab and np.allclose(a[0], vec, atol=1e-6)]
            if same:
                same[0][1], same[0][2] = f"{same[0][1]} = {lab}_{name}", "purple"
            else:
                arrows.append([vec, f"{lab}_{name}", col, ls])
    for vec, lab, col, ls in arrows:
        norm = np.linalg.norm(vec)
        vec = vec / norm if norm > 1e-12 else vec
        ax.quiver(0, 0, 0, *vec, color=col, lw=2.2, ls=ls, arrow_length_ratio=0.12)
        ax.text(*(vec * 1.15 + [0, 0, 0.04]), lab, color=col, fontsize=13, weight="bold")
    for name, n in sorted(sites.items()):
        xy = ", ".join(str(i) for i in n[::-1])
        print(f"plot_bloch: {name} site ({xy}): s = {np.round(s[n], 4)}, h = {np.round(h[n], 4)}, "
              f"phi = {np.degrees(np.arctan2(s[n][1], s[n][0])):.2f} deg, |ds/dt| = {np.linalg.norm(dsdt[n]):.2g}, "
              f"|s| = {np.linalg.norm(s[n]):.4f}, |h| = {np.linalg.norm(h[n]):.4f}, "
              f"s out of the equator by {np.degrees(np.arcsin(s[n][2] / max(np.linalg.norm(s[n]), 1e-300))):.2f} deg")
    lim = 1.0
    for setl in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
        setl(-lim, lim)
    ax.set_box_aspect((1, 1, 1), zoom=1.3)
    ax.set_axis_off()  # the sphere carries its own x, y, z axes
    if args.view:
        try:
            elev, azim = (float(v) for v in args.view.split(","))
        except ValueError:
            sys.exit(f"plot_bloch: --view {args.view}: expected ELEV,AZIM in degrees")
    else:  # the azimuth that keeps every arrow, and the x and y axes, furthest from pointing at the eye
        azim = np.arange(0, 360, 5)
        phis = [0, 90] + [np.degrees(np.arctan2(a[0][1], a[0][0])) for a in arrows if np.hypot(*a[0][:2]) > 0.05]
        elev, azim = 25, azim[np.argmax(np.min([np.abs(np.sin(np.radians(azim - f))) for f in phis], axis=0))]
    ax.view_init(elev=elev, azim=azim)
    where = ", ".join(f"{k} = ({', '.join(str(i) for i in n[::-1])})" for k, n in sorted(sites.items()))
    where += f" ({', '.join('xyz'[:len(shape)])})"
    ax.set_title(f"Jx={p['Jx']:g} Jy={p['Jy']:g} Jz={p['Jz']:g} gamma_phi={p['gamma_phi']:g}, "
                 f"{'x'.join(str(v) for v in p['sizes'])}, t={t:g}\nsites {where}; "
                 f"max |ds/dt| on the lattice = {np.linalg.norm(dsdt, axis=-1).max():.2g}\narrows normalised to unit length; "
                 + ", ".join(f"|{v}_{k}| = {np.linalg.norm(a[n]):.3f}" for k, n in sorted(sites.items()) for v, a in (("s", s), ("h", h))),
                 fontsize=10, pad=14)  # pad: at low elevations the z label sits just above the sphere
    fig.tight_layout()
    fig.savefig(args.output, dpi=110, bbox_inches="tight")
    print(f"plot_bloch: wrote {args.output}")


if __name__ == "__main__":
    with files.exit_on_error("plot_bloch"):
        main()
