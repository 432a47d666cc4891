"""The Python functions run the program's own command line: same states, same
defaults, same refusals; they release the GIL, report progress, and stop
cleanly on Ctrl-C. Run by CTest (python.Package) with the build's package first
on PYTHONPATH and XYZMF_EXE naming the program built beside it."""

import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading

import h5py
import numpy as np
import pytest

import xyzmf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.environ.get("XYZMF_EXE", os.path.join(REPO, "build", "xyzmf"))


def cli(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)


def spins(path, where="final"):
    with h5py.File(path, "r") as f:
        return f[f"{where}/spins"][...]


def test_same_state_as_the_program_bit_for_bit(tmp_path):
    opts = dict(size=(12, 10), Jx=0.9, Jy=1.0, Jz=1.0, t_end=3, seed=5)
    xyzmf.run(tmp_path / "py.h5", **opts)
    r = cli("run", "-q", "--size", "12x10", "--Jx", 0.9, "--Jy", 1.0, "--Jz", 1.0, "--t-end", 3, "--seed", 5,
            "-o", tmp_path / "cli.h5")
    assert r.returncode == 0, r.stderr
    a, b = spins(tmp_path / "py.h5"), spins(tmp_path / "cli.h5")
    assert a.shape == (10, 12, 3)
    assert np.array_equal(a, b)


def test_defaults_are_the_programs(tmp_path):
    xyzmf.run(tmp_path / "py.h5", t_end=0.5)
    assert cli("run", "-q", "--t-end", 0.5, "-o", tmp_path / "cli.h5").returncode == 0
    with h5py.File(tmp_path / "py.h5", "r") as p, h5py.File(tmp_path / "cli.h5", "r") as c:
        assert dict(p["parameters"].attrs).keys() == dict(c["parameters"].attrs).keys()
        for key, value in c["parameters"].attrs.items():
            if key not in ("output", "command_line"):
                assert np.array_equal(p["parameters"].attrs[key], value), key


def test_free_decay_through_python():
    # No couplings: every Bloch vector decays on its own, s_x(t) = s_x(0) e^{-t/2}
    # and s_z(t) = -1 + (s_z(0) + 1) e^{-t} (units of 1/gamma).
    run = xyzmf.run(size=4, t_end=2.0, dt=0.001, init="uniform:0.6,0,0", as_xarray=False)
    s = np.asarray(run["final"]["spins"] if isinstance(run, dict) else run.final.spins)
    assert s[..., 0] == pytest.approx(0.6 * math.exp(-1.0), abs=1e-9)
    assert s[..., 1] == pytest.approx(0.0, abs=1e-12)
    assert s[..., 2] == pytest.approx(-1 + math.exp(-2.0), abs=1e-9)


def test_a_call_leaves_the_process_making_subnormals():
    # A command flushes subnormals while it runs (a decayed spin component costs ~100
    # cycles an operation otherwise) and puts the caller's mode back: numpy in this
    # process, on this thread and on others, still halves the smallest normal double.
    # A progress callback, the caller's code inside the call, computes as its caller does.
    smallest = np.finfo(np.float64).tiny
    in_callback = []
    xyzmf.run(size=4, t_end=0.1, threads=2, as_xarray=False,
              progress=lambda report: in_callback.append(float(smallest * np.float64(0.5))))
    assert in_callback and all(h > 0 for h in in_callback), in_callback
    assert smallest * np.float64(0.5) > 0
    halves = []
    t = threading.Thread(target=lambda: halves.append(float(smallest * np.float64(0.5))))
    t.start()
    t.join()
    assert halves[0] > 0


@pytest.mark.parametrize("options, cli_args", [
    (dict(dt=-1), ["--dt", "-1"]),
    (dict(size="7x"), ["--size", "7x"]),
    (dict(gamma=-2), ["--gamma", "-2"]),
])
def test_refusals_are_the_programs_one_line_in_python_words(tmp_path, options, cli_args):
    r = cli("run", "-q", *cli_args, "-o", tmp_path / "cli.h5")
    assert r.returncode == 2
    with pytest.raises(ValueError) as e:  # a bad value: ValueError, and an xyzmf.Error
        xyzmf.run(tmp_path / "py.h5", **options)
    assert isinstance(e.value, xyzmf.Error) and isinstance(e.value, xyzmf.UsageError)
    assert e.value.exit_code == r.returncode
    program = r.stderr.strip().removeprefix("xyzmf: error: ")
    assert str(e.value) == program.replace(cli_args[0], list(options)[0])  # "--dt: ..." -> "dt: ..."
    assert "--" not in str(e.value)
    assert not (tmp_path / "py.h5").exists()


