"""Class 7, a stop signal at any moment.
"""
import os
import re
import shutil
import signal
import subprocess
import time
import h5py
import numpy as np

import harness
from harness import (
    CHILD_ENV, Case, FX, Q, SIGNAL_EXIT, _first_line, astr, check_run_file, check_sweep_file, cp,
    dir_state, kept_snapshots_and_sweep, seq, xdmf_state)
from fixtures import SIG_DTWA, SIG_QUANTUM, SIG_RUN, SIG_SWEEP

# Every command that writes a file gets SIGINT, SIGTERM, SIGHUP and SIGQUIT at 0, 1, 2, 5, 10,
# 20, 50 and 100 ms after it was started.  Whenever the signal comes, the command ends with
# 128 + signal and one line on stderr (or exit 0 if it had finished), leaves no temporary or
# lock file, and its output is absent, complete, or interrupted and resumable to the result
# of an uninterrupted run.  The command is started with the four signals blocked, as if the
# signal were pending at its first instruction: the program unblocks them once its handlers
# are in place, so a signal sent "at 0 ms" tests exactly that moment and no delay of the
# harness or the scheduler can move it.  (Without the block, a signal that comes while the
# dynamic loader is still mapping the libraries, before the program's first instruction,
# ends it by the signal itself: nothing has been written then.)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
SIGNAL_DELAYS_MS = (0, 1, 2, 5, 10, 20, 50, 100)
SIG_STAB = ["stability", "--x", "Jx:-6:6:401", "--y", "Jy:-6:6:401", "--size", "64"]
SIG_GAUSS = ["gaussian", "--x", "Jx:-0.3:0.3:9", "--y", "Jy:-0.3:0.3:9", "--dim", "3"]
# A signal that comes in a command's last instants, after its last stop check, rightly
# ends with exit 0 and the file complete; when it came is decided by the clock, so no case
# may call that a lost signal unless the command surely had work left.  These commands work
# 300-600 ms on a 2-core machine (merge of two small shards about 50 ms, so never strict):
# a signal at STRICT_UP_TO_MS or earlier that found one still alive came 15-30 times that
# far before its end, which no plausibly faster machine closes, and must stop it.  At 0 ms
# the signal is pending before the first instruction (see above), on any machine.
SIG_STRICT = ("run", "sweep", "quantum", "dtwa", "analyze in place", "export", "stability -o", "gaussian -o")
STRICT_UP_TO_MS = 20


def link(fx, name):
    """setup step: hard-link fixture fx into the case dir as name (for commands that only read it
    or replace it by rename, never write into it)."""
    def f(d):
        os.link(FX[fx], os.path.join(d, name))
    return f


def block_stop_signals():
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def litter(ctx, keep=()):
    """The program's temporary and lock files left in the case dir."""
    return [n for n in os.listdir(ctx.d) if n.startswith(".") and (".tmp-" in n or n.endswith(".lock"))
            and n not in keep]


QUANTUM_SUMS = ("trajectory_sz", "trajectory_corr", "trajectory_jumps")
DTWA_SUMS = ("scalar_sum", "scalar_sum2", "corr_sum", "sk_sum", "vortex_sum", "done")


def batch_numbers(path, group, keys):
    """The per-batch sums of a batched command's file (/quantum or /dtwa) that exist."""
    with h5py.File(path, "r") as f:
        g = f[group]
        return {k: g[k][()] for k in keys if k in g}


def check_batch_file(ctx, name, argv, group, keys, what, ref=None):
    """A batched command's file: finished, and (ref) its sums bit for bit those of ref."""
    try:
        with h5py.File(ctx.p(name), "r") as f:
            status = astr(f.attrs.get("status", ""))
            if not status.startswith("finished"):
                ctx.fail("CHECK", f"{name}: status {status!r}, expected 'finished'", argv)
        if ref is not None:
            a, b = batch_numbers(ctx.p(name), group, keys), batch_numbers(ref, group, keys)
            bad = [k for k in b if k not in a or not np.array_equal(a[k], b[k], equal_nan=True)]
            if bad:
                ctx.fail("CHECK", f"{name}: /{group}/{','.join(bad)} differ from the uninterrupted run", argv)
    except Exception as e:                          # noqa: BLE001
        ctx.fail("CHECK", f"{name}: cannot be read as a {what} file: {str(e).splitlines()[0][:120]}", argv)


