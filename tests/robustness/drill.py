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
import dataclasses
import hashlib
import multiprocessing
import random
import re
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

XYZMF = None          # path of the binary under test (set in main)
TIMEOUT = 60.0        # default per-subprocess timeout, seconds
KEEP = False
FX = {}               # fixture name -> path (built once in main, before the pool forks)
FX_SIZE = {}          # fixture name -> size in bytes
ASAN = False          # the binary under test is a sanitizer build (set in main)
AS_LIMIT = 8 << 30    # address-space cap for every xyzmf we start (absurd sizes must be refused, not swap the box)

CHILD_ENV = {k: v for k, v in os.environ.items() if k != "HDF5_USE_FILE_LOCKING"}

LEAKS = ["_M_range_check", "vector::", "basic_string", "std::", "FFTW could not", "HDF5-DIAG",
         "terminate called", "what():"]
CRASH_CODES = (1, 134, 136, 139)
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129, signal.SIGQUIT: 131}

Q = ["--backend", "cpu", "-q"]
QUICK = {"options", "crafted_files", "full_disk", "blowups"}   # tiny inputs: 30 s is already a hang


# ----------------------------------------------------------------------------------------
# Cases and the per-case context
# ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    cls: str
    name: str
    argv: list = None                 # arguments after the binary; cwd = the case's temp dir
    setup: object = None              # setup(d): build the input files in temp dir d
    expect: tuple = (0,)              # acceptable exit codes
    modifies: tuple = ()              # pre-existing files the command may write into
    replaces: tuple = ()              # pre-existing files the command may replace (--overwrite)
    creates: tuple = ()               # new files the command is asked to create
    post: object = None               # post(ctx, res): extra checks, report with ctx.fail
    runner: object = None             # runner(ctx): a multi-step case drives everything itself
    preexec: object = None            # extra preexec_fn (e.g. RLIMIT_FSIZE)
    timeout: float = None
    cost: float = 0.1                 # rough seconds, to schedule the long cases first


@dataclasses.dataclass
class Res:
    argv: list
    rc: int
    out: str
    err: str
    elapsed: float
    hang: bool = False


def cmd_str(argv):
    return "xyzmf " + shlex.join(argv)


def _preexec(extra=None):
    def f():
        if AS_LIMIT:
            resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
        if extra:
            extra()
    return f


def fsize_limit(n):
    """preexec that caps the size of any file the child writes at n bytes (n may be a callable)."""
    def f():
        v = n() if callable(n) else n
        resource.setrlimit(resource.RLIMIT_FSIZE, (v, v))
    return f


class Ctx:
    def __init__(self, case, d):
        self.case = case
        self.d = d
        self.failures = []      # (kind, detail, cmd)
        self.notes = []         # what the case actually exercised (printed with --verbose)

    def p(self, name):
        return os.path.join(self.d, name)

    def note(self, text):
        self.notes.append(text)

    def fail(self, kind, detail, argv=None):
        self.failures.append((kind, detail, cmd_str(argv) if argv is not None else ""))

    # -- processes ------------------------------------------------------------------------
    def spawn(self, argv, env=None, preexec=None):
        return subprocess.Popen([XYZMF] + argv, cwd=self.d, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace", env=env or CHILD_ENV,
                                preexec_fn=_preexec(preexec), start_new_session=True)

    def finish(self, proc, argv, t0, timeout=None):
        timeout = timeout or self.case.timeout or (min(TIMEOUT, 30.0) if self.case.cls in QUICK else TIMEOUT)
        try:
            out, err = proc.communicate(timeout=max(0.1, timeout - (time.monotonic() - t0)))
            hang = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
            hang = True
        return Res(argv, proc.returncode, out, err, time.monotonic() - t0, hang)

    def exec(self, argv, preexec=None, timeout=None, env=None):
        t0 = time.monotonic()
        proc = self.spawn(argv, env=env, preexec=preexec)
        return self.finish(proc, argv, t0, timeout)

    def check_exit(self, res, expect, sent_signal=None):
        """Exit code, crash, hang and stderr checks.  Returns True when the exit was sane."""
        a, rc = res.argv, res.rc
        first = _first_line(res.err)
        if res.hang:
            self.fail("HANG", f"no exit within {res.elapsed:.0f} s", a)
            return False
        if rc < 0 and -rc != sent_signal:
            self.fail("CRASH", f"killed by {signal.Signals(-rc).name}; stderr: {first}", a)
            return False
        if rc in CRASH_CODES:
            self.fail("CRASH", f"exit {rc}; stderr: {first}", a)
            return False
        ok = True
        if rc not in expect and not (sent_signal and rc == -sent_signal):
            if rc == 0:
                self.fail("GARBAGE", f"accepted (exit 0), expected exit {_codes(expect)}", a)
            else:
                self.fail("EXIT", f"exit {rc}, expected {_codes(expect)}; stderr: {first}", a)
            ok = False
        if rc > 0:
            lines = [l for l in res.err.split("\n") if l.strip()]   # '\n' only: str.splitlines also splits
            # at control characters such as \x1c that a message may quote from a hostile file
            if len(lines) != 1 or not lines[0].startswith("xyzmf: error: "):
                self.fail("STDERR", f"exit {rc} with {len(lines)} stderr lines, first: {first}", a)
        for pat in LEAKS:
            if pat in res.err:
                i = res.err.find(pat)
                self.fail("LEAK", f"stderr shows {pat!r}: {res.err[max(0, i - 60):i + 60]!r}", a)
                break
        return ok

    # -- the standard single-command case ------------------------------------------------
    def run(self, argv, expect=(0,), modifies=(), replaces=(), creates=(), preexec=None,
            timeout=None, track=True, env=None):
        before = dir_state(self.d) if track else None
        res = self.exec(argv, preexec=preexec, timeout=timeout, env=env)
        self.check_exit(res, expect)
        if track and not res.hang:
            if res.rc == 0 and 0 not in expect:     # already a GARBAGE failure: what it then wrote
                modifies = tuple(modifies) + tuple(before)   # is a consequence, not a second bug
            self.check_files(before, res, modifies, replaces, creates)
        return res

    def check_files(self, before, res, modifies=(), replaces=(), creates=(), stray=True):
        a, rc = res.argv, res.rc
        after = dir_state(self.d)
        failed = rc != 0
        for name, old in before.items():
            new = after.get(name)
            if name.startswith("."):
                continue                      # the program's own lock/temp files
            if new is None:
                if not (name in replaces and not failed):
                    self.fail("LOST", f"{name} was deleted", a)
                continue
            if old.kind != "file":
                if new.kind != old.kind or new.ino != old.ino or new.target != old.target:
                    self.fail("LOST", f"{name} ({old.kind}) was replaced or changed", a)
                continue
            if name in replaces:
                if failed:
                    if new.ino != old.ino or new.sha != old.sha:
                        self.fail("LOST", f"failed --overwrite changed {name} "
                                  f"({'new inode' if new.ino != old.ino else 'content'}, "
                                  f"{old.size} -> {new.size} bytes)", a)
                else:
                    check_complete(self, name, a)
                continue
            if not old.h5["ok"]:
                if (failed or name not in modifies) and (new.ino != old.ino or new.sha != old.sha):
                    self.fail("LOST", f"{name} (not readable as HDF5 before) was modified", a)
                continue
            if not new.h5["ok"]:
                self.fail("LOST", f"{name} no longer opens with h5py: {new.h5['err']}", a)
                continue
            if name in modifies:
                if failed and new.ino != old.ino:
                    self.fail("LOST", f"failed command replaced {name} (new inode)", a)
                if failed and new.size < old.size:
                    self.fail("LOST", f"failed command truncated {name} ({old.size} -> {new.size} bytes)", a)
                for msg in kept_snapshots_and_sweep(old.h5, new.h5):
                    self.fail("LOST", f"{name}: {msg}", a)
            else:
                if new.ino != old.ino:
                    self.fail("LOST", f"{name} was replaced (new inode) though the command must not touch it", a)
                diff = dataset_diff(old.h5, new.h5)
                if diff:
                    self.fail("LOST", f"{name} modified though the command must not touch it: {diff}", a)
        for name, new in after.items():
            if name in before:
                continue
            if own_side_file(name, after, tuple(modifies) + tuple(creates) + tuple(replaces)):
                continue
            if name in creates:
                if rc == 2:
                    # A refused option or value (exit 2) is refused before anything is written.
                    self.fail("LITTER", f"a refusal (exit 2) left {name}", a)
                    continue
                if failed and is_sidecar(name):
                    st = xdmf_state(self.p(name)) if new.kind == "file" else {"ok": False, "err": new.kind}
                    if not st["ok"]:
                        self.fail("LITTER", f"failed command left {name} that is not a complete sidecar "
                                  f"({st['err']})", a)
                elif failed:
                    st = new.h5 if new.kind == "file" else {"ok": False, "err": new.kind}
                    if not (st["ok"] and st["attrs"].get("schema") == "xyzmf"):
                        self.fail("LITTER", f"failed command left {name} that is not a complete xyzmf file "
                                  f"({st.get('err') or 'schema ' + repr(st['attrs'].get('schema'))})", a)
                continue
            if stray:
                self.fail("LITTER", f"left a stray file {name!r} ({new.size} bytes)", a)
        if not failed:
            for name in creates:
                if name not in after:
                    self.fail("CHECK", f"exit 0 but {name} was not written", a)
                else:
                    check_complete(self, name, a)