def test_unknown_keywords_are_type_errors_and_files_os_errors(tmp_path):
    with pytest.raises(TypeError) as e:
        xyzmf.run(tmp_path / "py.h5", tend=100)
    assert isinstance(e.value, xyzmf.OptionError) and isinstance(e.value, xyzmf.Error)
    assert str(e.value).startswith("run() got unexpected keyword argument 'tend'") and e.value.exit_code == 2
    xyzmf.run(tmp_path / "py.h5", size=4, t_end=0.1)
    with pytest.raises(OSError) as e:
        xyzmf.run(tmp_path / "py.h5", size=4, t_end=0.1)
    assert isinstance(e.value, xyzmf.FileError) and e.value.exit_code == 3
    assert "pass overwrite=True" in str(e.value) and "--overwrite" not in str(e.value)
    with pytest.raises(xyzmf.Error) as e:  # reading files raises the same root
        xyzmf.load(tmp_path / "none.h5")
    assert isinstance(e.value, OSError) and isinstance(e.value, xyzmf.files.FileError)


def test_existing_output_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "run.h5"
    xyzmf.run(out, size=4, t_end=0.1)
    before = out.read_bytes()
    with pytest.raises(xyzmf.Error) as e:
        xyzmf.run(out, size=4, t_end=0.2)
    assert e.value.exit_code == 3 and str(out) in str(e.value)
    assert out.read_bytes() == before
    xyzmf.run(out, size=4, t_end=0.2, overwrite=True)
    with h5py.File(out, "r") as f:
        assert f["final/t"][()] == pytest.approx(0.2)


def test_progress_reaches_the_end_in_order():
    seen = []
    xyzmf.run(size=16, t_end=20, record_every=0.01, progress=seen.append)
    fractions = [r["fraction"] for r in seen]
    assert fractions and fractions == sorted(fractions)
    assert seen[-1]["last"] and fractions[-1] == pytest.approx(1.0)
    assert all(r["elapsed"] >= 0 and "t = " in r["what"] for r in seen)


def test_every_command_reports_at_once_and_last_where_its_work_ended():
    # The docstring's contract for every command with a progress callback: a report at
    # once (eta NaN: nothing done yet), in order, and one last report, at the end of
    # the work (sweep, quantum and dtwa sent none at once, and no last one).
    calls = {
        "run": lambda cb: xyzmf.run(size=16, t_end=5, progress=cb),
        "sweep": lambda cb: xyzmf.sweep(size=8, t_end=2, x=("Jx", 0, 1, 3), y=("Jy", 0, 1, 3), progress=cb),
        "quantum": lambda cb: xyzmf.quantum(sites=6, trajectories=8, t_end=2, progress=cb),
        "dtwa": lambda cb: xyzmf.dtwa(size=4, trajectories=8, t_end=1, progress=cb),
        "quantum exact": lambda cb: xyzmf.quantum(sites=4, method="exact", progress=cb),
    }
    for name, call in calls.items():
        seen = []
        call(seen.append)
        assert seen[0]["fraction"] == 0 and math.isnan(seen[0]["eta"]) and not seen[0]["last"], (name, seen[0])
        assert [r["last"] for r in seen].count(True) == 1 and seen[-1]["last"], (name, seen)
        fractions = [r["fraction"] for r in seen]
        assert fractions == sorted(fractions), (name, fractions)
        assert fractions[-1] == 1 and seen[-1]["eta"] == 0, (name, seen[-1])


def test_a_callback_that_raises_stops_the_run_and_keeps_its_file(tmp_path):
    out = tmp_path / "run.h5"

    def stop(report):
        if not report["last"]:  # the first report, well before the end
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        xyzmf.run(out, size=64, t_end=20, steady_tol=0, snapshot_every=2, progress=stop)
    with h5py.File(out, "r") as f:
        # told apart from a Ctrl-C: the caller stopped it
        assert f.attrs["status"].startswith("stopped by the caller (its progress callback raised) at t = ")
        assert len(f["snapshots"]) >= 1
    # The interrupt does not leak into the next call, and the run resumes to the
    # state of an uninterrupted run, bit for bit.
    resumed = xyzmf.run(resume=out, as_xarray=False)
    assert resumed.final.t == pytest.approx(20)
    whole = xyzmf.run(size=64, t_end=20, steady_tol=0, snapshot_every=2, as_xarray=False)
    assert np.array_equal(resumed.final.spins, whole.final.spins)