def check_quantum_file(ctx, name, argv, ref=None):
    check_batch_file(ctx, name, argv, "quantum", QUANTUM_SUMS, "quantum", ref)


def check_dtwa_file(ctx, name, argv, ref=None):
    check_batch_file(ctx, name, argv, "dtwa", DTWA_SUMS, "DTWA", ref)


def signal_moment_case(ctx, kind, sig, delay_ms):
    out = "out.h5"
    resume = None
    if kind == "run":
        argv, check, ref = SIG_RUN + ["-o", out], check_run_file, "sig_run"
        resume = ["run", "--resume", out] + Q
    elif kind == "sweep":
        argv, check, ref = SIG_SWEEP + ["-o", out], check_sweep_file, "sig_sweep"
        resume = ["sweep", "--resume", out] + Q
    elif kind == "quantum":
        argv, check, ref = SIG_QUANTUM + ["-o", out], check_quantum_file, "sig_quantum"
        resume = ["quantum", "--resume", out, "-q", "--backend", "cpu"]
    elif kind == "dtwa":
        argv, check, ref = SIG_DTWA + ["-o", out], check_dtwa_file, "sig_dtwa"
        resume = ["dtwa", "--resume", out, "-q", "--backend", "cpu"]
    elif kind == "analyze in place":
        argv = ["analyze", "in.h5", "--all-snapshots"]
    elif kind == "merge":
        argv, check, ref = ["merge", "-o", out, "a.h5", "b.h5"], check_sweep_file, None
    elif kind == "export":
        argv = ["export", "in.h5", "-q"]
    elif kind == "stability -o":
        argv = SIG_STAB + ["-o", out]
    elif kind == "gaussian -o":
        argv = SIG_GAUSS + ["-o", out]
    before = dir_state(ctx.d)
    t0 = time.monotonic()
    proc = ctx.spawn(argv, preexec=block_stop_signals)
    if delay_ms:
        time.sleep(delay_ms / 1000)
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, sig)
    res = ctx.finish(proc, argv, t0)
    if res.hang:
        ctx.check_exit(res, (0,))
        return
    code = SIGNAL_EXIT[sig]
    if res.rc < 0:
        ctx.fail("CRASH", f"ended by {signal.Signals(-res.rc).name} itself at {delay_ms} ms (not handled); "
                 f"stderr: {_first_line(res.err)}", argv)
        return
    ctx.check_exit(res, (code, 0))
    if res.rc == 0 and alive and kind in SIG_STRICT and delay_ms <= STRICT_UP_TO_MS:
        ctx.fail("CHECK", f"{sig.name} sent at {delay_ms} ms while it worked, yet exit 0 (the signal was lost)", argv)
    if res.rc == code:
        first = res.err.strip().split("\n")[0] if res.err.strip() else ""
        if not first.startswith(f"xyzmf: error: interrupted ({sig.name})"):
            ctx.fail("STDERR", f"exit {code} but stderr does not say 'interrupted ({sig.name})': "
                     f"{_first_line(res.err)}", argv)
    ctx.note(f"{sig.name} at {delay_ms} ms: {'sent' if alive else 'not sent (finished)'}, exit {res.rc}")
    left = litter(ctx)
    if left:
        ctx.fail("LITTER", f"after {sig.name} at {delay_ms} ms: left {left}", argv)
    after = dir_state(ctx.d)
    new = sorted(n for n in after if n not in before and not n.startswith("."))

    if kind in ("run", "sweep", "quantum", "dtwa"):
        if new not in ([], [out]):
            ctx.fail("LITTER", f"new files {new}", argv)
        if out not in after:
            if res.rc == 0:
                ctx.fail("CHECK", f"exit 0 but {out} was not written", argv)
            return
        st = after[out].h5
        if not st["ok"]:
            ctx.fail("LOST", f"{out} unreadable after {sig.name} at {delay_ms} ms: {st['err']}", argv)
            return
        status = st["attrs"].get("status", "")
        ctx.note(f"status {status!r}")
        if status.startswith("finished"):
            check(ctx, out, argv, ref=FX[ref])
            return
        if res.rc == 0 or status.startswith("running"):
            ctx.fail("CHECK", f"exit {res.rc} and status {status!r}", argv)
            return
        r = ctx.run(resume, (0,), modifies=(out,))
        if r.rc == 0:
            check(ctx, out, resume, ref=FX[ref])
    elif kind == "analyze in place":
        if new:
            ctx.fail("LITTER", f"new files {new}", argv)
        old, cur = before["in.h5"], after.get("in.h5")
        if cur is None or not cur.h5["ok"]:
            ctx.fail("LOST", f"in.h5 {'gone' if cur is None else 'unreadable: ' + cur.h5['err']}", argv)
            return
        for msg in kept_snapshots_and_sweep(old.h5, cur.h5):
            ctx.fail("LOST", f"in.h5: {msg}", argv)
        if cur.sha == old.sha:
            if res.rc == 0:
                ctx.fail("CHECK", "exit 0 but in.h5 unchanged", argv)
        elif not any(k.startswith("analysis/coarsening/") for k in cur.h5["dsets"]):
            ctx.fail("CHECK", "in.h5 changed but holds no complete analysis (/analysis/coarsening)", argv)
    elif kind == "export":
        pair = [n for n in ("in.xdmf", "in.fields.h5") if n in after]
        if set(new) - {"in.xdmf", "in.fields.h5"}:
            ctx.fail("LITTER", f"new files {new}", argv)
        if pair and len(pair) != 2:
            ctx.fail("CHECK", f"half a sidecar: only {pair}", argv)
        elif pair:
            x = xdmf_state(ctx.p("in.xdmf"))
            if not x["ok"] or x["grids"] != 21:
                ctx.fail("CHECK", f"in.xdmf incomplete: {x.get('err') or str(x['grids']) + ' of 21 states'}", argv)
        elif res.rc == 0:
            ctx.fail("CHECK", "exit 0 but no sidecar", argv)
    else:                               # merge, stability -o, gaussian -o: all or nothing
        if new not in ([], [out]):
            ctx.fail("LITTER", f"new files {new}", argv)
        if out in after:
            st = after[out].h5
            if not st["ok"] or st["attrs"].get("schema") != "xyzmf":
                ctx.fail("LOST", f"{out} incomplete: {st.get('err') or st['attrs']}", argv)
            elif kind == "merge":
                check(ctx, out, argv)
        elif res.rc == 0:
            ctx.fail("CHECK", f"exit 0 but {out} was not written", argv)


