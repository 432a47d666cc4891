"""Class 1, options: bad command lines and config files.
"""
import os
import resource

import harness
from harness import (
    Case, Q, _first_line, _make, cp, post_export_ok, post_names, post_run_ok, post_sweep_ok, posts, seq,
    write_text)
from fixtures import with_opts


RUN_TINY = ["run", "--size", "4", "--t-end", "0.1"] + Q + ["-o", "out.h5"]
SWEEP_TINY = ["sweep", "--x", "Jx:0:1:2", "--y", "Jy:0:1:2", "--size", "4", "--t-end", "0.1"] + Q + ["-o", "out.h5"]
STAB_TINY = ["stability", "--x", "Jx:0:1:3", "--y", "Jy:0:1:3", "-o", "out.h5"]
GAUSS_TINY = ["gaussian", "--x", "Jx:0:0.1:3", "--y", "Jy:0:0.1:3", "-o", "out.h5"]
QUANT_TINY = ["quantum", "--sites", "3", "--trajectories", "4", "--t-end", "1", "--burn-in", "0.5"] + Q + ["-o", "out.h5"]
DTWA_TINY = ["dtwa", "--size", "6", "--trajectories", "4", "--batch", "2", "--t-end", "0.5"] + Q + ["-o", "out.h5"]
BENCH_TINY = ["bench", "--backend", "cpu", "--size", "8", "--steps", "10", "--repeats", "1"]
I63, I64 = str(2 ** 63), str(2 ** 64)


