"""load()'s xarray form: the Record of load(path, as_xarray=False) as one xarray.Dataset.

Imported only when xarray is installed and wanted. The rules, so a variable is easy to find:
- A dataset becomes a variable named by its path with "_" for "/": /final/spins -> final_spins,
  /timeseries/mean -> timeseries_mean, /final/analysis/peak_k -> final_analysis_peak_k. In
  maps, sweeps, Gaussian, quantum and DTWA files the group name is left off: /map/growth -> growth.
- Dimensions are the names in the dataset's `axes` attribute; a labelled axis such as
  component(sx,sy,sz) is the dimension `component` with those labels as coordinate, and an
  unnamed one such as (mean,stderr) the dimension `mean_stderr`. Lattice axes x, y, z have the site
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
- Variables carry CF's `units` (the file's `unit`) and `long_name`, and `axes`; counts are
  integers. A time column equal to the snapshot times (/analysis/coarsening/t) is the
  dimension `time` itself. Map axes are named after their parameter: growth is (Jy, Jx).
  A value stored with its standard error (axis mean_stderr) is two variables, NAME and
  NAME_err, like every other quantity with an error: sz and sz_err, cx and cx_err. Dataset attrs hold kind, path, provenance, the parameters with their units as
  NAME_units (Jx_units = "gamma"), and the attributes of the state groups with their path in
  front (final_stop_reason, final_analysis_phase, ...). Coded variables of maps and sweeps
  (phase, order, agree) carry CF's flag_values and flag_meanings. A complex value stored
  as (re,im) is complex. Every attribute is one netCDF can hold, so ds.to_netcdf(...)
  writes the Dataset as it is, and netcdf_form(ds) one with complex values.
"""
import numpy as np
import xarray as xr

from xarray.backends import BackendArray
from xarray.core import indexing

from .lazy import is_lazy
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
    # A value stored with its standard error, (..., mean_stderr): two variables,
    # NAME and NAME_err, as every other quantity with an error is.
    for var in [v for v in ds.data_vars if "mean_stderr" in ds[v].dims]:
        both = ds[var]
        attrs = dict(both.attrs)
        attrs["axes"] = ",".join(a for a in attrs.get("axes", "").replace("(mean,stderr)", "").split(",") if a)
        ds[var] = both.sel(mean_stderr="mean", drop=True).assign_attrs(attrs)
        ds[var + "_err"] = both.sel(mean_stderr="stderr", drop=True).assign_attrs(
            {**attrs, "long_name": "standard error of " + attrs.get("long_name", var)})
    if "mean_stderr" in ds.dims:
        ds = ds.drop_dims("mean_stderr")
    # A complex value stored as (..., (re,im)) is complex (gaussian's a_k0, quantum eigenvalues).
    for var in [v for v in ds.data_vars if "re_im" in ds[v].dims]:
        pair = ds[var]
        attrs = dict(pair.attrs)
        attrs["axes"] = ",".join(a for a in attrs.get("axes", "").split(",") if a and a != "(re" and a != "im)")
        ds[var] = (pair.sel(re_im="re", drop=True) + 1j * pair.sel(re_im="im", drop=True)).assign_attrs(attrs)
    if "re_im" in ds.dims:
        ds = ds.drop_dims("re_im")
    # Map axes named after their parameter: growth(Jy, Jx), not (y, x).
    axis_names = {a: ds.attrs.get(f"{a}_name") for a in ("x", "y")}
    rename = {a: n for a, n in axis_names.items() if isinstance(n, str) and a in ds.variables and n not in ds.variables}
    if rename:
        ds = ds.rename(rename)
        for n in rename.values():
            ds[n].attrs.update({"units": data.parameter_units.get(n, "gamma"), "long_name": n})
    for key, value in list(ds.attrs.items()):
        if isinstance(value, (bool, np.bool_)):
            ds.attrs[key] = int(value)
        elif value is None:
            del ds.attrs[key]
    return ds