def handlers_first_case(ctx):
    """strace: the stop signals' handlers are the program's first system calls after the
    dynamic loader has mapped the libraries (before any library initialiser and before main)."""
    trace = ctx.p("trace.txt")
    argv = ["strace", "-f", "-qq", "-o", trace, "-e", "trace=rt_sigaction,rt_sigprocmask,openat,execve",
            harness.XYZMF] + SIG_RUN[:1] + ["--size", "8", "--t-end", "0.1"] + Q + ["-o", "t.h5"]
    r = subprocess.run(argv, cwd=ctx.d, env=CHILD_ENV, capture_output=True, text=True, timeout=harness.TIMEOUT)
    if r.returncode != 0:
        ctx.fail("HARNESS", f"strace exited {r.returncode}: {r.stderr.strip()[:160]}")
        return
    lines = open(trace).read().splitlines()
    first_handler = next((i for i, l in enumerate(lines) if "rt_sigaction(SIGTERM, {sa_handler=0x" in l), None)
    loader = re.compile(r'openat\(.*"(/etc/ld\.so\.cache|[^"]*\.so(\.[0-9]+)*)"')
    first_other = next((i for i, l in enumerate(lines) if "openat(" in l and not loader.search(l)), None)
    if first_handler is None:
        ctx.fail("CHECK", "no SIGTERM handler installed (strace shows none)")
    elif first_other is not None and first_other < first_handler:
        ctx.fail("CHECK", f"the program opened {lines[first_other].split(',')[1].strip()} before it installed its "
                 f"signal handlers")
    ctx.note(f"handler at line {first_handler}, first other open at line {first_other}")


