"""The xyzmf commands as Python functions.

Each function turns its keyword arguments into the command's options
(``t_end=100`` -> ``--t-end 100``, ``Jx=0.9`` -> ``--Jx 0.9``, ``analyze=True`` ->
``--analyze``, ``size=(64, 32)`` -> ``--size 64x32``, ``x=("Jx", -6, 6, 241)`` ->
``--x Jx:-6:6:241``) and runs the command line in this process through the
compiled module, exactly as the ``xyzmf`` program does: the same defaults, the
same checks, the same files. ``xyzmf.help("run")`` shows every option with its
unit. A refusal raises a subclass of :class:`xyzmf.Error` (xyzmf.errors): TypeError
for an unknown keyword, ValueError for a bad value, OSError for a file problem,
ArithmeticError for a blow-up, with the program's one-line message worded for
Python and its exit code; Ctrl-C stops a run, sweep, quantum or DTWA batch cleanly (the file
keeps every snapshot written) and raises KeyboardInterrupt. The GIL is released
while the command runs.

``progress``: None (default) prints nothing while running; True draws the
program's own progress line on stderr (in a Jupyter notebook, the same line
through Python's sys.stderr, which the notebook shows); a callable is called at
once, then about 5 times a second, and at the end (last=True, also when the call
stops early), with a dict {fraction, what, elapsed, eta, last} (seconds; eta NaN
until something is done), and may raise to stop the run.
"""

import json
import math
import os
import shutil
import tempfile

import numpy as np

from .errors import Error, OptionError, UsageError, from_program, python_words  # noqa: F401  (Error: xyzmf.commands.Error as before)
from .files import load

__all__ = ["Error", "run", "analyze", "stability", "gaussian", "quantum", "dtwa", "sweep", "merge", "export", "help", "help_text"]


def _core():
    try:
        from . import _core as core
    except ImportError as e:  # the package read from a checkout, not built
        raise ImportError(
            "xyzmf: the compiled module is missing (build with tools/build.sh, which makes the package importable); "
            f"reading files with xyzmf.load works without it ({e})"
        ) from None
    return core


