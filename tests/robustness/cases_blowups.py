"""Class 6, blow-ups.
"""
import os
import re
import shutil
import subprocess
import h5py
import numpy as np

import harness
from harness import CHILD_ENV, Case, Q, SWEEP_ENTRY_KEYS, _make, astr, check_run_file, h5_state
from fixtures import with_opts


BLOW = ["run", "--size", "8", "--Jx", "10", "--Jy", "-10", "--t-end", "20"] + Q


def post_blown(name="out.h5"):
    def f(ctx, res):
        if res.rc == 0 or not os.path.exists(ctx.p(name)):
            return
        st = h5_state(ctx.p(name))
        if not st["ok"]:
            ctx.fail("LOST", f"{name} unreadable after exit {res.rc}: {st['err']}", res.argv)
            return
        status = st["attrs"].get("status", "")
        if res.rc == 4 and not status.startswith("blow-up"):
            ctx.fail("CHECK", f"status {status!r} after a blow-up", res.argv)
        if status.startswith("running"):
            ctx.fail("CHECK", f"{name} left with status 'running' after exit {res.rc}", res.argv)
        if res.rc != 4:
            return
        check_run_file(ctx, name, res.argv, expect_status=None)
        with h5py.File(ctx.p(name), "r") as f5:
            if "snapshots" not in f5 or len(f5["snapshots"]) == 0:
                ctx.fail("CHECK", "blown-up file keeps no snapshot", res.argv)
    return f


def blowup_code(f):
    m = re.search(r"(-?\d+)\s+blow-up", astr(f["sweep"].attrs.get("phase_codes", "")))
    return int(m.group(1)) if m else None


def check_blown_sweep(ctx, name, argv, ref=None):
    try:
        with h5py.File(ctx.p(name), "r") as f:
            status = astr(f.attrs.get("status", ""))
            if not status.startswith("finished"):
                ctx.fail("CHECK", f"status {status!r}, expected 'finished'", argv)
            code = blowup_code(f)
            ph = f["sweep/phase"][()]
            mp = f["sweep/m_perp"][()]
            if code is None:
                ctx.fail("CHECK", "/sweep phase_codes names no 'blow-up' code", argv)
                return
            if not np.any(ph == code):
                ctx.fail("HARNESS", "no grid point blew up (choose a larger |J| or dt)", argv)
            if np.any(ph == -1):
                ctx.fail("CHECK", f"{int(np.sum(ph == -1))} entries left 'not done'", argv)
            normal = (ph != code) & (ph != -1)
            if np.any((ph[normal] < 0) | (ph[normal] > 6)):
                ctx.fail("CHECK", f"unknown phase codes {sorted(set(ph[normal].ravel()) - set(range(7)))}", argv)
            if not np.all(np.isfinite(mp[normal])):
                ctx.fail("CHECK", "a point that did not blow up has a non-finite m_perp", argv)
            if ref is not None:
                with h5py.File(ctx.p(ref), "r") as g:
                    ph2, mp2 = g["sweep/phase"][()], g["sweep/m_perp"][()]
                    if not np.array_equal(ph, ph2):
                        ctx.fail("CHECK", f"phases differ from the same sweep run with {ref}: "
                                 f"{int(np.sum(ph != ph2))} entries", argv)
                    both = normal & (ph2 != code)
                    if not np.array_equal(mp[both], mp2[both]):
                        ctx.fail("CHECK", f"non-blown points differ from {ref} (a blow-up in the batch "
                                 f"changed its neighbours)", argv)
    except Exception as e:                          # noqa: BLE001
        ctx.fail("CHECK", f"{name}: {str(e).splitlines()[0][:120]}", argv)


def reproducible_analysis(ctx):
    """The analysis of one state gives the same bits every time and on any thread count (a67327b:
    S(k) on the Nyquist column of an even lattice was written by two threads with values equal
    only up to roundoff, so S(k) and a sweep's peak_weight changed in the last bit run to run)."""
    _make(ctx.d, ["run", "--size", "256", "--t-end", "5", "--Jx", "1", "--Jy", "-1", "--Jz", "0"] + Q + ["-o", "s.h5"])
    names = []
    for i, threads in enumerate([1, 2, 2, 2, 2, 2, 3]):
        name = f"a{i}.h5"
        shutil.copyfile(ctx.p("s.h5"), ctx.p(name))
        r = ctx.exec(["analyze", name, "--json"], env=dict(CHILD_ENV, OMP_NUM_THREADS=str(threads)))
        ctx.check_exit(r, (0,))
        names.append(name)
    ref = h5_state(ctx.p(names[0]))
    for name in names[1:]:
        st = h5_state(ctx.p(name))
        diff = [k for k, v in ref["dsets"].items() if k.startswith("final/") and st["dsets"].get(k) != v]
        if diff:
            ctx.fail("CHECK", f"{name} differs from the first analysis in {', '.join(diff[:4])}", ["analyze", name])


