#!/usr/bin/python3
"""Plain-numpy baseline for the xyzmf benchmark table: timed classic RK4 on the mean-field XYZ lattice."""
import argparse
import sys
import time

import numpy as np


class XYZ:
    """Mean-field XYZ right-hand side and RK4 stepper on a periodic d-dim lattice.

    State: array of shape (3, *sizes[::-1]) holding (x, y, z); lattice axes are 1..d.
    """

    def __init__(self, shape, dtype, Jx, Jy, Jz, gamma, gamma_phi):
        self.axes = range(1, len(shape))
        d = len(shape) - 1
        self.J = [dtype.type(J / (2 * d)) for J in (Jx, Jy, Jz)]
        self.a = dtype.type(gamma / 2 + 2 * gamma_phi)  # transverse damping
        self.g = dtype.type(gamma)
        self.h = np.empty(shape, dtype)                # effective field
        self.t = np.empty(shape[1:], dtype)            # scratch
        self.k = np.empty(shape, dtype)                # current stage derivative
        self.acc = np.empty(shape, dtype)              # k1 + 2k2 + 2k3 + k4
        self.ys = np.empty(shape, dtype)               # stage state

    def _cross(self, out, p, q, r, s):
        """out = 2 (p q - r s)."""
        np.multiply(p, q, out=out)
        np.multiply(r, s, out=self.t)
        out -= self.t
        out *= 2

    def rhs(self, s, out):
        h, t = self.h, self.t
        np.add(np.roll(s, 1, 1), np.roll(s, -1, 1), out=h)  # sum over the 2d nearest neighbours
        for ax in self.axes[1:]:
            h += np.roll(s, 1, ax)
            h += np.roll(s, -1, ax)
        for c in range(3):
            h[c] *= self.J[c]
        x, y, z = s
        hx, hy, hz = h
        self._cross(out[0], hy, z, hz, y)
        self._cross(out[1], hz, x, hx, z)
        self._cross(out[2], hx, y, hy, x)
        for c in (0, 1):
            np.multiply(s[c], self.a, out=t)
            out[c] -= t
        np.add(z, 1, out=t)
        t *= self.g
        out[2] -= t
        return out

    def step(self, y, dt):
        """One classic RK4 step, in place on y."""
        k, acc, ys = self.k, self.acc, self.ys
        dt = y.dtype.type(dt)
        self.rhs(y, acc)                                   # k1
        np.multiply(acc, dt / 2, out=ys); ys += y
        self.rhs(ys, k)                                    # k2
        acc += 2 * k
        np.multiply(k, dt / 2, out=ys); ys += y
        self.rhs(ys, k)                                    # k3
        acc += 2 * k
        np.multiply(k, dt, out=ys); ys += y
        self.rhs(ys, k)                                    # k4
        acc += k
        acc *= dt / 6
        y += acc


def random_ball(rng, shape, dtype):
    """Points uniform in the unit ball, shape (3, *shape)."""
    v = rng.standard_normal((3,) + shape)
    v /= np.linalg.norm(v, axis=0)
    v *= rng.random(shape) ** (1 / 3)
    return v.astype(dtype)


def self_check():
    ok = True
    for d in (1, 2, 3):  # (a) paramagnet is a fixed point
        shape = (3,) + (6,) * d
        s = np.zeros(shape); s[2] = -1
        m = XYZ(shape, np.dtype(np.float64), 4, 2, 1, 1, 0.3)
        err = np.abs(m.rhs(s, np.empty(shape))).max()
        print(f"check (a) {d}D paramagnet (0,0,-1): max|ds/dt| = {err:.3g}")
        ok &= err == 0
    # (b) Jx = Jy: exchange terms cancel in the lattice mean, so mean z obeys dZ/dt = -gamma (Z + 1)
    shape, dt, n, gamma = (3, 16, 16), 0.01, 100, 1.0
    s = random_ball(np.random.default_rng(1), shape[1:], np.float64)
    m = XYZ(shape, np.dtype(np.float64), 1.5, 1.5, -0.7, gamma, 0.1)
    z0 = s[2].mean()
    for _ in range(n):
        m.step(s, dt)
    t = n * dt
    want = -1 + (z0 + 1) * np.exp(-gamma * t)
    err = abs(s[2].mean() - want)
    print(f"check (b) 2D 16x16 Jx=Jy=1.5 Jz=-0.7 gamma=1 gamma_phi=0.1, t={t:g} dt={dt}: "
          f"mean z = {s[2].mean():.12f}, expected {want:.12f}, |err| = {err:.3g} (tol 1e-8)")
    ok &= err < 1e-8
    print("check:", "PASS" if ok else "FAIL")
    return ok


