"""Class 2, crafted files: damaged, foreign or hostile input files for every command that reads one.
"""
import os

import numpy as np

from harness import (
    Case, FX, Q, _make, check_run_file, cp, del_attr, del_obj, exported, mutate, post_export_ok,
    post_names, post_run_ok, post_sweep_ok, replace_all_spins, seq, seq_mut, set_attr, set_ds,
    spins_paths, write_text, xdmf_state)
from fixtures import MAP5, SHARD_VARIANTS, SWEEP3
from cases_options import DTWA_TINY, QUANT_TINY, RUN_TINY
from cases_kill import damage


def consumer(kind, f="F.h5"):
    """(argv, modifies, creates) of a command that reads crafted file f."""
    if kind == "analyze":
        return ["analyze", f], (f,), ()
    if kind == "analyze-out":
        return ["analyze", f, "--out", "new.h5"], (), ("new.h5",)
    if kind == "resume":
        return ["run", "--resume", f] + Q, (f,), ()
    if kind == "init":
        return ["run", "--init", f, "--size", "8", "--t-end", "0.1"] + Q + ["-o", "new.h5"], (), ("new.h5",)
    if kind == "sweep-resume":
        return ["sweep", "--resume", f] + Q, (f,), ()
    if kind == "merge":
        return ["merge", "-o", "m.h5", f, "other.h5"], (), ("m.h5",)
    raise ValueError(kind)


BASE_OF = {"analyze": "run", "analyze-out": "run", "resume": "part", "init": "run",
           "sweep-resume": "sweep_part", "merge": "sh0"}


def post_resume_consistent(ctx, res):
    """A resume that succeeded must have reached t_end with the uninterrupted run's spins."""
    if res.rc == 0:
        check_run_file(ctx, "F.h5", res.argv, ref=FX["run"])


