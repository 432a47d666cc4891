"""xyzmf.files and xyzmf.fields against files the program writes: load() gives the arrays
h5py reads, with the units and axis names the files carry; psi and its vortices are those of
docs/physics.md section 5, found where the program's own analysis finds them; a foreign or
missing file is refused in one line "PATH: why". Needs only numpy and h5py (the xarray
checks are skipped without xarray) and the xyzmf program: XYZMF_EXE, else build/xyzmf."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from xyzmf import codes, fields, files

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.environ.get("XYZMF_EXE", os.path.join(REPO, "build", "xyzmf"))


def xyzmf(*args):
    if not os.access(EXE, os.X_OK):
        pytest.fail(f"{EXE}: no xyzmf program (build it, or name it in XYZMF_EXE)")
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def sxy(tmp_path_factory):
    """An sXY run from a random state on a 12 x 10 lattice (not square: x and y cannot be
    swapped unnoticed), 5 snapshots, every state analysed by the program."""
    path = tmp_path_factory.mktemp("run") / "sxy.h5"
    xyzmf("run", "-q", "--backend", "cpu", "--Jx", 1, "--Jy", -1, "--Jz", 0, "--size", "12x10", "--seed", 4,
          "--t-end", 2, "--snapshot-every", 0.5, "--analyze", "-o", path)
    return path


def planted_sxy(psi_of, Lx, Ly, Jx, Jy, amp=0.5):
    """Spins (Ly, Lx, 3) whose sXY phase field is psi_of(x, y), as tests/test_analysis.cpp
    plants them: A sites point along psi, B sites along the direction whose M-image is psi."""
    y, x = np.indices((Ly, Lx)).astype(float)
    p = psi_of(x, y)
    b = (x + y) % 2 == 1
    ux, uy = np.where(b, np.sin(p) / Jx, np.cos(p)), np.where(b, -np.cos(p) / Jy, np.sin(p))
    r = np.hypot(ux, uy)
    return np.stack([amp * ux / r, amp * uy / r, np.full(p.shape, -np.sqrt(1 - amp ** 2))], axis=-1)


# ---- the numpy form: the file's arrays, units and axes --------------------------------------

def test_load_gives_the_arrays_h5py_reads(sxy):
    d = files.load(sxy, as_xarray=False)
    with h5py.File(sxy, "r") as f:
        names = sorted(f["snapshots"])
        assert d.kind == "run" and d.provenance.command_line == f.attrs["command_line"]
        assert list(d.snapshots.index) == [int(n) for n in names]
        for k, n in enumerate(names):
            assert np.array_equal(d.snapshots.spins[k], f[f"snapshots/{n}/spins"][...])
            assert d.snapshots.t[k] == f[f"snapshots/{n}/t"][()]
        assert np.array_equal(d.final.spins, f["final/spins"][...])
        assert d.final.stop_reason == f["final"].attrs["stop_reason"]
        for key in ("t", "mean", "staggered", "residual"):
            assert np.array_equal(d.timeseries[key], f["timeseries"][key][...])
        assert d.final.analysis.vortices == f["final/analysis"].attrs["vortices"]
        assert np.array_equal(d.analysis.coarsening.vortices, f["analysis/coarsening/vortices"][...])
    assert d.snapshots.spins.shape == (5, 10, 12, 3)  # (time, y, x, component): x fastest
    assert list(d.parameters.sizes) == [12, 10] and d.parameters.Jy == -1.0
    assert d.final.spins is d["final"]["spins"]  # attribute access is the dict's


def test_units_and_axes_come_with_the_data(sxy):
    d = files.load(sxy, as_xarray=False)
    assert d.parameter_units["Jx"] == "gamma" and d.parameter_units["t_end"] == "1/gamma"
    assert d.parameter_units["sizes"] == "sites"
    assert d.units["final/spins"] == "1" and d.units["timeseries/residual"] == "gamma"
    assert d.units["timeseries/t"] == "1/gamma" and d.units["final/analysis/peak_k"] == "rad/site"
    assert d.axes["final/spins"] == ("y", "x", "component(sx,sy,sz)")
    assert d.axes["snapshots/spins"] == ("time", "y", "x", "component(sx,sy,sz)")


def test_states_are_bloch_vectors(sxy):
    # docs/physics.md section 2: |s_n| <= 1 (the program refuses to store more than 1 + norm_tol)
    d = files.load(sxy, as_xarray=False)
    for s in list(d.snapshots.spins) + [d.final.spins]:
        assert np.linalg.norm(s, axis=-1).max() <= 1 + d.parameters.norm_tol
    assert np.linalg.norm(d.snapshots.spins[0], axis=-1).min() < 0.9  # t = 0: random in the ball, not on the sphere


# ---- the xarray form ------------------------------------------------------------------------

def test_xarray_dimensions_coordinates_and_units(sxy):
    xr = pytest.importorskip("xarray")
    ds = files.load(sxy)
    assert isinstance(ds, xr.Dataset)
    assert ds.snapshots_spins.dims == ("time", "y", "x", "component")
    assert list(ds.component.values) == ["sx", "sy", "sz"]
    assert list(ds.x.values) == list(range(12)) and list(ds.y.values) == list(range(10))
    with h5py.File(sxy, "r") as f:
        times = [f[f"snapshots/{n}/t"][()] for n in sorted(f["snapshots"])]
        assert np.array_equal(ds.time.values, times)
        assert np.array_equal(ds.snapshots_spins.sel(time=1.0, component="sz").values,
                              f["snapshots/000002/spins"][..., 2])
        # records at the snapshot times: one time dimension for both
        assert np.array_equal(f["timeseries/t"][...], times)
    assert ds.timeseries_mean.dims == ("time", "component") and "timeseries_t" not in ds.variables
    assert ds.snapshots_spins.attrs["units"] == "1" and ds.timeseries_residual.attrs["units"] == "gamma"
    assert "unit" not in ds.snapshots_spins.attrs  # CF's name only
    for name, v in ds.variables.items():  # CF: every variable says what it is, numbers their units
        assert v.attrs.get("long_name"), name
        assert v.dtype.kind not in "fiu" or "units" in v.attrs, name
    assert ds.attrs["Jx"] == 1.0 and ds.attrs["Jx_units"] == "gamma" and ds.attrs["t_end_units"] == "1/gamma"
    assert ds.attrs["final_stop_reason"] == "reached t_end"


def test_xarray_wave_vectors_are_those_of_the_structure_factor(sxy):
    # docs/hdf5-layout.md: S^xx(k) = (1/N) |sum_n exp(-i k.r_n) x_n|^2, k_l = 2 pi m_l / L_l (not fftshifted);
    # the coordinates kx, ky must be the k at which the stored numbers are that sum
    pytest.importorskip("xarray")
    ds = files.load(sxy)
    sxx = ds.final_structure_factor_Sxx
    assert sxx.dims == ("ky", "kx") and sxx.attrs["units"] == "1"
    x = ds.final_spins.sel(component="sx")
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    for kx, ky in ((0.0, 0.0), (ds.kx.values[3], ds.ky.values[2]), (ds.kx.values[6], ds.ky.values[5])):
        want = abs(np.sum(np.exp(-1j * (kx * X + ky * Y)) * x.values)) ** 2 / x.size
        assert float(sxx.sel(kx=kx, ky=ky)) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_xarray_three_dimensional_lattice(tmp_path):
    pytest.importorskip("xarray")
    path = tmp_path / "cube.h5"
    xyzmf("run", "-q", "--backend", "cpu", "--size", "4x5x6", "--Jx", 2, "--Jz", 1, "--t-end", 0.2, "-o", path)
    ds = files.load(path)
    assert ds.snapshots_spins.dims == ("time", "z", "y", "x", "component")
    assert (ds.sizes["x"], ds.sizes["y"], ds.sizes["z"]) == (4, 5, 6)


def test_as_xarray_true_without_xarray_says_so(sxy, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now fails
    with pytest.raises(ImportError, match="needs xarray"):
        files.load(sxy, as_xarray=True)
    assert isinstance(files.load(sxy), files.Record)  # the default falls back to numpy


# ---- psi and vortices (docs/physics.md section 5) --------------------------------------------

def test_psi_of_a_planted_vortex_winds_once_around_its_core():
    # tests/test_analysis.cpp SingleVortexCoreIsTheOnlyInteriorWinding, in Python
    core = (15.7, 14.2)
    s = planted_sxy(lambda x, y: np.arctan2(y - core[1], x - core[0]), 30, 30, 1.0, -1.0)
    psi = fields.psi(s, 1.0, -1.0, min_amplitude=0.02)
    y, x = np.indices((30, 30))
    planted = np.arctan2(y - core[1], x - core[0])
    assert np.allclose(np.angle(np.exp(1j * (psi - planted))), 0, atol=1e-12)  # psi is the planted angle
    pos, q = fields.vortices(psi)
    inside = (pos[:, 0] > 3) & (pos[:, 0] < 27) & (pos[:, 1] > 3) & (pos[:, 1] < 27)
    assert pos[inside].tolist() == [[15.5, 14.5]] and q[inside].tolist() == [1]
    assert q.sum() == 0  # on a torus vortices and antivortices come in equal numbers
    # the plain spin angle alternates between the sublattices: no vortex detector, it winds in many places
    plain = fields.plaquette_windings(np.arctan2(s[..., 1], s[..., 0]))
    assert np.count_nonzero(plain) > 10 * len(q)


def test_planted_pair_is_where_the_programs_analysis_finds_it(tmp_path):
    # Jx != -Jy, so the B-site rule atan2(Jx x, -Jy y) matters (tests/test_analysis.cpp PlantedPairIsFoundExactly)
    path = tmp_path / "pair.h5"
    xyzmf("run", "-q", "--backend", "cpu", "--size", "24x20", "--Jx", 1, "--Jy", -2, "--Jz", 0, "--t-end", 0.01,
          "-o", path)
    s = planted_sxy(lambda x, y: np.arctan2(y - 9.6, x - 7.3) - np.arctan2(y - 10.4, x - 15.8), 24, 20, 1.0, -2.0)
    with h5py.File(path, "r+") as f:
        f["final/spins"][...] = s
    xyzmf("analyze", path)
    d = files.load(path, as_xarray=False)
    pos, q = fields.vortices(fields.psi(d.final.spins, d.parameters.Jx, d.parameters.Jy, 0.02))
    assert pos.tolist() == [[7.5, 9.5], [15.5, 10.5]] and q.tolist() == [1, -1]
    a = d.final.analysis
    assert np.array_equal(a.vortex_positions[:, :2], pos) and np.array_equal(a.vortex_charges, q)
    assert (a.vortices, a.antivortices) == (1, 1)


def test_vortices_of_a_coarsening_run_are_the_programs(sxy):
    d = files.load(sxy, as_xarray=False)
    states = list(zip(d.snapshots.spins, d.snapshots.analysis)) + [(d.final.spins, d.final.analysis)]
    counted = 0
    for s, a in states:
        pos, q = fields.vortices(fields.psi(s, d.parameters.Jx, d.parameters.Jy, a.threshold_vortex_amplitude))
        assert ((q > 0).sum(), (q < 0).sum()) == (a.vortices, a.antivortices)
        assert np.array_equal(pos, a.vortex_positions.reshape(-1, 3)[:, :2])
        counted += len(q)
    assert counted > 0  # a random start has vortices to compare


def test_plane_vortices_of_a_3d_state_lie_on_the_z0_plane(tmp_path):
    path = tmp_path / "cube.h5"
    xyzmf("run", "-q", "--backend", "cpu", "--size", 8, "--dim", 3, "--Jx", 1, "--Jy", -1, "--Jz", 0,
          "--t-end", 0.5, "--analyze", "-o", path)
    d = files.load(path, as_xarray=False)
    pos, q = fields.plane_vortices(d.final.analysis, 3)
    plane = fields.psi(d.final.spins[0], 1.0, -1.0, d.final.analysis.threshold_vortex_amplitude)
    want_pos, want_q = fields.vortices(plane)  # the z = 0 plane on its own: the same plaquettes
    assert np.array_equal(pos[:, :2], want_pos) and np.array_equal(q, want_q) and np.all(pos[:, 2] == 0)


def test_stationary_states_have_no_ds_dt():
    # physics.md 3.1: all spins down is stationary; 3.6: at Jx = 2, Jy = 0, Jz = 1, gamma = 1 the
    # uniform fixed point is z* = -1/4, |x*| = |y*| = sqrt(3)/4 (sign pair: y* = (2/G)(Jz - Jx) x* z*)
    p = dict(Jx=2.0, Jy=0.0, Jz=1.0, gamma=1.0, gamma_phi=0.0)
    down = np.zeros((6, 8, 3))
    down[..., 2] = -1
    assert np.abs(fields.ds_dt(down, p)).max() == 0
    fm = np.empty((6, 8, 3))
    fm[...] = (np.sqrt(3) / 4, np.sqrt(3) / 4, -0.25)
    assert np.abs(fields.ds_dt(fm, p)).max() < 1e-15
    assert np.allclose(fields.effective_field(fm, p), fm * [2, 0, 1])  # uniform: h = (Jx x, Jy y, Jz z)


# ---- maps, sweeps and their codes -------------------------------------------------------------

def test_codes_are_the_files_tables_and_name_the_predicted_phases(tmp_path):
    xyzmf("stability", "--x", "Jx:-2:2:3", "--y", "Jy:0:1:2", "--Jz", 1, "-o", tmp_path / "map.h5")
    xyzmf("sweep", "-q", "--backend", "cpu", "--x", "Jx:-2:2:2", "--y", "Jy:0:1:2", "--Jz", 1, "--size", 4,
          "--t-end", 1, "-o", tmp_path / "sweep.h5")
    m = files.load(tmp_path / "map.h5", as_xarray=False)
    s = files.load(tmp_path / "sweep.h5", as_xarray=False)
    assert s.codes == {"phase": codes.PHASE_NAMES, "order": codes.ORDER_NAMES, "agree": codes.AGREE_NAMES}
    assert m.codes["phase"].items() <= codes.PHASE_NAMES.items()
    # physics.md 3.5: at Jz = 1, Jy = 0 the k = 0 mode grows for Jx = 2 (FM), k = pi for Jx = -2 (AFM)
    x, y = list(m.map.x), list(m.map.y)
    assert codes.PHASE_NAMES[m.map.phase[y.index(0.0), x.index(2.0)]] == "FM"
    assert codes.PHASE_NAMES[m.map.phase[y.index(0.0), x.index(-2.0)]] == "AFM"
    assert m.parameters.x_name == "Jx" and m.units["map/growth"] == "gamma"
    assert s.axes["sweep/phase"] == ("y", "x", "replica")
    xr = pytest.importorskip("xarray")
    ds = files.load(tmp_path / "sweep.h5")
    # map axes named after their parameters
    assert isinstance(ds, xr.Dataset) and ds.phase.dims == ("Jy", "Jx", "replica")
    assert np.array_equal(ds.Jx.values, s.sweep.x) and ds.attrs["x_name"] == "Jx" and ds.Jx.attrs["units"] == "gamma"


def test_quantum_and_gaussian_files(tmp_path):
    xyzmf("quantum", "--sites", 3, "--Jx", 2, "--Jy", 1, "--Jz", 1, "--method", "exact", "--series",
          "-o", tmp_path / "q.h5")
    xyzmf("gaussian", "--Jx", 0.2, "--Jy", 0.1, "--Jz", 1, "--size", 6, "-o", tmp_path / "g.h5")
    q = files.load(tmp_path / "q.h5", as_xarray=False)
    assert q.kind == "quantum exact"
    for c in ("cx", "cy", "cz"):  # C_a(0) = <sa_m sa_m> = 1 for Pauli matrices
        assert q.quantum[c][0] == pytest.approx(1, abs=1e-12)
    assert q.axes["quantum/cx"] == ("r",) and q.units["quantum/t"] == "1/gamma"
    g = files.load(tmp_path / "g.h5", as_xarray=False)
    assert g.gaussian.modes.poles.shape[1:] == (2, 2) and g.axes["gaussian/modes/poles"] == ("mode", "pole", "(re,im)")
    pytest.importorskip("xarray")
    dq, dg = files.load(tmp_path / "q.h5"), files.load(tmp_path / "g.h5")
    assert dq.sz_t.dims == ("t",) and np.array_equal(dq.t.values, q.quantum.t)
    # complex values are complex; netcdf_form writes them as real and imaginary parts
    assert dg.modes_poles.dims == ("mode", "pole") and dg.modes_poles.dtype == np.complex128
    poles = g.gaussian.modes.poles
    assert np.array_equal(dg.modes_poles.values, poles[..., 0] + 1j * poles[..., 1])
    assert dg.a_k0.dtype == np.complex128 and "re_im" not in dg.dims
    from xyzmf import netcdf_form
    import xarray
    netcdf_form(dg).to_netcdf(tmp_path / "g.nc")
    with xarray.open_dataset(tmp_path / "g.nc") as back:
        assert np.array_equal(back.modes_poles_real.values, poles[..., 0])
        assert np.array_equal(back.modes_poles_imag.values, poles[..., 1])


# ---- refusals: one line "PATH: why" -----------------------------------------------------------

def test_missing_foreign_and_non_hdf5_files_are_refused_in_one_line(tmp_path):
    foreign, text = tmp_path / "foreign.h5", tmp_path / "notes.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = [1, 2, 3]
    text.write_text("not HDF5\n")
    for path, why in ((tmp_path / "missing.h5", "no such file"),
                      (foreign, 'not an xyzmf file (no schema = "xyzmf" attribute)'),
                      (text, "not an HDF5 file (or unreadable)")):
        with pytest.raises(files.FileError) as e:
            files.load(path)
        assert str(e.value) == f"{path}: {why}" and "\n" not in str(e.value)
        assert isinstance(e.value, OSError) and e.value.path == str(path)


def test_a_group_the_caller_needs_is_named_when_missing(sxy):
    with pytest.raises(files.FileError, match=r"sxy\.h5: has no /map \(not a stability map"):
        files.open_file(sxy, "map")
    with pytest.raises(files.FileError, match=r": not a sweep file$"):
        files.open_file(sxy, "sweep", what="a sweep file")


def test_pick_state_final_snapshot_or_the_last_snapshot(sxy, tmp_path):
    with files.open_file(sxy) as f:
        assert files.pick_state(f) == "/final"
        assert files.pick_state(f, 2) == "/snapshots/000002"
        with pytest.raises(files.FileError, match=r"sxy\.h5: no snapshot 9 \(have \['000000', "):
            files.pick_state(f, 9)
    cut = tmp_path / "killed.h5"
    cut.write_bytes(sxy.read_bytes())
    with h5py.File(cut, "r+") as f:  # as a run killed before its end leaves it
        del f["final"]
    with files.open_file(cut) as f:
        assert files.pick_state(f) == "/snapshots/000004"
    assert files.load(cut, as_xarray=False).final is None


def test_load_of_a_torn_file_raises_file_error_naming_repair(tmp_path):
    """A kill during a flush can leave a file whose metadata h5py cannot walk; load() says so in
    one line (FileError), not with h5py's KeyError or RuntimeError."""
    import xyzmf as package
    out = tmp_path / "run.h5"
    package.run(out, size=8, t_end=1, snapshot_every=0.1)
    with h5py.File(out, "r") as f:
        addr = h5py.h5o.get_info(f["snapshots"].id).addr
    with open(out, "r+b") as fh:  # the prefix of /snapshots' object header, as a torn flush leaves it
        fh.seek(addr)
        fh.write(b"\xa5" * 16)
    with pytest.raises(files.FileError) as e:
        package.load(out, as_xarray=False)
    assert "xyzmf repair" in str(e.value) and "\n" not in str(e.value)


