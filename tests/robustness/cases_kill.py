"""Class 3, kill and resume: kill -9 (and stop signals) during runs, sweeps and their writes;
resumes bit-identical to an uninterrupted run; journals and repair.
"""
import hashlib
import os
import random
import re
import signal
import time
import zlib
import h5py
import numpy as np

import harness
from harness import (
    CHILD_ENV, Case, FX, Q, SIGNAL_EXIT, _first_line, check_run_file, check_sweep_file, cp, dir_state,
    h5_state, kept_snapshots_and_sweep, write_text)
from fixtures import JRUN, JRUN_AN, LONG_RUN, LONG_SWEEP


# No case here waits a fixed time and assumes where the program then is: each one waits for
# an event that the program makes observable (its output file, its temporary file, the lock
# taken, the n-th progress line on stderr: XYZMF_PROGRESS_EVERY=0 prints one per record of
# a run and per batch of a sweep), and a first writer that must still be running while a
# second one is tried is stopped (SIGSTOP) meanwhile.  The runs are long in steps (hundreds
# of records after the event), so a kill sent at an event lands while they work; a run that
# still ended first (exit 0, its file complete) is checked as a finished file, never taken
# for a failure of the program.  Random jitter after an event only varies where, between
# two events, a kill lands; it is drawn from a generator seeded by the case's name and
# noted, so a failing moment is reported and drawn again by a rerun.

PROGRESS_ENV = dict(CHILD_ENV, XYZMF_PROGRESS_EVERY="0")
PROGRESS_LINE = re.compile(r"^ *\S.*  elapsed \d+:\d\d:\d\d  ETA \S+$")


