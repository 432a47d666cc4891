"""Reading xyzmf's HDF5 files with numpy and h5py only (the layout: docs/hdf5-layout.md).

Two ways in:
- load(path) reads a whole file -- parameters with their units, provenance, time series,
  snapshots, final state, analysis results -- into numpy arrays in a Record (a dict whose keys
  are also attributes), or into an xarray.Dataset when xarray is installed (see xarray_form.py).
  It reads every snapshot: for a large run, read one state with the helpers below instead.
- open_file(path) and pick_state(f) give the open h5py file and the name of one state in it,
  for programs that read only what they draw.

Every problem with a file raises FileError, one line "PATH: why" in the words of the xyzmf
command; command-line tools print it behind their name with exit_on_error(prog).
"""
import contextlib
import json
import os
import re
import sys

import h5py
import numpy as np

from .lazy import LAZY_BYTES, LazyDataset, LazyStack, is_lazy
from .errors import FileError  # noqa: F401  (raised here; one root with the commands' errors)

from .codes import parse_codes
from .stacking import stackable

SCHEMA_MAJOR = "1"  # the schema_version major number this reader knows (as the xyzmf command)

# The group that holds each kind's parameters (as attributes), and what the kind is called
# when a file lacks the root attribute `content`.
PARAMETER_GROUPS = {"parameters": "run", "map": "stability map", "sweep": "sweep",
                    "gaussian": "Gaussian fluctuations", "quantum": "quantum", "dtwa": "dtwa"}
# What a file without the group a program needs is not (the command says "not a run file").
NOT_A = {"parameters": "not a run file", "map": "not a stability map (xyzmf stability -o)",
         "sweep": "not a sweep file", "gaussian": "not a Gaussian fluctuation file (xyzmf gaussian -o)",
         "quantum": "not a quantum file (xyzmf quantum -o)", "dtwa": "not a DTWA file (xyzmf dtwa -o)"}


class Record(dict):
    """A dict whose keys are also attributes, so that data.final.spins is data["final"]["spins"].
    (A key that is also a dict method, such as "values", is read as data["values"].)"""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __dir__(self):
        return list(self) + dir(dict)


# ---- opening a file and picking a state in it -------------------------------------------------