def test_a_resumed_analysed_run_goes_on_analysing_and_exporting(tmp_path):
    """--analyze and --xdmf are recorded in the file: --resume and --continue-from go
    on writing them (they were silently dropped), and the file and its sidecar end as
    an uninterrupted run's."""
    opts = dict(size=32, Jx=1.0, Jy=-1.0, Jz=0.0, snapshot_every=2, steady_tol=0, analyze=True, xdmf=True)
    whole, cut = tmp_path / "whole.h5", tmp_path / "cut.h5"
    xyzmf.run(whole, t_end=40, **opts, as_xarray=False)

    def stop(report):
        if not report["last"]:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        xyzmf.run(cut, t_end=20, **opts, progress=stop)
    with h5py.File(cut, "r") as f:
        assert f["parameters"].attrs["analyze"] == 1 and f["parameters"].attrs["xdmf"] == 1
        assert len(f["snapshots"]) < 11, "stopped before its end"
    xyzmf.run(resume=cut, as_xarray=False)
    xyzmf.run(continue_from=cut, t_end=40, as_xarray=False)
    with h5py.File(whole, "r") as a, h5py.File(cut, "r") as b:
        assert sorted(a["snapshots"]) == sorted(b["snapshots"])
        assert all("analysis" in b["snapshots"][k] for k in b["snapshots"]) and "analysis" in b["final"]
        for column in a["analysis/coarsening"]:
            np.testing.assert_array_equal(a["analysis/coarsening"][column][()], b["analysis/coarsening"][column][()],
                                          err_msg=column)
        for k in [f"snapshots/{k}" for k in a["snapshots"]] + ["final"]:
            stored = []
            a[k].visititems(lambda name, obj: stored.append(name) if isinstance(obj, h5py.Dataset) else None)
            assert any(name.startswith("analysis/") for name in stored)
            for name in stored:
                np.testing.assert_array_equal(a[k][name][()], b[k][name][()], err_msg=f"{k}/{name}")
    sidecar = (tmp_path / "cut.xdmf").read_text().replace("cut.", "whole.")
    assert sidecar == (tmp_path / "whole.xdmf").read_text()
    with h5py.File(tmp_path / "whole.fields.h5", "r") as a, h5py.File(tmp_path / "cut.fields.h5", "r") as b:
        fields, others = [], []
        a.visititems(lambda name, obj: fields.append(name) if isinstance(obj, h5py.Dataset) else None)
        b.visititems(lambda name, obj: others.append(name) if isinstance(obj, h5py.Dataset) else None)
        assert fields == others and fields
        for name in fields:
            np.testing.assert_array_equal(a[name][()], b[name][()], err_msg=name)
    # What the file was not written with cannot be added by a resume.
    with pytest.raises(xyzmf.UsageError, match=r"sk_storage radial: a resumed run keeps its file.s \(auto\)"):
        xyzmf.run(continue_from=cut, t_end=50, sk_storage="radial")


def test_the_gil_is_released_while_a_run_steps():
    # The run steps in a worker thread. The main thread waits for its first progress
    # report, then sets a flag on which the next report stops the run. With the
    # interpreter's switch interval made huge, the main thread gets the GIL only when
    # the worker gives it up: were it held while stepping, the main thread could not
    # run before the run had ended, and the run would reach t_end (about 25 s on 2 cores).
    started, main_ran = threading.Event(), threading.Event()
    outcome = {}

    def report(r):
        started.set()
        if main_ran.is_set():
            raise RuntimeError("stopped by the main thread")

    def work():
        try:
            xyzmf.run(size=128, t_end=1000, steady_tol=0, progress=report, as_xarray=False)
            outcome["end"] = "reached t_end"
        except RuntimeError as e:
            outcome["end"] = str(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e6)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        main_ran.set()
        worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert outcome["end"] == "stopped by the main thread", "the main thread could not run while the run stepped"