def interrupt_on_line_case(ctx, argv, trigger, stage):
    """SIGINT once the progress line (one line per update: XYZMF_PROGRESS_EVERY=0) shows
    `trigger`: the program stops inside that stage, whose message names it (`stage`), with
    exit 130, one error line, and no output file or litter."""
    t0 = time.monotonic()
    proc = ctx.spawn(argv, env=dict(CHILD_ENV, XYZMF_PROGRESS_EVERY="0"))
    seen, sent = [], False
    for line in proc.stderr:  # the observable event: the line that shows the stage under way
        seen.append(line)
        if trigger in line:
            os.kill(proc.pid, signal.SIGINT)
            sent = True
            break
    res = ctx.finish(proc, argv, t0)
    if res.hang:
        ctx.fail("HANG", f"no exit within {res.elapsed:.0f} s", argv)
        return
    if not sent:
        ctx.fail("CHECK", f"no progress line showed {trigger!r} (exit {res.rc}): {''.join(seen)[:200]!r}", argv)
        return
    errors = [l for l in ("".join(seen) + res.err).split("\n") if l.startswith("xyzmf: error:")]
    if res.rc != 130:
        ctx.fail("EXIT", f"exit {res.rc}, expected 130; stderr: {errors[:1]}", argv)
    if len(errors) != 1 or stage not in errors[0]:
        ctx.fail("CHECK", f"expected one error line naming {stage!r}, got {errors}", argv)
    if os.path.exists(ctx.p("out.h5")) or litter(ctx):
        ctx.fail("CHECK", f"left {sorted(os.listdir(ctx.d))}", argv)
    ctx.note(f"stopped {res.elapsed:.1f} s after the start")


def gap_interrupt_case(ctx):
    """quantum --method exact --gap, SIGINT once the first sector is done: before, it
    finished every sector (minutes at N = 12) and only then stopped."""
    interrupt_on_line_case(ctx, ["quantum", "--method", "exact", "--gap", "--sites", "10", "--Jx", "2", "--Jy", "0.6",
                                 "--Jz", "1", "--backend", "cpu", "-o", "out.h5"],
                           "quantum exact: gap, 1 of", "during the Liouvillian gap")


def steady_state_interrupt_case(ctx):
    """quantum --method exact, SIGINT once the steady state's incomplete LU has begun (about
    5 s of the 7 at N = 11): Eigen's factorisation cannot look for a stop, so it runs on a
    thread that the stop leaves behind; before, the stop waited for it and BiCGSTAB (75 s at
    N = 12)."""
    interrupt_on_line_case(ctx, ["quantum", "--method", "exact", "--sites", "11", "--Jx", "4", "--Jy", "2", "--Jz", "1",
                                 "-o", "out.h5"],
                           "steady state, incomplete LU", "during the exact steady state")


def signal_cases():
    C = []
    # analyze in place gets a copy, not a link: it locks the file itself (by inode), so two cases
    # analysing links of one fixture at once would rightly refuse each other (a hard link)
    setups = {"run": None, "sweep": None, "quantum": None, "dtwa": None, "analyze in place": cp("sig_states", "in.h5"),
              "merge": seq(cp("sig_sh0", "a.h5"), cp("sig_sh1", "b.h5")), "export": link("sig_export", "in.h5"),
              "stability -o": None, "gaussian -o": None}
    cost = {"run": 0.8, "sweep": 0.8, "quantum": 0.6, "dtwa": 0.6, "analyze in place": 0.5}
    for kind, setup in setups.items():
        for sig in STOP_SIGNALS:
            for ms in SIGNAL_DELAYS_MS:
                C.append(Case("signals", f"{kind} {sig.name} at {ms} ms", setup=setup, cost=cost.get(kind, 0.2),
                              runner=lambda ctx, k=kind, s=sig, d=ms: signal_moment_case(ctx, k, s, d)))
    C.append(Case("signals", "quantum --gap SIGINT once a sector is done: stops inside the gap", cost=3.0,
                  runner=gap_interrupt_case))
    C.append(Case("signals", "quantum --method exact SIGINT in the steady state's incomplete LU: stops inside it",
                  cost=2.0, runner=steady_state_interrupt_case))
    # (not under the sanitizers, whose runtime rightly runs before the program's first
    # instruction; and only where strace may trace: tools/install-deps.sh installs it)
    if shutil.which("strace") and not harness.ASAN and subprocess.run(["strace", "-qq", "-o", os.devnull, "true"],
                                                              capture_output=True).returncode == 0:
        C.append(Case("signals", "handlers installed before anything else (strace)", runner=handlers_first_case))
    return C


# ----------------------------------------------------------------------------------------