def own_side_file(name, after, outputs):
    """The program's own side files of an output it writes: the journal .NAME.journal of a run
    file that is not finished (checked by check_run_file), and NAME.damaged, the damaged file
    that a --resume kept when it rebuilt NAME from its journal."""
    m = re.fullmatch(r"\.(.+)\.journal", name)
    if m and m.group(1) in after and m.group(1) in outputs:
        return True
    return name.endswith(".damaged") and name[:-len(".damaged")] in outputs


def _first_line(text):
    for l in text.split("\n"):
        if l.strip():
            return repr(l.strip()[:160])
    return "(empty)"


def _codes(expect):
    return "/".join(str(c) for c in expect)


# ----------------------------------------------------------------------------------------
# File fingerprints
# ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class FState:
    kind: str
    ino: int
    size: int = 0
    sha: str = ""
    target: str = ""
    h5: dict = None


def ds_digest(ds):
    try:
        data = ds[()]
    except Exception as e:                          # noqa: BLE001
        return ("unreadable", str(e)[:60])
    if isinstance(data, np.ndarray) and data.dtype.kind != "O":
        b = np.ascontiguousarray(data).tobytes()
    else:
        b = repr(data.tolist() if isinstance(data, np.ndarray) else data).encode()
    return (tuple(ds.shape), str(ds.dtype), hashlib.sha256(b).hexdigest())


def astr(v):
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return astr(v[()])
    return v if isinstance(v, str) else str(v)


def h5_state(path):
    try:
        with h5py.File(path, "r") as f:
            dsets, sweep = {}, {}

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    dsets[name] = ds_digest(obj)
                    if name.startswith("sweep/"):
                        try:
                            sweep[name[6:]] = obj[()]
                        except Exception:   # noqa: BLE001
                            pass
            f.visititems(visit)
            attrs = {k: astr(f.attrs[k]) for k in ("schema", "status", "content") if k in f.attrs}
        return {"ok": True, "dsets": dsets, "sweep": sweep, "attrs": attrs}
    except Exception as e:                          # noqa: BLE001
        return {"ok": False, "err": (str(e).splitlines() or ["?"])[0][:120]}


def dir_state(d):
    st = {}
    for name in os.listdir(d):
        p = os.path.join(d, name)
        try:
            l = os.lstat(p)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(l.st_mode):
            st[name] = FState("link", l.st_ino, target=os.readlink(p))
        elif stat.S_ISDIR(l.st_mode):
            st[name] = FState("dir", l.st_ino)
        elif stat.S_ISREG(l.st_mode):
            try:
                with open(p, "rb") as fh:
                    sha = hashlib.sha256(fh.read()).hexdigest()
            except OSError:
                sha = "unreadable"
            h5 = h5_state(p) if name.endswith(".h5") and not name.startswith(".") else {"ok": False, "err": "not .h5"}
            st[name] = FState("file", l.st_ino, l.st_size, sha, h5=h5)
        else:
            st[name] = FState("other", l.st_ino)
    return st