def arguments(description):
    """The command line shared by the Python baselines (bench_numpy.py, bench_numba.py)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--dim", type=int, choices=(1, 2, 3), default=2, help="lattice dimension d (default 2)")
    p.add_argument("--size", type=int, default=256, help="lattice side N in sites, all sides (default 256); sites = N^d")
    p.add_argument("--precision", choices=("double", "float"), default="double",
                   help="floating-point type: double = float64, float = float32 (default double)")
    p.add_argument("--steps", type=int, default=None,
                   help="RK4 steps per timed repeat (default: calibrated so one repeat takes ~1 s)")
    p.add_argument("--repeats", type=int, default=5, help="number of timed repeats; the median is reported (default 5)")
    p.add_argument("--Jx", type=float, default=4.0, help="coupling Jx, in units of the rate unit (default 4)")
    p.add_argument("--Jy", type=float, default=2.0, help="coupling Jy, in units of the rate unit (default 2)")
    p.add_argument("--Jz", type=float, default=1.0, help="coupling Jz, in units of the rate unit (default 1)")
    p.add_argument("--gamma", type=float, default=1.0, help="decay rate gamma, in units of the rate unit (default 1)")
    p.add_argument("--gamma-phi", type=float, default=0.0,
                   help="dephasing rate gamma_phi, in units of the rate unit (default 0)")
    p.add_argument("--dt", type=float, default=1e-3, help="time step, in units of 1/rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="RNG seed for the random initial state (default 0)")
    p.add_argument("--check", action="store_true", help="run the built-in self-test and exit 0 (pass) or 1 (fail)")
    return p


def measure(stepper_class, a):
    """Times a.repeats batches of RK4 steps of stepper_class on a random state; returns (steps, median rate)."""
    dtype = np.dtype(np.float64 if a.precision == "double" else np.float32)
    shape = (3,) + (a.size,) * a.dim
    sites = a.size ** a.dim
    s = random_ball(np.random.default_rng(a.seed), shape[1:], dtype)
    m = stepper_class(shape, dtype, a.Jx, a.Jy, a.Jz, a.gamma, a.gamma_phi)

    m.step(s, a.dt)  # warm-up (and JIT compilation where there is one): not timed
    steps = a.steps
    if steps is None:  # calibrate: grow until a batch takes >= 0.2 s, then scale to ~1 s
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                m.step(s, a.dt)
            el = time.perf_counter() - t0
            if el >= 0.2:
                break
            n *= 2
        steps = max(1, round(n / el))

    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            m.step(s, a.dt)
        rates.append(sites * steps / (time.perf_counter() - t0))
    return steps, float(np.median(rates))


def bench_main(doc, stepper_class, check, name, versions):
    """The command line of a reference benchmark: --check runs `check`, otherwise one result line."""
    a = arguments(doc).parse_args()
    if a.check:
        sys.exit(0 if check() else 1)
    steps, rate = measure(stepper_class, a)
    print(f"{name}: {a.dim}D L={a.size} {a.precision} | {steps} steps x {a.repeats} repeats | "
          f"median {rate:.4g} site-steps/s | {versions()}")


def main():
    bench_main(__doc__, XYZ, self_check, "numpy", lambda: f"numpy {np.__version__}")


if __name__ == "__main__":
    main()
