"""The drill's harness: the settings of a drill run, a case and its context (running one
command, the contract every command is checked against), file fingerprints and the
helpers that set up a case's files and check what a command left.
"""
import os
import dataclasses
import hashlib
import re
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import time
import xml.etree.ElementTree as ET
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
    file that is not finished (checked by check_run_file), and NAME.damaged (NAME.damaged.2,
    ... where that exists), the damaged file that a --resume kept when it rebuilt NAME from
    its journal."""
    m = re.fullmatch(r"\.(.+)\.journal", name)
    if m and m.group(1) in after and m.group(1) in outputs:
        return True
    m = re.fullmatch(r"(.+)\.damaged(\.[0-9]+)?", name)
    return bool(m) and m.group(1) in outputs


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