def dataset_diff(a, b):
    msgs = []
    for k, v in a["dsets"].items():
        if k not in b["dsets"]:
            msgs.append(f"/{k} removed")
        elif b["dsets"][k] != v:
            msgs.append(f"/{k} changed")
    for k in b["dsets"]:
        if k not in a["dsets"]:
            msgs.append(f"/{k} added")
    return ", ".join(msgs[:4]) + (f" (+{len(msgs) - 4} more)" if len(msgs) > 4 else "")


def kept_snapshots_and_sweep(a, b):
    """Snapshots that existed keep their spins; sweep entries that were done stay unchanged."""
    msgs = []
    for k, v in a["dsets"].items():
        if re.fullmatch(r"snapshots/\d{6}/spins", k):
            if k not in b["dsets"]:
                msgs.append(f"/{k} lost")
            elif b["dsets"][k] != v:
                msgs.append(f"/{k} changed")
    ph = a["sweep"].get("phase")
    if isinstance(ph, np.ndarray) and ph.ndim == 3 and ph.dtype.kind in "iu":
        # Done = committed: a point's /sweep/batch mark is written (and flushed) only after all its
        # results, so a kill between two result writes may leave a phase without the rest; only
        # marked points are promised. Files without marks fall back to the phase.
        mark = a["sweep"].get("batch")
        if isinstance(mark, np.ndarray) and mark.shape == ph.shape[:2]:
            done2 = mark >= 0
            done3 = np.repeat(done2[..., None], ph.shape[2], axis=2)
        else:
            done3 = ph != -1
            done2 = done3.any(axis=2)
        for k, old in a["sweep"].items():
            if not isinstance(old, np.ndarray) or old.ndim < 2 or k == "batch":
                continue
            new = b["sweep"].get(k)
            if not isinstance(new, np.ndarray) or new.shape != old.shape:
                msgs.append(f"/sweep/{k} lost or reshaped")
                continue
            mask = done3 if old.shape[:3] == ph.shape else (done2 if old.shape[:2] == ph.shape[:2] else None)
            if mask is None:
                continue
            x, y = old[mask], new[mask]
            same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
            if not same:
                msgs.append(f"/sweep/{k}: entries that were done changed")
    return msgs[:6]


def xdmf_state(path):
    """A complete XDMF sidecar: it parses as XML, names at least one HDF5 dataset, and every one it
    names (FILE:/path, FILE relative to the sidecar) exists, reads, and has the extents it states.
    Returns {"ok", "err", "grids": time steps of the lattice collection, "groups": their names}."""
    try:
        root = ET.parse(path).getroot()
    except Exception as e:                          # noqa: BLE001
        return {"ok": False, "err": f"not an XML document ({str(e).splitlines()[0][:80]})"}
    items = [e for e in root.iter("DataItem") if e.get("Format") == "HDF"]
    if not items:
        return {"ok": False, "err": "names no HDF5 dataset"}
    files = {}
    try:
        for e in items:
            fname, _, dset = (e.text or "").strip().partition(":")
            if fname not in files:
                files[fname] = h5py.File(os.path.join(os.path.dirname(path), fname), "r")
            f = files[fname]
            if dset not in f or not isinstance(f[dset], h5py.Dataset):
                return {"ok": False, "err": f"names {fname}:{dset}, which does not exist"}
            dims = tuple(int(x) for x in e.get("Dimensions", "").split())
            if f[dset].shape != dims:
                return {"ok": False, "err": f"{fname}:{dset} has shape {f[dset].shape}, the document says {dims}"}
            f[dset][()]
    except Exception as e:                          # noqa: BLE001
        return {"ok": False, "err": f"a dataset it names does not read ({str(e).splitlines()[0][:80]})"}
    finally:
        for f in files.values():
            f.close()
    lattice = next((g for g in root.iter("Grid") if g.get("Name") == "lattice"), None)
    groups = [g.get("Name") for g in lattice.findall("Grid")] if lattice is not None else []
    return {"ok": True, "err": "", "grids": len(groups), "groups": groups}


def is_sidecar(name):
    return name.endswith((".xdmf", ".xmf"))


def check_complete(ctx, name, argv):
    if is_sidecar(name):
        st = xdmf_state(ctx.p(name))
        if not st["ok"]:
            ctx.fail("CHECK", f"{name} written but not a complete sidecar: {st['err']}", argv)
        return
    st = h5_state(ctx.p(name))
    if not st["ok"]:
        ctx.fail("CHECK", f"{name} written but does not open: {st['err']}", argv)
    elif st["attrs"].get("schema") != "xyzmf":
        ctx.fail("CHECK", f"{name} written without schema = 'xyzmf'", argv)


# ----------------------------------------------------------------------------------------
# Helpers for setups and post-checks
# ----------------------------------------------------------------------------------------

def _make(d, argv):
    """setup helper: run xyzmf argv in d, which must succeed."""
    r = subprocess.run([XYZMF] + argv, cwd=d, env=CHILD_ENV, capture_output=True, text=True, timeout=TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError(f"setup command failed (exit {r.returncode}): {cmd_str(argv)}: {r.stderr.strip()[:200]}")


def cp(fx, name):
    """setup step: copy fixture fx into the case dir as name."""
    def f(d):
        shutil.copyfile(FX[fx], os.path.join(d, name))
    return f


def seq(*steps):
    def f(d):
        for s in steps:
            s(d)
    return f


def seq_mut(*fns):
    def f(h):
        for g in fns:
            g(h)
    return f


def mutate(name, fn):
    """setup step: open name (in the case dir) read-write with h5py and apply fn(f)."""
    def f(d):
        with h5py.File(os.path.join(d, name), "r+") as h:
            fn(h)
    return f


def write_text(name, text, mode=None):
    def f(d):
        p = os.path.join(d, name)
        with open(p, "wb" if isinstance(text, bytes) else "w") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(p, mode)
    return f


def spins_paths(h):
    out = []
    h.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) and n.endswith("spins") else None)
    return out