def reproducible_sweep(ctx):
    """Two identical sweeps, on 2 threads, store the same bits."""
    argv = ["sweep", "--x", "Jx:-3:3:5", "--y", "Jy:-3:3:5", "--size", "16", "--t-end", "20", "--replicas", "2"] + Q
    env = dict(CHILD_ENV, OMP_NUM_THREADS="2")
    for name in ("a.h5", "b.h5", "c.h5"):
        ctx.check_exit(ctx.exec(argv + ["-o", name], env=env), (0,))
    with h5py.File(ctx.p("a.h5"), "r") as fa:
        for name in ("b.h5", "c.h5"):
            with h5py.File(ctx.p(name), "r") as fb:
                bad = [k for k in SWEEP_ENTRY_KEYS if not np.array_equal(fa["sweep"][k][()], fb["sweep"][k][()],
                                                                         equal_nan=True)]
                if bad:
                    ctx.fail("CHECK", f"{name} differs from a.h5 in /sweep/{', '.join(bad)}", argv)


def blowups_cases():
    C = []
    C.append(Case("blowups", "analysis of one state: the same bits 7 times on 1, 2 and 3 threads",
                  runner=reproducible_analysis, cost=3, timeout=harness.TIMEOUT))
    C.append(Case("blowups", "three identical sweeps on 2 threads: the same bits", runner=reproducible_sweep, cost=3,
                  timeout=harness.TIMEOUT))
    runs = [
        ("rk4 dt 5", ["--dt", "5"]),
        ("rk4 dt 2 float", ["--dt", "2", "--precision", "float"]),
        ("pm-noise dt 0.4 (blows up after snapshots)", ["--init", "pm-noise", "--dt", "0.4", "--snapshot-every", "0.4"]),
        ("1D dt 2", ["--dim", "1", "--size", "16", "--dt", "2"]),
        ("3D dt 2", ["--size", "4x4x4", "--dt", "2"]),
        ("four-sweep dt 2", ["--stepper", "four-sweep", "--dt", "2"]),
        ("fused 1 step per pass", ["--size", "16", "--steps-per-pass", "1", "--dt", "2"]),
        ("fused 2 steps per pass", ["--size", "16", "--steps-per-pass", "2", "--dt", "2"]),
        ("fused 4 steps per pass float", ["--size", "16", "--steps-per-pass", "4", "--dt", "2", "--precision", "float"]),
        ("with --analyze", ["--dt", "0.4", "--init", "pm-noise", "--snapshot-every", "0.4", "--analyze"]),
        ("with --compress 5", ["--dt", "2", "--compress", "5"]),
        ("with --record-every 0.01", ["--dt", "0.5", "--record-every", "0.01"]),
    ]
    for label, args in runs:
        C.append(Case("blowups", f"run {label}", with_opts(BLOW, args) + ["-o", "out.h5"], expect=(4,), creates=("out.h5",),
                      post=post_blown()))
    C.append(Case("blowups", "run --Jx 1e300", ["run", "--size", "8", "--Jx", "1e300", "--t-end", "1"] + Q +
                  ["-o", "out.h5"], expect=(2, 4), creates=("out.h5",), post=post_blown()))

    def make_blown(d):
        r = subprocess.run([harness.XYZMF] + BLOW + ["--init", "pm-noise", "--dt", "0.4", "--snapshot-every", "0.4",
                                             "-o", "b.h5"], cwd=d, env=CHILD_ENV, capture_output=True, timeout=harness.TIMEOUT)
        if r.returncode != 4:
            raise RuntimeError(f"expected a blow-up (exit 4), got exit {r.returncode}")
    C.append(Case("blowups", "run --resume of a blown-up file", ["run", "--resume", "b.h5"] + Q, setup=make_blown,
                  expect=(2, 3, 4), modifies=("b.h5",), post=post_blown("b.h5")))
    C.append(Case("blowups", "analyze --snapshot 0 of a blown-up file", ["analyze", "b.h5", "--snapshot", "0"],
                  setup=make_blown, modifies=("b.h5",)))
    C.append(Case("blowups", "analyze --all-snapshots of a blown-up file", ["analyze", "b.h5", "--all-snapshots"],
                  setup=make_blown, expect=(0, 3), modifies=("b.h5",)))

    # steady-tol 0: every lattice of a batch is independent, so batching must not change any result
    sw = ["sweep", "--x", "Jx:-40:40:5", "--y", "Jy:-2:2:3", "--dt", "0.5", "--size", "4", "--t-end", "5",
          "--steady-tol", "0"] + Q

    def sweep_pair(extra, label, ref_extra=("--batch-points", "1"), ref_label="batch-points 1"):
        def runner(ctx):
            a = with_opts(sw, extra) + ["-o", "a.h5"]
            r = ctx.run(a, (0,), creates=("a.h5",))
            b = with_opts(with_opts(sw, extra), list(ref_extra)) + ["-o", "b.h5"]
            r2 = ctx.run(b, (0,), creates=("b.h5",))
            if r.rc == 0:
                check_blown_sweep(ctx, "a.h5", a, ref="b.h5" if r2.rc == 0 else None)
        C.append(Case("blowups", f"sweep with blow-ups {label} (one batch vs {ref_label})", runner=runner, cost=0.5))

    sweep_pair([], "")
    sweep_pair(["--precision", "float"], "float")
    sweep_pair(["--replicas", "3"], "3 replicas")

    def steady_runner(ctx):
        """with --steady-tol the batch stops when all its lattices are stationary: blown-up lattices
        must not keep it going (or stop it), so the middle column equals a batch of that column alone."""
        a = with_opts(sw, ["--steady-tol", "1e-3", "--t-end", "30"]) + ["-o", "a.h5"]
        r = ctx.run(a, (0,), creates=("a.h5",))
        c = with_opts(sw, ["--steady-tol", "1e-3", "--t-end", "30", "--x", "Jx:0:0:1"]) + ["-o", "c.h5"]
        r2 = ctx.run(c, (0,), creates=("c.h5",))
        if r.rc == 0:
            check_blown_sweep(ctx, "a.h5", a)
        if r.rc == 0 and r2.rc == 0:
            with h5py.File(ctx.p("a.h5"), "r") as fa, h5py.File(ctx.p("c.h5"), "r") as fc:
                for k in ("phase", "m_perp", "t_final"):
                    x, y = fa["sweep"][k][()][:, 2:3], fc["sweep"][k][()]
                    if not np.array_equal(x, y, equal_nan=True):
                        ctx.fail("CHECK", f"Jx = 0 column: /sweep/{k} {x.ravel().tolist()} with blown-up "
                                 f"neighbours in the batch vs {y.ravel().tolist()} alone", a)
    C.append(Case("blowups", "sweep with blow-ups and --steady-tol 1e-3 (Jx = 0 column vs that column alone)",
                  runner=steady_runner, cost=0.5))
    C.append(Case("blowups", "sweep where every point blows up",
                  ["sweep", "--x", "Jx:30:40:2", "--y", "Jy:-40:-30:2", "--dt", "1", "--size", "4", "--t-end", "5"] + Q +
                  ["-o", "a.h5"], creates=("a.h5",), post=lambda ctx, res: check_blown_sweep(ctx, "a.h5", res.argv)))

    def make_blown_sweep(d):
        _make(d, sw + ["-o", "s.h5"])
    C.append(Case("blowups", "sweep --resume of a finished sweep with blow-ups", ["sweep", "--resume", "s.h5"] + Q,
                  setup=make_blown_sweep, expect=(0, 2, 3), modifies=("s.h5",), timeout=30))

    def merge_blown(ctx):
        ctx.run(sw + ["--shard", "0/2", "-o", "a.h5"], (0,), creates=("a.h5",))
        ctx.run(sw + ["--shard", "1/2", "-o", "b.h5"], (0,), creates=("b.h5",))
        rw = ctx.run(sw + ["-o", "w.h5"], (0,), creates=("w.h5",))
        r = ctx.run(["merge", "-o", "m.h5", "a.h5", "b.h5"], (0,), creates=("m.h5",))
        if r.rc == 0 and rw.rc == 0:
            check_blown_sweep(ctx, "m.h5", r.argv, ref="w.h5")
    C.append(Case("blowups", "merge of shards with blow-ups", runner=merge_blown, cost=0.5))
    return C


# ----------------------------------------------------------------------------------------