def options_cases():
    C = []

    def add(cmd, label, args, expect=(2,), post=None, setup=None, timeout=None):
        if cmd == "run":
            argv, kw = with_opts(RUN_TINY, args), dict(creates=("out.h5",))
            post = post or (post_run_ok() if 0 in expect else None)
        elif cmd == "sweep":
            argv, kw = with_opts(SWEEP_TINY, args), dict(creates=("out.h5",))
            post = post or (post_sweep_ok() if 0 in expect else None)
        elif cmd == "stability":
            argv, kw = with_opts(STAB_TINY, args), dict(creates=("out.h5",))
        elif cmd == "gaussian":
            argv, kw = with_opts(GAUSS_TINY, args), dict(creates=("out.h5",))
        elif cmd == "quantum":
            argv, kw = with_opts(QUANT_TINY, args), dict(creates=("out.h5",))
        elif cmd == "dtwa":
            argv, kw = with_opts(DTWA_TINY, args), dict(creates=("out.h5",))
        elif cmd == "analyze":
            argv, kw = ["analyze", "run.h5"] + args, dict(modifies=("run.h5",) if 0 in expect else ())
            setup = seq(cp("run", "run.h5"), setup) if setup else cp("run", "run.h5")
        elif cmd == "export":
            argv, kw = ["export", "run.h5", "-q"] + args, dict(creates=("run.xdmf", "run.fields.h5"))
            setup = seq(cp("run", "run.h5"), setup) if setup else cp("run", "run.h5")
            post = post or (post_export_ok() if 0 in expect else None)
        elif cmd == "bench":
            argv, kw = with_opts(BENCH_TINY, args), {}
        else:                    # raw argv
            argv, kw = args, {}
        C.append(Case("options", f"{cmd} {label}", argv, setup=setup, expect=expect, post=post,
                      timeout=timeout, **kw))

    # -- run: numeric options past their limits
    for v in ["nan", "inf", "-inf", "", "abc", "1e400"]:
        add("run", f"--Jx {v!r}", ["--Jx", v])
    add("run", "--Jy nan", ["--Jy", "nan"])
    add("run", "--Jz -inf", ["--Jz", "-inf"])
    add("run", "--Jx 1e308 (blow-up or refusal)", ["--Jx", "1e308"], expect=(2, 4))
    for v in ["nan", "-1", "inf"]:
        add("run", f"--gamma {v}", ["--gamma", v])
    for v in ["-1", "nan", "inf"]:
        add("run", f"--gamma-phi {v}", ["--gamma-phi", v])
    for v in ["0", "-0.01", "nan", "inf", "-inf", "1e308", "1e-320", ""]:
        add("run", f"--dt {v!r}", ["--dt", v])
    add("run", "--dt 5 > t_end", ["--dt", "5"], expect=(0, 2))
    for v in ["-1", "nan", "inf"]:
        add("run", f"--rtol {v} (dopri5)", ["--integrator", "dopri5", "--rtol", v])
    add("run", "--atol -1 (dopri5)", ["--integrator", "dopri5", "--atol", "-1"])
    add("run", "--rtol 0 --atol 0 (dopri5)", ["--integrator", "dopri5", "--rtol", "0", "--atol", "0"])
    add("run", "--halo overlap (dopri5)", ["--integrator", "dopri5", "--halo", "overlap"])
    for v in ["-1", "nan", "inf", "1e300", "-inf"]:
        add("run", f"--t-end {v}", ["--t-end", v] if v != "1e300" else ["--t-end", v, "--steady-tol", "0"])
    for v in ["-1", "nan"]:
        add("run", f"--steady-tol {v}", ["--steady-tol", v])
    for v in ["-1", "nan"]:
        add("run", f"--norm-tol {v}", ["--norm-tol", v])
    for v in ["0", "-1", "nan", "inf"]:
        add("run", f"--record-every {v}", ["--record-every", v], expect=(2,) if v != "inf" else (0, 2))
    add("run", "--record-every 1e-300", ["--record-every", "1e-300"], expect=(0, 2))
    for v in ["-1", "nan"]:
        add("run", f"--snapshot-every {v}", ["--snapshot-every", v])
    add("run", "--snapshot-every 1e308", ["--snapshot-every", "1e308"], expect=(0, 2))
    # x, y uniform in [-noise, noise] need x^2 + y^2 <= 1: the amplitude is at most 1/sqrt(2).
    for v in ["-1", "nan", "2", "1", "0.71"]:
        add("run", f"--noise {v}", ["--init", "pm-noise", "--noise", v])
    for v in ["-1", I64, I63, "abc", "1.5", ""]:
        add("run", f"--seed {v!r}", ["--seed", v])
    for v in ["0", "4", "-1", "abc", I64]:
        add("run", f"--dim {v}", ["--dim", v])
    for v in ["0", "-1", "0x4", "4x0x", "1e9x1e9", "100000x100000", "8x8x8x8", "", "abc", "4x", "x4",
              "4xx4", "4.5", "-4x4"]:
        add("run", f"--size {v!r}", ["--size", v])
    add("run", "--size 2147483648 --dim 1", ["--dim", "1", "--size", "2147483648"])
    add("run", "--size 4x4 --dim 3 (contradiction)", ["--size", "4x4", "--dim", "3"])
    for v in ["5", "-1", I63]:
        add("run", f"--steps-per-pass {v}", ["--steps-per-pass", v])
    for v in ["10", "-1"]:
        add("run", f"--compress {v}", ["--compress", v])
    for v in ["uniform:2,0,0", "uniform:nan,0,0", "uniform:1,2", "bogus"]:
        add("run", f"--init {v}", ["--init", v])
    add("run", "--init missing.h5", ["--init", "missing.h5"], expect=(3,))
    for opt, v in [("--integrator", "euler"), ("--precision", "quad"), ("--backend", "tpu"), ("--stepper", "zig")]:
        add("run", f"{opt} {v}", [opt, v])
    add("run", "-o '' (empty path)", ["-o", ""], expect=(2, 3))
    add("run", "-o into a missing dir", ["-o", "nodir/x.h5"], expect=(3,))
    add("run", "-o a directory", ["-o", "adir"], expect=(3,), setup=lambda d: os.mkdir(os.path.join(d, "adir")))

    # -- sweep
    for v in ["0", "-1", "1001", I64]:
        add("sweep", f"--replicas {v}", ["--replicas", v])
    for v in ["0", "-1"]:
        add("sweep", f"--batch-points {v}", ["--batch-points", v])
    for opt, v in [("--dt", "0"), ("--dt", "nan"), ("--dt", "-1"), ("--t-end", "-1"), ("--t-end", "nan"),
                   ("--t-end", "inf"), ("--steady-tol", "-1"), ("--seed", "-1"), ("--seed", I64),
                   ("--dim", "0"), ("--dim", "4"), ("--size", "0"), ("--size", "100000x100000"),
                   ("--size", "8x8x8x8"), ("--gamma", "nan"), ("--gamma-phi", "-1"), ("--Jz", "nan")]:
        add("sweep", f"{opt} {v}", [opt, v])
    for v in ["Jx:1:0:5", "Jx:0:1:0", "foo:0:1:3", "Jx:nan:1:3", "Jx:0:inf:3", "Jx:0:1", "Jx:0:1:-3",
              "Jx:0:1:1e9", "gamma:0:1:3", "", "Jx:0:1:2:7"]:
        add("sweep", f"--x {v!r}", ["--x", v])
    add("sweep", "--x and --y the same parameter", ["--x", "Jx:0:1:2", "--y", "Jx:0:1:2"])
    add("sweep", "grid of 1e10 points", ["--x", "Jx:0:1:100000", "--y", "Jy:0:1:100000"])
    for v in ["0/0", "1/1", "-1/2", "3/2", "a/b", "1/2/3", ""]:
        add("sweep", f"--shard {v!r}", ["--shard", v])

    # -- stability
    for v in ["Jx:1:0:5", "Jx:0:1:0", "foo:0:1:3", "Jx:nan:1:3", "Jx:-1:1:1"]:  # (N = 1: one value, MIN = MAX)
        add("stability", f"--x {v!r}", ["--x", v])
    add("stability", "--x and --y the same parameter", ["--x", "Jx:0:1:3", "--y", "Jx:0:1:3"])
    # an axis runs over what its parameter may take: |J| <= 1e6 (a67327b mapped Jx up to 1e300)
    for cmd in ("stability", "gaussian", "sweep"):
        add(cmd, "--x Jx:0:1e300:3", ["--x", "Jx:0:1e300:3"])
        add(cmd, "--y Jy:-1e7:0:3", ["--y", "Jy:-1e7:0:3"])
    add("stability", "grid of 1e10 points", ["--x", "Jx:0:1:100000", "--y", "Jy:0:1:100000"])
    for opt, v in [("--dim", "4"), ("--size", "0"), ("--gamma", "nan"), ("--size", "100000x100000"),
                   ("--gamma-phi", "-1")]:
        add("stability", f"{opt} {v}", [opt, v])

    # -- gaussian (the stability map's interface; decay only)
    for v in ["Jx:1:0:5", "Jx:0:1:0", "gamma_phi:-1:1:3", "Jx:nan:1:3"]:
        add("gaussian", f"--x {v!r}", ["--x", v])
    add("gaussian", "grid of 1e10 points", ["--x", "Jx:0:1:100000", "--y", "Jy:0:1:100000"])
    for opt, v in [("--dim", "4"), ("--size", "0"), ("--gamma", "nan"), ("--size", "100000x100000"),
                   ("--gamma-phi", "-0.1"), ("--tol", "0"), ("--tol", "nan"), ("--modes", "0")]:
        add("gaussian", f"{opt} {v}", [opt, v])

    # -- quantum (trajectories by default; exact with --method exact)
    for opt, v in [("--sites", "0"), ("--sites", "-1"), ("--sites", "27"), ("--sites", I64), ("--sites", "abc"),
                   ("--size", "0"), ("--size", "6x6"), ("--size", "100000x100000"), ("--size", "2x2x2x2"),
                   ("--trajectories", "0"), ("--trajectories", "-1"), ("--trajectories", "1e9"),
                   ("--batch", "-1"), ("--t-end", "nan"), ("--t-end", "-1"), ("--t-end", "inf"),
                   ("--burn-in", "2"), ("--burn-in", "-1"), ("--sample-dt", "0"), ("--sample-dt", "nan"),
                   ("--sample-dt", "2"), ("--sample-dt", "1e-9"), ("--tol", "0"), ("--tol", "nan"), ("--tol", "1"),
                   ("--init", "bogus"), ("--seed", "-1"), ("--method", "bogus"), ("--backend", "tpu"),
                   ("--gamma", "nan"), ("--gamma-phi", "-1"), ("--Jx", "inf")]:
        add("quantum", f"{opt} {v}", [opt, v])
    add("quantum", "--gamma 0 (no decay: trajectories are fine)", ["--gamma", "0"], expect=(0,))
    add("quantum", "--gamma 0 --method exact (no unique steady state)", ["--gamma", "0", "--method", "exact"])
    add("quantum", "--sites with --size", ["--size", "2x2"])
    add("quantum", "--gap without --method exact", ["--gap"])
    add("quantum", "--series without --method exact", ["--series"])
    add("quantum", "--method exact --sites 15", ["--method", "exact", "--sites", "15"])
    add("quantum", "--method exact --sites 14 without a spin charge",
        ["--method", "exact", "--sites", "14", "--Jx", "4", "--Jy", "2", "--Jz", "1"])
    add("quantum", "--method exact --sites 13 at Jx = -Jy (odd ring: no staggered charge)",
        ["--method", "exact", "--sites", "13", "--Jx", "1", "--Jy", "-1"])
    add("quantum", "--method exact --gap --sites 13", ["--method", "exact", "--gap", "--sites", "13"])
    add("quantum", "--method exact --series --sites 11", ["--method", "exact", "--series", "--sites", "11"])
    add("quantum", "--batch too large for memory", ["--sites", "26", "--trajectories", "100", "--batch", "100"])
    add("quantum", "--resume a missing file", ["--resume", "missing.h5"], expect=(2, 3))
    add("raw", "quantum --resume a run file", ["quantum", "--resume", "run.h5", "-q"], expect=(3,),
        setup=cp("run", "run.h5"))
    add("raw", "quantum --resume a non-HDF5 file", ["quantum", "--resume", "x.h5", "-q"], expect=(3,),
        setup=write_text("x.h5", "not hdf5\n"))
    # Refusals leave no file (a67327b left out.h5 with status "running"), and the memory checks
    # see ulimit -v, and quantum's result arrays (8 bytes x trajectories x samples) too.
    add("quantum", "--sites 22 --trajectories 4096 --batch 4096 (too large)",
        ["--sites", "22", "--trajectories", "4096", "--batch", "4096"])
    add("quantum", "--backend cuda (refused without a device)", ["--backend", "cuda"], expect=(0, 2))
    add("quantum", "--method exact --gap --backend cuda (refused without a device)",
        ["--method", "exact", "--gap", "--sites", "4", "--backend", "cuda"], expect=(0, 2))
    add("sweep", "--backend cuda (refused without a device)", ["--backend", "cuda"], expect=(0, 2))
    add("quantum", "--trajectories 1e8 (results of about 90 GB)", ["--trajectories", "100000000", "--sites", "12",
                                                                  "--t-end", "40", "--burn-in", "20"])
    if not harness.ASAN:            # (an address-space limit cannot be set under AddressSanitizer)
        def as_limit(n):
            return lambda: resource.setrlimit(resource.RLIMIT_AS, (n, n))
        C.append(Case("options", "run --size 4096 under ulimit -v 1 GiB (fits in memory, not in the limit)",
                      with_opts(RUN_TINY, ["--size", "4096"]), expect=(2,), creates=("out.h5",),
                      preexec=as_limit(1 << 30), post=post_names("memory")))
        C.append(Case("options", "quantum --trajectories 3e6 under ulimit -v 2 GiB (its results do not fit)",
                      with_opts(QUANT_TINY, ["--trajectories", "3000000", "--t-end", "40", "--burn-in", "20"]),
                      expect=(2,), creates=("out.h5",), preexec=as_limit(2 << 30), post=post_names("memory")))
        # the automatic batch (no --batch): it chose 0 where not one trajectory fits, and
        # skipped the check ("out of memory", exit 1)
        C.append(Case("options", "quantum --sites 24 under ulimit -v 1 GiB (one trajectory does not fit)",
                      with_opts(QUANT_TINY, ["--sites", "24", "--trajectories", "2"]),
                      expect=(2,), creates=("out.h5",), preexec=as_limit(1 << 30), post=post_names("memory")))
    add("quantum", "valid tiny run", [], expect=(0,))
    C.append(Case("options", "quantum valid tiny exact run",
                  ["quantum", "--sites", "3", "--method", "exact", "--gap"] + Q + ["-o", "out.h5"],
                  expect=(0,), creates=("out.h5",)))
    # the exact method has no trajectories: their options are refused, not ignored
    add("quantum", "--method exact with --trajectories and --burn-in", ["--method", "exact"],
        post=post_names("--trajectories", "--burn-in"))
    # ... nor its seed; and what only a --series uses (the start, its times, the
    # propagator's tolerance) is refused without one
    for opt, v in [("--seed", "7"), ("--init", "x"), ("--t-end", "7"), ("--sample-dt", "0.1"), ("--tol", "1e-6")]:
        C.append(Case("options", f"quantum --method exact {opt} {v} (without --series)",
                      ["quantum", "--sites", "3", "--method", "exact", opt, v] + Q + ["-o", "out.h5"],
                      expect=(2,), creates=("out.h5",), post=post_names(opt)))
    for extra, opt in [(["--Jx", "0.3", "--size", "8", "--tol", "1e-3"], "--tol"),
                       (["--Jx", "0.3", "--size", "8", "--modes", "5"], "--modes"),
                       (["--x", "Jx:-1:1:3", "--y", "Jy:-1:1:3", "--modes", "5"], "--modes")]:
        C.append(Case("options", "gaussian " + " ".join(extra) + " (ignored before)",
                      ["gaussian"] + extra + ["-q", "-o", "out.h5"],
                      expect=(2,), creates=("out.h5",), post=post_names(opt)))
    C.append(Case("options", "quantum --size 4 (a cluster's sides are spelt out)",
                  ["quantum", "--size", "4", "--trajectories", "1", "--t-end", "1"] + Q + ["-o", "out.h5"],
                  expect=(2,), creates=("out.h5",), post=post_names("--size 4: give the cluster's sides")))

    # -- dtwa
    for opt, v in [("--trajectories", "0"), ("--trajectories", "-1"), ("--trajectories", "16777217"),
                   ("--trajectories", I64), ("--batch", "-1"), ("--dt", "0"), ("--dt", "nan"), ("--dt", "2"),
                   ("--t-end", "-1"), ("--t-end", "nan"), ("--t-end", "0.505"), ("--record-every", "0"),
                   ("--record-every", "0.001"), ("--record-every", "nan"), ("--t-end", "1e9"), ("--seed", "-1"),
                   ("--init", "random"), ("--init", "uniform:0.5,0,0"), ("--init", "uniform:1,1,0"), ("--init", "uniform:nan,0,1"),
                   ("--init", "uniform:1,0"), ("--init", ""), ("--size", "0"), ("--size", "100000x100000"),
                   ("--dim", "4"), ("--gamma", "nan"), ("--gamma-phi", "-1"), ("--Jx", "1e7"), ("--backend", "gpu")]:
        add("dtwa", f"{opt} {v}", [opt, v])
    add("dtwa", "--resume with -o", ["--resume", "x.h5"])
    add("dtwa", "a batch over memory", ["--size", "30000", "--trajectories", "64", "--batch", "64"])
    add("dtwa", "--resume a missing file", ["--resume", "missing.h5"], expect=(2, 3))
    add("raw", "dtwa --resume a run file", ["dtwa", "--resume", "run.h5", "-q"], expect=(3,),
        setup=cp("run", "run.h5"))
    add("dtwa", "valid tiny run", [], expect=(0,))
    add("dtwa", "valid tiny run, dephasing and uniform init", ["--gamma-phi", "0.3", "--init", "uniform:0.6,0,0.8"],
        expect=(0,))

    # -- analyze thresholds
    for opt in ["--pm-m-perp", "--single-domain", "--psi-coherence", "--stationary-residual",
                "--moving-fraction", "--vortex-amplitude", "--ordered-domain"]:
        for v in ["nan", "-1"]:
            add("analyze", f"{opt} {v}", [opt, v])
    add("analyze", "--single-domain 1.5", ["--single-domain", "1.5"])
    add("analyze", "--moving-fraction 2", ["--moving-fraction", "2"])
    add("analyze", "--ordered-domain 0", ["--ordered-domain", "0"])
    add("analyze", "--ordered-domain inf", ["--ordered-domain", "inf"])
    for v in ["0", "-1"]:
        add("analyze", f"--sk-full-max {v}", ["--sk-full-max", v])
    add("analyze", "--sk-storage spherical", ["--sk-storage", "spherical"])
    add("analyze", "--sk-storage empty", ["--sk-storage", ""])
    add("run", "--sk-storage radial without --analyze", ["--sk-storage", "radial"])
    add("run", "--sk-storage radial --analyze", ["--sk-storage", "radial", "--analyze"], expect=(0,))
    add("analyze", "--analysis-backend gpu", ["--analysis-backend", "gpu"])
    add("run", "--analysis-backend cuda without --analyze", ["--analysis-backend", "cuda"])
    # refused in one line without a device; analysed on it where there is one
    add("analyze", "--analysis-backend cuda", ["--analysis-backend", "cuda"], expect=(0, 2))
    add("analyze", "--snapshot -1", ["--snapshot", "-1"])
    add("analyze", "--snapshot 99 (absent)", ["--snapshot", "99"], expect=(2, 3))
    add("analyze", f"--snapshot {I64}", ["--snapshot", I64])

    # -- bench
    for opt, v in [("--size", "0"), ("--size", "100000x100000"), ("--size", "8x8x8x8"), ("--repeats", "0"),
                   ("--repeats", "-1"), ("--steps", "-1"), ("--steps", I63), ("--steps-per-pass", "5"),
                   ("--dim", "4")]:
        add("bench", f"{opt} {v}", [opt, v])
    for v in ["0", "-1", str(2 ** 50)]:
        add("bench", f"--triad --triad-elements {v}", ["--triad", "--triad-elements", v])

    # -- unknown options, missing values, bad subcommands
    for cmd in ["run", "sweep", "stability", "gaussian", "quantum", "bench"]:
        add(cmd, "unknown option", ["--bogus"])
    add("analyze", "unknown option", ["--bogus"])
    add("raw", "merge unknown option", ["merge", "--bogus", "-o", "m.h5", "a.h5"])
    add("raw", "unknown subcommand", ["frobnicate"])
    add("raw", "run --dt without value", ["run", "--size", "4", "--t-end", "0.1", "--dt"])
    add("raw", "run -o without value", ["run", "--size", "4", "-o"])
    add("raw", "analyze without file", ["analyze"])
    add("raw", "merge without shards", ["merge", "-o", "m.h5"])
    add("raw", "merge without -o", ["merge", "a.h5"])

    # -- --config
    def addc(label, files, extra, expect=(2,), post=None, key=None):
        # the command line wins over the file, so the key under test is left off the command line
        base = ["run"] + Q + ["-o", "out.h5"] + (["--size", "4"] if key != "size" else []) + \
            (["--t-end", "0.1"] if key != "t-end" else ["--steady-tol", "1e-3"])
        setup = seq(*[write_text(n, t) for n, t in files.items()])
        C.append(Case("options", f"config {label}", base + extra, setup=setup, expect=expect,
                      creates=("out.h5",), post=post or (post_run_ok() if 0 in expect else None)))

    addc("missing file", {}, ["--config", "missing.toml"], expect=(2, 3))
    cfg = RUN_TINY
    C.append(Case("options", "config is a directory", cfg + ["--config", "cdir"], expect=(2, 3),
                  setup=lambda d: os.mkdir(os.path.join(d, "cdir")), creates=("out.h5",)))
    if os.geteuid() != 0:
        C.append(Case("options", "config unreadable (chmod 000)", cfg + ["--config", "c.toml"], expect=(2, 3),
                      setup=write_text("c.toml", "Jx = 1\n", mode=0), creates=("out.h5",)))
    else:
        addc("unreadable stand-in: binary garbage", {"c.toml": bytes(range(256)) * 4}, ["--config", "c.toml"],
             expect=(2, 3))
    addc("bad syntax 'Jx = = 2'", {"c.toml": "Jx = = 2\n"}, ["--config", "c.toml"], expect=(2, 3))
    addc("bad syntax '[[['", {"c.toml": "[[[\nJx = 1\n"}, ["--config", "c.toml"], expect=(2, 3))
    addc("unterminated string", {"c.toml": 'Jx = "0.5\n'}, ["--config", "c.toml"], expect=(2, 3))
    addc("nested config = other.toml", {"c.toml": 'config = "other.toml"\n', "other.toml": "Jx = 1\n"},
         ["--config", "c.toml"], expect=(2, 3))
    addc("config including itself", {"c.toml": 'config = "c.toml"\n'}, ["--config", "c.toml"], expect=(2, 3))
    addc("given twice", {"a.toml": "Jx = 1\n", "b.toml": "Jy = 1\n"},
         ["--config", "a.toml", "--config", "b.toml"])
    for key, val, words in [("dt", "-1", ["dt"]), ("size", '"0"', ["size"]), ("t-end", "nan", ["t-end", "t_end"]),
                            ("Jx", '"abc"', ["Jx"]), ("seed", "-1", ["seed"]), ("bogus", "1", ["bogus"]),
                            ("compress", "10", ["compress"]), ("dim", "7", ["dim"]),
                            ("steps-per-pass", "9", ["steps-per-pass", "steps_per_pass"]),
                            ("gamma", "inf", ["gamma"])]:
        addc(f"{key} = {val}", {"c.toml": f"{key} = {val}\n"}, ["--config", "c.toml"], post=post_names(*words),
             key=key)
    def short_stderr(limit=400):
        def f(ctx, res):
            if len(res.err) > limit:
                ctx.fail("STDERR", f"{len(res.err)} characters on stderr (quotes what it was given at length)", res.argv)
        return f

    def sparse(name, size):
        def f(d):
            with open(os.path.join(d, name), "wb") as fh:
                fh.truncate(size)
        return f
    addc("a key of 3 MB", {"c.toml": "k" * (3 << 20) + " = 1\n"}, ["--config", "c.toml"], post=short_stderr())
    addc("a value of 3 MB", {"c.toml": 'init = "' + "u" * (3 << 20) + '"\n'}, ["--config", "c.toml"],
         post=short_stderr())
    C.append(Case("options", "config of 200 MB under a 1 GB address-space limit", RUN_TINY + ["--config", "c.toml"],
                  setup=sparse("c.toml", 200 << 20), expect=(2,), creates=("out.h5",),
                  preexec=None if harness.ASAN else (lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))),
                  post=posts(short_stderr(), post_names("c.toml"))))
    addc("a NUL byte in a value", {"c.toml": b'Jx = "1\x00"\n'}, ["--config", "c.toml"], post=post_names("NUL"))
    addc("a byte-order mark (UTF-8), then size = 4 (valid)", {"c.toml": b"\xef\xbb\xbfsize = \"4\"\n"},
         ["--config", "c.toml"], expect=(0,), key="size")
    addc("an array Jx = [1, 2]", {"c.toml": "Jx = [1, 2]\n"}, ["--config", "c.toml"],
         post=posts(post_names("Jx"), lambda ctx, res: "not expected" in res.err and
                    ctx.fail("STDERR", f"does not say which key: {_first_line(res.err)}", res.argv)))
    addc("a key given twice", {"c.toml": "Jx = 1\nJx = 2\n"}, ["--config", "c.toml"], post=post_names("Jx"))
    C.append(Case("options", "config sweep replicas = 0", SWEEP_TINY + ["--config", "c.toml"],
                  setup=write_text("c.toml", "replicas = 0\n"), expect=(2,), creates=("out.h5",),
                  post=post_names("replicas")))

    # -- valid boundary values that must succeed
    ok = [("--size 1", ["--size", "1"]), ("--t-end 0", ["--t-end", "0"]),
          ("--dim 1 --size 5", ["--dim", "1", "--size", "5"]),
          ("--noise 0", ["--init", "pm-noise", "--noise", "0"]), ("--noise 0.707", ["--init", "pm-noise", "--noise", "0.707"]),
          ("--seed 0", ["--seed", "0"]), ("--seed 2^63-1", ["--seed", str(2 ** 63 - 1)]),
          ("--compress 9", ["--compress", "9"]), ("--steps-per-pass 4", ["--size", "8", "--steps-per-pass", "4"]),
          ("--size 2x3x4", ["--size", "2x3x4"]), ("--integrator dopri5", ["--integrator", "dopri5"]),
          ("float four-sweep", ["--precision", "float", "--stepper", "four-sweep"]),
          ("--init uniform:0,0,-1", ["--init", "uniform:0,0,-1"]), ("--gamma-phi 0.5", ["--gamma-phi", "0.5"]),
          ("--Jx -3 --Jy 2", ["--Jx", "-3", "--Jy", "2"])]
    for label, args in ok:
        add("run", f"valid {label}", args, expect=(0,))
    add("run", "valid --analyze at an sXY point (Jz = 0, pm-noise)",
        ["--Jx", "1", "--Jy", "-1", "--Jz", "0", "--init", "pm-noise", "--size", "8", "--analyze"], expect=(0,))
    sxy = with_opts(RUN_TINY[:-1] + ["x.h5"], ["--Jx", "1", "--Jy", "-1", "--init", "pm-noise", "--t-end", "0"])
    C.append(Case("options", "analyze valid sXY state without vortices", ["analyze", "x.h5"],
                  setup=lambda d: _make(d, sxy), modifies=("x.h5",)))
    add("sweep", "valid 1-point grid", ["--x", "Jx:0:0:1", "--y", "Jy:0:0:1"], expect=(0,))
    add("sweep", "valid replicas 2, shard 1/2", ["--replicas", "2", "--batch-points", "1", "--shard", "1/2"],
        expect=(0,), post=lambda ctx, res: None)
    add("stability", "valid --size 4", ["--size", "4"], expect=(0,))
    add("analyze", "valid thresholds at 0 / snapshot 0", ["--pm-m-perp", "0", "--sk-full-max", "1", "--snapshot", "0"],
        expect=(0,))
    C.append(Case("options", "analyze valid --out --json", ["analyze", "run.h5", "--out", "new.h5", "--json"],
                  setup=cp("run", "run.h5"), creates=("new.h5",)))
    add("bench", "valid minimal", ["--steps", "1"], expect=(0,))
    addc("valid file", {"c.toml": 'Jx = 0.5\nt-end = 0.1\nsize = "4"\n'}, ["--config", "c.toml"], expect=(0,))

    def post_not_created(name):
        def f(ctx, res):
            if os.path.exists(os.path.join(ctx.d, name)):
                ctx.fail("CHECK", f"{name} was created although the command line named another output", res.argv)
        return f
    # -o on the command line wins over output = ... in the file (the short name too)
    addc("output in the file, -o on the command line", {"c.toml": 'output = "other.h5"\n'}, ["--config", "c.toml"],
         expect=(0,), post=posts(post_run_ok(), post_not_created("other.h5")))
    # a key that is no option of the command: one line naming the file and the key
    addc("typo'd key t_end", {"c.toml": "t_end = 3\n"}, ["--config", "c.toml"],
         post=posts(post_names("t_end"), post_names("c.toml")))
    C.append(Case("options", "config before the command", ["--config", "c.toml"] + RUN_TINY,
                  setup=write_text("c.toml", "Jx = 0.5\n"), expect=(0,), creates=("out.h5",), post=post_run_ok()))
    for sub, argv in (("sweep", SWEEP_TINY), ("stability", ["stability", "--size", "4", "-o", "out.h5"])):
        C.append(Case("options", f"config {sub} valid", argv + ["--config", "c.toml"],
                      setup=write_text("c.toml", "Jz = 0.5\n"), expect=(0,), creates=("out.h5",)))
    # a sweep refuses a value for its axis parameter, from the command line or a file
    C.append(Case("options", "sweep --Jx with Jx an axis", SWEEP_TINY + ["--Jx", "2"],
                  expect=(2,), creates=("out.h5",), post=post_names("axis")))
    C.append(Case("options", "config sweep Jx = 2 with Jx an axis", SWEEP_TINY + ["--config", "c.toml"],
                  setup=write_text("c.toml", "Jx = 2\n"), expect=(2,), creates=("out.h5",), post=post_names("axis")))
    addc("bad dt overridden on the command line", {"c.toml": "dt = -1\n"}, ["--config", "c.toml", "--dt", "0.01"],
         expect=(0,))

    # -- export (XDMF sidecar run.xdmf + run.fields.h5 of the run file run.h5)
    for v in ["nan", "-nan", "inf", "-inf", "-1", "-0.01", "1.5", "", "abc", "1e400", "0x"]:
        add("export", f"--vortex-amplitude {v!r}", ["--vortex-amplitude", v])
    add("export", "--vortex-amplitude 1e-400 (underflow)", ["--vortex-amplitude", "1e-400"], expect=(0, 2))
    for v in ["0", "1", "0.5"]:
        add("export", f"valid --vortex-amplitude {v}", ["--vortex-amplitude", v], expect=(0,))
    add("export", "valid defaults", [], expect=(0,))
    C.append(Case("options", "export valid --xdmf --xdmf-out x.xmf", ["export", "run.h5", "-q", "--xdmf", "--xdmf-out",
                                                                       "x.xmf"],
                  setup=cp("run", "run.h5"), creates=("x.xmf", "x.fields.h5"), post=post_export_ok(xdmf="x.xmf")))
    add("export", "--vortex-amplitude without value", ["--vortex-amplitude"])
    add("export", "--xdmf-out without value", ["--xdmf-out"])
    add("export", "unknown option", ["--bogus"])
    add("export", "--xdmf given a value", ["--xdmf=yes"], expect=(0, 2))
    add("export", "two files", ["run.h5"])
    add("raw", "export without file", ["export"])
    for v in ["a.vtk", "run.h5", "x", "x.xdmf.h5", ".xdmf/"]:
        add("export", f"--xdmf-out {v!r} (not .xdmf/.xmf)", ["--xdmf-out", v])
    add("export", "--xdmf-out '' (empty path)", ["--xdmf-out", ""], expect=(2, 3))
    add("export", "--xdmf-out into a missing dir", ["--xdmf-out", "nodir/x.xdmf"], expect=(3,))
    add("export", "--xdmf-out under a regular file", ["--xdmf-out", "afile/x.xdmf"], expect=(3,),
        setup=write_text("afile", "a file, not a directory\n"))
    for over in ([], ["--overwrite"]):
        add("export", "--xdmf-out a directory" + (" --overwrite" if over else ""), ["--xdmf-out", "adir.xdmf"] + over,
            expect=(3,), setup=lambda d: os.mkdir(os.path.join(d, "adir.xdmf")))
    # an unwritable output directory: /proc refuses new files even to root (chmod does not stop root)
    add("export", "--xdmf-out in /proc (unwritable directory)", ["--xdmf-out", "/proc/xyzmf-drill.xdmf"],
        expect=(3,))
    if os.geteuid() != 0:
        def ro_dir(d):
            os.mkdir(os.path.join(d, "ro"))
            os.chmod(os.path.join(d, "ro"), 0o555)
        add("export", "--xdmf-out in a read-only directory (chmod 555)", ["--xdmf-out", "ro/x.xdmf"], expect=(3,),
            setup=ro_dir)
    C.append(Case("options", "config export vortex-amplitude = nan", ["export", "run.h5", "--config", "c.toml"],
                  setup=seq(cp("run", "run.h5"), write_text("c.toml", "vortex-amplitude = nan\n")), expect=(2,),
                  creates=("run.xdmf", "run.fields.h5"), post=post_names("vortex-amplitude", "vortex_amplitude")))
    C.append(Case("options", "config export valid vortex-amplitude = 0.1", ["export", "run.h5", "--config", "c.toml"],
                  setup=seq(cp("run", "run.h5"), write_text("c.toml", "vortex-amplitude = 0.1\n")),
                  creates=("run.xdmf", "run.fields.h5"), post=post_export_ok()))
    return C


# ----------------------------------------------------------------------------------------