def replace_all_spins(fn):
    """h5py mutation: every */spins dataset replaced by fn(old_array) (None = delete it)."""
    def f(h):
        for p in spins_paths(h):
            old = h[p][()]
            new = fn(old)
            del h[p]
            if new is not None:
                h[p] = new
    return f


def set_attr(path, key, value):
    def f(h):
        if key in h[path].attrs:
            del h[path].attrs[key]
        h[path].attrs[key] = value
    return f


def del_attr(path, key):
    def f(h):
        del h[path].attrs[key]
    return f


def set_ds(path, value):
    def f(h):
        h[path][()] = value
    return f


def del_obj(path):
    def f(h):
        del h[path]
    return f


def read_final(path):
    with h5py.File(path, "r") as f:
        return (f["final/spins"][()], float(f["final/t"][()]), int(f["final"].attrs["step"]),
                float(f["parameters"].attrs["t_end"]))


def check_run_file(ctx, name, argv, ref=None, expect_status="finished"):
    """A complete run file: opens, status, /final/t == t_end, finite snapshots, optional
    bit-identity of /final/spins with the reference file ref."""
    p = ctx.p(name)
    try:
        with h5py.File(p, "r") as f:
            status = astr(f.attrs.get("status", ""))
            if expect_status and not status.startswith(expect_status):
                ctx.fail("CHECK", f"{name}: status {status!r}, expected {expect_status!r}...", argv)
            pars = f["parameters"].attrs
            norm_tol = float(pars.get("norm_tol", 1e-4))
            for k in f.get("snapshots", {}):
                s = f["snapshots"][k]["spins"][()]
                if not np.all(np.isfinite(s)) or np.max(np.linalg.norm(s, axis=-1)) > 1 + norm_tol + 1e-9:
                    ctx.fail("CHECK", f"{name}: snapshot {k} holds non-finite spins or |s| > 1 + norm_tol", argv)
                    break
            if status.startswith("finished") and os.path.exists(ctx.p("." + name + ".journal")):
                ctx.fail("LITTER", f"{name} is finished but its journal .{name}.journal is still there", argv)
            if expect_status == "finished":
                if "final" not in f:
                    ctx.fail("CHECK", f"{name}: status finished but no /final", argv)
                    return
                t = float(f["final/t"][()])
                t_end = float(pars["t_end"])
                reason = astr(f["final"].attrs.get("stop_reason", ""))
                if reason.startswith("reached") and abs(t - t_end) > 1e-12 * max(1.0, abs(t_end)):
                    ctx.fail("CHECK", f"{name}: /final/t = {t!r} but t_end = {t_end!r} ({reason})", argv)
                s = f["final/spins"][()]
                if not np.all(np.isfinite(s)):
                    ctx.fail("CHECK", f"{name}: /final/spins not finite", argv)
                if ref is not None:
                    rs, rt, rstep, _ = read_final(ref)
                    if s.shape != rs.shape or not np.array_equal(s, rs):
                        nd = np.nan if s.shape != rs.shape else float(np.max(np.abs(s - rs)))
                        ctx.fail("CHECK", f"{name}: /final/spins differ from the uninterrupted run "
                                 f"(max |diff| {nd:.3g}, t {t} vs {rt})", argv)
                    elif int(f["final"].attrs.get("step", -1)) != rstep:
                        ctx.fail("CHECK", f"{name}: /final step {int(f['final'].attrs.get('step', -1))} "
                                 f"vs {rstep} uninterrupted", argv)
    except Exception as e:                          # noqa: BLE001
        ctx.fail("CHECK", f"{name}: cannot be read as a run file: {str(e).splitlines()[0][:120]}", argv)


SWEEP_ENTRY_KEYS = ("phase", "order", "agree", "m_perp", "residual", "peak_weight", "period",
                    "vortices", "t_final", "k")


def check_sweep_file(ctx, name, argv, ref=None, all_done=True):
    try:
        with h5py.File(ctx.p(name), "r") as f:
            status = astr(f.attrs.get("status", ""))
            if all_done and not status.startswith("finished"):
                ctx.fail("CHECK", f"{name}: status {status!r}, expected 'finished'", argv)
            ph = f["sweep/phase"][()]
            if all_done and np.any(ph == -1):
                ctx.fail("CHECK", f"{name}: {int(np.sum(ph == -1))} of {ph.size} entries not done", argv)
            if ref is not None:
                with h5py.File(ref, "r") as g:
                    bad = []
                    for k in SWEEP_ENTRY_KEYS:
                        x, y = f["sweep"][k][()], g["sweep"][k][()]
                        same = x.shape == y.shape and (np.array_equal(x, y, equal_nan=True)
                                                       if x.dtype.kind == "f" else np.array_equal(x, y))
                        if not same:
                            bad.append(k)
                    if bad:
                        ctx.fail("CHECK", f"{name}: /sweep/{','.join(bad)} differ from the uninterrupted sweep", argv)
    except Exception as e:                          # noqa: BLE001
        ctx.fail("CHECK", f"{name}: cannot be read as a sweep file: {str(e).splitlines()[0][:120]}", argv)


def post_run_ok(name="out.h5", ref=None):
    def f(ctx, res):
        if res.rc == 0:
            check_run_file(ctx, name, res.argv, ref=FX.get(ref) if ref else None)
    return f


def post_sweep_ok(name="out.h5", ref=None):
    def f(ctx, res):
        if res.rc == 0:
            check_sweep_file(ctx, name, res.argv, ref=FX.get(ref) if ref else None)
    return f


def post_export_ok(run="run.h5", xdmf="run.xdmf"):
    """An export that succeeded names every state of the run once (the final state replaces a
    snapshot at its time); that the sidecar and fields file are complete, check_complete checks."""
    def f(ctx, res):
        if res.rc != 0:
            return
        st = xdmf_state(ctx.p(xdmf))
        if not st["ok"]:
            return
        with h5py.File(ctx.p(run), "r") as h:
            ts = {float(h["snapshots"][k]["t"][()]) for k in h.get("snapshots", {})}
            if "final" in h:
                ts.add(float(h["final/t"][()]))
        if st["grids"] != len(ts):
            ctx.fail("CHECK", f"{xdmf} names {st['grids']} states, {run} holds {len(ts)}", res.argv)
    return f


