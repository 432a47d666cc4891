#!/usr/bin/env python3
"""`xyzmf dtwa` against QuTiP on a ring of 4, where DTWA's guarantees can be checked.

QuTiP solves the full master equation (H = 1/(2d) sum_<mn> Jx sx_m sx_n + Jy sy_m sy_n +
Jz sz_m sz_n, jumps sqrt(gamma) s-_n and sqrt(gamma_phi) sz_n) with `mesolve`, from all
spins down and from the product state along (0.6, 0, 0.8). Nothing is shared with xyzmf.

Checked (docs/physics.md 8.5): DTWA reproduces one-point functions to third order in t, so
at t <= 0.05 its <sz> must equal QuTiP's within 4 standard errors (the t^4 error is below
1e-4 there); with J = 0 the dissipation is exact at every time, so <sz>(t) and <sx>(t) of
single spins must equal QuTiP's within 4 standard errors up to t = 3.

Usage: dtwa_qutip.py PATH/TO/xyzmf
"""
import json
import subprocess
import sys

import numpy as np
import qutip as qt


def exact(J, gamma, gamma_phi, n, times, N=4):
    sx, sy, sz, sm = qt.sigmax(), qt.sigmay(), qt.sigmaz(), qt.sigmam()

    def op(o, i):
        return qt.tensor([o if k == i else qt.qeye(2) for k in range(N)])

    H = 0
    for i in range(N):
        j = (i + 1) % N
        H += (J[0] * op(sx, i) * op(sx, j) + J[1] * op(sy, i) * op(sy, j) + J[2] * op(sz, i) * op(sz, j)) / 2
    c = [np.sqrt(gamma) * op(sm, i) for i in range(N)] + [np.sqrt(gamma_phi) * op(sz, i) for i in range(N) if gamma_phi]
    th, ph = np.arccos(n[2]), np.arctan2(n[1], n[0])
    # qutip's basis(2, 0) is sz = +1
    one = np.cos(th / 2) * qt.basis(2, 0) + np.exp(1j * ph) * np.sin(th / 2) * qt.basis(2, 1)
    r = qt.mesolve(H if J != (0, 0, 0) else 0 * op(sz, 0), qt.tensor([one] * N), times, c, [op(sx, 0), op(sz, 0)],
                   options=qt.Options(atol=1e-12, rtol=1e-10))
    return np.array(r.expect[0]).real, np.array(r.expect[1]).real


def dtwa(xyzmf, J, gamma, gamma_phi, init, t_end, record, dt, R):
    out = subprocess.run([xyzmf, "dtwa", "--backend", "cpu", "--dim", "1", "--size", "4", "--Jx", str(J[0]), "--Jy",
                          str(J[1]), "--Jz", str(J[2]), "--gamma", str(gamma), "--gamma-phi", str(gamma_phi), "--init",
                          init, "--trajectories", str(R), "--t-end", str(t_end), "--record-every", str(record), "--dt",
                          str(dt), "--json", "-q"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"dtwa_qutip: xyzmf dtwa failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    xyzmf = sys.argv[1]
    failures = []
    cases = [((4, 2, 1), 1, 0, (0, 0, -1), "down", 0.05, 0.0125, 0.0025, 4000),
             ((1, -1, 0), 1, 0.1, (0.6, 0, 0.8), "uniform:0.6,0,0.8", 0.05, 0.0125, 0.0025, 4000),
             ((0, 0, 0), 1, 0.2, (0.6, 0, 0.8), "uniform:0.6,0,0.8", 3, 0.5, 0.05, 3000)]
    for J, g, gphi, n, init, t_end, record, dt, R in cases:
        d = dtwa(xyzmf, J, g, gphi, init, t_end, record, dt, R)
        t = np.array(d["t"])
        ex_x, ex_z = exact(J, g, gphi, n, t)
        for name, got, err, ref in (("sz", d["sz"], d["sz_err"], ex_z), ("sx", d["sx"], d["sx_err"], ex_x)):
            for k in range(1, len(t)):
                dev = abs(got[k] - ref[k])
                ok = dev <= 4 * err[k] + (1e-4 if J != (0, 0, 0) else 1e-12)
                print(f"J = {J}, gamma_phi = {gphi}, {init}, t = {t[k]:g}: <{name}> dtwa {got[k]:+.5f} +- {err[k]:.5f}, "
                      f"qutip {ref[k]:+.5f} {'ok' if ok else 'FAIL'}")
                if not ok:
                    failures.append(f"{J} {name} t={t[k]}")
    if failures:
        sys.exit("dtwa_qutip: FAILED: " + ", ".join(failures))
    print("dtwa_qutip: DTWA agrees with QuTiP where its guarantees hold")


if __name__ == "__main__":
    main()