def _option_text(key, value):
    if isinstance(value, (bytes, os.PathLike)):
        return os.fsdecode(value)  # a path: its name, not "b'o.h5'"
    if isinstance(value, (list, tuple)):
        sep = "x" if key == "size" else ":" if key in ("x", "y") else "/" if key == "shard" else ","
        return sep.join(str(v) for v in value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # every digit: the file then records what was asked for
    return str(value)


_FLAGS = {}


def _option_kinds(command):
    """{keyword: is a flag} of the command's options, from the program itself (None
    without the compiled module)."""
    if command not in _FLAGS:
        try:
            _FLAGS[command] = {o["name"].replace("-", "_"): o["flag"] for o in _core().command_options(command)}
        except ImportError:
            _FLAGS[command] = None
    return _FLAGS[command]


def _arguments(command, positional, options):
    """The command line of `command` for these keyword options (None and False
    leave an option out; True gives a flag). A flag takes a truth value (True,
    numpy's bools, 0 or 1); any other option a value, never a bool."""
    args = [command] + [os.fsdecode(os.fspath(p)) for p in positional]
    kinds = _option_kinds(command) or {}
    for key, value in options.items():
        if isinstance(value, np.bool_):
            value = bool(value)
        flag = kinds.get(key)
        if flag and not isinstance(value, bool) and value is not None:
            if not isinstance(value, (int, np.integer)) or value not in (0, 1):
                raise UsageError(f"{key}: a flag, True or False (got {value!r})")
            value = bool(value)
        if flag is False and isinstance(value, bool):
            raise UsageError(f"{key}: expected a value, not {value!r}")
        if value is None or value is False:
            continue
        name = "--" + key.replace("_", "-")
        if value is True:
            args.append(name)
        else:
            args += [name, _option_text(key, value)]
    return args


def _call(args, progress=None, capture=True):
    """Runs args; returns what the command printed on stdout (with capture,
    which must stay off where a callback may print). Raises Error or
    KeyboardInterrupt as the exit code says."""
    callback = progress if callable(progress) else None
    code, error, help_text, printed = _core().run_command(args, callback, capture)
    if help_text:
        return help_text
    if code == 130:
        raise KeyboardInterrupt(python_words(error))
    if code != 0:
        raise from_program(args[0], error or f"xyzmf {args[0]} exited with {code}", code)
    return printed


class _Output:
    """The output file of a command: the one asked for, or a temporary one
    that is read and removed when no path was given."""

    def __init__(self, path, stem):
        self.temporary = path is None
        if self.temporary:
            self.dir = tempfile.mkdtemp(prefix="xyzmf-")
            self.path = os.path.join(self.dir, stem + ".h5")
        else:
            self.path = os.fsdecode(os.fspath(path))

    def result(self, as_xarray):
        try:
            r = load(self.path, as_xarray=as_xarray)
        finally:
            if self.temporary:
                shutil.rmtree(self.dir, ignore_errors=True)
        if self.temporary:  # read whole and removed: no path to name
            if isinstance(r, dict):
                r["path"] = None
            else:
                r.attrs.pop("path", None)
            # nor does the command the file records (--output of a removed file)
            for attrs in ([r.get("provenance") or {}] if isinstance(r, dict) else [r.attrs]):
                for key, value in list(attrs.items()):
                    if isinstance(value, str) and self.path in value:
                        attrs[key] = value.replace(self.path, "A_TEMPORARY_FILE.h5")
        return r


def _in_notebook():
    """Jupyter (an IPython kernel): the program's own progress line goes to the
    kernel's file descriptor 2, which a notebook never shows."""
    import sys

    return "ipykernel" in sys.modules and not getattr(sys.stderr, "isatty", lambda: False)()


class _NotebookProgress:
    """progress=True in a notebook: the same line, drawn through Python's sys.stderr
    (which the notebook shows, and redraws in place on a carriage return) about
    twice a second and once at the end."""

    def __init__(self, command):
        self.command, self.shown = command, -1.0

    def __call__(self, r):
        import sys

        if not r["last"] and r["elapsed"] - self.shown < 0.5:
            return
        self.shown = r["elapsed"]
        eta = "" if r["last"] or not math.isfinite(r.get("eta", math.nan)) else f", about {r['eta']:.0f} s to go"
        sys.stderr.write(f"\r{self.command}: {100 * r['fraction']:5.1f} %  {r['what']}  ({r['elapsed']:.1f} s{eta})"
                         + ("\n" if r["last"] else ""))
        sys.stderr.flush()


def _file_command(command, output, progress, as_xarray, has_quiet, options, after=None):
    """Commands with a progress line have -q (their report is then silent too);
    the others' report is captured and dropped, as the file holds it all.
    after(path), if given, runs on the output file before it is read."""
    if "help" in options:
        raise OptionError(f"{command}() has no help option: xyzmf.help({command!r}) shows its options")
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise OptionError(f"{command}(progress=...): None, True, False or a callable, not {progress!r}")
    if not (as_xarray is None or isinstance(as_xarray, bool)):
        raise OptionError(f"{command}(as_xarray=...): None, True or False, not {as_xarray!r}")
    if output is not None and not isinstance(output, (str, bytes, os.PathLike)):
        raise OptionError(f"{command}(output=...): a path to an .h5 file, not {type(output).__name__} {output!r}")
    if progress is True and has_quiet and _in_notebook():
        progress = _NotebookProgress(command)
    opts = dict(options)
    if has_quiet and progress is not True:
        opts.setdefault("quiet", True)
    if opts.get("resume") is not None:  # the file resumed is the output, and names every parameter
        if output is not None:
            raise OptionError(f"{command}(resume=PATH) continues PATH itself: give no output file")
        _call(_arguments(command, [], opts), progress, capture=not has_quiet)
        return load(opts["resume"], as_xarray=as_xarray)
    if opts.get("continue_from") is not None:  # carried on in place, or in a copy at output
        source = os.fspath(opts["continue_from"])
        opts["continue_from"] = source
        if output is not None:
            opts["output"] = os.fspath(output)
        _call(_arguments(command, [], opts), progress, capture=not has_quiet)
        return load(opts.get("output", source), as_xarray=as_xarray)
    out = _Output(output, command)
    try:
        _call(_arguments(command, [], {**opts, "output": out.path}), progress, capture=not has_quiet)
        if after is not None:
            after(out.path)
    except BaseException as e:
        if out.temporary:
            shutil.rmtree(out.dir, ignore_errors=True)
            # The message may say what the file keeps: it is gone with its folder.
            if e.args and isinstance(e.args[0], str) and out.path in e.args[0]:
                e.args = (e.args[0].replace(out.path, "a temporary file, now removed (give the call an output path "
                                                      "to keep it)"),) + e.args[1:]
        raise
    return out.result(as_xarray)


def run(output=None, *, progress=None, as_xarray=None, **options):
    """`xyzmf run`: mean-field dynamics of one lattice. Returns the run's file
    as xyzmf.load gives it (parameters, time series, snapshots, final state,
    analysis); writes `output` (an .h5 path) if given, else a temporary file.

    Options are those of ``xyzmf run --help`` (xyzmf.help("run")), e.g. size,
    dim, Jx, Jy, Jz, gamma, gamma_phi, t_end, dt, seed, init, snapshot_every,
    analyze, xdmf, overwrite, backend, precision. Times in 1/gamma, rates and
    couplings in gamma.

    ``init`` is a spec as on the command line ("random", "uniform:x,y,z",
    "FILE.h5:/snapshots/N", ...) or a state: a numpy array (or an xarray
    DataArray, e.g. a snapshot's spins) of Bloch vectors with the axes xyzmf
    stores, (Lx, 3), (Ly, Lx, 3) or (Lz, Ly, Lx, 3), finite and |s| <= 1. The
    lattice is then the array's (size and dim, if given, must agree) and the
    run starts from exactly those numbers.

    ``continue_from=PATH, t_end=T`` carries a finished rk4 run on to t = T
    from its final state on the same clock, keeping its snapshots and time
    series: in PATH itself, or in a copy at ``output`` when given."""
    if options.get("init") is not None and not isinstance(options["init"], (str, bytes, os.PathLike)):
        with _StateFile(options["init"], options) as init:
            # the lattice is the array's: size and dim (checked to agree) are the file's
            rest = {k: v for k, v in options.items() if k not in ("size", "dim")}
            return _file_command("run", output, progress, as_xarray, True, {**rest, "init": init.spec},
                                 after=init.relabel)
    return _file_command("run", output, progress, as_xarray, True, options)


def _state_array(state, who, what):
    """One state as float64 with the axes xyzmf stores, (Lx, 3), (Ly, Lx, 3) or
    (Lz, Ly, Lx, 3); an xarray DataArray is checked by its dims, so that a stack of
    snapshots (dims time, y, x, component) is not taken for a 3D lattice."""
    dims = getattr(state, "dims", None)
    if dims is not None and not isinstance(state, np.ndarray):
        dims = tuple(dims)
        ours = [d for d in dims if d in ("time", "z", "y", "x", "component")]
        if "time" in dims or (ours and tuple(ours) not in (("x", "component"), ("y", "x", "component"),
                                                            ("z", "y", "x", "component"))):
            hint = " (a time series: pick one state, e.g. .isel(time=-1))" if "time" in dims else ""
            raise UsageError(f"{who}: a DataArray of one state, dims (y, x, component) or (x, ...), (z, y, x, ...), "
                             f"not {dims}{hint}")
    values = getattr(state, "values", state)  # an xarray DataArray: its numbers
    try:
        s = np.asarray(values)
    except Exception as e:
        raise OptionError(f"{who}: {what}, not {type(state).__name__}") from e
    if s.dtype.kind not in "fiu" or s.ndim not in (2, 3, 4) or s.shape[-1] != 3:
        raise UsageError(f"{who}: an array of shape (Lx, 3), (Ly, Lx, 3) or (Lz, Ly, Lx, 3) "
                         f"of real numbers, not {s.shape} of {s.dtype}")
    return s.astype(np.float64)


class _StateFile:
    """A state given as an array, in a temporary xyzmf file that --init reads
    (the program writes the file, with t_end = 0, so it is an xyzmf file of the
    current schema; the spins are then put in its /final state)."""

    def __init__(self, state, options):
        s = _state_array(state, "run(init=...)", "a spec string or an array of Bloch vectors")
        if not np.all(np.isfinite(s)):
            raise UsageError("run(init=...): the array holds NaN or infinite values")
        # As the program checks a state it reads from a file: |s| <= 1 + norm_tol (float32
        # unit vectors reach 1 + 4e-8).
        tol = float(options.get("norm_tol") or 1e-4)
        excess = float(np.sqrt(np.max(np.sum(s * s, axis=-1)))) - 1
        if excess > tol:
            raise UsageError(f"run(init=...): |s| reaches {1 + excess:.6g} > 1 + norm_tol ({tol:g}); "
                             "Bloch vectors have |s| <= 1")
        dim, sides = s.ndim - 1, s.shape[:-1][::-1]  # (Lx, Ly, Lz)
        size = "x".join(str(n) for n in sides)
        given = options.get("size")
        spellings = {size} | ({str(sides[0])} if len(set(sides)) == 1 else set())  # "8x8" or "8"
        if given is not None and _option_text("size", given) not in spellings:
            raise UsageError(f"run(init=...): the array is a {size} lattice but size={given!r}")
        if options.get("dim") is not None and int(options["dim"]) != dim:
            raise UsageError(f"run(init=...): the array is a {dim}D lattice but dim={options['dim']!r}")
        self.state, self.dim, self.size = s, dim, size

    def __enter__(self):
        import h5py

        self.dir = tempfile.mkdtemp(prefix="xyzmf-init-")
        path = os.path.join(self.dir, "init.h5")
        _call(_arguments("run", [], {"dim": self.dim, "size": self.size, "t_end": 0, "init": "uniform:0,0,-1",
                                     "precision": "double", "backend": "cpu", "quiet": True, "output": path}))
        with h5py.File(path, "r+") as f:
            f["final/spins"][...] = self.state
        self.spec = path + ":/final"
        return self

    def relabel(self, path):
        """The run's file names the array, not the temporary file that carried it."""
        import h5py

        label = f"an array given to xyzmf.run ({self.size}, {self.dim}D)"
        with h5py.File(path, "r+") as f:
            for attrs in (f["parameters"].attrs, f.attrs):
                for key in ("init", "command_line"):
                    if key in attrs and isinstance(attrs[key], (str, bytes)):
                        text = attrs[key].decode() if isinstance(attrs[key], bytes) else attrs[key]
                        if self.spec in text:
                            attrs[key] = text.replace(self.spec, label if key == "init" else "ARRAY")

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def _spec_only(command, options):
    init = options.get("init")
    if init is not None and not isinstance(init, str):
        raise OptionError(f"{command}(init=...): a spec string (xyzmf.help({command!r})), not {type(init).__name__}; "
                          "states given as arrays are for run")


def sweep(output=None, *, progress=None, as_xarray=None, **options):
    """`xyzmf sweep`: the phase of every point of a parameter plane from
    mean-field runs (x=("Jx", min, max, n), y=(...), size, t_end, ...)."""
    return _file_command("sweep", output, progress, as_xarray, True, options)


def quantum(output=None, *, progress=None, as_xarray=None, **options):
    """`xyzmf quantum`: exact quantum dynamics of a small ring or cluster
    (sites, method="trajectories"|"exact", trajectories, t_end, ...)."""
    _spec_only("quantum", options)
    return _file_command("quantum", output, progress, as_xarray, True, options)


def dtwa(output=None, *, progress=None, as_xarray=None, **options):
    """`xyzmf dtwa`: dissipative truncated-Wigner trajectories of the whole
    lattice, quantum fluctuations beyond mean field (size, dim, Jx, Jy, Jz,
    gamma, gamma_phi, trajectories, batch, dt, t_end, record_every,
    init="down"|"uniform:x,y,z", seed, backend). Returns the file as
    xyzmf.load gives it: sx, sy, sz, cxx1, cyy1, czz1 (and *_err) along t,
    corr, connected, sk."""
    _spec_only("dtwa", options)
    return _file_command("dtwa", output, progress, as_xarray, True, options)


def stability(output=None, *, as_xarray=None, **options):
    """`xyzmf stability`: linear stability map of the mean-field fixed points
    (x=("Jx", -6, 6, 241), y=..., Jz, size, lifshitz, ...)."""
    return _file_command("stability", output, None, as_xarray, False, options)


def gaussian(output=None, *, as_xarray=None, **options):
    """`xyzmf gaussian`: Gaussian (spin-wave) fluctuations around the
    paramagnet, at a point or on a map (x, y)."""
    return _file_command("gaussian", output, None, as_xarray, False, options)


def analyze(source, *, Jx=None, Jy=None, Jz=None, gamma=None, gamma_phi=None, t=None, **options):
    """Phase, structure-factor peak, domain size and sXY vortices of a state.

    source: a run file (path): runs `xyzmf analyze FILE --json` with the
    options given (snapshot=N, all_snapshots=True, out=PATH, thresholds...),
    which also stores the analysis in the file (or in `out`), and returns the
    JSON summary as a dict (with all_snapshots: {"states": [...]}).

    source: an array shaped like stored spins ((Lx, 3), (Ly, Lx, 3) or
    (Lz, Ly, Lx, 3), components (x, y, z)): Jx, Jy, Jz (and gamma, gamma_phi)
    must be given (gamma 1, gamma_phi 0 and the time t 0 unless given);
    returns the same summary for that state."""
    state_values = {"Jx": Jx, "Jy": Jy, "Jz": Jz, "gamma": gamma, "gamma_phi": gamma_phi, "t": t}
    if isinstance(source, (str, bytes, os.PathLike)):
        given = [k for k, v in state_values.items() if v is not None]
        if given:
            raise OptionError(f"analyze(FILE): {', '.join(given)} come from the file; they are for arrays")
        printed = _call(_arguments("analyze", [source], {**options, "json": True}))
        return json.loads(printed)
    if options:
        raise OptionError(f"analyze(array): unexpected options {sorted(options)} (those are for files)")
    if Jx is None or Jy is None or Jz is None:
        raise OptionError("analyze(array) needs the couplings Jx, Jy and Jz (in units of gamma)")
    numbers = {}
    for key, value in state_values.items():
        try:
            numbers[key] = float({"gamma": 1.0, "gamma_phi": 0.0, "t": 0.0}.get(key, 0.0) if value is None else value)
        except (TypeError, ValueError):
            raise UsageError(f"analyze(array): {key} must be a number, not {value!r}") from None
    s = _state_array(source, "analyze(array)", "a path or an array of Bloch vectors")
    code, error, text = _core().analyze_state(s, numbers["Jx"], numbers["Jy"], numbers["Jz"], numbers["gamma"],
                                              numbers["gamma_phi"], numbers["t"])
    if code != 0:
        raise from_program("analyze", error, code)
    return json.loads(text)


def merge(output, *shards, overwrite=False):
    """`xyzmf merge`: joins the shards of a sweep into `output`; returns its path.
    The shards are paths, given one by one or as one list."""
    if len(shards) == 1 and isinstance(shards[0], (list, tuple)):
        shards = tuple(shards[0])
    for p in (output,) + shards:
        if not isinstance(p, (str, bytes, os.PathLike)):
            raise OptionError(f"merge(): paths of .h5 files, not {type(p).__name__} {p!r}")
    _call(_arguments("merge", shards, {"output": output, "overwrite": overwrite}))
    return os.fspath(output)


def export(path, *, xdmf_out=None, overwrite=False, vortex_amplitude=None):
    """`xyzmf export --xdmf`: writes the ParaView sidecar of a run file (and
    NAME.fields.h5 beside it); returns the sidecar's path."""
    _call(_arguments("export", [path], {"xdmf": True, "xdmf_out": xdmf_out, "overwrite": overwrite,
                                        "vortex_amplitude": vortex_amplitude, "quiet": True}))
    return os.fspath(xdmf_out) if xdmf_out else os.path.splitext(os.fspath(path))[0] + ".xdmf"


def help_text(command=None):
    """The program's --help text of `command` (or of xyzmf), as a string."""
    return _call([command, "--help"] if command else ["--help"])


def help(command=None, *, file=None):
    """Prints the options of `command` ("run", "sweep", ...; none: the commands)
    with their defaults and units, as ``xyzmf COMMAND --help`` does (a notebook
    shows it as text, not as a quoted string). help_text() returns it instead."""
    import sys

    if callable(command):  # xyzmf.help(xyzmf.run)
        command = getattr(command, "__name__", None)
    print(help_text(command).rstrip("\n"), file=file or sys.stdout)


def _parse_default(text, flag):
    if flag:
        return False
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _attach_options(func, command, options):
    """func's signature and docstring gain the command's options with the
    program's defaults and help (units included), read from the program itself
    so that they cannot drift: help(xyzmf.run) and completion show them."""
    import inspect

    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in params} | {"help", "output", "version", "quiet"}
    lines = []
    for o in options:
        name = o["name"].replace("-", "_")
        if name in taken or not name.isidentifier():
            continue
        taken.add(name)
        default = _parse_default(o["default"], o["flag"])
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
        shown = "" if default is None else f" = {default!r}"
        lines.append(f"    {name}{shown}\n        {o['help']}")
    func.__signature__ = sig.replace(parameters=params)
    func.__doc__ = (func.__doc__ or "") + (
        f"\n\n    Keyword options (those of `xyzmf {command}`, with its defaults; times in 1/gamma,"
        f" rates in gamma):\n" + "\n".join(lines))


def _attach_all_options():
    try:
        core = _core()
    except ImportError:
        return  # a checkout without a build: files can still be read
    for func, command in ((run, "run"), (sweep, "sweep"), (quantum, "quantum"), (dtwa, "dtwa"),
                          (stability, "stability"), (gaussian, "gaussian")):
        _attach_options(func, command, core.command_options(command))


_attach_all_options()
