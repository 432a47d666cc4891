#!/usr/bin/python3
"""The peer a physicist writes in an afternoon: classic RK4 of the mean-field XYZ
lattice in JAX (jnp.roll neighbour sums, the four stages, lax.fori_loop under
jax.jit, which XLA fuses), timed on whatever device JAX finds. The GPU check
(tools/gpu-check.sh) runs it in the same call as `xyzmf bench`, so the two
rates compare on one machine.

    bench_jax.py --dim 2 --size 4096 --precision double [--steps N] [--repeats 5]
    bench_jax.py --check     # the same equations as tools/bench_numpy.py, to roundoff

Prints one line: 'jax: DEVICE | DIMD SIZE | PRECISION | N steps x R repeats |
median X site-steps/s'.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def make_step(dim, dtype, Jx=4.0, Jy=2.0, Jz=1.0, gamma=1.0, gamma_phi=0.0):
    """One RK4 step of size dt on a state of shape (3, *sizes[::-1])."""
    J = jnp.array([Jx, Jy, Jz], dtype) / (2 * dim)
    g_perp, g = dtype(gamma / 2 + 2 * gamma_phi), dtype(gamma)

    def rhs(s):
        nsum = sum(jnp.roll(s, sh, ax) for ax in range(1, dim + 1) for sh in (1, -1))
        hx, hy, hz = J[0] * nsum[0], J[1] * nsum[1], J[2] * nsum[2]
        x, y, z = s
        return jnp.stack([2 * (hy * z - hz * y) - g_perp * x,
                          2 * (hz * x - hx * z) - g_perp * y,
                          2 * (hx * y - hy * x) - g * (z + 1)])

    def step(s, dt):
        k1 = rhs(s)
        k2 = rhs(s + dt / 2 * k1)
        k3 = rhs(s + dt / 2 * k2)
        k4 = rhs(s + dt * k3)
        return s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return step


def run(dim, size, precision, steps, repeats):
    dtype = np.float64 if precision == "double" else np.float32
    shape = (3,) + (size,) * dim
    rng = np.random.default_rng(1)
    s0 = rng.uniform(-0.5, 0.5, shape).astype(dtype)
    step = make_step(dim, dtype)
    dt = dtype(1e-3)

    @jax.jit
    def advance(s, n):
        return jax.lax.fori_loop(0, n, lambda i, u: step(u, dt), s)

    s = jax.device_put(jnp.asarray(s0))
    advance(s, 1).block_until_ready()  # compile
    t0 = time.perf_counter()
    advance(s, 2).block_until_ready()
    one = (time.perf_counter() - t0) / 2
    if steps <= 0:
        steps = max(3, int(0.5 / max(one, 1e-6)))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        s = advance(s, steps)
        s.block_until_ready()
        rates.append(size ** dim * steps / (time.perf_counter() - t0))
    rates.sort()
    dev = jax.devices()[0]
    print(f"jax: {dev.platform} ({dev.device_kind}) | {dim}D {size} | {precision} | {steps} steps x {repeats} repeats"
          f" | median {rates[len(rates) // 2]:.4g} site-steps/s", flush=True)


def check():
    """The JAX step against tools/bench_numpy.py's, float64, 20 steps on 2D and 3D lattices."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_numpy
    worst = 0.0
    for dim, size in ((1, 37), (2, 13), (3, 7)):
        shape = (3,) + (size,) * dim
        s0 = bench_numpy.random_ball(np.random.default_rng(3), shape[1:], np.dtype(np.float64))
        ref = s0.copy()
        xyz = bench_numpy.XYZ(shape, np.dtype(np.float64), 4.0, 2.0, 1.0, 1.0, 0.0)
        for _ in range(20):
            xyz.step(ref, 0.01)
        step = jax.jit(make_step(dim, np.float64))
        s = jnp.asarray(s0)
        for _ in range(20):
            s = step(s, 0.01)
        err = float(np.max(np.abs(np.asarray(s) - ref)))
        moved = float(np.max(np.abs(ref - s0)))
        print(f"check {dim}D {size}: max |jax - numpy| = {err:.2e} (the state moved {moved:.2f})")
        worst = max(worst, err / max(moved, 1e-300))
    if worst > 1e-12:
        print("bench_jax.py: the JAX step does not match tools/bench_numpy.py", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    p.add_argument("--size", type=int, default=4096, help="sites per side")
    p.add_argument("--precision", default="double", choices=("double", "float"))
    p.add_argument("--steps", type=int, default=0, help="steps per repeat; 0: about 0.5 s")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--check", action="store_true", help="compare with tools/bench_numpy.py and exit")
    a = p.parse_args()
    if a.check:
        return check()
    run(a.dim, a.size, a.precision, a.steps, a.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