def crafted_cases():
    C = []

    def add(label, kinds, mut, expect=(3,), base=None, post=None, extra_setup=None):
        for kind in kinds:
            argv, modifies, creates = consumer(kind)
            b = base or BASE_OF[kind]
            steps = [cp(b, "F.h5")]
            if mut is not None:
                steps.append(mutate("F.h5", mut))
            if kind == "merge":
                steps.append(cp("sh1", "other.h5"))
            if extra_setup:
                steps.append(extra_setup)
            p = post
            if p is None and 0 in expect:
                p = {"resume": post_resume_consistent, "init": post_run_ok("new.h5"),
                     "sweep-resume": post_sweep_ok("F.h5", ref="sweep"),
                     "merge": post_sweep_ok("m.h5", ref="sweep")}.get(kind)
            C.append(Case("crafted_files", f"{kind}: {label}", argv, setup=seq(*steps), expect=expect,
                          modifies=modifies, creates=creates, post=p))

    P = "parameters"
    # controls: the untouched fixtures work
    add("untouched (control)", ["analyze", "analyze-out", "resume", "init", "sweep-resume", "merge"], None,
        expect=(0,), post=None)
    # -- /parameters attributes
    A, R, AO, I = "analyze", "resume", "analyze-out", "init"
    table = [
        ("Jx", np.nan, [R, A]), ("Jx", np.inf, [R, AO]), ("Jy", -np.inf, [R, A]), ("Jz", np.nan, [R, AO]),
        ("gamma", np.nan, [R, A]), ("gamma", -1.0, [R, A]), ("gamma", np.inf, [R]),
        ("gamma_phi", np.nan, [R, A]), ("gamma_phi", -1.0, [R]),
        ("dt", np.nan, [R]), ("dt", np.inf, [R]), ("dt", -0.01, [R]), ("dt", 0.0, [R]), ("dt", 1e308, [R]),
        ("dt", 1e-320, [R]),
        ("rtol", np.nan, [R]), ("atol", -1.0, [R]),
        ("t_end", np.nan, [R]), ("t_end", np.inf, [R]), ("t_end", -1.0, [R]), ("t_end", 1e300, [R]),
        ("steady_tol", np.nan, [R]), ("steady_tol", -1.0, [R]), ("norm_tol", np.nan, [R]), ("norm_tol", -1.0, [R]),
        ("record_every", np.nan, [R]), ("record_every", 0.0, [R]), ("record_every", -1.0, [R]),
        ("snapshot_every", np.nan, [R]), ("snapshot_every", -1.0, [R]),
        ("noise", np.nan, [R]),
        ("dim", np.int64(7), [R, A, I]), ("dim", np.int64(0), [R, A]), ("dim", np.int64(-1), [R]),
        ("sizes", np.array([0, 0], dtype=np.int64), [R, A, I]),
        ("sizes", np.array([-4, -4], dtype=np.int64), [R, A, I]),
        ("sizes", np.array([100000000, 100000000], dtype=np.int64), [R, A, I]),
        ("sizes", np.array([8], dtype=np.int64), [R, A, I]),
        ("sizes", np.array([8, 8, 8], dtype=np.int64), [R, A]),
        ("steps_per_pass", np.int64(99), [R]), ("steps_per_pass", np.int64(-1), [R]),
        ("compress", np.int64(42), [R]), ("compress", np.int64(-1), [R]),
        ("precision", "quad", [R, A, I]), ("integrator", "euler", [R]), ("stepper", "zigzag", [R]),
        ("seed", np.int64(-5), [R]),
        ("dt", "abc", [R]), ("sizes", "8x8", [R, A, I]), ("precision", np.float64(3.0), [R, A]),
        ("Jx", "abc", [R, A]), ("t_end", "2", [R]),
    ]
    for key, val, kinds in table:
        shown = val if not isinstance(val, np.ndarray) else list(val)
        add(f"/parameters {key} = {shown!r}", kinds, set_attr(P, key, val))
    for key, kinds in [("dt", [R]), ("sizes", [R, A, I]), ("dim", [R, A]), ("precision", [R, A]), ("t_end", [R]),
                       ("Jx", [R, A])]:
        add(f"/parameters {key} deleted", kinds, del_attr(P, key))

    # -- spins datasets (every snapshot and /final)
    def one_site(v):
        def f(s):
            s = s.copy()
            s.reshape(-1, 3)[5] = v
            return s
        return f
    spins_table = [
        ("wrong shape (8,7,3)", lambda s: s[:, :7, :].copy()),
        ("wrong rank (64,3)", lambda s: s.reshape(-1, 3).copy()),
        ("4 components", lambda s: np.concatenate([s, s[..., :1]], axis=-1)),
        ("dtype int64", lambda s: np.zeros(s.shape, dtype=np.int64)),
        ("dtype string", lambda s: np.array([["x" * 3] * s.shape[1]] * s.shape[0], dtype="S3")),
        ("a NaN", one_site([np.nan, 0.0, 0.0])),
        ("an inf", one_site([np.inf, 0.0, 0.0])),
        ("|s| = 1.5", one_site([1.5, 0.0, 0.0])),
        ("empty (0 sites)", lambda s: np.zeros((0, 0, 3))),
        ("scalar", lambda s: np.float64(0.0)),
    ]
    for label, fn in spins_table:
        add(f"spins {label}", ["analyze", "init", "resume"], replace_all_spins(fn))
    add("spins float32 in a double file", ["analyze", "init"], replace_all_spins(lambda s: s.astype(np.float32)),
        expect=(0, 3))

    def spins_group(h):
        for p in spins_paths(h):
            del h[p]
            h.create_group(p)
    add("spins is a group", ["analyze", "resume"], spins_group)
    add("/final/spins missing", ["analyze"], del_obj("final/spins"))

    # -- structure and root attributes
    add("/parameters missing", [A, R], del_obj(P))
    add("/parameters missing", [I], del_obj(P), expect=(0, 3))
    add("schema attribute missing", [A, R, I], del_attr("/", "schema"))
    add("schema = 'other'", [A, R, I], set_attr("/", "schema", "other"))
    add("schema_version = '9.0'", [A, R, I], set_attr("/", "schema_version", "9.0"))
    add("schema_version = 'banana'", [R], set_attr("/", "schema_version", "banana"))
    add("/snapshots missing", [R], del_obj("snapshots"))
    last = "snapshots/000001"
    consistent = [
        ("last snapshot without t", del_obj(last + "/t")),
        ("last snapshot step = 1e18", set_attr(last, "step", np.int64(10 ** 18))),
        ("last snapshot step = -3", set_attr(last, "step", np.int64(-3))),
        ("last snapshot step deleted", del_attr(last, "step")),
        ("last snapshot t = NaN", set_ds(last + "/t", np.nan)),
        ("last snapshot t = 1e9", set_ds(last + "/t", 1e9)),
        ("last snapshot t = 0.5 (disagrees with step)", set_ds(last + "/t", 0.5)),
        ("timeseries_rows = 1e9", set_attr(last, "timeseries_rows", np.int64(10 ** 9))),
        ("timeseries_rows = -1", set_attr(last, "timeseries_rows", np.int64(-1))),
        ("dt_next = NaN", set_attr(last, "dt_next", np.nan)),
        ("/timeseries missing", del_obj("timeseries")),
        ("status attribute missing", del_attr("/", "status")),
    ]
    for label, fn in consistent:
        add(label, [R], fn, expect=(0, 3))
    add("status 'running' (killed run)", [R], set_attr("/", "status", "running"), expect=(0,))
    add("/parameters snapshot_every = 0 (CLI meaning: t_end/10)", [R], set_attr(P, "snapshot_every", 0.0),
        expect=(0, 3))

    # -- whole-file damage and wrong kinds of file
    def truncated(src):
        def f(d):
            data = open(FX[src], "rb").read()
            with open(os.path.join(d, "F.h5"), "wb") as fh:
                fh.write(data[:len(data) // 2])
        return f
    damage = [
        ("truncated to half", None),
        ("zero bytes", write_text("F.h5", b"")),
        ("text file", write_text("F.h5", "this is not HDF5\n" * 20)),
        ("a directory", lambda d: os.mkdir(os.path.join(d, "F.h5"))),
        ("symlink to /dev/null", lambda d: os.symlink("/dev/null", os.path.join(d, "F.h5"))),
        ("missing", lambda d: None),
    ]
    for label, setup in damage:
        for kind in ["analyze", "analyze-out", "resume", "init", "sweep-resume", "merge"]:
            argv, modifies, creates = consumer(kind)
            s = truncated(BASE_OF[kind]) if setup is None else setup
            steps = [s] + ([cp("sh1", "other.h5")] if kind == "merge" else [])
            C.append(Case("crafted_files", f"{kind}: {label}", argv, setup=seq(*steps), expect=(3,),
                          modifies=modifies, creates=creates))
    for src, kinds in [("map", ["analyze", "resume", "init", "sweep-resume", "merge"]),
                       ("sweep", ["analyze", "resume", "init"]), ("run", ["sweep-resume", "merge"]),
                       ("foreign", ["analyze", "resume", "init", "sweep-resume", "merge"])]:
        for kind in kinds:
            add(f"given a {src} file", [kind], None, base=src)

    # -- sweep files (sweep --resume of a partial copy, merge of a shard-0 copy with shard 1)
    def reshape_ds(name, shape):
        def f(h):
            a = h["sweep"][name][()]
            del h["sweep"][name]
            h["sweep"][name] = np.resize(a, shape)
        return f

    def put(name, fn):
        def f(h):
            a = h["sweep"][name][()]
            fn(a)
            h["sweep"][name][...] = a
        return f

    def cell(v):
        def f(a):
            a[0, 0, 0] = v
        return f

    S = "sweep"
    sweep_muts = [
        ("phase smaller (2,3,1)", reshape_ds("phase", (2, 3, 1))),
        ("phase larger (4,3,1)", reshape_ds("phase", (4, 3, 1))),
        ("phase rank 2", reshape_ds("phase", (3, 3))),
        ("m_perp larger (3,3,2)", reshape_ds("m_perp", (3, 3, 2))),
        ("x has 2 values for x_n = 3", reshape_ds("x", (2,))),
        ("x_n = 0", set_attr(S, "x_n", np.int64(0))),
        ("x_n = -1", set_attr(S, "x_n", np.int64(-1))),
        ("replicas = 0", set_attr(S, "replicas", np.int64(0))),
        ("shard '0/0'", set_attr(S, "shard", "0/0")),
        ("shard '5/2'", set_attr(S, "shard", "5/2")),
        ("shard 'x'", set_attr(S, "shard", "x")),
        ("phase code 99", put("phase", cell(99))),
        ("phase code -7", put("phase", cell(-7))),
        ("NaN in /sweep/x", put("x", lambda a: a.__setitem__(0, np.nan))),
        ("x_lo = NaN", set_attr(S, "x_lo", np.nan)),
        ("dt = 0", set_attr(S, "dt", 0.0)),
        ("t_end = NaN", set_attr(S, "t_end", np.nan)),
        ("sizes = [0]", set_attr(S, "sizes", np.array([0], dtype=np.int64))),
        ("x_name = 'foo'", set_attr(S, "x_name", "foo")),
        ("/sweep missing", del_obj(S)),
    ]
    for label, fn in sweep_muts:
        add(f"/sweep {label}", ["sweep-resume", "merge"], fn)
    # a lattice the command line refuses (a67327b stepped it until it ran out of memory)
    add("/sweep sizes = [100000, 100000]", ["sweep-resume"], set_attr(S, "sizes", np.array([100000, 100000], dtype=np.int64)))
    add("/sweep sizes = [8192, 8192] with 9 points per batch", ["sweep-resume"],
        seq_mut(set_attr(S, "sizes", np.array([8192, 8192], dtype=np.int64)), set_attr(S, "batch_points", np.int64(9))),
        expect=(3,))
    for opt, v in [("--t-end", "5"), ("--x", "Jx:-1:1:3"), ("--size", "8"), ("--dt", "0.01"), ("--seed", "2"),
                   ("-o", "other.h5")]:
        C.append(Case("crafted_files", f"sweep --resume with {opt} {v} (the file fixes it)",
                      ["sweep", "--resume", "F.h5", "-q", opt, v], setup=cp("sweep_part", "F.h5"), expect=(2,),
                      modifies=("F.h5",), creates=("other.h5",), post=post_names(opt)))
    add("/sweep entry in a done batch but phase -1", ["sweep-resume", "merge"], put("phase", cell(-1)),
        expect=(0, 3), post=post_names("F.h5"))
    add("/sweep m_perp of a done entry = NaN", ["merge"], put("m_perp", cell(np.nan)), expect=(0, 3),
        post=lambda ctx, res: None)

    # -- merge: shards of different sweeps, broken shards, the valid merge
    for k, (_, words) in SHARD_VARIANTS.items():
        C.append(Case("crafted_files", f"merge: shards differ in {k}", ["merge", "-o", "m.h5", "a.h5", "b.h5"],
                      setup=seq(cp("sh0", "a.h5"), cp("sh1_" + k, "b.h5")), expect=(2, 3), creates=("m.h5",),
                      post=post_names(*words)))
    C.append(Case("crafted_files", "merge: shard with NaN axis", ["merge", "-o", "m.h5", "a.h5", "b.h5"],
                  setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5"), mutate("b.h5", put("y", lambda a: a.__setitem__(1, np.nan)))),
                  expect=(2, 3), creates=("m.h5",)))
    C.append(Case("crafted_files", "merge: shard with dt = 0", ["merge", "-o", "m.h5", "a.h5", "b.h5"],
                  setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5"), mutate("b.h5", set_attr(S, "dt", 0.0))),
                  expect=(2, 3), creates=("m.h5",), post=post_names("dt")))
    C.append(Case("crafted_files", "merge: valid shards 0/2 + 1/2", ["merge", "-o", "m.h5", "a.h5", "b.h5"],
                  setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5")), creates=("m.h5",),
                  post=post_sweep_ok("m.h5", ref="sweep")))
    C.append(Case("crafted_files", "merge: -o existing file without --overwrite",
                  ["merge", "-o", "m.h5", "a.h5", "b.h5"],
                  setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5"), cp("run", "m.h5")), expect=(3,)))
    C.append(Case("crafted_files", "merge: output is an input (--overwrite)",
                  ["merge", "-o", "a.h5", "--overwrite", "a.h5", "b.h5"],
                  setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5")), expect=(0, 2, 3), replaces=("a.h5",),
                  post=post_sweep_ok("a.h5", ref="sweep")))
    # -- outputs that alias inputs or existing files
    C.append(Case("crafted_files", "analyze --out = the input file (--overwrite)",
                  ["analyze", "run.h5", "--out", "run.h5", "--overwrite"], setup=cp("run", "run.h5"),
                  expect=(2, 3)))
    C.append(Case("crafted_files", "analyze --out ./input via another spelling (--overwrite)",
                  ["analyze", "run.h5", "--out", "./run.h5", "--overwrite"], setup=cp("run", "run.h5"),
                  expect=(2, 3)))
    C.append(Case("crafted_files", "analyze --out existing without --overwrite",
                  ["analyze", "run.h5", "--out", "x.h5"], setup=seq(cp("run", "run.h5"), cp("sweep", "x.h5")),
                  expect=(3,)))
    C.append(Case("crafted_files", "run --init F -o F --overwrite",
                  ["run", "--init", "run.h5", "--size", "8", "--t-end", "0.1"] + Q + ["-o", "run.h5", "--overwrite"],
                  setup=cp("run", "run.h5"), expect=(0, 2, 3), replaces=("run.h5",)))
    C.append(Case("crafted_files", "sweep -o existing run file", SWEEP3 + ["-o", "run.h5"],
                  setup=cp("run", "run.h5"), expect=(3,)))
    C.append(Case("crafted_files", "stability -o existing file", MAP5 + ["-o", "run.h5"],
                  setup=cp("run", "run.h5"), expect=(3,)))
    C.append(Case("crafted_files", "run -o symlink to an existing file", RUN_TINY[:-1] + ["link.h5"],
                  setup=seq(cp("run", "run.h5"), lambda d: os.symlink("run.h5", os.path.join(d, "link.h5"))),
                  expect=(3,)))

    # -- a commit mark is the integer 1 (a67327b took complete = 0 for one)
    for label, val in [("0", np.int64(0)), ("'yes'", "yes"), ("2.5", 2.5)]:
        C.append(Case("crafted_files", f"run --init F.h5:/snapshots/000001 marked complete = {label}",
                      ["run", "--init", "F.h5:/snapshots/000001", "--t-end", "0.1"] + Q + ["-o", "out.h5"],
                      setup=seq(cp("run", "F.h5"), mutate("F.h5", set_attr("snapshots/000001", "complete", val))),
                      expect=(3,), creates=("out.h5",)))
        C.append(Case("crafted_files", f"analyze --snapshot 1 marked complete = {label}",
                      ["analyze", "F.h5", "--snapshot", "1"],
                      setup=seq(cp("run", "F.h5"), mutate("F.h5", set_attr("snapshots/000001", "complete", val))),
                      expect=(3,), modifies=("F.h5",)))

    # -- quantum --resume: the file's results are checked like a run's spins, and options that
    # the file fixes are refused (a67327b took trajectory_sz = 1e300 and ignored --Jx 2)
    def quantum_file(d):
        _make(d, QUANT_TINY[:-1] + ["Q.h5"])

    def q_one(name, value, index=(0,)):
        def f(h):
            a = h["quantum"][name][()]
            a[index] = value
            h["quantum"][name][...] = a
        return f
    QRES = ["quantum", "--resume", "Q.h5", "-q", "--backend", "cpu"]
    for label, mut in [("trajectory_sz = 1e300", q_one("trajectory_sz", 1e300, (0, 1))),
                       ("trajectory_sz = -1.5", q_one("trajectory_sz", -1.5, (1, 0))),
                       ("trajectory_sz = NaN (done)", q_one("trajectory_sz", np.nan, (0, 0))),
                       ("trajectory_corr = 2", q_one("trajectory_corr", 2.0, (0, 1, 1))),
                       ("trajectory_jumps = -1", q_one("trajectory_jumps", -1.0)),
                       ("trajectory_jumps = 2.5", q_one("trajectory_jumps", 2.5)),
                       ("t[1] = 7", q_one("t", 7.0, (1,)))]:
        C.append(Case("crafted_files", f"quantum --resume: {label}", QRES, setup=seq(quantum_file, mutate("Q.h5", mut)),
                      expect=(3,), modifies=("Q.h5",)))
    for opt, v in [("--Jx", "2"), ("--trajectories", "8"), ("--t-end", "2"), ("--seed", "3"), ("--sites", "4")]:
        C.append(Case("crafted_files", f"quantum --resume with {opt} {v} (the file fixes it)", QRES + [opt, v],
                      setup=quantum_file, expect=(2,), modifies=("Q.h5",), post=post_names(opt)))
    C.append(Case("crafted_files", "quantum --resume of an untouched finished file (control)", QRES,
                  setup=quantum_file, expect=(0,), modifies=("Q.h5",)))

    # -- dtwa --resume: a finished batch's sums must be ones trajectories can give, and the
    # file fixes every parameter
    def dtwa_file(d):
        _make(d, DTWA_TINY[:-1] + ["D.h5"])

    def d_one(name, value, index):
        def f(h):
            a = h["dtwa"][name][()]
            a[index] = value
            h["dtwa"][name][...] = a
        return f
    DRES = ["dtwa", "--resume", "D.h5", "-q", "--backend", "cpu"]
    for label, mut in [("scalar_sum = 1e300", d_one("scalar_sum", 1e300, (0, 1, 2))),
                       ("scalar_sum = NaN (done)", d_one("scalar_sum", np.nan, (1, 0, 0))),
                       ("scalar_sum2 = -1", d_one("scalar_sum2", -1.0, (0, 0, 3))),
                       ("corr_sum = 1e9", d_one("corr_sum", 1e9, (0, 1, 0, 1))),
                       ("done = 3 (batches of 2)", d_one("done", 3, (0,))),
                       ("vortex_sum = -5", d_one("vortex_sum", -5.0, (0,))),
                       ("t[1] = 7", d_one("t", 7.0, (1,)))]:
        C.append(Case("crafted_files", f"dtwa --resume: {label}", DRES, setup=seq(dtwa_file, mutate("D.h5", mut)),
                      expect=(3,), modifies=("D.h5",)))
    C.append(Case("crafted_files", "dtwa --resume: batch_size attribute removed", DRES,
                  setup=seq(dtwa_file, mutate("D.h5", del_attr("dtwa", "batch_size"))), expect=(3,), modifies=("D.h5",)))
    for opt, v in [("--Jx", "2"), ("--trajectories", "8"), ("--t-end", "2"), ("--seed", "3"), ("--size", "4")]:
        C.append(Case("crafted_files", f"dtwa --resume with {opt} {v} (the file fixes it)", DRES + [opt, v],
                      setup=dtwa_file, expect=(2,), modifies=("D.h5",), post=post_names(opt)))
    C.append(Case("crafted_files", "dtwa --resume of an untouched finished file (control)", DRES,
                  setup=dtwa_file, expect=(0,), modifies=("D.h5",)))

    # -- export: reads the run file F.h5, writes the sidecar F.xdmf and F.fields.h5 (all or nothing)
    EXP = ["export", "F.h5", "-q"]
    SIDECAR = ("F.xdmf", "F.fields.h5")

    def addx(label, setup, expect=(3,), argv=None, creates=SIDECAR, replaces=(), post=None):
        C.append(Case("crafted_files", f"export: {label}", argv or EXP, setup=setup, expect=expect,
                      creates=creates, replaces=replaces,
                      post=post or (post_export_ok("F.h5", "F.xdmf") if 0 in expect else None)))

    addx("untouched (control)", cp("run", "F.h5"), expect=(0,))
    # ':' in a name the sidecar holds: ParaView's Xdmf3 readers split FILE:/path at it and abort
    addx("a run file named col:on.h5", cp("run", "col:on.h5"), expect=(2,), argv=["export", "col:on.h5", "-q"],
         creates=("col:on.xdmf", "col:on.fields.h5"))
    addx("--xdmf-out a:b.xdmf", cp("run", "F.h5"), expect=(2,), argv=EXP + ["--xdmf-out", "a:b.xdmf"],
         creates=("a:b.xdmf", "a:b.fields.h5"))
    C.append(Case("crafted_files", "export: a run file in a directory x:y (the sidecar beside it names no ':')",
                  ["export", "x:y/F.h5", "-q"],
                  setup=seq(lambda d: os.mkdir(os.path.join(d, "x:y")), cp("run", "x:y/F.h5")),
                  post=lambda ctx, res: res.rc == 0 and not xdmf_state(ctx.p("x:y/F.xdmf"))["ok"] and
                  ctx.fail("CHECK", "x:y/F.xdmf is not a complete sidecar", res.argv)))
    C.append(Case("crafted_files", "run --xdmf -o c:d.h5", ["run", "--size", "8", "--t-end", "0.2", "--xdmf"] + Q +
                  ["-o", "c:d.h5"], expect=(2,), creates=("c:d.h5", "c:d.xdmf", "c:d.fields.h5")))
    addx("interrupted run (snapshots, no /final)", cp("part", "F.h5"), expect=(0,))
    tiny = ["run", "--t-end", "0.4", "--snapshot-every", "0.2"] + Q + ["-o", "F.h5"]
    for label, extra in [("1D run", ["--size", "12", "--dim", "1"]), ("3D run", ["--size", "4x3x5"]),
                         ("float run", ["--size", "6", "--precision", "float"]),
                         ("run with Jx Jy = 0 (no psi)", ["--size", "6", "--Jx", "0", "--Jy", "0.5"]),
                         ("analysed sXY run (vortex points)",
                          ["--size", "12", "--Jx", "1", "--Jy", "-1", "--Jz", "0", "--init", "random", "--analyze"])]:
        addx(f"valid {label}", lambda d, a=tiny + extra: _make(d, a), expect=(0,))

    def no_states(h):
        del h["snapshots"]
        h.create_group("snapshots")
    addx("run file without any state", seq(cp("part", "F.h5"), mutate("F.h5", no_states)))
    for label, setup in damage:
        addx(label, truncated("run") if setup is None else setup)
    for src in ["sweep", "sh0", "map", "foreign"]:
        addx(f"given a {src} file", cp(src, "F.h5"))
    addx("given a quantum file", lambda d: _make(d, QUANT_TINY[:-1] + ["F.h5"]))
    for label, fn in spins_table:
        addx(f"spins {label}", seq(cp("run", "F.h5"), mutate("F.h5", replace_all_spins(fn))))
    addx("spins is a group", seq(cp("run", "F.h5"), mutate("F.h5", spins_group)))
    addx("/final/spins missing", seq(cp("run", "F.h5"), mutate("F.h5", del_obj("final/spins"))), expect=(0, 3))
    for key, val in [("sizes", np.array([8], dtype=np.int64)), ("sizes", np.array([0, 0], dtype=np.int64)),
                     ("dim", np.int64(7)), ("precision", "quad"), ("Jx", np.nan), ("Jy", "abc")]:
        shown = val if not isinstance(val, np.ndarray) else list(val)
        addx(f"/parameters {key} = {shown!r}", seq(cp("run", "F.h5"), mutate("F.h5", set_attr(P, key, val))))
    addx("/parameters missing", seq(cp("run", "F.h5"), mutate("F.h5", del_obj(P))))
    addx("schema = 'other'", seq(cp("run", "F.h5"), mutate("F.h5", set_attr("/", "schema", "other"))))
    # existing outputs: kept byte for byte unless --overwrite (replaces: a failure must not touch them)
    addx("sidecar exists, no --overwrite", seq(cp("run", "F.h5"), exported("F.h5")), replaces=SIDECAR)
    addx("only F.fields.h5 exists, no --overwrite", seq(cp("run", "F.h5"), exported("F.h5"),
                                                       lambda d: os.remove(os.path.join(d, "F.xdmf"))),
         replaces=("F.fields.h5",))
    addx("only F.xdmf exists, no --overwrite", seq(cp("run", "F.h5"), exported("F.h5"),
                                                  lambda d: os.remove(os.path.join(d, "F.fields.h5"))),
         replaces=("F.xdmf",))
    addx("sidecar exists, another spelling ./F.xdmf", seq(cp("run", "F.h5"), exported("F.h5")),
         argv=EXP + ["--xdmf-out", "./F.xdmf"], replaces=SIDECAR)
    addx("sidecar exists, --overwrite", seq(cp("run", "F.h5"), exported("F.h5", ["--vortex-amplitude", "0.5"])),
         argv=EXP + ["--overwrite"], expect=(0,), replaces=SIDECAR)
    addx("F.fields.h5 is a directory, --overwrite",
         seq(cp("run", "F.h5"), lambda d: os.mkdir(os.path.join(d, "F.fields.h5"))), argv=EXP + ["--overwrite"],
         creates=("F.xdmf",))
    # outputs that alias the input: the run file is never replaced (it is in no modifies/replaces)
    addx("--xdmf-out F.xdmf of the run file F.fields.h5 (--overwrite)", cp("run", "F.fields.h5"),
         argv=["export", "F.fields.h5", "-q", "--xdmf-out", "F.xdmf", "--overwrite"], expect=(2, 3),
         creates=("F.xdmf",))
    addx("--xdmf-out F.xdmf of the run file F.fields.h5", cp("run", "F.fields.h5"),
         argv=["export", "F.fields.h5", "-q", "--xdmf-out", "F.xdmf"], expect=(2, 3), creates=("F.xdmf",))
    addx("--xdmf-out = the run file F.xmf (--overwrite)", cp("run", "F.xmf"),
         argv=["export", "F.xmf", "-q", "--xdmf-out", "F.xmf", "--overwrite"], expect=(2, 3),
         creates=("F.fields.h5",))
    addx("--xdmf-out a symlink to the run file (--overwrite)",
         seq(cp("run", "F.h5"), lambda d: os.symlink("F.h5", os.path.join(d, "link.xdmf"))),
         argv=EXP + ["--xdmf-out", "link.xdmf", "--overwrite"], expect=(2, 3), creates=("link.fields.h5",))
    return C


# ----------------------------------------------------------------------------------------
