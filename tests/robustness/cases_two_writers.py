"""Class 5, two writers of one file.
"""
import os
import signal
import time

from harness import Case, Q, _first_line, check_run_file, check_sweep_file, cp, seq
from fixtures import MAP5, SIG_QUANTUM, SWEEP3, TW_RUN, TW_SWEEP, with_opts
from cases_kill import kill_at_event, lock_held_by, stopped, wait_for, wait_until


def hold_first_writer(ctx, p1, argv, name="out.h5"):
    """Waits until p1 holds the lock of name and name exists, then stops p1 (SIGSTOP), so that
    it is still the writer, whatever the machine's load, while a second command is tried.
    Returns False (a HARNESS failure) if p1 ended first."""
    if not wait_until(lambda: lock_held_by(ctx, name, p1.pid) and os.path.exists(ctx.p(name)), p1) \
            or not stopped(p1.pid):
        r1 = ctx.finish(p1, argv, time.monotonic())
        ctx.fail("HARNESS", f"first writer ended (exit {r1.rc}) before a second one was tried: "
                 f"{_first_line(r1.err)}", argv)
        return False
    return True


def two_writers_case(ctx, first_kind, second, expect=(3,), prepare=None):
    first = (TW_RUN if first_kind == "run" else TW_SWEEP) + ["-o", "out.h5"]
    if prepare:
        prepare(ctx)
    t0 = time.monotonic()
    p1 = ctx.spawn(first)
    if not hold_first_writer(ctx, p1, first):
        return
    try:
        r2 = ctx.exec(second, timeout=30)
    finally:
        os.kill(p1.pid, signal.SIGCONT)
    ctx.check_exit(r2, expect)
    if r2.rc != 0 and r2.elapsed > 5:
        ctx.fail("CHECK", f"refused only after {r2.elapsed:.1f} s (should be within a few seconds)", second)
    if r2.rc == 0 and 0 not in expect:
        ctx.fail("CHECK", "second writer was let in while the first was running", second)
    ctx.note(f"second exit {r2.rc} after {r2.elapsed:.2f} s")
    r1 = ctx.finish(p1, first, t0, timeout=90)
    if p1.returncode is None or r1.hang:
        ctx.check_exit(r1, (0,))
        return
    ctx.check_exit(r1, (0,))
    if first_kind == "run":
        check_run_file(ctx, "out.h5", first)
    else:
        check_sweep_file(ctx, "out.h5", first)


def interrupted_resume_twice(ctx):
    """SIGINT a run, then two resumes of it at the same time: the second must be refused."""
    first = TW_RUN + ["-o", "out.h5"]
    res, finished = kill_at_event(ctx, first, 2, signal.SIGINT)
    if finished or res.rc != 130:
        ctx.fail("HARNESS", f"could not make an interrupted run (exit {res.rc})", first)
        return
    resume = ["run", "--resume", "out.h5"] + Q
    t0 = time.monotonic()
    p1 = ctx.spawn(resume)
    if not hold_first_writer(ctx, p1, resume):
        return
    try:
        r2 = ctx.exec(resume, timeout=30)
    finally:
        os.kill(p1.pid, signal.SIGCONT)
    ctx.check_exit(r2, (3,))
    r1 = ctx.finish(p1, resume, t0, timeout=90)
    ctx.check_exit(r1, (0,))
    check_run_file(ctx, "out.h5", resume)


