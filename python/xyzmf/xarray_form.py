"""load()'s xarray form: the Record of load(path, as_xarray=False) as one xarray.Dataset.

Imported only when xarray is installed and wanted. The rules, so a variable is easy to find:
- A dataset becomes a variable named by its path with "_" for "/": /final/spins -> final_spins,
  /timeseries/mean -> timeseries_mean, /final/analysis/peak_k -> final_analysis_peak_k. In
  maps, sweeps, Gaussian, quantum and DTWA files the group name is left off: /map/growth -> growth.
- Dimensions are the names in the dataset's `axes` attribute; a labelled axis such as
  component(sx,sy,sz) is the dimension `component` with those labels as coordinate, and an
  unnamed one such as (re,im) the dimension `re_im`. Lattice axes x, y, z have the site
  indices as coordinate, kx, ky, kz the wave vectors 2 pi m / L (rad/site), and the axes of
  maps and sweeps the parameter values (/map/x, /map/y).
- Snapshots are stacked along the dimension `time`, whose coordinate is their times: the
  variable snapshots_spins is (time, y, x, component). Their analyses are stacked too
  (snapshots_analysis_vortices is (time,)); what differs in length between snapshots (the
  vortex lists) is left out: it is in the numpy form, load(path, as_xarray=False).
- A group with a time column t (/timeseries, /analysis/coarsening, /quantum, /dtwa) has that column
  as the coordinate of its rows: timeseries_mean is (timeseries_t, component).
- Where one axis name would have two lengths in one file (peak_k's axis is dim long,
  vortex_positions' 3), the later variable's dimension gets its variable's name in front.
- Variables carry `unit` (as in the file), `units` (the same, the name xarray's plots use)
  and `axes`. Dataset attrs hold kind, path, provenance, the parameters with their units as
  NAME_units (Jx_units = "gamma"), and the attributes of the state groups with their path in
  front (final_stop_reason, final_analysis_phase, ...). Coded variables of maps and sweeps
  (phase, order, agree) carry CF's flag_values and flag_meanings. Every attribute is one
  netCDF can hold, so ds.to_netcdf(...) writes the Dataset as it is.
"""
import numpy as np
import xarray as xr

from .stacking import stackable

CONTENT_GROUPS = ("map", "sweep", "gaussian", "quantum", "dtwa")


def to_xarray(data):
    """The xarray.Dataset of a Record from load(path, as_xarray=False) (the rules: this module's docstring)."""
    b = _Builder(data)
    content = next((g for g in CONTENT_GROUPS if g in data), None)
    if content:
        b.add(data[content], content, "")
    else:
        for key in ("timeseries", "snapshots", "final", "analysis"):
            if data.get(key) is not None:
                b.add(data[key], key, key, stacked=key == "snapshots")
    ds = xr.Dataset(b.variables)
    ds = ds.assign_coords(b.coordinates(ds))
    ds.attrs.update({"kind": data.kind, "path": data.path, **data.provenance, **data.parameters, **b.attrs})
    # netCDF attributes are numbers, strings and their arrays: a parameter's unit is an
    # attribute of its own (Jx_units = "gamma"), and a code table is CF's flag_values and
    # flag_meanings on the variable it codes (phase, order, agree, ...).
    for name, unit in data.parameter_units.items():
        ds.attrs[f"{name}_units"] = unit
    for coded, table in (data.codes or {}).items():
        for var in ds.data_vars:
            if var == coded or var.endswith("_" + coded):
                keys = sorted(table)
                ds[var].attrs["flag_values"] = np.array(keys, dtype=ds[var].dtype if ds[var].dtype.kind in "iu" else np.int64)
                ds[var].attrs["flag_meanings"] = " ".join(table[k].replace(" ", "_") for k in keys)
    if content == "gaussian" and "x" in ds.dims and "y" in ds.dims and ds.sizes["x"] == ds.sizes["y"] == 1:
        # one point, not a map: its values as scalars (x and y stay as scalar coordinates)
        ds = ds.squeeze(("x", "y"))
    for key, value in list(ds.attrs.items()):
        if isinstance(value, (bool, np.bool_)):
            ds.attrs[key] = int(value)
        elif value is None:
            del ds.attrs[key]
    return ds


