"""Fixtures: files made once per drill run (runs, sweeps, shards, maps, references) and
copied into each case's directory.
"""
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
import h5py
import numpy as np

import harness
from harness import CHILD_ENV, FX, FX_SIZE, Q, _make, cmd_str, partial_run, partial_sweep


RUN8 = ["run", "--size", "8", "--t-end", "2", "--snapshot-every", "1", "--Jx", "0.9", "--Jy", "-0.6",
        "--Jz", "1", "--steady-tol", "0"] + Q
RUN16 = ["run", "--size", "16", "--t-end", "4", "--snapshot-every", "0.5", "--Jx", "0.9", "--Jy", "-0.6",
         "--Jz", "1", "--steady-tol", "0"] + Q
# (its export's fields file, about 680 KB, outgrows the 256 KB of room a flush asks for)
RUN64 = ["run", "--size", "64", "--t-end", "4", "--snapshot-every", "0.5", "--Jx", "0.9", "--Jy", "-0.6",
         "--Jz", "1", "--steady-tol", "0"] + Q
SWEEP3 = ["sweep", "--x", "Jx:-2:2:3", "--y", "Jy:-2:2:3", "--size", "4", "--t-end", "2"] + Q
MAP5 = ["stability", "--x", "Jx:-2:2:5", "--y", "Jy:-2:2:5"]
# the long run / sweep that kill_resume interrupts, after a number of their progress lines
# (a record every 0.5, a snapshot every 6: 1200 and 100 in the run; a batch a point in the
# sweep). The kills wait for those events, not for times, so the run's length does not
# matter, only its events: --dt 0.025 (the records and snapshots of --dt 0.01, in 0.4 of
# the stepping: 1.4 s instead of 3.8 s on a 2-core machine, 2026-12-07) keeps the drill
# shorter (kill_resume was 157 of its 213 case-seconds). A run that ends before its
# kill is checked as a finished file.
LONG_RUN = ["run", "--size", "64", "--t-end", "600", "--dt", "0.025", "--snapshot-every", "6",
            "--steady-tol", "0", "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
LONG_SWEEP = ["sweep", "--x", "Jx:-2:2:4", "--y", "Jy:-2:2:4", "--size", "16", "--t-end", "300",
              "--steady-tol", "0", "--batch-points", "1"] + Q
# the first writer of two_writers: several seconds
TW_RUN = ["run", "--size", "64", "--t-end", "300", "--dt", "0.01", "--snapshot-every", "25",
          "--steady-tol", "0", "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
TW_SWEEP = ["sweep", "--x", "Jx:-2:2:4", "--y", "Jy:-2:2:4", "--size", "32", "--t-end", "80",
            "--steady-tol", "0", "--batch-points", "2"] + Q

SHARD_VARIANTS = {   # name -> (extra args for shard 1/2, words the refusal must name)
    "gamma": (["--gamma", "2"], ["gamma"]),
    "dt": (["--dt", "0.01"], ["dt"]),
    "t_end": (["--t-end", "3"], ["t_end", "t-end"]),
    "seed": (["--seed", "2"], ["seed"]),
    "size": (["--size", "8"], ["size"]),
    "precision": (["--precision", "float"], ["precision"]),
    "axis": (["--x", "Jx:-2:3:3"], ["x_hi", "axis", "x ", "grid", "Jx"]),
    "Jz": (["--Jz", "0.5"], ["Jz"]),
    "replicas": (["--replicas", "2"], ["replicas"]),
}


FLAGS = {"--triad", "--roof", "--bogus", "--analyze", "--overwrite", "--json", "--all-snapshots", "--lifshitz",
         "-q", "--quiet", "--gap", "--series"}


def with_opts(argv, extra):
    """argv with the options in extra set, replacing values argv already gives (xyzmf refuses an
    option given twice); flags (FLAGS) are appended."""
    argv, i = list(argv), 0
    while i < len(extra):
        opt = extra[i]
        if opt in FLAGS or i + 1 == len(extra):
            argv.append(opt)
            i += 1
            continue
        if opt in argv:
            argv[argv.index(opt) + 1] = extra[i + 1]
        else:
            argv += [opt, extra[i + 1]]
        i += 2
    return argv


def fixture_commands(classes):
    cmds = {}
    need_basic = classes & {"options", "crafted_files", "full_disk", "two_writers", "blowups"}
    if need_basic:
        cmds["run"] = RUN8 + ["-o", "run.h5"]
        cmds["sweep"] = SWEEP3 + ["-o", "sweep.h5"]
        cmds["sh0"] = SWEEP3 + ["--shard", "0/2", "-o", "sh0.h5"]
        cmds["sh1"] = SWEEP3 + ["--shard", "1/2", "-o", "sh1.h5"]
        cmds["map"] = MAP5 + ["-o", "map.h5"]
    if "crafted_files" in classes:
        for k, (extra, _) in SHARD_VARIANTS.items():
            cmds["sh1_" + k] = with_opts(SWEEP3, extra) + ["--shard", "1/2", "-o", f"sh1_{k}.h5"]
    if "full_disk" in classes:
        cmds["run16"] = RUN16 + ["-o", "run16.h5"]
        cmds["run64"] = RUN64 + ["-o", "run64.h5"]
        cmds["merged"] = None       # built from sh0 + sh1 after the others
    if "signals" in classes:
        cmds["sig_run"] = SIG_RUN + ["-o", "sig_run.h5"]
        cmds["sig_sweep"] = SIG_SWEEP + ["-o", "sig_sweep.h5"]
        cmds["sig_quantum"] = SIG_QUANTUM + ["-o", "sig_quantum.h5"]
        cmds["sig_dtwa"] = SIG_DTWA + ["-o", "sig_dtwa.h5"]
        cmds["sig_states"] = SIG_STATES + ["-o", "sig_states.h5"]
        cmds["sig_export"] = SIG_EXPORT + ["-o", "sig_export.h5"]
        cmds["sig_sh0"] = SIG_SHARD + ["--shard", "0/2", "-o", "sig_sh0.h5"]
        cmds["sig_sh1"] = SIG_SHARD + ["--shard", "1/2", "-o", "sig_sh1.h5"]
    if "kill_resume" in classes:
        cmds["jrun"] = JRUN + ["-o", "jrun.h5"]
        cmds["jrun_an"] = JRUN_AN + ["-o", "jrun_an.h5"]
        cmds["ref_run"] = LONG_RUN + ["-o", "ref_run.h5"]
        cmds["ref_sweep"] = LONG_SWEEP + ["-o", "ref_sweep.h5"]
    return cmds


class FixtureError(Exception):
    pass


def build_fixtures(classes, fxdir, jobs):
    cmds = fixture_commands(classes)

    def one(item):
        name, argv = item
        r = subprocess.run([harness.XYZMF] + argv, cwd=fxdir, capture_output=True, text=True, env=CHILD_ENV,
                           timeout=300)
        out = argv[argv.index("-o") + 1]
        if r.returncode != 0 or not os.path.exists(os.path.join(fxdir, out)):
            raise FixtureError(f"drill: fixture {name} failed (exit {r.returncode}): {cmd_str(argv)}\n{r.stderr}")
        FX[name] = os.path.join(fxdir, out)

    with ThreadPoolExecutor(max(1, jobs)) as ex:
        list(ex.map(one, [(k, v) for k, v in cmds.items() if v is not None]))
    if "merged" in cmds:
        one(("merged", ["merge", "-o", "merged.h5", FX["sh0"], FX["sh1"]]))
    # crafted derivatives
    if "run" in FX:
        derive(fxdir, "part", "run", partial_run("run", 2))
        derive(fxdir, "sweep_part", "sweep", partial_sweep)
        derive(fxdir, "foreign", None, None)
    if "run16" in FX:
        derive(fxdir, "part16", "run16", partial_run("run16", 5, "interrupted at t = 2.2"))
    if "run64" in FX:       # the size of its export's fields file sets the full_disk limits
        _make(fxdir, ["export", "-q", "run64.h5"])
        FX["run64_fields"] = os.path.join(fxdir, "run64.fields.h5")
    for k, v in FX.items():
        FX_SIZE[k] = os.path.getsize(v)


def derive(fxdir, name, src, fn):
    p = os.path.join(fxdir, name + ".h5")
    if src is None:         # a valid HDF5 file that is not an xyzmf file
        with h5py.File(p, "w") as f:
            f.attrs["creator"] = "someone else"
            f["spins"] = np.zeros((8, 8, 3))
            f.create_group("parameters").attrs["dt"] = 0.01
    else:
        shutil.copyfile(FX[src], p)
        with h5py.File(p, "r+") as f:
            fn(f)
    FX[name] = p


# ----------------------------------------------------------------------------------------

# Frequent snapshots: a kill during one of their HDF5 flushes can leave the file's metadata
# half written (the issue of a67327b: 6 of 100 such files could not be resumed).  The
# journal beside the file lets --resume rebuild it (run_journal.hpp); `xyzmf repair`
# recovers what a damaged file holds.  The damage a torn flush does is also made on purpose,
# so that the rebuild is exercised every time, not only when a kill happens to tear a flush.
JRUN = ["run", "--size", "64", "--t-end", "30", "--dt", "0.01", "--snapshot-every", "0.05", "--steady-tol", "0",
        "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
# The same with --analyze --xdmf at an sXY point (vortices), a snapshot every 0.1: the
# journal holds spins, not their analysis, which a resume after a rebuild recomputes.
JRUN_AN = ["run", "--size", "64", "--t-end", "20", "--dt", "0.01", "--snapshot-every", "0.1", "--steady-tol", "0",
           "--Jx", "0.9", "--Jy", "-1.1", "--Jz", "0", "--analyze", "--xdmf"] + Q

# Workloads of about 0.2-0.6 s in a release build on one thread, so that the later signals
# land while they work (the checks hold either way).
SIG_RUN = ["run", "--size", "64", "--t-end", "60", "--dt", "0.01", "--snapshot-every", "2", "--steady-tol", "0",
           "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
SIG_SWEEP = ["sweep", "--x", "Jx:-2:2:3", "--y", "Jy:-2:2:3", "--size", "16", "--t-end", "100", "--steady-tol", "0",
             "--batch-points", "1"] + Q
SIG_QUANTUM = ["quantum", "--sites", "8", "--trajectories", "32", "--batch", "4", "--t-end", "10", "--burn-in", "5",
               "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1", "--backend", "cpu", "-q"]
SIG_DTWA = ["dtwa", "--size", "48", "--trajectories", "24", "--batch", "4", "--t-end", "4", "--record-every", "1",
            "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
# the input of analyze and export: 41 states of a 128^2 sXY run
SIG_STATES = ["run", "--size", "128", "--t-end", "20", "--snapshot-every", "0.5", "--Jx", "1", "--Jy", "-1", "--Jz", "0",
              "--steady-tol", "0"] + Q
# the input of export: 21 states of a 256^2 sXY run
SIG_EXPORT = ["run", "--size", "256", "--t-end", "10", "--snapshot-every", "0.5", "--Jx", "1", "--Jy", "-1", "--Jz", "0",
              "--steady-tol", "0"] + Q
SIG_SHARD = ["sweep", "--x", "Jx:-2:2:21", "--y", "Jy:-2:2:21", "--size", "4", "--t-end", "2"] + Q