def netcdf_form(ds):
    """ds with each complex variable as two real ones, NAME_real and NAME_imag (netCDF has
    no complex type): netcdf_form(ds).to_netcdf(path) writes any Dataset load() gives."""
    out = ds.copy()
    for var in [v for v in ds.data_vars if ds[v].dtype.kind == "c"]:
        value = out[var]
        del out[var]
        for part, long in (("real", "real part of "), ("imag", "imaginary part of ")):
            out[f"{var}_{part}"] = getattr(value, part).assign_attrs(
                {**value.attrs, "long_name": long + value.attrs.get("long_name", var)})
    return out


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
        self.shared_time = set()  # groups whose time column is the snapshot times
        if data.get("snapshots") is not None:
            self.sizes["time"] = len(data.snapshots.index)

    def add(self, rec, key, prefix, stacked=False):
        """Adds a Record read from group `key`; stacked: its values have a first axis `time`."""
        rename = self._time_column(rec, key, prefix, stacked)
        for name, value in rec.items():
            path, var = f"{key}/{name}", f"{prefix}_{name}" if prefix else name
            if name == "complete" or (stacked and key == "snapshots" and name == "t") or (key in self.shared_time and name == "t"):
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
                if is_lazy(value):
                    value = indexing.LazilyIndexedArray(_FileArray(value))  # read when indexed
                attrs = {"units": unit, "long_name": long_name(var, name), "axes": ",".join(axes)}
                if not is_lazy(value) and unit == "count":
                    value, attrs = _as_count(value, attrs)
                if not is_lazy(value) and name in YES_NO and _integral(np.asarray(value)) \
                        and np.isin(np.asarray(value), (0, 1)).all():
                    value, attrs = np.asarray(value).astype(bool), {**attrs, "units": "1"}  # stored as 1.0 / 0.0
                self.variables[var] = xr.Variable(dims, value, attrs)
            elif stacked:  # an attribute of every snapshot (step, or an analysis's phase): along time
                value = np.asarray(value)
                attrs = {"long_name": long_name(var, name)}
                if value.dtype.kind in "iuf":
                    attrs["units"] = ATTRIBUTE_UNITS.get(name, "1")
                    if attrs["units"] == "count":
                        value, attrs = _as_count(value, attrs)
                self.variables[var] = xr.Variable(("time",), value, attrs)
            else:
                self.attrs[var] = value

    def _time_column(self, rec, key, prefix, stacked):
        """{row axis: name} for a group whose 1-D dataset t times its rows (see the module doc)."""
        axes = self.data.axes.get(f"{key}/t", ())
        if stacked or len(axes) != 1 or np.ndim(rec.get("t")) != 1:
            return {}
        snaps = self.data.get("snapshots")
        if snaps is not None and np.shape(rec["t"]) == np.shape(snaps.t) and np.allclose(rec["t"], snaps.t, rtol=1e-12, atol=0):
            self.shared_time.add(key)  # the snapshot times: one dimension, time
            return {axes[0]: "time"}
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
                coords[dim] = (dim, self.labels[dim], {"long_name": dim.replace("_", " ")})
            elif dim == "time":
                coords[dim] = (dim, self.data.snapshots.t, {"units": "1/gamma", "long_name": "time"})
            elif dim in ("x", "y", "z"):
                coords[dim] = (dim, np.arange(n), {"units": "sites", "long_name": f"site index along {dim}"})
            elif dim in ("kx", "ky", "kz"):  # not fftshifted: k = 2 pi m / L, m = 0 .. L-1
                coords[dim] = (dim, 2 * np.pi * np.arange(n) / n,
                               {"units": "rad/site", "long_name": f"wave vector component {dim}"})
        return coords