def exported(run="run.h5", extra=()):
    """setup step: export run (in the case dir) as it stands: an existing sidecar + fields file."""
    def f(d):
        _make(d, ["export", "-q", run] + list(extra))
    return f


def post_names(*words):
    """a refusal must name one of words (case-insensitive)."""
    def f(ctx, res):
        if res.rc != 0 and not any(w.lower() in res.err.lower() for w in words):
            ctx.fail("CHECK", f"message does not name {'/'.join(words)}: {_first_line(res.err)}", res.argv)
    return f


def posts(*fs):
    def f(ctx, res):
        for g in fs:
            g(ctx, res)
    return f


def partial_run(fx_src, keep_snapshots, status="interrupted at t = 1.5"):
    """h5py: turn a finished run into what an interrupted one looks like: no /final, only the
    first keep_snapshots snapshots."""
    def f(h):
        del h["final"]
        for k in list(h["snapshots"]):
            if int(k) >= keep_snapshots:
                del h["snapshots"][k]
        h.attrs["status"] = status
    return f


def partial_sweep(h):
    """h5py: mark the last row of a finished sweep as not done (as a killed sweep leaves it)."""
    sw = h["sweep"]
    for k in list(sw):
        ds = sw[k]
        if ds.ndim >= 2 and ds.shape[:2] == sw["phase"].shape[:2] and k not in ("predicted", "predicted_growth",
                                                                               "predicted_period"):
            a = ds[()]
            a[-1] = -1 if a.dtype.kind in "iu" else np.nan
            ds[...] = a
    h.attrs["status"] = "interrupted after 6 points"


# ----------------------------------------------------------------------------------------
# Fixtures (built once, copied into each case dir)
# ----------------------------------------------------------------------------------------

RUN8 = ["run", "--size", "8", "--t-end", "2", "--snapshot-every", "1", "--Jx", "0.9", "--Jy", "-0.6",
        "--Jz", "1", "--steady-tol", "0"] + Q
RUN16 = ["run", "--size", "16", "--t-end", "4", "--snapshot-every", "0.5", "--Jx", "0.9", "--Jy", "-0.6",
         "--Jz", "1", "--steady-tol", "0"] + Q
# (its export's fields file, about 680 KB, outgrows the 256 KB of room a flush asks for)
RUN64 = ["run", "--size", "64", "--t-end", "4", "--snapshot-every", "0.5", "--Jx", "0.9", "--Jy", "-0.6",
         "--Jz", "1", "--steady-tol", "0"] + Q
SWEEP3 = ["sweep", "--x", "Jx:-2:2:3", "--y", "Jy:-2:2:3", "--size", "4", "--t-end", "2"] + Q
MAP5 = ["stability", "--x", "Jx:-2:2:5", "--y", "Jy:-2:2:5"]
# the long run / sweep that kill_resume interrupts: the run takes about 4 s on 2 idle cores
# (at --size 48, --t-end 300 it had got fast enough to finish before a 1.2 s kill)
LONG_RUN = ["run", "--size", "64", "--t-end", "600", "--dt", "0.01", "--snapshot-every", "6",
            "--steady-tol", "0", "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q
# (about 2 s in a release build: long enough that every kill delay below lands inside it)
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
        cmds["ref_run"] = LONG_RUN + ["-o", "ref_run.h5"]
        cmds["ref_sweep"] = LONG_SWEEP + ["-o", "ref_sweep.h5"]
    return cmds


class FixtureError(Exception):
    pass


def build_fixtures(classes, fxdir, jobs):
    cmds = fixture_commands(classes)

    def one(item):
        name, argv = item
        r = subprocess.run([XYZMF] + argv, cwd=fxdir, capture_output=True, text=True, env=CHILD_ENV,
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
# Class 1: options
# ----------------------------------------------------------------------------------------

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
    for v in ["Jx:1:0:5", "Jx:0:1:0", "foo:0:1:3", "Jx:nan:1:3"]:
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
    add("quantum", "--method exact --sites 11", ["--method", "exact", "--sites", "11"])
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
    add("sweep", "--backend cuda (refused without a device)", ["--backend", "cuda"], expect=(0, 2))
    add("quantum", "--trajectories 1e8 (results of about 90 GB)", ["--trajectories", "100000000", "--sites", "12",
                                                                  "--t-end", "40", "--burn-in", "20"])
    if not ASAN:            # (an address-space limit cannot be set under AddressSanitizer)
        def as_limit(n):
            return lambda: resource.setrlimit(resource.RLIMIT_AS, (n, n))
        C.append(Case("options", "run --size 4096 under ulimit -v 1 GiB (fits in memory, not in the limit)",
                      with_opts(RUN_TINY, ["--size", "4096"]), expect=(2,), creates=("out.h5",),
                      preexec=as_limit(1 << 30), post=post_names("memory")))
        C.append(Case("options", "quantum --trajectories 3e6 under ulimit -v 2 GiB (its results do not fit)",
                      with_opts(QUANT_TINY, ["--trajectories", "3000000", "--t-end", "40", "--burn-in", "20"]),
                      expect=(2,), creates=("out.h5",), preexec=as_limit(2 << 30), post=post_names("memory")))
    add("quantum", "valid tiny run", [], expect=(0,))
    add("quantum", "valid tiny exact run", ["--method", "exact", "--gap"], expect=(0,))

    # -- dtwa
    for opt, v in [("--trajectories", "0"), ("--trajectories", "-1"), ("--trajectories", "16777217"),
                   ("--trajectories", I64), ("--batch", "-1"), ("--dt", "0"), ("--dt", "nan"), ("--dt", "2"),
                   ("--t-end", "-1"), ("--t-end", "nan"), ("--t-end", "0.505"), ("--record-every", "0"),
                   ("--record-every", "0.001"), ("--record-every", "nan"), ("--t-end", "1e9"), ("--seed", "-1"),
                   ("--init", "up"), ("--init", "uniform:1,1,0"), ("--init", "uniform:nan,0,1"),
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
                "--moving-fraction", "--vortex-amplitude"]:
        for v in ["nan", "-1"]:
            add("analyze", f"{opt} {v}", [opt, v])
    add("analyze", "--single-domain 1.5", ["--single-domain", "1.5"])
    add("analyze", "--moving-fraction 2", ["--moving-fraction", "2"])
    for v in ["0", "-1"]:
        add("analyze", f"--sk-full-max {v}", ["--sk-full-max", v])
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
                  preexec=None if ASAN else (lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))),
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
# Class 2: crafted files
# ----------------------------------------------------------------------------------------

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
# Class 3: kill and resume
# ----------------------------------------------------------------------------------------