def open_file(path, group=None, what=None):
    """The xyzmf file at path, open for reading (an h5py.File; use it in a `with` block).

    group: a group the caller needs, e.g. "parameters" (a run file), "map", "sweep", "gaussian",
    "quantum"; what: how the error names the file wanted when it is missing ("not WHAT"), e.g.
    "an xyzmf file with /map (written by `xyzmf stability`)". Raises FileError for a missing
    file, a file that is not HDF5, one without schema = "xyzmf" or of another major schema
    version, and one without the group."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileError(path, "no such file")
    if not os.path.isfile(path):
        raise FileError(path, "not a regular file")
    if not h5py.is_hdf5(path):
        raise FileError(path, "not an HDF5 file (or unreadable)")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise FileError(path, "cannot open (damaged, or being written by another program?)") from None
    try:
        if _text(f.attrs.get("schema")) != "xyzmf":
            raise FileError(path, 'not an xyzmf file (no schema = "xyzmf" attribute)')
        version = _text(f.attrs.get("schema_version", "?"))
        if version.split(".")[0] != SCHEMA_MAJOR:
            raise FileError(path, f"xyzmf schema version {version} is not readable by this xyzmf "
                                  f"(reads {SCHEMA_MAJOR}.x)")
        if group and group not in f:
            raise FileError(path, f"not {what}" if what else f"has no /{group} ({NOT_A.get(group, 'wrong kind')})")
    except FileError:
        f.close()
        raise
    return f


def pick_state(f, snapshot=None):
    """The group name of the state to show in an open run file: /snapshots/NNNNNN for snapshot N
    when given, else /final, else the last snapshot (a run that did not end normally).
    Raises FileError when there is no such state."""
    if snapshot is not None:
        name = f"/snapshots/{snapshot:06d}"
        if name not in f:
            raise FileError(f.filename, f"no snapshot {snapshot} (have {list(f.get('snapshots', []))})")
        return name
    if "final" in f:
        return "/final"
    snaps = sorted(f["snapshots"]) if "snapshots" in f else []
    if not snaps:
        content = _text(f.attrs.get("content")) or ""
        if content and content not in ("run", "analysis"):  # a map, a sweep, ...: no lattice states
            raise FileError(f.filename, f"not a run file (its content: {content}), so no lattice state to show")
        raise FileError(f.filename, "no final state and no snapshots")
    return f"/snapshots/{snaps[-1]}"


@contextlib.contextmanager
def exit_on_error(prog):
    """For command-line tools: a FileError in the block ends the program with the one line
    "prog: PATH: why" on stderr and exit status 1."""
    try:
        yield
    except FileError as e:
        sys.exit(f"{prog}: {e}")


def write_report(path, lines):
    """Writes a Markdown report (a list of lines) to path and echoes it to stdout."""
    text = "\n".join(lines)
    with open(path, "w") as f:
        f.write(text)
    print(text)


# ---- reading a whole file ---------------------------------------------------------------------

def load(path, *, as_xarray=None, lazy=False):
    """Everything in an xyzmf file: a Record of numpy arrays, or an xarray.Dataset.

    as_xarray: None (default) gives a Dataset when xarray is importable, else the Record;
    True insists on xarray (ImportError without it); False always gives the Record.
    Raises FileError (one line, "PATH: why") for a missing, unreadable or foreign file.
    lazy: datasets over 16 KiB (spins, structure factors) stay in the file until indexed
    (xyzmf.lazy: a file of any size opens at once; the file stays open while they live).

    The Record (keys are also attributes; arrays as stored, axis order in `axes`):
      path, kind         the file name given; the root attribute `content`: "run", "analysis",
                         "stability map", "sweep", "Gaussian fluctuation map",
                         "Gaussian fluctuations at one point", "quantum trajectories", "quantum exact", "dtwa"
      provenance         root attributes: xyzmf_version, git_revision, command_line, created,
                         schema_version, status, ...
      parameters         the parameter group's attributes (/parameters, or /map, /sweep, /gaussian,
                         /quantum, /dtwa), numbers as int/float, text as str, sizes as an array
      parameter_units    {"Jx": "gamma", "t_end": "1/gamma", "sizes": "sites", ...}
      units, axes        per dataset, keyed by its path in the Record ("final/spins"):
                         units["final/spins"] == "1", axes["final/spins"] == ("y", "x", "component(sx,sy,sz)")
      codes              code tables of maps and sweeps: {"phase": {0: "PM", ...}, "order": ..., "agree": ...}
    Run files (and `analyze --out` files), None where the file has no such group:
      timeseries         t, mean, staggered, residual
      snapshots          the complete snapshots, stacked along a first axis "time": index (the N of
                         /snapshots/N), t, step, spins (n, ..., 3), ...; analysis and
                         structure_factor as lists, one Record (or None) per snapshot
      final              t, spins, step, stop_reason, residual, analysis (phase, vortices,
                         vortex_positions, ...), structure_factor (Sxx, Syy, Szz, ...)
      analysis           coarsening: t, vortices, antivortices, m_perp, ... per analysed snapshot
    Other kinds: their group as a Record of its datasets: map, sweep, gaussian (with gaussian.modes
    at one point), quantum or dtwa.
    """
    xarray = None
    if as_xarray is not False:
        try:
            import xarray
        except ImportError:
            if as_xarray:
                raise ImportError("xyzmf.load(as_xarray=True) needs xarray, which is not importable here "
                                  "(Debian: apt install python3-xarray; pip install xarray); "
                                  "as_xarray=False gives numpy arrays") from None
    data = _read(path, lazy)
    if xarray is None:
        return data
    from .xarray_form import to_xarray
    return to_xarray(data)


def netcdf_form(ds):
    """A Dataset from load() that netCDF can hold: each complex variable (Gaussian a_k0,
    quantum eigenvalues) as NAME_real and NAME_imag. netcdf_form(ds).to_netcdf(path)."""
    from .xarray_form import netcdf_form as form
    return form(ds)


def _read(path, lazy=False):
    """The numpy form of load(path) (see there)."""
    f = open_file(path)
    try:
        try:
            return _read_file(f, os.fspath(path), lazy)
        except FileError:
            raise
        except (OSError, KeyError, RuntimeError, ValueError, TypeError) as e:
            # h5py reports a torn file as any of these (a kill during a write: "bad heap free
            # list", "bad object header version number", ...).
            why = (str(e).splitlines() or [type(e).__name__])[0]
            raise FileError(path, f"cannot read ({why}): damaged, or being written? A run file that a kill "
                                  f"damaged: xyzmf repair {os.fspath(path)}") from None
    finally:
        if not lazy:
            f.close()  # (lazy: its arrays hold it open)


def _read_file(f, path, lazy=False):
    group = next((g for g in PARAMETER_GROUPS if g in f), None)
    if group is None:
        raise FileError(path, "an xyzmf file with none of /" + ", /".join(PARAMETER_GROUPS))
    root = {k: _value(v) for k, v in f.attrs.items()}
    g = f[group]
    data = Record(path=path, kind=root.get("content", PARAMETER_GROUPS[group]),
                  provenance=Record((k, v) for k, v in root.items() if k not in ("schema", "content")),
                  parameters=Record((k, _value(v)) for k, v in g.attrs.items()
                                    if k != "parameter_units" and not k.endswith("_codes")),
                  parameter_units=json.loads(_text(g.attrs.get("parameter_units", "{}"))),
                  codes={k[:-len("_codes")]: parse_codes(_text(v)) for k, v in g.attrs.items() if k.endswith("_codes")},
                  units={}, axes={})
    if group != "parameters":
        data[group] = _read_group(g, data, group, with_attrs=False, lazy=lazy)
        return data
    data.timeseries = _read_group(f["timeseries"], data, "timeseries") if "timeseries" in f else None
    data.snapshots = _read_snapshots(f, data, lazy)
    data.final = _read_group(f["final"], data, "final", lazy=lazy) if _complete(f, "final") else None
    data.analysis = _read_group(f["analysis"], data, "analysis") if "analysis" in f else None
    return data


def _read_group(g, data, key, with_attrs=True, lazy=False):
    """A group as a Record: its attributes (with_attrs) and datasets side by side, subgroups as
    Records; the unit and axes of each dataset go into data.units and data.axes under key/name."""
    rec = Record((k, _value(v)) for k, v in g.attrs.items()) if with_attrs else Record()
    for name, obj in g.items():
        path = f"{key}/{name}"
        if isinstance(obj, h5py.Group):
            rec[name] = _read_group(obj, data, path, lazy=lazy)
            continue
        rec[name] = LazyDataset(obj) if lazy and obj.nbytes > LAZY_BYTES else obj[()]
        if "unit" in obj.attrs:
            data.units[path] = _text(obj.attrs["unit"])
        data.axes[path] = split_axes(_text(obj.attrs.get("axes", "")))
    return rec


def _read_snapshots(f, data, lazy=False):
    """The complete snapshots, stacked: what every snapshot has with one shape becomes one array
    with a first axis "time", the rest (analysis, structure_factor) lists, one entry per snapshot."""
    # (f.get would take a /snapshots that does not read, after a kill, for none at all)
    names = [n for n in sorted(f["snapshots"] if "snapshots" in f else []) if _complete(f, f"snapshots/{n}")]
    if not names:
        return None
    states = [_read_group(f["snapshots"][n], data, "snapshots", lazy=lazy) for n in names]
    out = Record(index=np.array([int(n) for n in names]))
    for key in dict.fromkeys(k for s in states for k in s):
        values = [s.get(key) for s in states]
        if stackable(values):
            lazies = [v for v in values if is_lazy(v)]
            if lazies and len(lazies) == len(values) and len({v.dtype for v in values}) == 1:
                out[key] = LazyStack(values)
            else:
                out[key] = np.stack([np.asarray(v) for v in values])
            if f"snapshots/{key}" in data.axes:
                data.axes[f"snapshots/{key}"] = ("time",) + data.axes[f"snapshots/{key}"]
        else:
            out[key] = values
    return out


def _complete(f, name):
    """Whether a state group holds a whole state, as the xyzmf command decides: it has the commit
    mark `complete` (schema 1.1 on), or in a 1.0 file its spins and t. A group without spins is an
    `analyze --out` copy of the analysis alone, and counts."""
    if name not in f:
        return False
    g = f[name]
    if "complete" in g.attrs:  # the mark is the integer 1
        mark = g.attrs["complete"]
        return np.ndim(mark) == 0 and np.asarray(mark).dtype.kind in "iu" and int(mark) == 1
    if "spins" not in g:
        return True
    return _text(f.attrs.get("schema_version", "")) == "1.0" and "t" in g


def split_axes(text):
    """The names in an `axes` attribute, slowest first: "y,x,component(sx,sy,sz)" ->
    ("y", "x", "component(sx,sy,sz)") (commas inside parentheses do not split)."""
    return tuple(a.strip() for a in re.split(r",(?![^(]*\))", text)) if text else ()


def _text(v):
    return v.decode() if isinstance(v, (bytes, np.bytes_)) else v


def _value(v):
    """An HDF5 attribute as plain Python: text as str, a number as int or float, arrays as numpy."""
    if isinstance(v, np.generic):
        v = v.item()
    return _text(v)