def hard_link_resumes(ctx, kind):
    """An interrupted run, sweep or quantum file a.h5 and a hard link b.h5 of it: while
    --resume a.h5 writes, --resume b.h5 (the same file under another name) is refused."""
    first = {"run": TW_RUN, "sweep": TW_SWEEP,
             "quantum": with_opts(SIG_QUANTUM, ["--trajectories", "400"])}[kind] + ["-o", "a.h5"]
    if kind == "quantum":       # its file exists (committed) before its first batch
        t0 = time.monotonic()
        p = ctx.spawn(first)
        wait_for(ctx.p("a.h5"), p)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGINT)
        res = ctx.finish(p, first, t0)
    else:
        res, _ = kill_at_event(ctx, first, 2, signal.SIGINT)
    if res.rc != 130 or not os.path.exists(ctx.p("a.h5")):
        ctx.fail("HARNESS", f"could not make an interrupted {kind} file (exit {res.rc})", first)
        return
    os.link(ctx.p("a.h5"), ctx.p("b.h5"))
    tail = ["-q"] + (["--backend", "cpu"] if kind == "quantum" else [])
    resume_a, resume_b = [kind, "--resume", "a.h5"] + tail, [kind, "--resume", "b.h5"] + tail
    t0 = time.monotonic()
    p1 = ctx.spawn(resume_a)
    if not hold_first_writer(ctx, p1, resume_a, "a.h5"):
        return
    try:
        r2 = ctx.exec(resume_b, timeout=30)
    finally:
        os.kill(p1.pid, signal.SIGCONT)
    ctx.check_exit(r2, (3,))
    r1 = ctx.finish(p1, resume_a, t0, timeout=120)
    ctx.check_exit(r1, (0,))
    ctx.note(f"second resume: exit {r2.rc}, {_first_line(r2.err)}")


def two_writers_cases():
    C = []
    sh = seq(cp("sh0", "sh0.h5"), cp("sh1", "sh1.h5"))
    run_tiny_over = ["run", "--size", "8", "--t-end", "0.1"] + Q + ["-o", "out.h5", "--overwrite"]
    sweep_over = SWEEP3 + ["-o", "out.h5", "--overwrite"]
    seconds = {
        "run": [
            ("run -o out.h5 --overwrite", run_tiny_over, (3,)),
            ("run --resume out.h5", ["run", "--resume", "out.h5"] + Q, (3,)),
            ("analyze out.h5", ["analyze", "out.h5"], (3,)),
            ("analyze out.h5 --all-snapshots", ["analyze", "out.h5", "--all-snapshots"], (3,)),
            ("analyze out.h5 --out other.h5 (reader)", ["analyze", "out.h5", "--out", "other.h5"], (0, 3)),
            ("sweep -o out.h5 --overwrite", sweep_over, (3,)),
            ("stability -o out.h5 --overwrite", MAP5 + ["-o", "out.h5", "--overwrite"], (3,)),
            ("merge -o out.h5 --overwrite", ["merge", "-o", "out.h5", "--overwrite", "sh0.h5", "sh1.h5"], (3,)),
            ("run --init out.h5 (reader)", ["run", "--init", "out.h5", "--size", "64", "--t-end", "0.1"] + Q +
             ["-o", "other.h5"], (0, 3)),
            ("run -o ./out.h5 --overwrite", ["run", "--size", "8", "--t-end", "0.1"] + Q + ["-o", "./out.h5",
                                                                                            "--overwrite"], (3,)),
            ("run -o link-to-out.h5 --overwrite (replacing the link itself is fine)",
             ["run", "--size", "8", "--t-end", "0.1"] + Q + ["-o", "link.h5", "--overwrite"], (0, 3)),
        ],
        "sweep": [
            ("sweep -o out.h5 --overwrite", sweep_over, (3,)),
            ("sweep --resume out.h5", ["sweep", "--resume", "out.h5"] + Q, (3,)),
            ("run -o out.h5 --overwrite", run_tiny_over, (3,)),
            ("merge -o out.h5 --overwrite", ["merge", "-o", "out.h5", "--overwrite", "sh0.h5", "sh1.h5"], (3,)),
            ("stability -o out.h5 --overwrite", MAP5 + ["-o", "out.h5", "--overwrite"], (3,)),
        ],
    }
    for first_kind, lst in seconds.items():
        for label, second, expect in lst:
            setup = sh
            if "link" in label:
                setup = seq(sh, lambda d: os.symlink("out.h5", os.path.join(d, "link.h5")))
            C.append(Case("two_writers", f"{first_kind} running, then {label}", setup=setup, cost=6,
                          runner=lambda ctx, k=first_kind, s=second, e=expect: two_writers_case(ctx, k, s, e)))
    C.append(Case("two_writers", "two resumes of one interrupted run", runner=interrupted_resume_twice, cost=6))
    for kind in ("run", "sweep", "quantum"):
        C.append(Case("two_writers", f"{kind} --resume a.h5 running, then {kind} --resume b.h5, a hard link of it",
                      runner=lambda ctx, k=kind: hard_link_resumes(ctx, k), cost=6))
    return C


# ----------------------------------------------------------------------------------------
