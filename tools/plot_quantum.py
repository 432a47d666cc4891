#!/usr/bin/python3
"""Plots of `xyzmf quantum` results: the paper's Fig. 4 correlations and the Liouvillian gap.

  plot_quantum.py fig4 FILE.h5 [FILE.h5 ...] -o fig4a.png [--components x] [--fit auto|all|none]
  plot_quantum.py fig4 SXY.h5 -o fig4b.png --components x,y
  plot_quantum.py gap FILE.jsonl [FILE.jsonl ...] -o gap.png [--boundary VALUE ...] [--log] [--x Jy]

fig4 draws <sa_0 sa_r> against r = 0 .. N/2 with standard errors for ring files written by
`xyzmf quantum -o` (trajectories; exact files are drawn without error bars). The legend names the
mean-field phase at the paper's points: FM (2, 0, 1), AFM (-2, 0, 1), SDW (4, 2, 1), sXY (1, -1, 0).
For an SDW file (--fit auto; --fit all: every file) C(r), r = 1 .. N/2, is fitted by least squares
to A exp(-r/xi) cos(2 pi r/lam) (lam >= 2: on integer r, lam and 1/(1 - 1/lam) are the same
curve), started from the dominant Fourier component of the ring's C(r); the fit is drawn, lam +- its
standard error is printed and put in the legend, and the mean-field SDW wavelength
2 pi/arccos(3/8) = 5.30 sites is shown in a text box (and as a vertical line when r reaches it).
--components x,y is Fig. 4(b): sx and sy correlations of an sXY file; for each r it prints whether
the value is consistent with 0 (odd r) or positive (even r) at 2 standard errors.

gap reads JSON lines, each the output of `xyzmf quantum --method exact --gap --json`, finds which
of Jx, Jy, Jz varies (or takes --x) and draws the gap against it, one curve per ring size N, with
optional vertical lines at --boundary (the mean-field PM boundary; repeatable) and a log y axis (--log).
"""
import argparse
import importlib.util
import json
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import OptimizeWarning, curve_fit  # noqa: E402

# the xyzmf package: installed, or else this checkout's python/ folder
if importlib.util.find_spec("xyzmf") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from xyzmf import files  # noqa: E402

PROG = "plot_quantum"
# the paper's points (Jx, Jy, Jz) in units of gamma, and the mean-field phase there
PHASES = {(2.0, 0.0, 1.0): "FM", (-2.0, 0.0, 1.0): "AFM", (4.0, 2.0, 1.0): "SDW", (1.0, -1.0, 0.0): "sXY"}
LAM_MF = 2 * np.pi / np.arccos(3 / 8)  # mean-field SDW wavelength at (4, 2, 1), sites
COMP = {"x": "cx", "y": "cy", "z": "cz"}


def couplings(J):
    return "(" + ", ".join(f"{v:g}" for v in J) + ")"


def phase_of(J, gamma, gamma_phi):
    if not np.isclose(gamma, 1) or gamma_phi != 0:
        return None
    for point, name in PHASES.items():
        if np.allclose(J, point, atol=1e-9):
            return name
    return None


