#!/usr/bin/python3
"""Hostile-input and fault drill for the xyzmf CLI.

    /usr/bin/python3 tests/robustness/drill.py --xyzmf build/xyzmf [--only CLASS[,CLASS]]
                     [--case SUBSTRING ...] [--list] [--jobs N] [--keep] [--verbose]
                     [--timeout S] [--threads N]

Every case runs in its own temporary directory (removed unless --keep), in a process pool
of --jobs workers (default 2); small fixtures (a run, a sweep, shards, a stability map, the
uninterrupted references for kill_resume) are made once and copied in.  It prints one line
per FAILED case (class | case | what went wrong | the command) and a table (class, cases,
passed, failed) at the end; the exit status is 0 only if every case passed.  --verbose
adds a line per passing case with what it exercised (e.g. whether a kill landed mid-run).
Every xyzmf runs under RLIMIT_AS = 8 GiB so that an absurd size fails inside the
program instead of swapping the machine, and with OMP_NUM_THREADS=1 when --jobs > 1.

The modules beside this one (this file is the driver): harness.py (a case, its context and
the contract below, file fingerprints, setup and check helpers), fixtures.py (the files made
once and copied into cases) and one cases_CLASS.py per class of case.

The contract every case checks
------------------------------
* Exit codes: 0 success; 2 usage (bad option or parameter value, also inside a --config
  file); 3 I/O (missing, unreadable, foreign, corrupt or invalid file content -- bad
  parameters or spins stored in a file --, existing output without --overwrite, output
  locked by another running xyzmf, disk full); 4 numerical blow-up during `run`;
  130/143/129/131 for SIGINT/SIGTERM/SIGHUP/SIGQUIT (stop cleanly, root attribute `status`
  no longer "running", snapshots kept).
* CRASH: death by a signal we did not send, or exit 1/134/136/139.  HANG: no exit within
  the timeout.  GARBAGE: exit 0 where a refusal is required.  EXIT: another wrong code.
* STDERR: a refusal prints exactly one non-empty line on stderr, starting with
  "xyzmf: error: ".  LEAK: stderr shows C++/library internals (std::, vector::,
  _M_range_check, basic_string, "FFTW could not", HDF5-DIAG).
* LOST: nothing lost.  Every pre-existing file is fingerprinted before the command (raw
  bytes, inode, and with h5py every dataset's shape/dtype/sha256).  Afterwards it must still
  open; if the command may not modify it, every dataset is identical and the inode is the
  same; if it may write into it (resume, analyze in place, sweep --resume) every
  /snapshots/NNNNNN/spins that existed is unchanged and every /sweep entry that was done
  (phase != -1) is unchanged; a failed command never replaces (new inode) or truncates it;
  an --overwrite that failed leaves the old file byte for byte.
* LITTER: after a failed command asked to create a new file, that file is absent or a
  complete xyzmf file (root attribute schema == "xyzmf"; for an XDMF sidecar NAME.xdmf: an
  XML document every HDF5 dataset of which exists, reads and has the extents it states); no
  other new file (temp or lock file) is left behind by a command that exited by itself.
* CHECK: class-specific post-conditions (resume bit-identical to an uninterrupted run,
  /final/t == t_end, sweep entries done and equal, blow-up phase codes, an export's sidecar
  naming every state of its run, ...).
* HARNESS: the drill itself failed (setup error, timing assumption not met); not a
  program bug.

Classes: options, crafted_files, kill_resume, full_disk, two_writers, blowups, signals (each
stop signal 0-100 ms into every command that writes a file, started with the signals blocked
so that a signal "at 0 ms" is pending at the program's first instruction; see Class 7).  `xyzmf
export` (the XDMF sidecar NAME.xdmf + NAME.fields.h5 of a run file) has its bad options in
options, its bad inputs and existing or aliased outputs in crafted_files, and file-size
limits that stop it before, while and after writing its fields file in full_disk.
"""

import os
import sys