def test_a_finished_file_salvaged_with_its_final_state_stays_finished(tmp_path):
    """repair without a journal keeps what reads; a finished run whose /final survived stays
    finished (saying what was lost), so that --resume has nothing to do and --continue-from
    carries it on; one that lost its /final is not finished any more."""
    out = tmp_path / "fin.h5"
    r = subprocess.run([EXE, "run", "-q", "--size", "8", "--t-end", "2", "--snapshot-every", "0.5", "-o", out])
    assert r.returncode == 0
    with h5py.File(out, "r") as f:
        addr = {k: h5py.h5o.get_info(f[k].id).addr for k in ("snapshots/000002", "final")}
    for lost, status in (("snapshots/000002", "finished: reached t_end; salvaged by xyzmf repair (1 part(s) lost)"),
                         ("final", "interrupted; salvaged by xyzmf repair")):
        torn = tmp_path / f"torn-{lost.replace('/', '-')}.h5"
        torn.write_bytes(out.read_bytes())
        with open(torn, "r+b") as fh:
            fh.seek(addr[lost])
            fh.write(b"\xa5" * 16)
        fixed = tmp_path / f"fixed-{lost.replace('/', '-')}.h5"
        r = subprocess.run([EXE, "repair", torn, "-o", fixed], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with h5py.File(fixed, "r") as f:
            assert str(f.attrs["status"]).startswith(status), (lost, f.attrs["status"])
        if lost != "final":  # carried on from its whole /final, as the resume's note says
            r = subprocess.run([EXE, "run", "--resume", fixed], capture_output=True, text=True)
            assert r.returncode == 0 and "--continue-from" in r.stdout, r.stdout + r.stderr
            r = subprocess.run([EXE, "run", "-q", "--continue-from", fixed, "--t-end", "3"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            with h5py.File(fixed, "r") as f:
                assert f["final/t"][()] == 3


def test_xarray_datasets_round_trip_through_netcdf(sxy, tmp_path):
    # Every attribute must be one netCDF holds (a dict attribute made to_netcdf raise TypeError).
    xr = pytest.importorskip("xarray")
    ds = files.load(sxy)
    ds.to_netcdf(tmp_path / "run.nc")
    back = xr.open_dataset(tmp_path / "run.nc")
    assert np.array_equal(back.snapshots_spins.values, ds.snapshots_spins.values)
    assert back.attrs["Jx_units"] == "gamma" and back.snapshots_spins.attrs["units"] == "1"
    back.close()
    xyzmf("sweep", "-q", "--x", "Jx:-2:2:3", "--y", "Jy:-2:2:3", "--Jz", 1, "--size", 8, "--t-end", 5,
          "--backend", "cpu", "-o", tmp_path / "s.h5")
    files.load(tmp_path / "s.h5").to_netcdf(tmp_path / "s.nc")
    back = xr.open_dataset(tmp_path / "s.nc")
    meanings = back.phase.attrs["flag_meanings"].split()
    assert "PM" in meanings and len(meanings) == len(back.phase.attrs["flag_values"])
    for code in np.unique(back.phase.values):  # every code in the map is named
        assert code in list(back.phase.attrs["flag_values"])
    back.close()


def test_a_gaussian_point_says_why_it_does_not_apply_and_gives_scalars(tmp_path):
    pytest.importorskip("xarray")
    xyzmf("gaussian", "--Jx", 3, "--Jy", 0.3, "--Jz", 1, "-o", tmp_path / "off.h5")  # PM unstable here
    ds = files.load(tmp_path / "off.h5")
    assert ds.attrs["reason"].startswith("the paramagnet is unstable (mode u = 1 grows at rate")
    assert ds.applies.ndim == 0 and float(ds.applies) == 0 and np.isnan(float(ds.relaxation_rate))
    xyzmf("gaussian", "--Jx", 0.5, "--Jy", 0.3, "--Jz", 1, "-o", tmp_path / "on.h5")
    ds = files.load(tmp_path / "on.h5")
    assert "reason" not in ds.attrs and float(ds.applies) == 1
    assert ds.sz.ndim == 0 and -1 < float(ds.sz) < -0.99 and float(ds.Jx) == 0.5  # Jx on the x axis


def test_an_analysed_run_has_one_time_axis_and_integer_counts(tmp_path):
    pytest.importorskip("xarray")
    import xyzmf as package  # (this module's xyzmf is the program's path)

    ds = package.run(tmp_path / "a.h5", size=16, t_end=4, Jx=1, Jy=-1, analyze=True)
    # the coarsening table is per snapshot: along time, not a time column of its own
    assert ds.analysis_coarsening_vortices.dims == ("time",) and "analysis_coarsening_t" not in ds.variables
    for name in ("analysis_coarsening_vortices", "snapshots_analysis_vortices", "snapshots_analysis_antivortices"):
        assert ds[name].dtype == np.int64, name
    assert np.array_equal(ds.analysis_coarsening_vortices.values, ds.snapshots_analysis_vortices.values)
    assert ds.snapshots_analysis_correlation_length.attrs["units"] == "sites"
    ds.to_netcdf(tmp_path / "a.nc")


def test_a_sweep_counts_vortices_in_integers_where_it_counted_none_too(tmp_path):
    pytest.importorskip("xarray")
    import xyzmf as package

    # vortices are counted at the sXY point (1, -1, 0), not at (1, 1, 0)
    ds = package.sweep(tmp_path / "s.h5", x="Jx:1:1:1", y="Jy:-1:1:2", Jz=0, size=16, t_end=30)
    counted = ds.vortices.sel(Jy=-1.0).values
    assert ds.vortices.dtype == np.int64 and (counted >= 0).all() and (ds.vortices.sel(Jy=1.0).values == -1).all()
    assert ds.vortices.attrs["comment"].startswith("-1 where nothing was counted")
    with h5py.File(tmp_path / "s.h5") as f:  # the file's own numbers, NaN where none was counted
        assert np.array_equal(f["sweep/vortices"][...].ravel()[:1], counted.ravel()) and np.isnan(f["sweep/vortices"][...].ravel()[1])
    ds.to_netcdf(tmp_path / "s.nc")


def test_lazy_load_reads_only_what_is_indexed(tmp_path):
    pytest.importorskip("xarray")
    import xyzmf as package
    from xyzmf.lazy import LazyStack

    path = tmp_path / "big.h5"
    package.run(path, size=96, t_end=1, snapshot_every=0.25, Jx=1, Jy=-1, analyze=True)  # spins 216 KiB each
    eager, lazy = files.load(path), files.load(path, lazy=True)
    assert not isinstance(lazy.snapshots_spins.variable._data, np.ndarray)  # nothing read yet
    for name in ("snapshots_spins", "final_spins", "snapshots_structure_factor_Sxx"):
        assert lazy[name].dims == eager[name].dims, name
    assert np.array_equal(lazy.snapshots_spins.isel(time=2).values, eager.snapshots_spins.isel(time=2).values)
    assert np.array_equal(lazy.snapshots_spins.sel(component="sz")[:, 5:9, ::7].values,
                          eager.snapshots_spins.sel(component="sz")[:, 5:9, ::7].values)
    assert np.array_equal(lazy.final_spins.values, eager.final_spins.values)
    rec = files.load(path, lazy=True, as_xarray=False)
    assert isinstance(rec.snapshots.spins, LazyStack) and rec.snapshots.spins.shape == (5, 96, 96, 3)
    assert np.array_equal(rec.snapshots.spins[-1, ..., 0], eager.snapshots_spins.values[-1, ..., 0])
    lazy.to_netcdf(tmp_path / "big.nc")  # written by reading as it goes