def test_ctrl_c_stops_the_run_keeps_snapshots_and_gives_python_back_its_handler(tmp_path):
    out = tmp_path / "run.h5"
    script = textwrap.dedent(f"""
        import signal, sys, xyzmf
        try:
            xyzmf.run({str(out)!r}, size=96, t_end=5000, steady_tol=0, snapshot_every=1, progress=lambda r: print("go", flush=True))
        except KeyboardInterrupt as e:
            print("KeyboardInterrupt:", e, flush=True)
        print("handler restored:", signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    # Two progress reports: the run is under way (its first snapshot, at t = 0, is written).
    assert p.stdout.readline().strip() == "go" and p.stdout.readline().strip() == "go"
    p.send_signal(signal.SIGINT)
    rest = p.communicate(timeout=60)[0]
    assert p.returncode == 0, rest
    assert "KeyboardInterrupt: interrupted" in rest, rest
    assert "handler restored: True" in rest
    with h5py.File(out, "r") as f:
        assert f.attrs["status"].startswith("interrupted (SIGINT) at t = ")  # a signal, not the caller
        assert len(f["snapshots"]) >= 1


def test_analyze_an_array_as_the_program_analyzes_the_file(tmp_path):
    out = tmp_path / "run.h5"
    xyzmf.run(out, size=24, Jx=-1.0, Jy=1.0, Jz=0.0, t_end=30, seed=2)  # an sXY point: vortices
    from_file = xyzmf.analyze(out)
    from_array = xyzmf.analyze(spins(out), Jx=-1.0, Jy=1.0, Jz=0.0, t=from_file["t"])
    for key in ("phase", "order", "vortices", "antivortices", "k"):
        assert from_array[key] == from_file[key], key
    assert from_array["m_perp"] == pytest.approx(from_file["m_perp"], rel=1e-12)
    # Total vorticity on a torus is zero.
    assert from_file["vortices"] == from_file["antivortices"]


def test_analyze_array_refusals():
    with pytest.raises(xyzmf.OptionError):  # (a TypeError, and an xyzmf.Error)
        xyzmf.analyze(np.zeros((4, 4, 3)))
    with pytest.raises(xyzmf.Error) as e:
        xyzmf.analyze(np.zeros((4, 4, 2)), Jx=1, Jy=1, Jz=1)
    assert e.value.exit_code == 2
    with pytest.raises(ValueError, match="^gamma"):
        xyzmf.analyze(np.zeros((4, 4, 3)), Jx=1, Jy=1, Jz=1, gamma=-1)


def test_help_prints_every_option_with_units(capsys):
    assert xyzmf.help("run") is None  # printed (a notebook shows text, not a quoted string)
    text = capsys.readouterr().out
    assert "--t-end" in text and "1/gamma" in text and "--Jx" in text
    assert xyzmf.help_text("run").rstrip("\n") == text.rstrip("\n")


def test_other_commands_write_what_the_program_writes(tmp_path):
    xyzmf.stability(tmp_path / "py.h5", x=("Jx", -2, 2, 5), y=("Jy", -2, 2, 5), Jz=1)
    assert cli("stability", "--x", "Jx:-2:2:5", "--y", "Jy:-2:2:5", "--Jz", 1, "-o", tmp_path / "cli.h5").returncode == 0
    with h5py.File(tmp_path / "py.h5", "r") as p, h5py.File(tmp_path / "cli.h5", "r") as c:
        for name in c["map"]:
            assert np.array_equal(p["map"][name][...], c["map"][name][...]), name
    xyzmf.quantum(tmp_path / "q.h5", sites=4, Jx=2, Jy=1, Jz=1, method="exact")
    r = cli("quantum", "--sites", 4, "--Jx", 2, "--Jy", 1, "--Jz", 1, "--method", "exact", "--json")
    import json
    with h5py.File(tmp_path / "q.h5", "r") as f:
        assert "quantum" in f
    assert json.loads(r.stdout)["sz"] == pytest.approx(float(np.ravel(h5py.File(tmp_path / "q.h5", "r")["quantum/sz"][...])[0]))


def test_dtwa_gives_the_programs_numbers_with_time_as_a_coordinate(tmp_path):
    # Same seed, same trajectories: the Python call and the program store the same sums,
    # and the Dataset has the record times as the coordinate t of sx, sy, sz, ...
    opts = dict(size=6, Jx=4, Jy=2, Jz=1, trajectories=6, batch=3, t_end=0.4, record_every=0.1, dt=0.02, seed=3)
    ds = xyzmf.dtwa(tmp_path / "py.h5", quiet=True, **opts)
    r = cli("dtwa", "-q", "--size", 6, "--Jx", 4, "--Jy", 2, "--Jz", 1, "--trajectories", 6, "--batch", 3,
            "--t-end", 0.4, "--record-every", 0.1, "--dt", 0.02, "--seed", 3, "-o", tmp_path / "cli.h5")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "py.h5", "r") as p, h5py.File(tmp_path / "cli.h5", "r") as c:
        for name in ("scalar_sum", "corr_sum", "sk_sum", "done"):
            assert np.array_equal(p["dtwa"][name][...], c["dtwa"][name][...]), name
    assert ds.sz.dims == ("t",)
    assert np.allclose(ds.t.values, [0, 0.1, 0.2, 0.3, 0.4])
    assert ds.sz.values[0] == -1.0 and ds.sz.values[-1] > -1.0
    assert ds.sk.dims == ("component", "ky", "kx")
    assert ds.sz.attrs["units"] == "1"
    with pytest.raises(xyzmf.Error) as e:
        xyzmf.dtwa(size=4, t_end=0.1, init="uniform:1,1,0")
    assert str(e.value).startswith("init:") and e.value.exit_code == 2


def test_a_blow_up_is_an_arithmetic_error_that_names_no_removed_file(tmp_path):
    """Exit 4 is BlowUpError; a call without an output path says its temporary file is
    gone instead of naming where it was (it named a removed folder)."""
    with pytest.raises(xyzmf.BlowUpError) as e:
        xyzmf.run(size=8, Jx=1e5, Jy=-1e5, t_end=1)
    assert isinstance(e.value, ArithmeticError) and e.value.exit_code == 4
    assert "kept in a temporary file, now removed (give the call an output path to keep it)" in str(e.value)
    assert "/xyzmf-" not in str(e.value)
    with pytest.raises(xyzmf.BlowUpError, match=f"kept in {tmp_path / 'b.h5'}"):
        xyzmf.run(tmp_path / "b.h5", size=8, Jx=1e5, Jy=-1e5, t_end=1)
    assert (tmp_path / "b.h5").exists()


def test_paths_may_be_bytes_or_path_like(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    xyzmf.run(b"o.h5", size=4, t_end=0.1)
    assert (tmp_path / "o.h5").exists() and not (tmp_path / "b'o.h5'").exists()


def test_analyze_array_refuses_spins_longer_than_one():
    s = np.zeros((4, 4, 3))
    s[..., 2] = -1
    s[1, 2] = (1.5, 0, 0)
    with pytest.raises(xyzmf.Error) as e:
        xyzmf.analyze(s, Jx=1, Jy=-1, Jz=0)
    assert e.value.exit_code == 2 and "|s| = 1.5" in str(e.value)


def test_a_bare_init_file_is_recorded_as_the_state_it_took(tmp_path):
    """--init FILE takes FILE's final state, else its last snapshot: which one depends
    on when it runs, so /parameters init names it (it said FILE)."""
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert cli("run", "-q", "--size", 6, "--t-end", 0.5, "-o", a).returncode == 0
    r = cli("run", "-q", "--init", a, "--t-end", 0.5, "-o", b)
    assert r.returncode == 0, r.stderr
    with h5py.File(b, "r") as f:
        init = f["parameters"].attrs["init"]
    assert (init.decode() if isinstance(init, bytes) else init) == f"{a}:/final"


def test_init_takes_a_numpy_array_exactly(tmp_path):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(6, 8, 3))
    a /= 1.2 * np.linalg.norm(a, axis=-1, keepdims=True).max()  # inside the Bloch ball
    xyzmf.run(tmp_path / "a.h5", init=a, Jx=1, Jy=-1, t_end=0.5, snapshot_every=0.5)
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert np.array_equal(f["snapshots/000000/spins"][...], a)  # the state given, every bit
        assert f["snapshots/000000/t"][()] == 0.0
        assert list(f["parameters"].attrs["sizes"]) == [8, 6]
        init = f["parameters"].attrs["init"]
        init = init.decode() if isinstance(init, bytes) else init
        assert "array" in init and "xyzmf-init" not in init  # names the array, not a deleted file
    # and it runs as the same state does from a file
    r = cli("run", "-q", "--init", f"{tmp_path / 'a.h5'}:/snapshots/0", "--Jx", 1, "--Jy", -1, "--t-end", 0.5,
            "-o", tmp_path / "cli.h5")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(spins(tmp_path / "a.h5"), spins(tmp_path / "cli.h5"))


def test_arrays_and_keywords_are_taken_as_a_python_user_means_them(tmp_path, capsys):
    # Found by a Python audit; each line was a wrong result, a misleading message or a crash.
    xr = pytest.importorskip("xarray")
    data = xyzmf.run(size=6, t_end=1, snapshot_every=0.5)
    stack = data["snapshots_spins"]  # dims (time, y, x, component): not one 3D state
    for call in (lambda: xyzmf.run(init=stack, t_end=0.1), lambda: xyzmf.analyze(stack, Jx=1, Jy=-1, Jz=0)):
        with pytest.raises(xyzmf.UsageError, match=r"pick one state, e\.g\. \.isel\(time=-1\)"):
            call()
    one = stack.isel(time=-1)
    assert isinstance(one, xr.DataArray)
    assert xyzmf.analyze(xr.DataArray(one.values), Jx=1, Jy=-1, Jz=0)["phase"]  # unnamed dims: by shape
    assert xyzmf.analyze(one, Jx=1, Jy=-1, Jz=0)["phase"]
    # dim (or size) that agrees with the array is fine; the lattice is the array's, not 64^2
    state = np.zeros((4, 6, 3))
    state[..., 2] = -1
    assert np.asarray(xyzmf.run(init=state, dim=2, t_end=0.1, as_xarray=False).final.spins).shape == (4, 6, 3)
    # float32 unit vectors (|s| = 1 + 4e-8) are Bloch vectors, as from a file
    rng = np.random.default_rng(1)
    v = rng.normal(size=(8, 8, 3))
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    xyzmf.run(init=v.astype(np.float32), t_end=0.1)
    # a flag takes a truth value, any other option a value
    with pytest.raises(xyzmf.UsageError, match="t_end: expected a value, not True"):
        xyzmf.run(size=4, t_end=True)
    with pytest.raises(xyzmf.UsageError, match="Jx: expected a value, not False"):
        xyzmf.run(size=4, t_end=0.1, Jx=False)
    assert xyzmf.run(size=8, t_end=0.5, analyze=np.bool_(True), as_xarray=False).final.analysis is not None
    with pytest.raises(xyzmf.OptionError, match=r"xyzmf.help\('run'\)"):
        xyzmf.run(help=True, size=4)
    xyzmf.help(xyzmf.run)
    assert "--t-end" in capsys.readouterr().out
    with pytest.raises(xyzmf.OptionError, match="output"):
        xyzmf.run(5, size=4, t_end=0.1)
    with pytest.raises(xyzmf.OptionError, match="progress"):
        xyzmf.run(size=4, t_end=0.1, progress="yes")
    with pytest.raises(xyzmf.OptionError, match="arrays are for run"):
        xyzmf.dtwa(size=4, t_end=0.1, init=np.zeros((4, 4, 3)))
    # a shard as a tuple, shards as a list
    sweep = dict(x=("Jx", 0, 1, 2), y=("Jy", 0, 1, 2), size=4, t_end=0.5)
    for i in (0, 1):
        xyzmf.sweep(tmp_path / f"sh{i}.h5", shard=(i, 2), **sweep)
    xyzmf.merge(tmp_path / "m.h5", [tmp_path / "sh0.h5", tmp_path / "sh1.h5"])
    assert (xyzmf.load(tmp_path / "m.h5", as_xarray=False).sweep.phase >= 0).all()
    # analyze: what comes from a file is refused as a keyword; a bytes path is a path
    xyzmf.run(tmp_path / "r.h5", size=8, t_end=0.5)
    with pytest.raises(xyzmf.OptionError, match="gamma come from the file"):
        xyzmf.analyze(tmp_path / "r.h5", gamma=2)
    assert xyzmf.analyze(os.fsencode(tmp_path / "r.h5"))["phase"]
    with pytest.raises(xyzmf.UsageError, match="Jx must be a number"):
        xyzmf.analyze(np.zeros((8, 8, 3)), Jx="a", Jy=-1, Jz=0)
    with pytest.raises(xyzmf.UsageError, match=r"not \(8, 8, 2\)"):
        xyzmf.analyze(np.zeros((8, 8, 2)), Jx=1, Jy=-1, Jz=0)
    # messages: a word after --resume is not a file name
    with pytest.raises(xyzmf.UsageError) as e:
        xyzmf.run(resume=tmp_path / "r.h5", init="random")
    assert "resume takes every parameter" in str(e.value) and "resume='takes'" not in str(e.value)
    # a temporary output leaves no path to it in the provenance
    line = data.attrs["command_line"]
    assert "A_TEMPORARY_FILE.h5" in line and os.path.join(tempfile.gettempdir(), "xyzmf-") not in line, line


def test_init_takes_an_xarray_state_and_refuses_bad_arrays(tmp_path):
    xr = pytest.importorskip("xarray")
    s = xr.DataArray(np.tile([0.6, 0.0, -0.8], (5, 1)), dims=("x", "component"))
    run = xyzmf.run(init=s, t_end=0.1, as_xarray=False)
    assert np.asarray(run.final.spins).shape == (5, 3)
    bad = [
        (np.zeros((8, 8)), ValueError, "shape"),
        (np.full((4, 4, 3), np.nan), ValueError, "NaN"),
        (np.ones((4, 4, 3)), ValueError, "|s| reaches 1.73205"),
        (np.zeros((4, 5, 3)), ValueError, "5x4 lattice but size=4"),
    ]
    for state, kind, words in bad:
        with pytest.raises(kind, match=None) as e:
            xyzmf.run(init=state, t_end=0.1, **({"size": 4} if state.shape == (4, 5, 3) else {}))
        assert words in str(e.value), str(e.value)
        # ... and an xyzmf.Error, as every refusal is (they were plain ValueErrors)
        assert isinstance(e.value, xyzmf.UsageError) and e.value.exit_code == 2


def test_mistyped_options_get_the_nearest_one_suggested(tmp_path):
    for typed, meant in (("--tend", "--t-end"), ("--t_end", "--t-end"), ("--jx", "--Jx"), ("--seeed", "--seed")):
        r = cli("run", "-q", typed, 1, "-o", tmp_path / "cli.h5")
        assert r.returncode == 2
        assert f"(did you mean {meant}?)" in r.stderr, r.stderr
    r = cli("run", "-q", "--frobnicate", 1, "-o", tmp_path / "cli.h5")
    assert r.returncode == 2 and "did you mean" not in r.stderr  # nothing near: no guess
    with pytest.raises(TypeError, match=r"did you mean t_end\?"):
        xyzmf.run(tmp_path / "py.h5", tend=100)


def test_threads_apply_to_one_command_and_are_recorded(tmp_path):
    def backend(path):
        with h5py.File(path, "r") as f:
            b = f["parameters"].attrs["backend"]
            return b.decode() if isinstance(b, bytes) else b

    xyzmf.run(tmp_path / "one.h5", size=16, t_end=0.1, threads=1, backend="cpu")
    assert backend(tmp_path / "one.h5") == "cpu (OpenMP, 1 thread)"
    xyzmf.run(tmp_path / "all.h5", size=16, t_end=0.1, backend="cpu")  # the next call: the default again
    # (OpenMP's default: the cores this process may run on, not all the machine's)
    default = os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
    assert backend(tmp_path / "all.h5").startswith(f"cpu (OpenMP, {default} thread")
    with pytest.raises(ValueError, match="threads"):
        xyzmf.run(size=16, t_end=0.1, threads=0)


@pytest.mark.parametrize("device", ["99999999999", "0.5", "1e30", "abc"])
def test_a_device_that_is_no_index_is_refused_in_one_line(tmp_path, device):
    # (99999999999 was "internal error (please report): stoi", 0.5 and 1e30 were taken as 0 and 1)
    r = cli("run", "-q", "--size", 8, "--t-end", 0.1, "--device", device, "-o", tmp_path / "d.h5")
    assert r.returncode == 2 and "--device" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "internal error" not in r.stderr and not (tmp_path / "d.h5").exists()


def test_too_many_threads_from_the_environment_and_a_lost_stdout_are_errors(tmp_path):
    # OMP_NUM_THREADS=100000 crashed libgomp (SIGSEGV, nothing said); --threads replaces it.
    env = dict(os.environ, OMP_NUM_THREADS="100000")
    args = [EXE, "run", "-q", "--size", 4, "--t-end", 0.1, "-o", tmp_path / "t.h5"]
    r = subprocess.run(list(map(str, args)), capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "OMP_NUM_THREADS=100000" in r.stderr, r.stderr
    r = subprocess.run(list(map(str, args + ["--threads", 1])), capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    # A command's printed result that cannot be written is lost: exit 3, not 0.
    with open("/dev/full", "w") as full:
        r = subprocess.run([EXE, "stability", "--x", "Jx:-6:6:5", "--y", "Jy:-6:6:5", "--json"], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode == 3 and "standard output" in r.stderr, r.stderr


def test_device_choice_is_checked_and_restored(tmp_path):
    # CI has no GPU: any --device is refused in one line naming it; with a GPU,
    # the chosen index is recorded with the backend.
    r = cli("run", "-q", "--size", 8, "--t-end", 0.1, "--device", 99, "-o", tmp_path / "d.h5")
    assert r.returncode == 2 and "--device" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "d.h5").exists()
    r = cli("run", "-q", "--size", 8, "--t-end", 0.1, "--device", -1, "-o", tmp_path / "d.h5")
    assert r.returncode == 2 and "--device" in r.stderr
    with pytest.raises(ValueError, match="device"):
        xyzmf.run(size=8, t_end=0.1, device=99)
    r = cli("run", "-q", "--size", 8, "--t-end", 0.1, "--device", 0, "--backend", "cuda", "-o", tmp_path / "g.h5")
    gpu = r.returncode == 0
    if gpu:  # a GPU machine: the file names the device
        with h5py.File(tmp_path / "g.h5", "r") as f:
            assert "device 0)" in str(f["parameters"].attrs["backend"])
    else:
        assert "no CUDA device here" in r.stderr or "without CUDA" in r.stderr, r.stderr
    # The environment's choice (a job script's, a module's) is a default: checked
    # where there are GPUs, naming the variable; a machine without one runs on its CPU.
    env = {**os.environ, "XYZMF_DEVICE": "99"}
    r = subprocess.run([EXE, "run", "-q", "--size", "8", "--t-end", "0.1", "-o", str(tmp_path / "e.h5")],
                       capture_output=True, text=True, env=env)
    if gpu:
        assert r.returncode == 2 and "XYZMF_DEVICE=99: not a GPU of this machine" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        with h5py.File(tmp_path / "e.h5", "r") as f:
            assert str(f["parameters"].attrs["backend"]).startswith("cpu"), f["parameters"].attrs["backend"]


def test_results_in_temporary_files_print_nothing_and_name_no_file(tmp_path, capfd):
    # The program's reports go to file descriptor 1 (a notebook cell shows
    # them): a Python call prints nothing, and a result read from a temporary
    # file (since removed) names no path.
    calls = {
        "quantum": lambda **k: xyzmf.quantum(sites=4, t_end=2, series=True, method="exact", **k),
        "dtwa": lambda **k: xyzmf.dtwa(size=4, t_end=0.5, trajectories=2, **k),
        "sweep": lambda **k: xyzmf.sweep(size=8, t_end=0.5, x="Jx:0:1:2", y="Jy:0:1:2", **k),
        "run": lambda **k: xyzmf.run(size=8, t_end=0.5, **k),
    }
    for name, call in calls.items():
        ds = call()
        out, err = capfd.readouterr()
        assert out == "" and err == "", (name, out, err)
        assert "path" not in ds.attrs, name
        rec = call(as_xarray=False)
        assert rec.path is None, name
        kept = call(output=tmp_path / f"{name}.h5")
        assert kept.attrs["path"] == str(tmp_path / f"{name}.h5")
        capfd.readouterr()


def test_quantum_burn_in_defaults_to_half_of_t_end(tmp_path):
    short = xyzmf.quantum(sites=4, t_end=2, trajectories=4, as_xarray=False)
    assert short.parameters["burn_in"] == 1.0
    r = cli("quantum", "--sites", 4, "--t-end", 2, "--burn-in", 3, "--trajectories", 4, "-q")
    assert r.returncode == 2 and "--burn-in" in r.stderr  # given, it is checked against --t-end


def test_defaults_that_differ_from_runs_say_why_in_help():
    # One set of defaults; where a command's default differs from run's, its
    # --help line names run's value and the reason.
    def defaults(command):
        text = cli(command, "--help").stdout
        lines = {}
        for line in text.splitlines():
            parts = line.split()
            if parts and parts[0].startswith("--") and len(parts) > 1 and "=" in parts[1]:
                lines[parts[0]] = (parts[1].split("=", 1)[1], line)
        return lines

    run = defaults("run")
    checked = 0
    for command in ("sweep", "stability", "gaussian", "quantum", "dtwa"):
        for name, (value, line) in defaults(command).items():
            if name in run and name not in ("--output", "-o") and value != run[name][0]:
                try:
                    if float(value) == float(run[name][0]):
                        continue
                except ValueError:
                    pass
                checked += 1
                assert "(run:" in line or "(run," in line, (command, line)
    assert checked >= 6


def test_signatures_and_docstrings_carry_the_programs_options_and_defaults():
    import inspect

    sig = inspect.signature(xyzmf.run)
    assert sig.parameters["t_end"].default == 100 and sig.parameters["dt"].default == 0.01
    assert sig.parameters["analyze"].default is False and sig.parameters["Jz"].default == 0
    assert inspect.signature(xyzmf.sweep).parameters["Jz"].default == 1
    assert inspect.signature(xyzmf.quantum).parameters["t_end"].default == 40
    help_text = cli("run", "--help").stdout
    for name, p in sig.parameters.items():
        if p.kind == p.KEYWORD_ONLY and name not in ("progress", "as_xarray"):
            assert "--" + name.replace("_", "-") in help_text, name  # nothing invented
            assert f"    {name}" in xyzmf.run.__doc__, name
    assert "1/gamma" in xyzmf.run.__doc__
    with pytest.raises(TypeError, match="t_end"):
        xyzmf.run(t_ned=3)


def test_one_shape_per_quantity_across_quantum_methods():
    exact = xyzmf.quantum(sites=4, t_end=2, method="exact", series=True)
    traj = xyzmf.quantum(sites=4, t_end=2, trajectories=8)
    for name in ("sz", "cx", "cy", "cz", "sz_t"):
        assert exact[name].dims == traj[name].dims, name
    for name in ("sz", "cx", "sz_t"):  # a value with an error: two variables of one shape
        assert traj[name + "_err"].dims == traj[name].dims, name
    assert "mean_stderr" not in traj.dims


def test_gap_progress_counts_every_sector_from_the_start():
    """Where the total sz is conserved, the gap solves the sectors of charge
    |q| <= 1 first and then only those of |q| >= 2 that the bound
    Re lambda <= -gamma |q| / 2 does not rule out. The fraction counted the
    second set only once it began, so it went back (10 of 13 sectors, then 14
    of 21); now every sector counts from the start (by its size), a ruled-out
    one counts as done, and the last report says all of them."""
    # with dephasing the |q| = 2 sectors are needed (8 of them), without every |q| >= 2 one is ruled out
    for kw, gap, ruled_out in (({"gamma_phi": 3}, 1.0, 48), ({}, 0.5, 56)):
        seen = []
        q = xyzmf.quantum(sites=8, method="exact", gap=True, Jx=1, Jy=1, Jz=1, progress=seen.append,
                          as_xarray=False, **kw)
        assert float(q.quantum["gap"]) == pytest.approx(gap, abs=1e-9)
        # The steady state comes first (its first report is heard at once), then the gap's.
        stages = ["steady state" if "steady state" in r["what"] else "gap" for r in seen]
        assert stages == sorted(stages, key=lambda s: s == "gap") and stages[0] == "steady state", stages
        counts = [re.search(r"gap, (\d+) of (\d+) sectors", r["what"]) for r, s in zip(seen, stages) if s == "gap"]
        assert counts and all(counts), [r["what"] for r in seen]
        # the ring of 8 with charge: 8 k's x 17 charges, one of each (k, q), (-k, -q) pair
        assert {m.group(2) for m in counts} == {"69"}, [r["what"] for r in seen]
        fractions = [r["fraction"] for r in seen]
        assert fractions == sorted(fractions), [(r["fraction"], r["what"]) for r in seen]
        assert seen[-1]["last"] and fractions[-1] == 1 and counts[-1].group(1) == "69"
        assert f"({ruled_out} ruled out by the charge bound)" in seen[-1]["what"]