def load(path):
    f = files.open_file(path, "quantum", what="an xyzmf file with /quantum (written by `xyzmf quantum -o`)")
    g = f["quantum"]
    at = {k: g.attrs[k] for k in g.attrs}
    if "cx" not in g:
        sys.exit(f"{PROG}: {path}: /quantum has no correlations yet (no batch finished)")
    if int(at.get("dim", 1)) != 1:
        sys.exit(f"{PROG}: {path}: a {at.get('lattice', '?')} cluster, not a ring: fig4 needs `xyzmf quantum --sites N`")
    d = dict(path=path, J=tuple(float(at[k]) for k in ("Jx", "Jy", "Jz")), gamma=float(at.get("gamma", 1)),
             gamma_phi=float(at.get("gamma_phi", 0)), method=str(at.get("method", "?")))
    for a, name in COMP.items():
        d[a] = g[name][()]
        d[a + "_err"] = g[name + "_err"][()] if name + "_err" in g else np.zeros_like(d[a])
    d["N"] = len(d["x"])
    if d["N"] < 2:
        sys.exit(f"{PROG}: {path}: ring of {d['N']} site(s): nothing to plot")
    done, want = at.get("trajectories_done"), at.get("trajectories")
    if d["method"] == "trajectories" and done is not None and int(done) < int(want):
        print(f"{PROG}: {path}: warning: unfinished, {int(done)} of {int(want)} trajectories", file=sys.stderr)
    d["ntraj"] = int(done if done is not None else want) if d["method"] == "trajectories" else None
    d["phase"] = phase_of(d["J"], d["gamma"], d["gamma_phi"])
    extra = "" if np.isclose(d["gamma"], 1) and d["gamma_phi"] == 0 else \
        f", $\\gamma$ = {d['gamma']:g}, $\\gamma_\\phi$ = {d['gamma_phi']:g}"
    d["label"] = (f"{d['phase']} " if d["phase"] else "") + f"(Jx, Jy, Jz) = {couplings(d['J'])}{extra}, N = {d['N']}" \
        + (", exact" if d["method"] == "exact" else "")
    return d


def sdw_model(r, A, xi, q):
    return A * np.exp(-r / xi) * np.cos(q * r)


