#!/usr/bin/env python3
"""The exact steady states and Liouvillian gaps of `xyzmf quantum --method exact` against QuTiP.

QuTiP builds the same master equation from its own Pauli matrices and tensor products
(H = 1/(2d) sum_<mn> Jx sx_m sx_n + Jy sy_m sy_n + Jz sz_m sz_n, jumps sqrt(gamma) s-_n and
sqrt(gamma_phi) sz_n), with its own site ordering and its own vectorisation of rho, and
solves it with its own solvers: `steadystate` (ILU-preconditioned LGMRES on the Liouvillian,
its residual checked) for rho, and the spectrum of `liouvillian` for the gap. Nothing is shared with xyzmf, which applies H
amplitude by amplitude and finds the steady state and the slowest modes by Arnoldi on
exp(L tau) (docs/physics.md 7.3).

The gap is min(-Re lambda) over lambda != 0, and the slowest mode may sit in any symmetry
sector and come as a complex pair or a degenerate multiplet, so the reference takes the
whole spectrum, never a few eigenvalues near a shift (shift-invert finds those nearest the
shift in modulus and can miss a slow mode with a large imaginary part). L commutes with
the lattice translations and with the pi rotation about z (sz on every site), so it is
block-diagonal on the symmetry-adapted basis; each block is diagonalised densely (4096 ->
12 blocks of about 340 at N = 6, of which 8 are computed: rho -> rho^+ maps momentum k to -k
and conjugates the spectrum). The reference checks itself: the basis is orthonormal and
spans the whole space, L B = B A for every block, and at N = 4 (ring and 2x2) the union of
the blocks' spectra equals the dense spectrum of the full L eigenvalue by eigenvalue.

Checked to 1e-8: <sz>, the correlations C_a(r) = (1/N) sum_m <sa_m sa_{m+r}> at every
reported displacement, the gap, each reported slow eigenvalue (it is one of L's), and that
no eigenvalue slower than the reported ones is left out.

Usage: quantum_qutip.py PATH/TO/xyzmf
"""
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import qutip
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

XYZMF = sys.argv[1]
# --quick (the sanitizer build, which checks memory, not numbers): the 4-spin points only.
QUICK = "--quick" in sys.argv[2:]
# Measured worst differences 1e-14 to 7e-14 (2026-12-07); the bound leaves 150x for other machines.
TOL = 1e-11

FM, AFM, SDW, SXY = (2.0, 0.0, 1.0), (-2.0, 0.0, 1.0), (4.0, 2.0, 1.0), (1.0, -1.0, 0.0)
# (lattice, (Jx, Jy, Jz), gamma, gamma_phi): the four phases of the paper's Fig. 4 on rings
# of 4 (and two on a ring of 6), dephasing points (one at Jx = Jy), and 2D clusters whose axes of length 2 double their bonds
# (2x2 is small enough for the dense check of the reference's 2D sectors).
# Six spins cost xyzmf's gap about 10 s a point on 2 cores, so two phases there (CI time).
POINTS = ([((4,), J, 1.0, 0.0) for J in (FM, AFM, SDW, SXY)]
          + [((6,), J, 1.0, 0.0) for J in (FM, SXY)]
          + [((4,), FM, 1.0, 0.2), ((2, 2), FM, 1.0, 0.0), ((3, 2), FM, 1.0, 0.0)]
          # Jx = Jy with dephasing: xyzmf's sectors split by charge, and skip those whose bound lies below the gap
          + [((5,), (1.5, 1.5, -0.5), 1.0, 0.3)])
if QUICK:
    POINTS = [p for p in POINTS if int(np.prod(p[0])) <= 4]


class Lattice:
    """Periodic ring or cluster; site n = x + Lx*y (+ Lx*Ly*z), as in the mean-field engine."""

    def __init__(self, dims):
        self.dims = dims
        self.N = int(np.prod(dims))
        self.coords = [tuple(int(c) for c in np.unravel_index(n, dims, order="F"))
                       for n in range(self.N)]

    def site(self, coord):
        return int(np.ravel_multi_index(tuple(c % L for c, L in zip(coord, self.dims)), self.dims,
                                        order="F"))

    def shift(self, n, disp):
        return self.site(tuple(c + r for c, r in zip(self.coords[n], disp)))

    def bonds(self):
        """Each site to its next neighbour along every axis longer than 1 (length 2: twice)."""
        out = []
        for n in range(self.N):
            for axis, L in enumerate(self.dims):
                if L > 1:
                    out.append((n, self.shift(n, tuple(int(a == axis) for a in range(len(self.dims))))))
        return out

    def translations(self):
        return [tuple(int(c) for c in np.unravel_index(t, self.dims, order="F"))
                for t in range(self.N)]


def site_op(op, n, N):
    return qutip.tensor([op if m == n else qeye2 for m in range(N)])


