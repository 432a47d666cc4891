#!/usr/bin/python3
"""Numba baseline for the xyzmf benchmark table: timed classic RK4 on the mean-field XYZ lattice.

Same equations, options, initial state and step calibration as bench_numpy.py, but each RK4 stage is
one multithreaded numba kernel that fuses the right-hand side with the stage update, so each stage
streams the state through memory once instead of through numpy's many temporaries.
"""
import os
import sys

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import njit, prange

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_numpy import XYZ, arguments, bench_main, measure, random_ball  # noqa: E402  (one source of truth for the state and reference)

# Numba cannot mark arrays noalias, so LLVM vectorises the line loop only behind run-time overlap
# checks between the ~12 component arrays a stage touches; that is over LLVM's default budget of 8,
# and without this the kernels stay scalar (1.5-2x slower on a 2-core AVX2 box). Process-wide, set before compiling.
llvm.set_option("", "-runtime-memory-check-threshold=256")
U = np.uint64
BLOCK = 4096  # 1D work unit per thread: long enough to amortise scheduling, short enough to balance


def _make_stage(mode):
    """Kernels for one RK4 stage kind, with k = f(s) at each site:
    mode 0: A = k;        O = Y + b k      (stage 1)
    mode 1: A += 2 k;     O = Y + b k      (stages 2, 3)
    mode 2: Y += b (A + k)                 (stage 4, b = dt/6; O unused)
    `mode` is a closure constant, so numba folds the branches away instead of testing them per site.
    S, Y, A, O are 3-tuples of 1D component arrays over the flattened lattice: separate arrays, not
    rows of one 2D array, whose unknown row stride LLVM cannot prove independent. Flattening lets one
    line/site body serve d = 1, 2, 3: x neighbours are at +-1 within a row, the others are whole
    rows, passed as their start offsets tb."""

    @njit(fastmath=False, cache=False)
    def site(S, Y, A, O, P, b, n, nm, np_, tb, i):
        (s0, s1, s2), (y0, y1, y2), (a0, a1, a2), (o0, o1, o2) = S, Y, A, O
        jx, jy, jz, gp, g, two, one = P
        # unsigned indices: numba then skips its negative-index wraparound select, which would
        # otherwise turn every load into a gather and stop LLVM from vectorising the line loop
        n, nm, np_ = U(n), U(nm), U(np_)
        Sx, Sy, Sz = s0[nm] + s0[np_], s1[nm] + s1[np_], s2[nm] + s2[np_]
        if tb is not None:  # None in 1D: numba prunes the branch at compile time for a None argument
            for t in tb:  # transverse neighbour rows; a 2/4-tuple, unrolled by LLVM
                m = U(t + i)
                Sx += s0[m]; Sy += s1[m]; Sz += s2[m]
        x, y, z = s0[n], s1[n], s2[n]
        hx, hy, hz = jx * Sx, jy * Sy, jz * Sz
        kx = two * (hy * z - hz * y) - gp * x
        ky = two * (hz * x - hx * z) - gp * y
        kz = two * (hx * y - hy * x) - g * (z + one)  # typed constants keep float32 runs in float32
        if mode == 0:
            a0[n] = kx; a1[n] = ky; a2[n] = kz
        elif mode == 1:
            a0[n] += two * kx; a1[n] += two * ky; a2[n] += two * kz
        if mode == 2:  # in place on Y, the same array read, so LLVM needs no overlap check for it
            y0[n] += b * (a0[n] + kx); y1[n] += b * (a1[n] + ky); y2[n] += b * (a2[n] + kz)
        else:
            o0[n] = y0[n] + b * kx; o1[n] = y1[n] + b * ky; o2[n] = y2[n] + b * kz

    @njit(fastmath=False, cache=False)
    def line(S, Y, A, O, P, b, base, tb, N, lo, hi):
        # the periodic wrap is peeled off the ends so the interior loop has plain i +- 1 (vectorisable)
        if lo == 0:
            site(S, Y, A, O, P, b, base, base + N - 1, base + 1 % N, tb, 0)
            lo = 1
        for i in range(lo, min(hi, N - 1)):
            site(S, Y, A, O, P, b, base + i, base + i - 1, base + i + 1, tb, i)
        if hi == N and N > 1:
            site(S, Y, A, O, P, b, base + N - 1, base + N - 2, base, tb, N - 1)

    @njit(parallel=True, fastmath=False, cache=False)
    def k1(S, Y, A, O, P, b, Nx):
        for blk in prange((Nx + BLOCK - 1) // BLOCK):  # one axis only: split it into blocks
            line(S, Y, A, O, P, b, 0, None, Nx, blk * BLOCK, min(Nx, (blk + 1) * BLOCK))

    @njit(parallel=True, fastmath=False, cache=False)
    def k2(S, Y, A, O, P, b, Nx, Ny):
        for j in prange(Ny):
            tb = (((j - 1) % Ny) * Nx, ((j + 1) % Ny) * Nx)
            line(S, Y, A, O, P, b, j * Nx, tb, Nx, 0, Nx)

    @njit(parallel=True, fastmath=False, cache=False)
    def k3(S, Y, A, O, P, b, Nx, Ny, Nz):
        for k in prange(Nz):
            zm, zp = ((k - 1) % Nz) * Ny * Nx, ((k + 1) % Nz) * Ny * Nx
            for j in range(Ny):
                ym, yp = ((j - 1) % Ny) * Nx, ((j + 1) % Ny) * Nx
                tb = (k * Ny * Nx + ym, k * Ny * Nx + yp, zm + j * Nx, zp + j * Nx)
                line(S, Y, A, O, P, b, (k * Ny + j) * Nx, tb, Nx, 0, Nx)

    return (None, k1, k2, k3)


STAGES = [_make_stage(m) for m in (0, 1, 2)]


class NumbaXYZ:
    """RK4 stepper with bench_numpy.XYZ's constructor and step(); state shape (3, *sizes[::-1])."""

    def __init__(self, shape, dtype, Jx, Jy, Jz, gamma, gamma_phi):
        d = len(shape) - 1
        T = dtype.type
        self.P = tuple(T(v) for v in (Jx / (2 * d), Jy / (2 * d), Jz / (2 * d),
                                      gamma / 2 + 2 * gamma_phi, gamma, 2, 1))
        self.dims = tuple(shape[:0:-1])  # (Nx, Ny, Nz) as the kernels take them, fastest first
        self.d, self.T = d, T
        m = int(np.prod(shape[1:]))
        self.acc = tuple(np.zeros(m, dtype) for _ in range(3))
        self.ya = tuple(np.empty(m, dtype) for _ in range(3))  # two stage buffers: a stage may not
        self.yb = tuple(np.empty(m, dtype) for _ in range(3))  # overwrite its own source

    def _run(self, mode, s, y0, out, b):
        STAGES[mode][self.d](s, y0, self.acc, out, self.P, self.T(b), *self.dims)

    def rhs(self, s, out):
        f = tuple(s.reshape(3, -1))
        self._run(0, f, tuple(np.zeros_like(c) for c in f), self.ya, 0.0)
        out[...] = np.reshape(self.acc, out.shape)
        return out

    def step(self, y, dt):
        """One classic RK4 step, in place on y (which must be C-contiguous)."""
        f, ya, yb = tuple(y.reshape(3, -1)), self.ya, self.yb
        self._run(0, f, f, ya, dt / 2)
        self._run(1, ya, f, yb, dt / 2)
        self._run(1, yb, f, ya, dt)
        self._run(2, ya, f, f, dt / 6)


def self_check():
    ok = True
    for d in (1, 2, 3):  # (a) paramagnet is a fixed point
        shape = (3,) + (6,) * d
        s = np.zeros(shape); s[2] = -1
        m = NumbaXYZ(shape, np.dtype(np.float64), 4, 2, 1, 1, 0.3)
        err = np.abs(m.rhs(s, np.empty(shape))).max()
        print(f"check (a) {d}D paramagnet (0,0,-1): max|ds/dt| = {err:.3g}")
        ok &= err == 0
    # (b) same trajectory as the numpy reference; non-square sides catch mixed-up axes
    args = (np.dtype(np.float64), 4.0, 2.0, -1.3, 1.0, 0.2)
    for shape in ((3, 17), (3, 9, 11), (3, 5, 6, 7)):
        s = random_ball(np.random.default_rng(2), shape[1:], np.float64)
        r = s.copy()
        m, ref = NumbaXYZ(shape, *args), XYZ(shape, *args)
        for _ in range(20):
            m.step(s, 0.01)
            ref.step(r, 0.01)
        err = np.abs(s - r).max()
        print(f"check (b) {'x'.join(map(str, shape[1:]))} Jx=4 Jy=2 Jz=-1.3 gamma=1 gamma_phi=0.2, "
              f"20 RK4 steps dt=0.01 vs bench_numpy: max|diff| = {err:.3g} (tol 1e-12)")
        ok &= err <= 1e-12
    print("check:", "PASS" if ok else "FAIL")
    return ok


def main():
    bench_main(__doc__, NumbaXYZ, self_check, "numba",
               lambda: f"numba {numba.__version__}, {numba.get_num_threads()} threads")


if __name__ == "__main__":
    main()