# No case here waits a fixed time and assumes where the program then is: each one waits for
# an event that the program makes observable (its output file, its temporary file, the lock
# taken, the n-th progress line on stderr: XYZMF_PROGRESS_EVERY=0 prints one per record of
# a run and per batch of a sweep), and a first writer that must still be running while a
# second one is tried is stopped (SIGSTOP) meanwhile.  The runs are long in steps (hundreds
# of records after the event), so a kill sent at an event lands while they work; a run that
# still ended first (exit 0, its file complete) is checked as a finished file, never taken
# for a failure of the program.  Random jitter after an event only varies where, between
# two events, a kill lands.

PROGRESS_ENV = dict(CHILD_ENV, XYZMF_PROGRESS_EVERY="0")
PROGRESS_LINE = re.compile(r"^ *\S.*  elapsed \d+:\d\d:\d\d  ETA \S+$")


def wait_for(path, proc, limit=None):
    """Waits until path exists (True) or proc has ended (then whether path exists).  The limit
    (default: the subprocess timeout) only guards against a hang."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < (limit or TIMEOUT):
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
    while time.monotonic() - t0 < (limit or TIMEOUT):
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
    if kind == "run":
        if not os.path.exists(p):
            return int(t_end / 0.5)
        with h5py.File(p, "r") as f:
            ts = [float(f["snapshots"][k]["t"][()]) for k in f.get("snapshots", {})
                  if f["snapshots"][k].attrs.get("complete", 0) == 1]
        return max(1, int((t_end - max(ts, default=0.0)) / 0.5))
    if not os.path.exists(p):
        return 16
    with h5py.File(p, "r") as f:
        return max(1, int(np.sum(f["sweep/batch"][()] < 0)))


def kill_at_event(ctx, argv, n, sig=signal.SIGKILL, jitter=0.0):
    """Start argv, send sig after its n-th progress line (plus up to `jitter` s).  Returns
    (res, finished_before_signal)."""
    t0 = time.monotonic()
    proc = spawn_watched(ctx, argv)
    read_progress(proc, n)
    if jitter:
        time.sleep(random.uniform(0, jitter))
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, sig)
    res = without_progress(ctx.finish(proc, argv, t0))
    return res, finished or (res.rc is not None and res.rc >= 0 and res.rc not in SIGNAL_EXIT.values())


def check_killed_file(ctx, name, argv):
    """After SIGKILL the target is absent or a readable xyzmf file.  Returns True if present."""
    p = ctx.p(name)
    if not os.path.lexists(p):
        return False
    st = h5_state(p)
    if not st["ok"]:
        ctx.fail("LOST", f"{name} left broken after SIGKILL: {st['err']}", argv)
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
        if st["ok"] and st["attrs"].get("status") == "finished":
            # The kill landed after the work was done (during exit): the file is complete and
            # --resume rightly refuses it, so check it as a finished file instead.
            ctx.note("killed after the file was finished: nothing to resume")
            check(ctx, "out.h5", a, ref=FX[ref])
            return
        for name, old in before.items():   # the snapshots written before this kill survive it
            if name == "out.h5" and old.h5 and old.h5["ok"]:
                for msg in kept_snapshots_and_sweep(old.h5, h5_state(ctx.p(name))):
                    ctx.fail("LOST", f"SIGKILL during resume: {msg}", a)
    res = ctx.run(resume, (0,), modifies=("out.h5",))
    ctx.note(f"resume exit {res.rc}")
    if res.rc == 0:
        check(ctx, "out.h5", resume, ref=FX[ref])


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
    if jitter:
        time.sleep(random.uniform(0, jitter))
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


# Frequent snapshots: a kill during one of their HDF5 flushes can leave the file's metadata
# half written (the issue of a67327b: 6 of 100 such files could not be resumed).  The
# journal beside the file lets --resume rebuild it (run_journal.hpp); `xyzmf repair`
# recovers what a damaged file holds.  The damage a torn flush does is also made on purpose,
# so that the rebuild is exercised every time, not only when a kill happens to tear a flush.
JRUN = ["run", "--size", "64", "--t-end", "30", "--dt", "0.01", "--snapshot-every", "0.05", "--steady-tol", "0",
        "--Jx", "0.9", "--Jy", "-0.6", "--Jz", "1"] + Q


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
# Class 7: a stop signal at any moment
# ----------------------------------------------------------------------------------------
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
SIG_STAB = ["stability", "--x", "Jx:-6:6:401", "--y", "Jy:-6:6:401", "--size", "64"]
SIG_GAUSS = ["gaussian", "--x", "Jx:-0.3:0.3:9", "--y", "Jy:-0.3:0.3:9", "--dim", "3"]
# merge (of two small shards) ends within about 50 ms: a signal at 50 or 100 ms may come after
# its end, or in its last instants, and exit 0 with the file complete is then right; every
# other command works 3-6 times longer than the latest signal (in steps, on a 2-core
# machine), so one sent while it worked came before its end and must stop it.
SIG_STRICT = ("run", "sweep", "quantum", "dtwa", "analyze in place", "export", "stability -o", "gaussian -o")


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
    if res.rc == 0 and alive and kind in SIG_STRICT:
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
            XYZMF] + SIG_RUN[:1] + ["--size", "8", "--t-end", "0.1"] + Q + ["-o", "t.h5"]
    r = subprocess.run(argv, cwd=ctx.d, env=CHILD_ENV, capture_output=True, text=True, timeout=TIMEOUT)
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
    # (not under the sanitizers, whose runtime rightly runs before the program's first
    # instruction; and only where strace may trace: tools/install-deps.sh installs it)
    if shutil.which("strace") and not ASAN and subprocess.run(["strace", "-qq", "-o", os.devnull, "true"],
                                                              capture_output=True).returncode == 0:
        C.append(Case("signals", "handlers installed before anything else (strace)", runner=handlers_first_case))
    return C


# ----------------------------------------------------------------------------------------
# Class 4: full disk (RLIMIT_FSIZE)
# ----------------------------------------------------------------------------------------

def full_disk_cases():
    C = []
    K = 1024

    def lim(fx, f):
        return lambda: int(f(FX_SIZE[fx]))

    def after_lift_resume(name="out.h5", ref=None):
        def f(ctx, res):
            if res.rc != 0 and os.path.exists(ctx.p(name)):
                st = h5_state(ctx.p(name))
                if st["ok"] and st["attrs"].get("content") == "run":
                    r = ctx.run(["run", "--resume", name] + Q, (0,), modifies=(name,))
                    if r.rc == 0:
                        check_run_file(ctx, name, r.argv, ref=FX.get(ref) if ref else None)
        return f

    def after_lift(argv, expect=(0,), modifies=()):
        def f(ctx, res):
            if res.rc != 0:
                ctx.run(argv, expect, modifies=modifies)
        return f

    new_run = RUN16 + ["-o", "out.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("half", lim("run16", lambda s: s // 2)),
                     ("size - 1 KB", lim("run16", lambda s: s - K)), ("size - 1", lim("run16", lambda s: s - 1))]:
        C.append(Case("full_disk", f"run new file, limit {label}", new_run, expect=(3,), creates=("out.h5",),
                      preexec=fsize_limit(n), post=after_lift_resume(ref="run16")))
    C.append(Case("full_disk", "run new file, limit 4 x size (control)", new_run, creates=("out.h5",),
                  preexec=fsize_limit(lim("run16", lambda s: 4 * s)), post=post_run_ok(ref="run16")))
    over = RUN16 + ["--seed", "5", "-o", "out.h5", "--overwrite"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("size - 1 KB", lim("run16", lambda s: s - K))]:
        C.append(Case("full_disk", f"run --overwrite a good file, limit {label}", over, setup=cp("run16", "out.h5"),
                      expect=(3,), replaces=("out.h5",), preexec=fsize_limit(n)))
    res_argv = ["run", "--resume", "out.h5"] + Q
    for label, n in [("0", 0), ("file size", lim("part16", lambda s: s)),
                     ("file size + 4 KB", lim("part16", lambda s: s + 4 * K))]:
        C.append(Case("full_disk", f"run --resume, limit {label}", res_argv, setup=cp("part16", "out.h5"),
                      expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift_resume(ref="run16")))
    for label, n in [("file size", lim("run16", lambda s: s)), ("file size + 1 KB", lim("run16", lambda s: s + K))]:
        C.append(Case("full_disk", f"analyze in place, limit {label}", ["analyze", "out.h5"],
                      setup=cp("run16", "out.h5"), expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift(["analyze", "out.h5"], modifies=("out.h5",))))
    for label, n in [("file size", lim("run16", lambda s: s)), ("file size + 16 KB", lim("run16", lambda s: s + 16 * K))]:
        C.append(Case("full_disk", f"analyze --all-snapshots, limit {label}", ["analyze", "out.h5", "--all-snapshots"],
                      setup=cp("run16", "out.h5"), expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift(["analyze", "out.h5", "--all-snapshots"], modifies=("out.h5",))))
    for label, n in [("0", 0), ("2 KB", 2 * K), ("4 KB", 4 * K)]:
        C.append(Case("full_disk", f"analyze --out new.h5, limit {label}", ["analyze", "in.h5", "--out", "new.h5"],
                      setup=cp("run16", "in.h5"), expect=(3,), creates=("new.h5",), preexec=fsize_limit(n)))
    new_sweep = SWEEP3 + ["-o", "out.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("sweep", lambda s: s // 2)),
                     ("size - 1 KB", lim("sweep", lambda s: s - K))]:
        C.append(Case("full_disk", f"sweep new file, limit {label}", new_sweep, expect=(3,), creates=("out.h5",),
                      preexec=fsize_limit(n)))
    sres = ["sweep", "--resume", "out.h5"] + Q
    C.append(Case("full_disk", "sweep --resume, limit 0", sres, setup=cp("sweep_part", "out.h5"), expect=(3,),
                  modifies=("out.h5",), preexec=fsize_limit(0),
                  post=posts(after_lift(sres, modifies=("out.h5",)),
                             lambda ctx, res: check_sweep_file(ctx, "out.h5", sres, ref=FX["sweep"]))))
    C.append(Case("full_disk", "sweep --resume, limit = file size", sres, setup=cp("sweep_part", "out.h5"),
                  expect=(0, 3), modifies=("out.h5",), preexec=fsize_limit(lim("sweep_part", lambda s: s)),
                  post=posts(after_lift(sres, modifies=("out.h5",)),
                             lambda ctx, res: check_sweep_file(ctx, "out.h5", sres, ref=FX["sweep"]))))
    merge = ["merge", "-o", "m.h5", "a.h5", "b.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("merged", lambda s: s // 2))]:
        C.append(Case("full_disk", f"merge, limit {label}", merge, setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5")),
                      expect=(3,), creates=("m.h5",), preexec=fsize_limit(n)))
    # a write stopped by the limit says so and names the file (a67327b: "HDF5: write k")
    for label, cmd in [("stability (241 x 241)", ["stability", "-o", "m.h5"]),
                       ("sweep (41 x 41 x 8 replicas)", ["sweep", "--x", "Jx:-2:2:41", "--y", "Jy:-2:2:41", "--size", "4",
                                                         "--t-end", "1", "--replicas", "8"] + Q + ["-o", "m.h5"])]:
        for n in (100 * K, 400 * K, 1000 * K):
            C.append(Case("full_disk", f"{label}, limit {n // K} KB: the message names the limit and the file", cmd,
                          expect=(3,), creates=("m.h5",), preexec=fsize_limit(n),
                          post=post_names("file-size limit", "disk full")))
    stab = MAP5 + ["-o", "m.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("map", lambda s: s // 2))]:
        C.append(Case("full_disk", f"stability -o, limit {label}", stab, expect=(3,), creates=("m.h5",),
                      preexec=fsize_limit(n)))
    C.append(Case("full_disk", "run --analyze, limit size - 1 KB", RUN16 + ["--analyze", "-o", "out.h5"],
                  expect=(3,), creates=("out.h5",), preexec=fsize_limit(lim("run16", lambda s: s - K))))

    # export of a 64^2 run: its fields file (about 680 KB) is larger than the 256 KB of room that
    # a flush asks for, so some limits let the first states in and stop a later one.
    SIDECAR = ("big.xdmf", "big.fields.h5")
    exp = ["export", "big.h5", "-q"]

    def after_lift_export(argv):
        def f(ctx, res):
            if res.rc != 0:     # nothing left behind blocks the same export without the limit
                r = ctx.run(argv, (0,), creates=tuple(n for n in SIDECAR if not os.path.exists(ctx.p(n))),
                            replaces=tuple(n for n in SIDECAR if os.path.exists(ctx.p(n))))
                post_export_ok("big.h5", "big.xdmf")(ctx, r)
        return f

    fields = lambda f: lim("run64_fields", f)   # noqa: E731
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("300 KB", 300 * K),
                     ("0.6 x fields size", fields(lambda s: 0.6 * s)), ("0.75 x fields size", fields(lambda s: 0.75 * s)),
                     ("0.9 x fields size", fields(lambda s: 0.9 * s)), ("fields size - 1", fields(lambda s: s - 1))]:
        C.append(Case("full_disk", f"export new sidecar, limit {label}", exp, setup=cp("run64", "big.h5"),
                      expect=(3,), creates=SIDECAR, preexec=fsize_limit(n), post=after_lift_export(exp)))
    C.append(Case("full_disk", "export new sidecar, limit fields size + 64 KB", exp, setup=cp("run64", "big.h5"),
                  expect=(0, 3), creates=SIDECAR, preexec=fsize_limit(fields(lambda s: s + 64 * K)),
                  post=posts(post_export_ok("big.h5", "big.xdmf"), after_lift_export(exp))))
    C.append(Case("full_disk", "export new sidecar, limit fields size + 1 MB (control)", exp,
                  setup=cp("run64", "big.h5"), creates=SIDECAR, preexec=fsize_limit(fields(lambda s: s + 1024 * K)),
                  post=post_export_ok("big.h5", "big.xdmf")))
    over = exp + ["--overwrite"]
    for label, n in [("0", 0), ("20 KB", 20 * K), ("0.6 x fields size", fields(lambda s: 0.6 * s)),
                     ("0.9 x fields size", fields(lambda s: 0.9 * s))]:
        C.append(Case("full_disk", f"export --overwrite a sidecar, limit {label}", over,
                      setup=seq(cp("run64", "big.h5"), exported("big.h5", ["--vortex-amplitude", "0.5"])),
                      expect=(3,), replaces=SIDECAR, preexec=fsize_limit(n)))
    return C


# ----------------------------------------------------------------------------------------
# Class 5: two writers
# ----------------------------------------------------------------------------------------

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
# Class 6: blow-ups
# ----------------------------------------------------------------------------------------

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
                  runner=reproducible_analysis, cost=3, timeout=TIMEOUT))
    C.append(Case("blowups", "three identical sweeps on 2 threads: the same bits", runner=reproducible_sweep, cost=3,
                  timeout=TIMEOUT))
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
        r = subprocess.run([XYZMF] + BLOW + ["--init", "pm-noise", "--dt", "0.4", "--snapshot-every", "0.4",
                                             "-o", "b.h5"], cwd=d, env=CHILD_ENV, capture_output=True, timeout=TIMEOUT)
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
# Driver
# ----------------------------------------------------------------------------------------

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
    if not KEEP:
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
    where = f"  (dir {d})" if KEEP else ""
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
                print(format_failure(case, failures, d), flush=True)
            else:
                s[1] += 1
    return stats


def main():
    global XYZMF, TIMEOUT, KEEP, CASES, BASE_TMP
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
    XYZMF = os.path.abspath(args.xyzmf)
    # AddressSanitizer reserves terabytes of address space for its shadow memory, so a
    # sanitizer build cannot run under an address-space cap (its allocator reports
    # impossible allocations instead).
    # It also runs the stepping 12-20x slower than the release build (measured on 2 cores,
    # one thread per xyzmf): the long runs that kill_resume and two_writers interrupt are
    # shortened 12x, which leaves them 1-1.6x the release build's wall time (LONG_RUN about
    # 5 s, the others 2-4 s), still long enough for every kill delay and second writer.
    global AS_LIMIT, ASAN
    if os.access(XYZMF, os.R_OK) and b"__asan_init" in open(XYZMF, "rb").read():
        AS_LIMIT, ASAN = 0, True
        for argv, slower in ((LONG_RUN, 12), (LONG_SWEEP, 12), (TW_RUN, 12), (TW_SWEEP, 12)):
            i = argv.index("--t-end")
            argv[i + 1] = f"{float(argv[i + 1]) / slower:g}"
    threads = args.threads if args.threads is not None else (1 if args.jobs > 1 else None)
    if threads is not None:
        CHILD_ENV["OMP_NUM_THREADS"] = str(threads)
    TIMEOUT, KEEP = args.timeout, args.keep
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
    if not os.access(XYZMF, os.X_OK):
        ap.error(f"{XYZMF} is not executable")

    t_start = time.monotonic()
    BASE_TMP = tempfile.mkdtemp(prefix="xyzmf-drill-")
    try:
        stats = run_all(classes, args)
    except FixtureError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        if not KEEP:
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
    print(f"time: {total:.1f} s, {args.jobs} jobs, binary {XYZMF}")
    if KEEP:
        print(f"kept: {BASE_TMP}")
    return 0 if f == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
