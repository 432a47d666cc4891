#!/usr/bin/env python3
"""The single-mode steady states of `xyzmf gaussian` against QuTiP.

For the self-conjugate modes k = 0 and k = pi the Gaussian theory is one boson
with H = w b^+b + g (b^+^2 + b^2) and decay gamma D[b]. QuTiP's `steadystate`
solves that master equation in a truncated Fock space, independently of our
closed forms. At the points below the occupation is small, so the truncation
is exact to far below the 1e-10 we demand (checked: two cutoffs agree).

Usage: gaussian_qutip.py PATH/TO/xyzmf
"""
import json
import subprocess
import sys

import numpy as np
import qutip

XYZMF = sys.argv[1]
TOL = 1e-10


def qutip_mode(w, g, gamma, cutoff):
    b = qutip.destroy(cutoff)
    H = w * b.dag() * b + g * (b.dag() ** 2 + b ** 2)
    rho = qutip.steadystate(H, [np.sqrt(gamma) * b])
    n = qutip.expect(b.dag() * b, rho)
    a = qutip.expect(b * b, rho)
    return n, a, 1 + 2 * n - 2 * abs(a)


# (Jx, Jy, Jz, gamma, dim): both signs of w and g, Jz = 0 and not, w_0 = 0.
POINTS = [(0.3, 0.1, 1.0, 1.0, 2), (0.1, -0.05, 0.0, 1.0, 1), (-0.4, 0.1, 0.5, 1.0, 3),
          (0.15, -0.05, 0.05, 1.0, 2), (0.1, 0.02, 0.3, 0.5, 2), (1.0, 0.8, 1.0, 1.0, 2)]
failures = 0
for Jx, Jy, Jz, gamma, dim in POINTS:
    out = subprocess.run([XYZMF, "gaussian", "--Jx", str(Jx), "--Jy", str(Jy), "--Jz", str(Jz),
                          "--gamma", str(gamma), "--dim", str(dim), "--json"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    assert j["applies"], (Jx, Jy, Jz)
    for name, u in (("k0", 1.0), ("kpi", -1.0)):
        w = (Jx + Jy) * u - 2 * Jz
        g = (Jx - Jy) * u / 2
        n30, a30, xi30 = qutip_mode(w, g, gamma, 40)
        n, a, xi2 = qutip_mode(w, g, gamma, 60)
        assert abs(n - n30) < 1e-12 and abs(a - a30) < 1e-12, "Fock cutoff too small"
        ours_a = complex(*j["a_" + name])
        errs = (abs(j["n_" + name] - n), abs(ours_a - a), abs(j["xi2_" + name] - xi2))
        ok = max(errs) < TOL
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} Jx={Jx} Jy={Jy} Jz={Jz} gamma={gamma} {name}: n={n:.12g} "
              f"<bb>={a:.12g} xi2={xi2:.12g}; |diff| n {errs[0]:.1e}, <bb> {errs[1]:.1e}, xi2 {errs[2]:.1e}")
sys.exit(1 if failures else 0)