# Our own h5py reads must never take HDF5 file locks that would make xyzmf's writes fail;
# the variable is removed again from the environment of every xyzmf we start.
os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"

import argparse
import multiprocessing
import shutil
import tempfile
import time
import traceback

import harness
from harness import CHILD_ENV, Ctx, cmd_str
from fixtures import FixtureError, LONG_RUN, LONG_SWEEP, TW_RUN, TW_SWEEP, build_fixtures
from cases_options import options_cases
from cases_crafted import crafted_cases
from cases_kill import kill_resume_cases
from cases_signals import signal_cases
from cases_full_disk import full_disk_cases
from cases_two_writers import two_writers_cases
from cases_blowups import blowups_cases


CLASSES = {
    "options": options_cases,
    "crafted_files": crafted_cases,
    "kill_resume": kill_resume_cases,
    "full_disk": full_disk_cases,
    "two_writers": two_writers_cases,
    "blowups": blowups_cases,
    "signals": signal_cases,
}
CASES = []
BASE_TMP = None


def run_case(idx):
    case = CASES[idx]
    d = tempfile.mkdtemp(prefix=f"{case.cls}-{idx:03d}-", dir=BASE_TMP)
    ctx = Ctx(case, d)
    t0 = time.monotonic()
    try:
        if case.setup:
            case.setup(d)
    except Exception as e:                          # noqa: BLE001
        ctx.fail("HARNESS", f"setup failed: {e!r}")
    else:
        try:
            if case.runner:
                case.runner(ctx)
            else:
                res = ctx.run(case.argv, case.expect, modifies=case.modifies, replaces=case.replaces,
                              creates=case.creates, preexec=case.preexec, timeout=case.timeout)
                if case.post and not res.hang:
                    case.post(ctx, res)
        except Exception:                           # noqa: BLE001
            ctx.fail("HARNESS", "drill exception: " + traceback.format_exc().strip().splitlines()[-1])
    if not harness.KEEP:
        for root, dirs, files in os.walk(d):       # undo chmod 000 and the like before removing
            for x in dirs + files:
                try:
                    os.chmod(os.path.join(root, x), 0o700, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
        shutil.rmtree(d, ignore_errors=True)
    return idx, ctx.failures, time.monotonic() - t0, d, ctx.notes


def format_failure(case, failures, d):
    main_cmd = next((c for _, _, c in failures if c), cmd_str(case.argv) if case.argv else "")
    parts = []
    for kind, detail, c in failures:
        parts.append(f"{kind}: {detail}" + (f" [at: {c}]" if c and c != main_cmd else ""))
    where = f"  (dir {d})" if harness.KEEP else ""
    return f"FAIL {case.cls} | {case.name} | {' | '.join(parts)} | $ {main_cmd}{where}"


def run_all(classes, args):
    fxdir = os.path.join(BASE_TMP, "fixtures")
    os.mkdir(fxdir)
    build_fixtures({c.cls for c in CASES}, fxdir, args.jobs)
    order = sorted(range(len(CASES)), key=lambda i: -CASES[i].cost)
    stats = {cls: [0, 0, 0] for cls in classes}
    with multiprocessing.get_context("fork").Pool(max(1, args.jobs)) as pool:
        for idx, failures, secs, d, notes in pool.imap_unordered(run_case, order, chunksize=1):
            case = CASES[idx]
            if args.verbose:
                print(f"{'FAIL' if failures else 'ok  '} {case.cls} | {case.name} | {secs:.2f} s"
                      + (" | " + "; ".join(notes) if notes else ""), flush=True)
            s = stats[case.cls]
            s[0] += 1
            if failures:
                s[2] += 1
                print(format_failure(case, failures, d) + ("\n    notes: " + "; ".join(notes) if notes else ""), flush=True)
            else:
                s[1] += 1
    return stats


def main():
    global CASES, BASE_TMP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xyzmf", required=True, help="binary under test")
    ap.add_argument("--only", help="comma-separated classes: " + ", ".join(CLASSES))
    ap.add_argument("--case", action="append",
                    help="run only cases whose name contains this text (repeatable: any of them); "
                         "a text that names no case is an error")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep every case's temp dir")
    ap.add_argument("--verbose", action="store_true", help="one line per case, with what it exercised")
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP_NUM_THREADS for every xyzmf (default: 1 when --jobs > 1, so that parallel cases "
                         "do not oversubscribe the cores; results are thread-count independent)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per subprocess (default 60)")
    args = ap.parse_args()
    harness.XYZMF = os.path.abspath(args.xyzmf)
    # AddressSanitizer reserves terabytes of address space for its shadow memory, so a
    # sanitizer build cannot run under an address-space cap (its allocator reports
    # impossible allocations instead).
    # It also runs the stepping 12-20x slower than the release build (measured on 2 cores,
    # one thread per xyzmf): the long runs that kill_resume and two_writers interrupt are
    # shortened 12x, which leaves them 1-1.6x the release build's wall time (LONG_RUN about
    # 2 s at its --dt 0.025, 1.7 s whole on the release build, 2026-12-07; the others 2-4 s),
    # still long enough for every second writer; the kills wait for progress lines.
    
    if os.access(harness.XYZMF, os.R_OK) and b"__asan_init" in open(harness.XYZMF, "rb").read():
        harness.AS_LIMIT, harness.ASAN = 0, True
        for argv, slower in ((LONG_RUN, 12), (LONG_SWEEP, 12), (TW_RUN, 12), (TW_SWEEP, 12)):
            i = argv.index("--t-end")
            argv[i + 1] = f"{float(argv[i + 1]) / slower:g}"
    threads = args.threads if args.threads is not None else (1 if args.jobs > 1 else None)
    if threads is not None:
        CHILD_ENV["OMP_NUM_THREADS"] = str(threads)
    harness.TIMEOUT, harness.KEEP = args.timeout, args.keep
    classes = list(CLASSES)
    if args.only:
        classes = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = [c for c in classes if c not in CLASSES]
        if unknown:
            ap.error(f"unknown class {unknown}; classes: {', '.join(CLASSES)}")
    CASES = [c for cls in classes for c in CLASSES[cls]()]
    if args.case:
        unmatched = [t for t in args.case if not any(t in c.name for c in CASES)]
        if unmatched:      # a renamed case must not silently drop out of a subset (tools/test.sh)
            ap.error(f"--case {unmatched[0]!r} names no case of {', '.join(classes)}")
        CASES = [c for c in CASES if any(t in c.name for t in args.case)]
    if args.list:
        for c in CASES:
            print(f"{c.cls:<14} {c.name:<70} {cmd_str(c.argv) if c.argv else '(multi-step)'}")
        print(f"{len(CASES)} cases")
        return 0
    if not os.access(harness.XYZMF, os.X_OK):
        ap.error(f"{harness.XYZMF} is not executable")

    t_start = time.monotonic()
    BASE_TMP = tempfile.mkdtemp(prefix="xyzmf-drill-")
    try:
        stats = run_all(classes, args)
    except FixtureError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        if not harness.KEEP:
            shutil.rmtree(BASE_TMP, ignore_errors=True)
    total = time.monotonic() - t_start
    print()
    print(f"{'class':<16}{'cases':>7}{'passed':>8}{'failed':>8}")
    for cls in classes:
        n, p, f = stats[cls]
        if n:
            print(f"{cls:<16}{n:>7}{p:>8}{f:>8}")
    n, p, f = (sum(s[i] for s in stats.values()) for i in range(3))
    print(f"{'total':<16}{n:>7}{p:>8}{f:>8}")
    print(f"time: {total:.1f} s, {args.jobs} jobs, binary {harness.XYZMF}")
    if harness.KEEP:
        print(f"kept: {BASE_TMP}")
    return 0 if f == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