def fit_period(c, err, path):
    """Least-squares fit of C(r), r = 1 .. N/2, to A exp(-r/xi) cos(q r), q = 2 pi/lam in [0, pi].

    The start q is the dominant non-zero Fourier component of the whole ring's C(r). Returns a dict
    (A, xi, lam and their errors) or None with a message when the fit is impossible."""
    N = len(c)
    r = np.arange(1, N // 2 + 1)
    y, s = c[1:N // 2 + 1], err[1:N // 2 + 1]
    weighted = bool(np.all(s > 0))
    if len(r) < (3 if weighted else 4):
        print(f"{PROG}: {path}: N = {N}: {len(r)} points r = 1 .. N/2 cannot fix 3 parameters; no fit")
        return None
    k = np.arange(1, N // 2 + 1)
    S = np.array([np.sum(c * np.cos(2 * np.pi * kk * np.arange(N) / N)) for kk in k])  # ring structure factor
    q0 = 2 * np.pi * k[np.argmax(S)] / N
    q0 = min(q0, np.pi * 0.999)
    xi0 = N / 2
    basis = np.exp(-r / xi0) * np.cos(q0 * r)
    A0 = float(np.dot(basis, y) / np.dot(basis, basis)) if np.dot(basis, basis) > 0 else float(y[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            p, cov = curve_fit(sdw_model, r, y, p0=[A0, xi0, q0], sigma=s if weighted else None,
                               absolute_sigma=weighted, bounds=([-np.inf, 1e-3, 0], [np.inf, 1e4, np.pi]),
                               max_nfev=20000)
        except (RuntimeError, ValueError) as e:
            print(f"{PROG}: {path}: the period fit failed ({e})")
            return None
    e = np.sqrt(np.diag(cov)) if np.all(np.isfinite(cov)) else np.full(3, np.nan)
    A, xi, q = p
    resid = (y - sdw_model(r, *p)) / (s if weighted else 1)
    chi2, dof = (float(np.sum(resid ** 2)) if weighted else None), len(r) - 3
    lam_err = 2 * np.pi * e[2] / q ** 2 if q > 0 else np.nan
    # Where the model misses the data (chi2/dof > 1), the statistical error of lam
    # understates its uncertainty: the shown error is scaled by sqrt(chi2/dof).
    scale = np.sqrt(chi2 / dof) if chi2 is not None and dof > 0 and chi2 > dof else 1.0
    return dict(A=A, A_err=e[0], xi=xi, xi_err=e[1], lam=2 * np.pi / q if q > 0 else np.inf,
                lam_err=lam_err, lam_err_shown=lam_err * scale, scale=scale, q=q, lam0=2 * np.pi / q0,
                chi2=chi2, dof=dof, params=p)


def cmd_fig4(a):
    comps = [x.strip() for x in a.components.split(",") if x.strip()]
    bad = [x for x in comps if x not in COMP]
    if not comps or bad or len(set(comps)) != len(comps):
        sys.exit(f"{PROG}: --components {a.components!r}: give distinct components among x, y, z, e.g. x or x,y")
    if a.rmin < 0:
        sys.exit(f"{PROG}: --rmin {a.rmin}: must be >= 0")
    data = [load(p) for p in a.files]
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    markers, styles = "osD^v<>p*h", ["-", "--", ":"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rmax, fits, ci = 0, [], 0
    for i, d in enumerate(data):
        N = d["N"]
        r = np.arange(N // 2 + 1)
        rmax = max(rmax, N // 2)
        for j, comp in enumerate(comps):
            col = colors[ci % len(colors)]
            ci += 1
            y, e = d[comp][: N // 2 + 1], d[comp + "_err"][: N // 2 + 1]
            lab = d["label"] if len(comps) == 1 else f"$\\langle\\sigma^{comp}_0\\sigma^{comp}_r\\rangle$, {d['label']}"
            fit = None
            if a.fit == "all" or (a.fit == "auto" and d["phase"] == "SDW"):
                fit = fit_period(d[comp], d[comp + "_err"], d["path"])
            if fit:
                lam_txt = f"{fit['lam']:.2f} $\\pm$ {fit['lam_err_shown']:.2f}"
                lab += f"\n  fit: $\\lambda$ = {lam_txt}, $\\xi$ = {fit['xi']:.2g}"
                rr = np.linspace(max(1, a.rmin), N // 2, 200)
                ax.plot(rr, sdw_model(rr, *fit["params"]), styles[1], color=col, lw=1.2)
                fits.append((d, comp, fit))
                chi = "" if fit["chi2"] is None else f", chi2 = {fit['chi2']:.2f} for {fit['dof']} dof"
                print(f"{PROG}: {d['path']}: s{comp} fit A exp(-r/xi) cos(2 pi r/lam), r = 1..{N // 2}: "
                      f"lam = {fit['lam']:.3f} +- {fit['lam_err']:.3f} sites (mean field {LAM_MF:.3f}; "
                      f"Fourier start {fit['lam0']:.3f}), xi = {fit['xi']:.3g} +- {fit['xi_err']:.2g}, "
                      f"A = {fit['A']:.3g} +- {fit['A_err']:.2g}{chi}")
                if fit["scale"] > 1:
                    print(f"{PROG}: {d['path']}: note: chi2/dof = {fit['chi2'] / fit['dof']:.1f}: the model misses "
                          f"C(r) beyond the errors (ring wrap-around at small N?); the plot shows lam = {fit['lam']:.2f} "
                          f"+- {fit['lam_err_shown']:.2f}, the error scaled by sqrt(chi2/dof)")
            shift = 0.06 * (j - (len(comps) - 1) / 2)  # components side by side, where they coincide
            keep = r >= a.rmin
            ax.errorbar(r[keep] + shift, y[keep], yerr=e[keep] if np.any(e > 0) else None,
                        fmt=markers[(i * len(comps) + j) % len(markers)] + "-", color=col, lw=0.8, ms=5, capsize=3,
                        label=lab)
            if len(comps) > 1 or d["phase"] == "sXY":
                check_sxy(d, comp)
    ax.axhline(0, color="0.6", lw=0.6)
    if fits:
        txt = f"mean-field SDW: $\\lambda$ = 2$\\pi$/arccos(3/8) = {LAM_MF:.2f} sites"
        for d, comp, fit in fits:
            txt += f"\nfit N = {d['N']}: $\\lambda$ = {fit['lam']:.2f} $\\pm$ {fit['lam_err_shown']:.2f}"
        ax.text(0.98, 0.97, txt, transform=ax.transAxes, ha="right", va="top", fontsize=8.5,
                bbox=dict(boxstyle="round", fc="white", ec="0.6", alpha=0.9))
        if LAM_MF <= rmax + 0.5:
            ax.axvline(LAM_MF, color="0.4", ls=":", lw=1)
            ax.text(LAM_MF, ax.get_ylim()[0], " mean-field $\\lambda$", rotation=90, va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("distance r (sites)")
    ax.set_xticks(range(a.rmin, rmax + 1))
    if len(comps) == 1:
        ax.set_ylabel(f"$\\langle\\sigma^{comps[0]}_0\\sigma^{comps[0]}_r\\rangle$")
    else:
        ax.set_ylabel("$\\langle\\sigma^a_0\\sigma^a_r\\rangle$")
    how = {f"{d['ntraj']} trajectories" if d["ntraj"] else d["method"] for d in data}
    ax.set_title(f"quantum steady-state correlations on a ring ({'; '.join(sorted(how))})"
                 + ("; dashed: fit" if fits else ""), fontsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1)
    fig.tight_layout()
    fig.savefig(a.output, dpi=130, bbox_inches="tight")
    print(f"{PROG}: fig4: {len(data)} file(s), components {','.join(comps)}; wrote {os.path.basename(a.output)}")


def check_sxy(d, comp):
    """Prints, per r = 1 .. N/2, whether <sa_0 sa_r> is consistent with 0 (odd r) or positive (even r)."""
    N = d["N"]
    print(f"{PROG}: {d['path']}: <s{comp}_0 s{comp}_r> against the sXY pattern (odd r: 0, even r: > 0), 2 s.e.:")
    for r in range(1, N // 2 + 1):
        c, e = d[comp][r], d[comp + "_err"][r]
        z = c / e if e > 0 else (np.inf * np.sign(c) if c else 0.0)
        if r % 2:
            ok = abs(c) <= 2 * e if e > 0 else abs(c) < 1e-9
            verdict = "consistent with 0" if ok else "NOT consistent with 0"
        else:
            verdict = ("positive" if c > 2 * e else "consistent with positive, not significant" if c > -2 * e
                       else "NOT positive")
        zt = f"{z:+.1f} s.e." if e > 0 else ("exact" if d["method"] == "exact" else "the same in every trajectory")
        print(f"  r = {r}: {c:+.5f} +- {e:.5f} ({zt}): {verdict}")


def read_jsonl(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        sys.exit(f"{PROG}: {path}: cannot read ({e.strerror})")
    except UnicodeDecodeError:
        sys.exit(f"{PROG}: {path}: not a text file (gap reads JSON lines; HDF5 files go to fig4)")
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"{PROG}: {path}:{n}: not JSON ({e.msg}): a line of `xyzmf quantum --method exact --gap --json` expected")
        if not isinstance(d, dict):
            sys.exit(f"{PROG}: {path}:{n}: not a JSON object")
        missing = [k for k in ("Jx", "Jy", "Jz", "sites", "gap") if k not in d]
        if missing:
            hint = " (run xyzmf quantum with --method exact --gap)" if "gap" in missing else ""
            sys.exit(f"{PROG}: {path}:{n}: no {', '.join(missing)}{hint}")
        d["where"] = f"{path}:{n}"
        out.append(d)
    if not out:
        sys.exit(f"{PROG}: {path}: no JSON lines")
    return out


def cmd_gap(a):
    rows = [d for p in a.files for d in read_jsonl(p)]
    vary = [k for k in ("Jx", "Jy", "Jz") if len({float(d[k]) for d in rows}) > 1]
    if a.x:
        x = a.x
    elif len(vary) == 1:
        x = vary[0]
    elif not vary:
        sys.exit(f"{PROG}: all {len(rows)} points have the same Jx, Jy, Jz: nothing varies (give points along a line)")
    else:
        sys.exit(f"{PROG}: {', '.join(vary)} all vary: say which one is the abscissa with --x")
    others = [k for k in ("Jx", "Jy", "Jz", "gamma", "gamma_phi") if k != x and k in rows[0]]
    fixed = [f"{k} = {float(rows[0][k]):g}" for k in others if len({float(d.get(k, np.nan)) for d in rows}) == 1]
    fig, ax = plt.subplots(figsize=(6.6, 4.6))
    groups = {}
    for d in rows:
        lat = str(d.get("lattice", f"{d['sites']} (1D)"))
        groups.setdefault((int(d["sites"]), lat), []).append(d)
    for (N, lat), ds in sorted(groups.items()):
        ds.sort(key=lambda d: float(d[x]))
        xv = np.array([float(d[x]) for d in ds])
        gv = np.array([float(d["gap"]) for d in ds])
        lab = f"N = {N}" if lat.endswith("(1D)") else lat
        ax.plot(xv, gv, "o-", ms=4, label=lab)
        i = int(np.argmin(gv))
        print(f"{PROG}: gap: {lab}: {len(ds)} points, {x} = {xv[0]:g} .. {xv[-1]:g}; smallest gap "
              f"{gv[i]:.5g} at {x} = {xv[i]:g}")
        if a.log and np.any(gv <= 0):
            print(f"{PROG}: gap: {lab}: warning: {np.sum(gv <= 0)} gap(s) <= 0 left out of the log axis", file=sys.stderr)
    for i, b in enumerate(a.boundary or []):
        ax.axvline(b, color="k", ls="--", lw=1,
                   label=f"mean-field PM boundary, {x} = " + ", ".join(f"{v:g}" for v in a.boundary) if i == 0 else None)
    if a.log:
        ax.set_yscale("log")
    ax.set_xlabel(f"{x} / $\\gamma$")
    ax.set_ylabel("Liouvillian gap / $\\gamma$")
    ax.set_title(f"Liouvillian gap (exact, periodic ring){', ' + ', '.join(fixed) if fixed else ''}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both" if a.log else "major")
    fig.tight_layout()
    fig.savefig(a.output, dpi=130)
    print(f"{PROG}: gap: {len(rows)} points in {len(groups)} curve(s); wrote {a.output}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    f4 = sub.add_parser("fig4", help="<sa_0 sa_r> against r (Fig. 4(a); Fig. 4(b) with --components x,y)")
    f4.add_argument("files", nargs="+", metavar="FILE.h5", help="files written by `xyzmf quantum -o` on a ring")
    f4.add_argument("-o", "--output", required=True, help="PNG to write")
    f4.add_argument("--components", default="x", help="comma-separated components to draw: x (Fig. 4(a), default), x,y (Fig. 4(b))")
    f4.add_argument("--rmin", type=int, default=0, help="smallest r drawn (default 0; 1 leaves out <sa_0 sa_0> = 1)")
    f4.add_argument("--fit", choices=("auto", "all", "none"), default="auto",
                    help="period fit A exp(-r/xi) cos(2 pi r/lam): auto (SDW files only, default), all, none")
    f4.set_defaults(func=cmd_fig4)
    gp = sub.add_parser("gap", help="Liouvillian gap along a line, one curve per N")
    gp.add_argument("files", nargs="+", metavar="FILE.jsonl",
                    help="JSON lines, each from `xyzmf quantum --method exact --gap --json`")
    gp.add_argument("-o", "--output", required=True, help="PNG to write")
    gp.add_argument("--boundary", type=float, action="append",
                    help="draw the mean-field PM boundary at this value of the abscissa (may be repeated)")
    gp.add_argument("--log", action="store_true", help="log scale for the gap")
    gp.add_argument("--x", choices=("Jx", "Jy", "Jz"), help="the abscissa (default: the one coupling that varies)")
    gp.set_defaults(func=cmd_gap)
    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    with files.exit_on_error(PROG):
        main()