# Units of the numbers that snapshots carry as attributes (their analyses),
# stacked along time; the datasets' units come from the file.
ATTRIBUTE_UNITS = {
    "t": "1/gamma", "dt_next": "1/gamma", "residual": "gamma", "threshold_stationary_residual": "gamma",
    "correlation_length": "sites", "vortices": "count", "antivortices": "count", "plaquettes": "count",
    "skipped_plaquettes": "count", "timeseries_rows": "count", "step": "count", "index": "1",
}

# CF long_name of a variable, by the name of its dataset or attribute; others
# get their name spelled out.
LONG_NAMES = {
    "spins": "Bloch vector (sx, sy, sz)", "mean": "lattice mean of the Bloch vector",
    "staggered": "staggered lattice mean of the Bloch vector", "residual": "max over sites of |ds/dt|",
    "t": "time", "Sxx": "structure factor S_xx(k)", "Syy": "structure factor S_yy(k)", "Szz": "structure factor S_zz(k)",
    "peak_k": "wave vector of the structure-factor peak", "period": "period of the order",
    "vortex_positions": "sXY vortex positions (plaquette centres)", "vortex_charges": "sXY vortex winding numbers",
    "vortices": "number of sXY vortices", "antivortices": "number of sXY antivortices",
    "m_perp": "transverse staggered magnetisation", "correlation_length": "correlation length",
    "phase": "phase", "order": "order found", "step": "time steps taken", "dt_next": "next time step",
    "index": "snapshot index", "timeseries_rows": "time-series rows written before the snapshot",
    "growth": "growth rate of the most unstable mode", "k": "wave vector of the most unstable mode",
    "sz": "<sz> averaged over sites", "cx": "<sx_0 sx_r>", "cy": "<sy_0 sy_r>", "cz": "<sz_0 sz_r>",
}


def long_name(var, name):
    words = LONG_NAMES.get(name, name.replace("_", " "))
    if var.startswith("snapshots_"):
        return words + " (per snapshot)"
    if var.startswith("final_"):
        return words + " (final state)"
    return words


NOT_COUNTED = -1


# Yes/no datasets that files store as 1.0 and 0.0 (the Gaussian theory's `applies` and
# `sz_converged`): booleans in a Dataset.
YES_NO = {"applies", "sz_converged"}


def _as_count(value, attrs):
    """Counts are int64 wherever they are. The file marks a point where nothing was counted
    (a sweep's vortices away from the sXY points Jx = -Jy) by NaN; here it is NOT_COUNTED,
    said in the attributes, so one integer type holds every count and netCDF keeps it."""
    v = np.asarray(value)
    if v.dtype.kind in "iu":
        return v.astype(np.int64), attrs
    missing = np.isnan(v) if v.dtype.kind == "f" else np.zeros(v.shape, bool)
    if not missing.any():
        return (v.astype(np.int64), attrs) if _integral(v) else (value, attrs)
    if not _integral(v[~missing]):
        return value, attrs
    out = np.where(missing, NOT_COUNTED, v).astype(np.int64)
    return out, {**attrs, "valid_min": np.int64(0),
                 "comment": f"{NOT_COUNTED} where nothing was counted (vortices are counted at Jx = -Jy, in 2D and 3D)"}


def _integral(value):
    v = np.asarray(value)
    return v.dtype.kind in "iu" or (v.dtype.kind == "f" and bool(np.all(np.isfinite(v))) and bool(np.all(v == np.round(v))))


class _FileArray(BackendArray):
    """A lazy array of the file (xyzmf.lazy) as xarray reads it: by basic indexing."""

    def __init__(self, lazy):
        self.lazy, self.shape, self.dtype = lazy, lazy.shape, lazy.dtype

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key):
        return np.asarray(self.lazy[key])


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
            if all(is_lazy(v) for v in values) and len({v.dtype for v in values}) == 1:
                from .lazy import LazyStack

                out[key] = LazyStack(values)  # (structure factors of large lattices: unread)
            else:
                out[key] = np.stack([np.asarray(v) for v in values])
    return out