qeye2 = qutip.qeye(2)
PAULI = {"x": qutip.sigmax(), "y": qutip.sigmay(), "z": qutip.sigmaz()}


def model(lat, J, gamma, gamma_phi):
    N, d = lat.N, len(lat.dims)
    s = {a: [site_op(P, n, N) for n in range(N)] for a, P in PAULI.items()}
    H = 0
    for m, n in lat.bonds():
        for a, Ja in zip("xyz", J):
            H += Ja / (2 * d) * s[a][m] * s[a][n]
    c_ops = [np.sqrt(gamma) * site_op(qutip.sigmam(), n, N) for n in range(N)]
    if gamma_phi > 0:
        c_ops += [np.sqrt(gamma_phi) * s["z"][n] for n in range(N)]
    return H, c_ops, s


def ket_permutation(lat, t):
    """Permutation of the 2^N basis kets under the translation t (QuTiP: site 0 is the top bit)."""
    N = lat.N
    idx = np.arange(2 ** N)
    out = np.zeros_like(idx)
    for n in range(N):
        bit = (idx >> (N - 1 - n)) & 1
        out |= bit << (N - 1 - lat.shift(n, t))
    return out


def spectrum_by_sectors(lat, L):
    """All eigenvalues of the superoperator L, one dense diagonalisation per symmetry sector."""
    D = 2 ** lat.N
    dim = D * D
    ts = lat.translations()
    # A super-index s labels |i><j|; whether it is i + D j or j + D i does not matter: both
    # symmetries act the same way on the ket and on the bra.
    ket, bra = np.arange(dim) % D, np.arange(dim) // D
    perms = []
    for t in ts:
        p = ket_permutation(lat, t)
        perms.append(p[ket] + D * p[bra])
    perms = np.array(perms)
    for p in perms:                                   # self-check: L commutes with each translation
        P = sp.csr_matrix((np.ones(dim), (p, np.arange(dim))), shape=(dim, dim))
        assert abs(P @ L - L @ P).max() < 1e-12, "L does not commute with a translation"
    pop = np.array([bin(i).count("1") for i in range(D)])
    parity = (pop[ket] + pop[bra]) % 2                # eigenvalue of rho -> U rho U, U = prod sz
    rep = perms.min(axis=0)                           # orbit representative of each super-index
    eigs, total = [], 0
    for par in (0, 1):
        reps = np.unique(rep[parity == par])
        for k in ts:                                  # momentum 2 pi k_a / L_a along each axis
            minus_k = tuple(-ka % La for ka, La in zip(k, lat.dims))
            if minus_k < k:
                continue                              # done with -k: rho -> rho^+ maps k to -k
            phase = np.exp(2j * np.pi * np.array([sum(ka * ta / La for ka, ta, La in zip(k, t, lat.dims))
                                                  for t in ts]))
            rows = perms[:, reps].ravel()
            cols = np.tile(np.arange(len(reps)), len(ts))
            vals = np.repeat(phase, len(reps))
            B = sp.csr_matrix((vals, (rows, cols)), shape=(dim, len(reps)))   # duplicates summed
            norms = np.sqrt(np.asarray(abs(B).power(2).sum(axis=0))).ravel()
            keep = norms > 1e-9
            if not keep.any():
                continue
            B = (B[:, keep] @ sp.diags(1 / norms[keep])).tocsc()
            assert abs(B.getH() @ B - sp.identity(B.shape[1])).max() < 1e-12, "basis not orthonormal"
            LB = (L @ B).toarray()
            A = B.getH() @ LB
            assert np.abs(LB - B @ A).max() < 1e-10, "sector not invariant under L"
            ev = np.linalg.eigvals(A)
            # L(rho^+) = (L rho)^+: the sector -k holds the complex conjugates of sector k's eigenvalues.
            eigs += [ev] if minus_k == k else [ev, ev.conj()]
            total += B.shape[1] * (1 if minus_k == k else 2)
    assert total == dim, f"the sectors span {total} of {dim} dimensions"
    return np.concatenate(eigs)


def gap_of(ev):
    zero = np.abs(ev) < 1e-7
    assert zero.sum() == 1, f"{zero.sum()} eigenvalues at 0: the steady state is not unique"
    return -ev[~zero].real.max()


def distinct_real_parts(ev, merge=1e-4):
    """The distinct real parts, largest first; a cluster closer than `merge` counts once, at its
    mean (a defective eigenvalue splits by ~eps^(1/m) in any eigensolver, its mean does not)."""
    re = np.sort(np.real(ev))[::-1]
    groups = np.split(re, np.nonzero(np.diff(re) < -merge)[0] + 1)
    return np.array([g.mean() for g in groups])