def parse_axis(axis):
    """One name of an `axes` attribute as (dimension, labels): "component(sx,sy,sz)" ->
    ("component", ["sx", "sy", "sz"]), "(re,im)" -> ("re_im", ["re", "im"]), "y" -> ("y", None)."""
    if "(" not in axis:
        return axis, None
    name, rest = axis.split("(", 1)
    labels = [s.strip() for s in rest.rstrip(")").split(",")]
    return name.strip() or "_".join(labels), labels


class _Builder:
    """Collects variables, their dimensions (one length and label list per name) and attrs."""

    def __init__(self, data):
        self.data = data
        self.variables, self.attrs = {}, {}
        self.sizes, self.labels = {}, {}
        if data.get("snapshots") is not None:
            self.sizes["time"] = len(data.snapshots.index)

    def add(self, rec, key, prefix, stacked=False):
        """Adds a Record read from group `key`; stacked: its values have a first axis `time`."""
        rename = self._time_column(rec, key, prefix, stacked)
        for name, value in rec.items():
            path, var = f"{key}/{name}", f"{prefix}_{name}" if prefix else name
            if name == "complete" or (stacked and key == "snapshots" and name == "t"):
                continue  # commit marks (every state loaded is complete); the time coordinate itself
            if isinstance(value, dict):
                self.add(value, path, var, stacked)
            elif isinstance(value, list) and all(v is None or isinstance(v, dict) for v in value):
                # per-snapshot Records: analysis, structure_factor
                self.add(_stack(value), path, var, stacked=True)
            elif path in self.data.axes:
                axes = self.data.axes[path]
                if stacked and np.ndim(value) == len(axes) + 1:
                    axes = ("time",) + axes
                dims = self._dims(var, [rename.get(a, a) for a in axes], np.shape(value))
                unit = self.data.units.get(path, "")
                self.variables[var] = xr.Variable(dims, value, {"unit": unit, "units": unit, "axes": ",".join(axes)})
            elif stacked:  # an attribute of every snapshot (step, or an analysis's phase): along time
                self.variables[var] = xr.Variable(("time",), np.asarray(value))
            else:
                self.attrs[var] = value

    def _time_column(self, rec, key, prefix, stacked):
        """{row axis: name} for a group whose 1-D dataset t times its rows (see the module doc)."""
        axes = self.data.axes.get(f"{key}/t", ())
        if stacked or len(axes) != 1 or np.ndim(rec.get("t")) != 1:
            return {}
        return {axes[0]: f"{prefix}_t" if prefix else "t"}

    def _dims(self, var, axes, shape):
        if len(axes) != len(shape):  # a file without `axes` attributes
            return tuple(f"{var}_dim{i}" for i in range(len(shape)))
        dims = []
        for axis, n in zip(axes, shape):
            name, labels = parse_axis(axis)
            if labels is not None:
                labels = labels[:n]  # axis(x,y,z) of a 2D lattice's peak_k: x, y
            if name in self.sizes and (self.sizes[name], self.labels.get(name)) != (n, labels):
                name = f"{var}_{name}"
            self.sizes[name], self.labels[name] = n, labels
            dims.append(name)
        return tuple(dims)

    def coordinates(self, ds):
        """Index coordinates of the dimensions that lack a variable of their own name."""
        coords = {}
        for dim, n in ds.sizes.items():
            if dim in ds.variables:
                continue
            if self.labels.get(dim) is not None:
                coords[dim] = (dim, self.labels[dim])
            elif dim == "time":
                coords[dim] = (dim, self.data.snapshots.t, {"unit": "1/gamma", "units": "1/gamma"})
            elif dim in ("x", "y", "z"):
                coords[dim] = (dim, np.arange(n), {"unit": "sites", "units": "sites"})
            elif dim in ("kx", "ky", "kz"):  # not fftshifted: k = 2 pi m / L, m = 0 .. L-1
                coords[dim] = (dim, 2 * np.pi * np.arange(n) / n, {"unit": "rad/site", "units": "rad/site"})
        return coords


def _stack(records):
    """Per-snapshot Records (None where a snapshot has none) as one Record of arrays with a
    first axis time; what is missing somewhere or differs in shape is left out."""
    if any(r is None for r in records):
        return {}
    out = {}
    for key in records[0]:
        values = [r.get(key) for r in records]
        if all(isinstance(v, dict) for v in values):
            out[key] = _stack(values)
        elif all(isinstance(v, str) for v in values):
            out[key] = np.array(values)
        elif stackable(values):
            out[key] = np.stack([np.asarray(v) for v in values])
    return out