def wait_for(path, proc, limit=None):
    """Waits until path exists (True) or proc has ended (then whether path exists).  The limit
    (default: the subprocess timeout) only guards against a hang."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < (limit or harness.TIMEOUT):
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return os.path.exists(path)
        time.sleep(0.002)
    return os.path.exists(path)


def lock_held_by(ctx, name, pid):
    """Whether the lock file of name (the program's own, .NAME.lock) names pid."""
    try:
        with open(ctx.p("." + name + ".lock")) as f:
            return f.read().strip() == str(pid)
    except OSError:
        return False


def wait_until(cond, proc, limit=None):
    """Waits until cond() (True) or proc has ended (False)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < (limit or harness.TIMEOUT):
        if cond():
            return True
        if proc.poll() is not None:
            return cond()
        time.sleep(0.002)
    return False


def stopped(pid):
    """SIGSTOP pid and wait until the kernel reports it stopped (state T)."""
    os.kill(pid, signal.SIGSTOP)
    for _ in range(100000):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in "tTZX":
            return state in "tT"
        time.sleep(0.0005)
    return False


def unquiet(argv):
    return [a for a in argv if a not in ("-q", "--quiet")]


def spawn_watched(ctx, argv):
    """Starts argv with a progress line on stderr per record (run) or batch (sweep)."""
    return ctx.spawn(unquiet(argv), env=PROGRESS_ENV)


def read_progress(proc, n):
    """Reads stderr until the n-th progress line: the command has got that far.  Returns how
    many it read (fewer than n: the command ended first)."""
    seen = 0
    while seen < n:
        line = proc.stderr.readline()
        if not line:
            break
        seen += bool(PROGRESS_LINE.match(line.rstrip("\n")))
    return seen


def without_progress(res):
    res.err = "\n".join(l for l in res.err.split("\n") if not PROGRESS_LINE.match(l))
    return res


def remaining_events(ctx, kind, name="out.h5"):
    """Progress lines still to come: records of a run after its last snapshot, batches of a
    sweep not done (one point per batch in LONG_SWEEP)."""
    p = ctx.p(name)
    i = LONG_RUN.index("--t-end")
    t_end = float(LONG_RUN[i + 1])
    # A kill -9 can leave the file torn (its last snapshot's header half written): the
    # program's --resume rebuilds it from the journal, so here an unreadable part only means
    # "count from what reads".
    if kind == "run":
        ts = []
        try:
            with h5py.File(p, "r") as f:
                for k in f.get("snapshots", {}):
                    try:
                        if f["snapshots"][k].attrs.get("complete", 0) == 1:
                            ts.append(float(f["snapshots"][k]["t"][()]))
                    except (KeyError, OSError, RuntimeError):
                        pass
        except (OSError, KeyError, RuntimeError):
            pass
        return max(1, int((t_end - max(ts, default=0.0)) / 0.5))
    try:
        with h5py.File(p, "r") as f:
            return max(1, int(np.sum(f["sweep/batch"][()] < 0)))
    except (OSError, KeyError, RuntimeError):
        return 16


def wait_jitter(ctx, jitter):
    """Up to `jitter` s more after an event, drawn in turn from the case's own generator
    (seeded by crc32 of its name: Python's hash() is salted per process), so the kills of a
    case that kills several times land at different moments, the same ones in a rerun; each
    is noted with the case."""
    if jitter:
        if not hasattr(ctx, "jitter_rng"):
            ctx.jitter_rng = random.Random(zlib.crc32(ctx.case.name.encode()))
        delay = ctx.jitter_rng.uniform(0, jitter)
        ctx.note(f"signal {1000 * delay:.1f} ms after the event")
        time.sleep(delay)


def kill_at_event(ctx, argv, n, sig=signal.SIGKILL, jitter=0.0):
    """Start argv, send sig after its n-th progress line (plus up to `jitter` s).  Returns
    (res, finished_before_signal)."""
    t0 = time.monotonic()
    proc = spawn_watched(ctx, argv)
    read_progress(proc, n)
    wait_jitter(ctx, jitter)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, sig)
    res = without_progress(ctx.finish(proc, argv, t0))
    return res, finished or (res.rc is not None and res.rc >= 0 and res.rc not in SIGNAL_EXIT.values())


def check_killed_file(ctx, name, argv):
    """After SIGKILL the target is absent, a readable xyzmf file, or torn by a kill during
    HDF5's flush (docs/ARCHITECTURE.md, "Journal of a run") with its journal beside it,
    which --resume rebuilds it from.  Returns True if present."""
    p = ctx.p(name)
    if not os.path.lexists(p):
        return False
    st = h5_state(p)
    if not st["ok"]:
        if os.path.exists(ctx.p(f".{name}.journal")):
            ctx.note(f"torn by the kill ({st['err'][:60]}), journal beside it")
            return True
        ctx.fail("LOST", f"{name} left broken after SIGKILL, and no journal beside it: {st['err']}", argv)
        return False
    if st["attrs"].get("schema") != "xyzmf":
        ctx.fail("LOST", f"{name} after SIGKILL has no schema 'xyzmf' (a half-written file)", argv)
        return False
    return True


def kill_run_case(ctx, fractions, kind):
    """SIGKILL a run or sweep (then its resumes) after the given fractions of its remaining
    progress lines; the last resume must give the uninterrupted result bit for bit."""
    long_, ref, check, resume = {
        "run": (LONG_RUN, "ref_run", check_run_file, ["run", "--resume", "out.h5"] + Q),
        "sweep": (LONG_SWEEP, "ref_sweep", check_sweep_file, ["sweep", "--resume", "out.h5"] + Q),
    }[kind]
    argv = long_ + ["-o", "out.h5"]
    jitter = 0.01 if kind == "run" else 0.1      # up to one record / one batch
    for i, frac in enumerate(fractions):
        a = argv if i == 0 else resume
        n = max(1, int(frac * remaining_events(ctx, kind)))
        before = dir_state(ctx.d)
        res, finished = kill_at_event(ctx, a, n, jitter=jitter)
        ctx.note(f"step {i}: {'finished before the kill' if finished else 'killed'} after progress line {n}, "
                 f"file {'present' if os.path.exists(ctx.p('out.h5')) else 'absent'}")
        if finished:
            ctx.check_exit(res, (0,))
            ctx.check_files(before, res, modifies=("out.h5",), creates=("out.h5",))
            check(ctx, "out.h5", a, ref=FX[ref])
            return
        if res.rc != -signal.SIGKILL:
            ctx.check_exit(res, (0,), sent_signal=signal.SIGKILL)
        if not check_killed_file(ctx, "out.h5", a):
            return              # killed before the file first existed: nothing to resume
        st = h5_state(ctx.p("out.h5"))
        torn = not st["ok"]     # the resume must rebuild it from its journal
        if torn:
            continue
        if st["attrs"].get("status") == "finished":
            # The kill landed after the work was done (during exit): the file is complete and
            # --resume has nothing to do, so check it as a finished file instead.
            ctx.note("killed after the file was finished: nothing to resume")
            check(ctx, "out.h5", a, ref=FX[ref])
            return
        old = before.get("out.h5")        # the snapshots written before this kill survive it
        if old and old.h5 and old.h5["ok"]:
            for msg in kept_snapshots_and_sweep(old.h5, st):
                ctx.fail("LOST", f"SIGKILL during resume: {msg}", a)
    res = ctx.run(resume, (0,), modifies=("out.h5",))
    ctx.note(f"resume exit {res.rc}")
    if res.rc == 0:
        check(ctx, "out.h5", resume, ref=FX[ref])
        if torn and not os.path.exists(ctx.p("out.h5.damaged")):
            ctx.fail("CHECK", "resumed a torn file, but the damaged file was not kept as out.h5.damaged", resume)


def signal_case(ctx, kind, sig, frac):
    """A stop signal after a fraction of the progress lines: exit 128 + signal, status marked,
    no litter, and the resume gives the uninterrupted result."""
    long_, ref, check, resume = {
        "run": (LONG_RUN, "ref_run", check_run_file, ["run", "--resume", "out.h5"] + Q),
        "sweep": (LONG_SWEEP, "ref_sweep", check_sweep_file, ["sweep", "--resume", "out.h5"] + Q),
    }[kind]
    argv = long_ + ["-o", "out.h5"]
    n = max(1, int(frac * remaining_events(ctx, kind)))
    res, finished = kill_at_event(ctx, argv, n, sig)
    if finished and res.rc == 0:
        ctx.note(f"ended before {sig.name} came (progress line {n}): checked as a finished file")
        check(ctx, "out.h5", argv, ref=FX[ref])
        return
    ctx.check_exit(res, (SIGNAL_EXIT[sig],))
    ctx.note(f"{sig.name} after progress line {n}: exit {res.rc}, {_first_line(res.err)}")
    if not os.path.exists(ctx.p("out.h5")):
        return
    st = h5_state(ctx.p("out.h5"))
    if not st["ok"]:
        ctx.fail("LOST", f"out.h5 unreadable after {sig.name}: {st['err']}", argv)
        return
    if st["attrs"].get("status", "running") == "running":
        ctx.fail("CHECK", f"status still {st['attrs'].get('status')!r} after {sig.name}", argv)
    if kind == "run":
        check_run_file(ctx, "out.h5", argv, expect_status=None)
    leftovers = [n for n in os.listdir(ctx.d) if n not in ("out.h5", ".out.h5.journal")]
    if leftovers:
        ctx.fail("LITTER", f"after {sig.name}: left {leftovers}", argv)
    res = ctx.run(resume, (0,), modifies=("out.h5",))
    if res.rc == 0:
        check(ctx, "out.h5", resume, ref=FX[ref])


def kill_analyze_case(ctx, jitter):
    """SIGKILL an in-place analysis once its working copy exists (plus up to `jitter` s)."""
    argv = ["analyze", "out.h5", "--all-snapshots"]
    before = dir_state(ctx.d)
    t0 = time.monotonic()
    proc = ctx.spawn(argv)
    wait_until(lambda: any(n.startswith(".out.h5.tmp-") for n in os.listdir(ctx.d)), proc)
    wait_jitter(ctx, jitter)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    res = ctx.finish(proc, argv, t0)
    ctx.note("analyze finished before the kill" if finished or res.rc == 0 else "analyze killed")
    if finished or res.rc != -signal.SIGKILL:
        ctx.check_exit(res, (0,))
    after = h5_state(ctx.p("out.h5"))
    if not after["ok"]:
        ctx.fail("LOST", f"out.h5 unreadable after SIGKILL of analyze: {after['err']}", argv)
        return
    for msg in kept_snapshots_and_sweep(before["out.h5"].h5, after):
        ctx.fail("LOST", f"SIGKILL during analyze: {msg}", argv)
    res = ctx.run(["analyze", "out.h5"], (0,), modifies=("out.h5",))


def kill_overwrite_case(ctx, frac):
    """SIGKILL a run --overwrite after a fraction of its progress lines: the old file stays, or
    a readable new one replaced it."""
    argv = LONG_RUN + ["--seed", "7", "-o", "out.h5", "--overwrite"]
    old = dir_state(ctx.d)["out.h5"]
    res, finished = kill_at_event(ctx, argv, max(1, int(frac * remaining_events(ctx, "run", "absent.h5"))),
                                  jitter=0.01)
    if finished:
        ctx.check_exit(res, (0,))
        return
    new = dir_state(ctx.d).get("out.h5")
    if new is None:
        ctx.fail("LOST", "SIGKILL during --overwrite: out.h5 gone (neither old nor new file)", argv)
        return
    ctx.note("old file untouched" if new.ino == old.ino and new.sha == old.sha else
             f"new file, status {new.h5.get('attrs', {}).get('status')!r}")
    if new.ino == old.ino and new.sha == old.sha:
        return                       # the old file is untouched: fine
    if not new.h5["ok"] or new.h5["attrs"].get("schema") != "xyzmf":
        ctx.fail("LOST", f"SIGKILL during --overwrite left out.h5 neither old nor a readable new file "
                 f"({new.h5.get('err', 'no schema')})", argv)
        return
    if new.h5["attrs"].get("status", "").startswith("running"):
        r = ctx.run(["run", "--resume", "out.h5"] + Q, (0,), modifies=("out.h5",))
        if r.rc == 0:
            check_run_file(ctx, "out.h5", r.argv)




def damage(name, where):
    """Overwrites with garbage what a torn flush leaves half written: the object header of
    /snapshots (whose link table every new snapshot changes), of the last snapshot group, of
    the root group, or the superblock."""
    def f(d):
        p = os.path.join(d, name)
        if where == "superblock":
            addr = 0
        else:
            with h5py.File(p, "r") as h:
                if where == "last snapshot":
                    obj = h["snapshots"][sorted(h["snapshots"])[-1]]
                else:
                    obj = h[where]
                addr = h5py.h5o.get_info(obj.id).addr
        with open(p, "r+b") as fh:
            fh.seek(addr)
            fh.write(b"\xa5" * 16)    # (an object header's prefix: its version, flags and sizes)
    return f


def interrupted_jrun(ctx, n=8):
    """A JRUN stopped by SIGINT after its n-th progress line: out.h5 with its journal."""
    res, finished = kill_at_event(ctx, JRUN + ["-o", "out.h5"], n, signal.SIGINT)
    if finished or res.rc != 130 or not os.path.exists(ctx.p(".out.h5.journal")):
        ctx.fail("HARNESS", f"could not make an interrupted run with a journal (exit {res.rc})", JRUN)
        return False
    return True


def resume_damaged_case(ctx, where):
    """A run interrupted, its metadata then damaged as a kill during a flush can leave it:
    --resume rebuilds it from its journal, keeps the damaged file, and ends where the
    uninterrupted run ends, bit for bit; the result reads completely."""
    if not interrupted_jrun(ctx):
        return
    damage("out.h5", where)(ctx.d)
    resume = ["run", "--resume", "out.h5"] + Q
    r = ctx.run(resume, (0,), modifies=("out.h5",))
    if r.rc == 0:
        check_run_file(ctx, "out.h5", resume, ref=FX["jrun"])
        if not os.path.exists(ctx.p("out.h5.damaged")):
            ctx.fail("CHECK", "rebuilt, but the damaged file was not kept as out.h5.damaged", resume)


def analysis_of(path):
    """Every analysis dataset of a run file (each state's and /analysis/coarsening), by name."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and ("analysis" in name or "structure_factor" in name):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def resume_damaged_analysed_case(ctx):
    """An --analyze --xdmf run interrupted, /snapshots damaged as by a torn flush: --resume
    rebuilds it from its journal, which holds spins only, analyses every stored state again
    and ends with the uninterrupted run's analysis (each state's, the coarsening table) bit
    for bit, and its sidecar with every state's vortices."""
    res, finished = kill_at_event(ctx, JRUN_AN + ["-o", "out.h5"], 8, signal.SIGINT)
    if finished or res.rc != 130 or not os.path.exists(ctx.p(".out.h5.journal")):
        ctx.fail("HARNESS", f"could not make an interrupted analysed run with a journal (exit {res.rc})", JRUN_AN)
        return
    damage("out.h5", "/snapshots")(ctx.d)
    resume = ["run", "--resume", "out.h5"] + Q
    r = ctx.run(resume, (0,), modifies=("out.h5", "out.xdmf", "out.fields.h5"))
    if r.rc != 0:
        return
    check_run_file(ctx, "out.h5", resume, ref=FX["jrun_an"])
    got, want = analysis_of(ctx.p("out.h5")), analysis_of(FX["jrun_an"])
    if sorted(got) != sorted(want):
        missing = sorted(set(want) - set(got))
        ctx.fail("LOST", f"{len(missing)} analysis datasets of the uninterrupted run are missing after the rebuild "
                 f"and resume, e.g. {missing[:2]}", resume)
    else:
        def same(a, b):  # (NaN where a quantity does not apply, as in PM: equal to itself)
            try:
                return np.array_equal(a, b, equal_nan=True)
            except TypeError:
                return np.array_equal(a, b)
        differ = [k for k in want if not same(got[k], want[k])]
        if differ:
            ctx.fail("CHECK", f"{len(differ)} analysis datasets differ from the uninterrupted run's, e.g. {differ[:2]}",
                     resume)
    ref_xdmf = open(FX["jrun_an"][:-3] + ".xdmf").read().replace(os.path.basename(FX["jrun_an"])[:-3], "RUN")
    if open(ctx.p("out.xdmf")).read().replace("out", "RUN") != ref_xdmf:
        ctx.fail("CHECK", "the sidecar out.xdmf differs from the uninterrupted run's (its states or vortices)", resume)


def torn_twice_case(ctx):
    """A run file torn, rebuilt by --resume, interrupted, torn again and resumed: each
    rebuild keeps its damaged file (out.h5.damaged, then out.h5.damaged.2: the second does
    not replace the first), and the run ends where the uninterrupted one ends."""
    if not interrupted_jrun(ctx):
        return
    damage("out.h5", "/snapshots")(ctx.d)
    first = hashlib.sha256(open(ctx.p("out.h5"), "rb").read()).hexdigest()
    resume = ["run", "--resume", "out.h5"] + Q
    res, finished = kill_at_event(ctx, resume, 8, signal.SIGINT)
    if finished or res.rc != 130:
        ctx.fail("HARNESS", f"could not interrupt the first resume (exit {res.rc})", resume)
        return
    damage("out.h5", "last snapshot")(ctx.d)
    r = ctx.run(resume, (0,), modifies=("out.h5",))
    if r.rc != 0:
        return
    check_run_file(ctx, "out.h5", resume, ref=FX["jrun"])
    kept = [n for n in ("out.h5.damaged", "out.h5.damaged.2") if os.path.exists(ctx.p(n))]
    if len(kept) != 2:
        ctx.fail("LOST", f"two rebuilds kept {kept}, not out.h5.damaged and out.h5.damaged.2", resume)
    elif hashlib.sha256(open(ctx.p("out.h5.damaged"), "rb").read()).hexdigest() != first:
        ctx.fail("LOST", "the second rebuild replaced out.h5.damaged, the first damaged file", resume)


def kill_storm_case(ctx, kills, seed):
    """kill -9 at random moments of a run with a snapshot every 0.05 (hundreds of flushes),
    then --resume, `kills` times: every file the kills leave is resumable, and the last resume
    ends bit for bit where the uninterrupted run does."""
    rng = random.Random(seed)
    argv = JRUN + ["-o", "out.h5"]
    resume = ["run", "--resume", "out.h5"] + Q
    rebuilt = 0
    for i in range(kills):
        if os.path.exists(ctx.p("out.h5")):
            st = h5_state(ctx.p("out.h5"))
            if st["ok"] and st["attrs"].get("status", "").startswith("finished"):
                break
        a = resume if os.path.exists(ctx.p("out.h5")) else argv
        left = remaining_events(ctx, "run") if a is resume else 60
        res, finished = kill_at_event(ctx, a, max(1, int(rng.uniform(0.05, 0.95) * min(left, 60))), jitter=0.01)
        if not finished and res.rc != -signal.SIGKILL:
            ctx.check_exit(res, (0,), sent_signal=signal.SIGKILL)
        rebuilt += "rebuilt from its journal" in res.out
    st = h5_state(ctx.p("out.h5")) if os.path.exists(ctx.p("out.h5")) else None
    if st and st["ok"] and st["attrs"].get("status", "").startswith("finished"):
        ctx.note(f"{kills} kills, {rebuilt} rebuilds from the journal; finished before the last kill")
        check_run_file(ctx, "out.h5", argv, ref=FX["jrun"])
        return
    r = ctx.exec(unquiet(resume)) if st else ctx.exec(argv)
    rebuilt += "rebuilt from its journal" in r.out
    ctx.check_exit(r, (0,))
    ctx.note(f"{kills} kills, {rebuilt} rebuilds from the journal")
    if r.rc == 0:
        check_run_file(ctx, "out.h5", r.argv, ref=FX["jrun"])
        st = h5_state(ctx.p("out.h5"))
        if not st["ok"]:
            ctx.fail("LOST", f"out.h5 does not read completely after the last resume: {st['err']}", r.argv)


def repair_case(ctx, where, journal=True, out=None):
    """`xyzmf repair` of a damaged run file: exit 0, the repaired file reads completely and
    holds every snapshot the interrupted run had (with its journal), and continues with
    --resume to the uninterrupted result."""
    if not interrupted_jrun(ctx):
        return
    with h5py.File(ctx.p("out.h5"), "r") as h:
        had = sorted(k for k in h["snapshots"] if h["snapshots"][k].attrs.get("complete", 0) == 1)
    damage("out.h5", where)(ctx.d)
    if not journal:
        os.remove(ctx.p(".out.h5.journal"))
    argv = ["repair", "out.h5"] + (["-o", out] if out else [])
    target = out or "out.h5"
    r = ctx.run(argv, (0, 3) if not journal else (0,), modifies=("out.h5",), creates=(out,) if out else ())
    if r.rc != 0:
        return
    st = h5_state(ctx.p(target))
    if not st["ok"]:
        ctx.fail("CHECK", f"{target} after repair does not read completely: {st['err']}", argv)
        return
    if journal:
        with h5py.File(ctx.p(target), "r") as h:
            now = sorted(k for k in h["snapshots"] if h["snapshots"][k].attrs.get("complete", 0) == 1)
        if now != had:
            ctx.fail("CHECK", f"repair kept {len(now)} snapshots of the {len(had)} the run had written", argv)
        resume = ["run", "--resume", target] + Q
        r2 = ctx.run(resume, (0,), modifies=(target, "out.h5"))
        if r2.rc == 0:
            check_run_file(ctx, target, resume, ref=FX["jrun"])
    ctx.note(r.out.strip().replace("\n", "; ")[:300])


def kill_resume_cases():
    C = []
    for where in ["/snapshots", "last snapshot", "/", "superblock"]:
        C.append(Case("kill_resume", f"run interrupted, {where} damaged as by a torn flush, resume (rebuilt from "
                      f"the journal)", runner=lambda ctx, w=where: resume_damaged_case(ctx, w), cost=2))
        C.append(Case("kill_resume", f"repair: {where} damaged, with the journal", runner=lambda ctx, w=where:
                      repair_case(ctx, w), cost=2))
    C.append(Case("kill_resume", "run --analyze --xdmf interrupted, /snapshots damaged, resume: the analysis and "
                  "sidecar of the uninterrupted run", runner=resume_damaged_analysed_case, cost=2))
    C.append(Case("kill_resume", "run torn, resumed, interrupted, torn again, resumed: both damaged files kept",
                  runner=torn_twice_case, cost=2.5))
    C.append(Case("kill_resume", "repair -o: /snapshots damaged, with the journal", runner=lambda ctx:
                  repair_case(ctx, "/snapshots", out="fixed.h5"), cost=2))
    for where in ["/snapshots", "last snapshot"]:
        C.append(Case("kill_resume", f"repair: {where} damaged, no journal (salvage)", runner=lambda ctx, w=where:
                      repair_case(ctx, w, journal=False), cost=2))
    C.append(Case("kill_resume", "repair: a sound file (nothing to do)", ["repair", "run.h5"],
                  setup=cp("ref_run", "run.h5"), modifies=("run.h5",)))
    C.append(Case("kill_resume", "repair: a missing file", ["repair", "none.h5"], expect=(3,)))
    C.append(Case("kill_resume", "repair: a text file", ["repair", "x.h5"], expect=(3,),
                  setup=write_text("x.h5", "not hdf5\n")))
    C.append(Case("kill_resume", "repair -o FILE itself", ["repair", "run.h5", "-o", "./run.h5"], expect=(2,),
                  setup=cp("ref_run", "run.h5")))
    for seed in range(3):
        C.append(Case("kill_resume", f"run with a snapshot every 0.05, 8 kill -9 at random moments (seed {seed}), "
                      f"resumes", runner=lambda ctx, sd=seed: kill_storm_case(ctx, 8, sd), cost=8))
    rng = random.Random(20240611)

    def pct(f):
        return f"{100 * f:.0f}%"
    for i in range(10):
        f = rng.uniform(0.02, 0.9)
        C.append(Case("kill_resume", f"run SIGKILL at {pct(f)} of its records, resume", runner=lambda ctx, a=f:
                      kill_run_case(ctx, [a], "run"), cost=3))
    for i in range(4):
        f1, f2 = rng.uniform(0.1, 0.7), rng.uniform(0.02, 0.8)
        C.append(Case("kill_resume", f"run SIGKILL at {pct(f1)} of its records, resume SIGKILL at {pct(f2)} of the "
                      f"rest, resume", runner=lambda ctx, a=f1, b=f2: kill_run_case(ctx, [a, b], "run"), cost=3.5))
    for i in range(7):
        f = rng.uniform(0.0, 0.9)
        C.append(Case("kill_resume", f"sweep SIGKILL at {pct(f)} of its batches, resume", runner=lambda ctx, a=f:
                      kill_run_case(ctx, [a], "sweep"), cost=2.5))
    for i in range(3):
        f1, f2 = rng.uniform(0.1, 0.6), rng.uniform(0.0, 0.6)
        C.append(Case("kill_resume", f"sweep SIGKILL at {pct(f1)} of its batches, resume SIGKILL at {pct(f2)} of the "
                      f"rest, resume", runner=lambda ctx, a=f1, b=f2: kill_run_case(ctx, [a, b], "sweep"), cost=3))
    for kind in ["run", "sweep"]:
        for sig in [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]:
            for f in [0.1, 0.4]:
                C.append(Case("kill_resume", f"{kind} {sig.name} at {pct(f)} of its "
                              f"{'records' if kind == 'run' else 'batches'}, resume",
                              runner=lambda ctx, k=kind, s=sig, a=f: signal_case(ctx, k, s, a), cost=2.5))
    for jitter in [0.0, 0.1, 0.25]:
        C.append(Case("kill_resume", f"analyze --all-snapshots SIGKILL within {jitter:.2f} s of its working copy",
                      setup=cp("ref_run", "out.h5"), runner=lambda ctx, j=jitter: kill_analyze_case(ctx, j), cost=1.5))
    for f in [0.01, 0.2, 0.6]:
        C.append(Case("kill_resume", f"run --overwrite SIGKILL at {pct(f)} of its records",
                      setup=cp("ref_run", "out.h5"), runner=lambda ctx, a=f: kill_overwrite_case(ctx, a), cost=2.5))
    return C


# ----------------------------------------------------------------------------------------