def run_xyzmf(lat, J, gamma, gamma_phi):
    where = ["--sites", str(lat.N)] if len(lat.dims) == 1 else ["--size", "x".join(map(str, lat.dims))]
    args = [XYZMF, "quantum", *where, "--Jx", str(J[0]), "--Jy", str(J[1]), "--Jz", str(J[2]),
            "--gamma", str(gamma), "--gamma-phi", str(gamma_phi), "--method", "exact", "--gap",
            "--json", "-q"]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


# xyzmf runs two points at a time (serial at these sizes) while the references are computed.
pool = ThreadPoolExecutor(max_workers=2)
runs = [pool.submit(run_xyzmf, Lattice(dims), J, gamma, gamma_phi) for dims, J, gamma, gamma_phi in POINTS]
failures = 0
worst = {"sz": 0.0, "C": 0.0, "gap": 0.0, "eig": 0.0, "Re eig": 0.0}
for (dims, J, gamma, gamma_phi), run in zip(POINTS, runs):
    lat = Lattice(dims)
    N = lat.N
    label = (f"{'x'.join(map(str, dims))} Jx={J[0]:g} Jy={J[1]:g} Jz={J[2]:g} gamma={gamma:g} "
             f"gamma_phi={gamma_phi:g}")

    H, c_ops, s = model(lat, J, gamma, gamma_phi)
    Lq = qutip.liouvillian(H, c_ops)
    L = Lq.data.tocsr()
    # Preconditioned LGMRES: as exact as the sparse LU here (1e-15 apart) and 20x faster at N = 6.
    rho = qutip.steadystate(Lq, method="iterative-lgmres", tol=1e-14)
    residual = np.abs(L @ qutip.operator_to_vector(rho).full()).max()
    assert residual < 1e-12, f"QuTiP's steady state is not stationary: |L rho| = {residual:.1e}"
    sz = np.mean([qutip.expect(s["z"][n], rho) for n in range(N)])
    if len(dims) == 1:
        disps = [(r,) for r in range(N // 2 + 1)]
        expected_r = list(range(N // 2 + 1))
    else:
        disps = lat.translations()
        expected_r = [list(t) + [0] * (3 - len(dims)) for t in disps]
    C = {a: np.array([np.mean([qutip.expect(s[a][m] * s[a][lat.shift(m, r)], rho) for m in range(N)])
                      for r in disps]) for a in "xyz"}

    ev = spectrum_by_sectors(lat, L)
    gap = gap_of(ev)
    if N <= 4:
        # The reference's own check: the sectors' spectra together are the dense spectrum of L
        # (eigenvalue by eigenvalue; defective ones agree only to ~eps^(1/3)), and give its gap.
        dense = np.linalg.eigvals(L.toarray())
        dist = np.abs(ev[:, None] - dense[None, :])
        rows, cols = linear_sum_assignment(dist)
        dev, dgap = dist[rows, cols].max(), abs(gap_of(dense) - gap)
        ok = dev < 1e-4 and dgap < 1e-10
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label}: reference self-check, sector spectra vs dense eig of "
              f"L ({L.shape[0]}): matched to {dev:.1e}, gaps {dgap:.1e} apart")

    j = run.result()
    if j["r"] != expected_r:
        failures += 1
        print(f"FAIL {label}: displacements {j['r']}, expected {expected_r}")
        continue
    # The reported slowest eigenvalues: each is an eigenvalue of L (real and imaginary part), and
    # none slower is left out. Arnoldi may give a multiple eigenvalue once or several times, so
    # their distinct real parts are compared with the largest distinct ones of the spectrum.
    ours_ev = np.array(j["eigenvalues"]) @ [1, 1j]
    ours_re = distinct_real_parts(ours_ev)
    ref_re = distinct_real_parts(ev)[:len(ours_re)]
    errs = {"sz": abs(j["sz"] - sz),
            "C": max(np.abs(np.array(j["c" + a]) - C[a]).max() for a in "xyz"),
            "gap": abs(j["gap"] - gap),
            "eig": max(np.abs(ev - lam).min() for lam in ours_ev),
            "Re eig": np.abs(ours_re - ref_re).max()}
    for q, e in errs.items():
        worst[q] = max(worst[q], e)
    ok = all(e < TOL for e in errs.values())                        # NaN fails too
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {label}: sz={sz:.10f} gap={gap:.10f} Cx(1)={C['x'][1]:.10f} "
          f"Cz(1)={C['z'][1]:.10f}; |diff| sz {errs['sz']:.1e}, C {errs['C']:.1e}, gap {errs['gap']:.1e}, "
          f"eig {errs['eig']:.1e}, Re eig {errs['Re eig']:.1e}")

print("worst |diff|: " + ", ".join(f"{q} {e:.1e}" for q, e in worst.items()) + f" (tolerance {TOL:g})")
sys.exit(1 if failures else 0)
