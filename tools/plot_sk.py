#!/usr/bin/python3
"""Plot the structure factors of an analysed xyzmf state: S_perp = Sxx + Syy and Szz, with k
shifted to [-pi, pi) for display (2D: image; 1D: line; 3D: the k_z = 0 plane, plus the radial
average when the file stores principal planes). Needs `xyzmf analyze` or `xyzmf run --analyze`."""
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


def kaxis(n):
    """k/pi of the fftshifted grid and the imshow edges around it."""
    k = 2 * np.fft.fftshift(np.fft.fftfreq(n))
    return k, (k[0] - 1 / n, k[-1] + 1 / n)


def plot_state(f, path, name, out, log):
    g = f[name]
    if "structure_factor" not in g:
        snap = "" if name == "/final" else f" --snapshot {int(name.split('/')[-1])}"
        sys.exit(f"plot_sk: {path}: {name} has no structure factor: run `xyzmf analyze {path}{snap}` "
                 f"(or --all-snapshots)")
    sk, p = g["structure_factor"], f["parameters"].attrs
    dim = int(p["dim"])
    storage = sk.attrs.get("storage", "full")
    storage = storage.decode() if isinstance(storage, bytes) else str(storage)
    radial_only = storage == "radial average"  # --sk-storage radial: S(|k|) is all there is
    planes = storage != "full"
    suffix = "_kz0" if planes else ""
    try:
        if radial_only:
            sk["Sxx_radial"], sk["k_radial"]
        else:
            sperp, szz = sk["Sxx" + suffix][...] + sk["Syy" + suffix][...], sk["Szz" + suffix][...]
    except KeyError as e:
        sys.exit(f"plot_sk: {path}: {name}/structure_factor is incomplete ({e})")
    if dim == 3 and not planes:
        sperp, szz = sperp[0], szz[0]  # m_z = 0: the k_z = 0 plane
    t = float(g["t"][()]) if "t" in g else float(g["analysis"].attrs.get("t", np.nan))

    if radial_only:
        fig, one = plt.subplots(1, 1, figsize=(7, 4.8))
        ax = [None, None, one]
    else:
        fig, ax = plt.subplots(1, 3 if planes else 2, figsize=(16 if planes else 11, 4.8))
    plane = " (k_z = 0 plane)" if dim == 3 else ""
    images = () if radial_only else ((ax[0], sperp, "S_perp = Sxx + Syy"), (ax[1], szz, "Szz"))
    for a, data, label in images:
        data = np.fft.fftshift(data)
        floor = max(data.max() * 1e-6, 1e-12)
        if dim == 1:
            k, _ = kaxis(len(data))
            a.plot(k, np.maximum(data, floor) if log else data, ".-")
            a.set_yscale("log" if log else "linear")
            a.set_xlabel("k / pi")
            a.set_ylabel(label)
            a.set_xlim(-1, 1)
        else:
            (_, xe), (_, ye) = kaxis(data.shape[1]), kaxis(data.shape[0])
            norm = LogNorm(vmin=floor, vmax=max(data.max(), 2 * floor)) if log else None
            im = a.imshow(np.maximum(data, floor) if log else data, origin="lower", cmap="magma",
                          interpolation="nearest", extent=(*xe, *ye), norm=norm)
            fig.colorbar(im, ax=a, label=label)
            a.set_xlabel("k_x / pi")
            a.set_ylabel("k_y / pi")
        a.set_title(label + plane)
    if planes:
        kr = sk["k_radial"][...] / np.pi
        ax[2].plot(kr, sk["Sxx_radial"][...] + sk["Syy_radial"][...], ".-", label="S_perp")
        ax[2].plot(kr, sk["Szz_radial"][...], ".-", label="Szz")
        ax[2].set_yscale("log" if log else "linear")
        ax[2].set_xlabel("|k| / pi")
        ax[2].legend()
        ax[2].set_title("radial average over |k|")

    title = (f"Jx={p['Jx']:g} Jy={p['Jy']:g} Jz={p['Jz']:g} gamma={p['gamma']:g} "
             f"gamma_phi={p['gamma_phi']:g}, {'x'.join(str(v) for v in p['sizes'])}, {name}, t={t:g}")
    if "analysis" in g:
        an = g["analysis"].attrs
        title += f"\nphase: {an.get('phase', '?')}, order: {an.get('order', '?')}"
        if "peak_k" in g["analysis"]:
            title += ", peak k/pi = (" + ", ".join(f"{k / np.pi:.3g}" for k in g["analysis/peak_k"][...]) + ")"
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"plot_sk: wrote {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", help="HDF5 file written by `xyzmf run --analyze` or `xyzmf analyze`")
    ap.add_argument("-o", "--output", help="PNG to write (not with --all-snapshots)")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--snapshot", type=int, metavar="N", help="plot snapshot N")
    which.add_argument("--final", action="store_true",
                       help="plot the final state (default: final if present, else the last snapshot)")
    which.add_argument("--all-snapshots", action="store_true",
                       help="plot every analysed snapshot to OUTDIR/sk_NNNNNN.png")
    ap.add_argument("--outdir", metavar="DIR", help="directory for --all-snapshots (created if missing)")
    ap.add_argument("--log", action="store_true",
                    help="logarithmic colour (or y) scale, floored at 1e-6 of the maximum")
    args = ap.parse_args()
    if args.all_snapshots != bool(args.outdir):
        ap.error("--all-snapshots and --outdir go together")
    if not args.all_snapshots and not args.output:
        ap.error("-o/--output is required (or --all-snapshots --outdir DIR)")

    f = files.open_file(args.file, "parameters")
    if args.final and "final" not in f:
        sys.exit(f"plot_sk: {args.file}: no final state (the run did not end normally); use --snapshot N")
    if not args.all_snapshots:
        plot_state(f, args.file, files.pick_state(f, args.snapshot), args.output, args.log)
        return
    snaps = [s for s in sorted(f.get("snapshots", [])) if "structure_factor" in f["snapshots"][s]]
    if not snaps:
        sys.exit(f"plot_sk: {args.file}: no analysed snapshots: run `xyzmf analyze {args.file} --all-snapshots`")
    os.makedirs(args.outdir, exist_ok=True)
    for s in snaps:
        plot_state(f, args.file, f"/snapshots/{s}", os.path.join(args.outdir, f"sk_{s}.png"), args.log)


if __name__ == "__main__":
    with files.exit_on_error("plot_sk"):
        main()
