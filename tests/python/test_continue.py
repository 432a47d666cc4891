"""A finished run carried on to a later time (run --continue-from FILE --t-end
T, run(continue_from=..., t_end=...)) is the run that went to T at once: the
same final state bit for bit, the same snapshots and time series, one clock."""

import os
import subprocess

import h5py
import numpy as np
import pytest

import xyzmf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.environ.get("XYZMF_EXE", os.path.join(REPO, "build", "xyzmf"))
# sXY-side couplings from a random state: the state still moves at t = 8.
OPTS = ["--size", "12x10", "--Jx", "0.9", "--Jy", "1.1", "--Jz", "1", "--dt", "0.02", "--seed", "7",
        "--snapshot-every", "2", "--record-every", "0.5"]


def cli(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)


def contents(path):
    """Every state and time series of a run file, with its times."""
    with h5py.File(path, "r") as f:
        out = {"final": f["final/spins"][...], "final_t": f["final/t"][()], "final_step": f["final"].attrs["step"]}
        for name in f["snapshots"]:
            out["snap/" + name] = f["snapshots"][name]["spins"][...]
            out["snap_t/" + name] = f["snapshots"][name]["t"][()]
        for name in f["timeseries"]:
            out["ts/" + name] = f["timeseries"][name][...]
        out["t_end"] = f["parameters"].attrs["t_end"]
        out["status"] = f.attrs["status"]
    return out


def assert_same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    d = tmp_path_factory.mktemp("straight")
    r = cli("run", "-q", *OPTS, "--t-end", 8, "-o", d / "to8.h5")
    assert r.returncode == 0, r.stderr
    return contents(d / "to8.h5")


def test_continued_in_place_equals_the_straight_run(tmp_path, straight):
    f = tmp_path / "run.h5"
    assert cli("run", "-q", *OPTS, "--t-end", 3, "-o", f).returncode == 0
    r = cli("run", "-q", "--continue-from", f, "--t-end", 8)
    assert r.returncode == 0, r.stderr
    got = contents(f)
    assert got["final_t"] == 8 and got["status"] == "finished: reached t_end"
    assert_same(got, straight)
    with h5py.File(f, "r") as h:
        assert "--continue-from" in h.attrs["resumed_by"]
    assert not os.path.exists(tmp_path / ".run.h5.journal")


def test_continued_twice_into_a_copy_keeps_the_original(tmp_path, straight):
    first, copy = tmp_path / "to2.h5", tmp_path / "to8.h5"
    assert cli("run", "-q", *OPTS, "--t-end", 2, "-o", first).returncode == 0
    before = contents(first)
    r = cli("run", "-q", "--continue-from", first, "--t-end", 5, "-o", copy)
    assert r.returncode == 0, r.stderr
    assert_same(contents(first), before)  # the source is untouched
    # An existing output is kept without --overwrite.
    r = cli("run", "-q", "--continue-from", first, "--t-end", 5, "-o", copy)
    assert r.returncode != 0 and "--overwrite" in r.stderr
    xyzmf.run(continue_from=copy, t_end=8)  # Python, in place
    assert_same(contents(copy), straight)


def test_python_continue_into_a_new_file_returns_it(tmp_path, straight):
    first = tmp_path / "a.h5"
    xyzmf.run(first, size=(12, 10), Jx=0.9, Jy=1.1, Jz=1, dt=0.02, seed=7, snapshot_every=2, record_every=0.5, t_end=4)
    ds = xyzmf.run(tmp_path / "b.h5", continue_from=first, t_end=8, as_xarray=False)
    assert_same(contents(tmp_path / "b.h5"), straight)
    assert contents(first)["final_t"] == 4


@pytest.mark.parametrize("extra, first_t_end, words", [
    (["--t-end", 3], 3, "must be later than the final time"),  # not later
    (["--t-end", 9, "--Jx", 1], 3, "drop --Jx"),                # physics comes from the file
    ([], 3, "give the new final time with --t-end"),
    (["--t-end", 9], 3.01, "not a whole number of steps"),      # last step shortened
])
def test_refusals_name_the_file_and_value(tmp_path, extra, first_t_end, words):
    f = tmp_path / "run.h5"
    assert cli("run", "-q", *OPTS, "--t-end", first_t_end, "-o", f).returncode == 0
    before = contents(f)
    r = cli("run", "-q", "--continue-from", f, *extra)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert_same(contents(f), before)


@pytest.mark.parametrize("extra, words", [
    (["--xdmf"], "--xdmf cannot be combined"),                  # the file was written without it
    (["--sk-storage", "full"], "--sk-storage full"),             # nor with --analyze
    (["--analysis-backend", "cuda"], "needs --analyze"),
])
def test_a_refused_continuation_changes_no_file(tmp_path, extra, words):
    """Refusals that come after the file's own checks: the run continued in place,
    the copy at -o and an --overwrite target are as they were (the first two had
    the new t_end in /parameters, the copy was made, the target replaced)."""
    f, target = tmp_path / "run.h5", tmp_path / "target.h5"
    assert cli("run", "-q", *OPTS, "--t-end", 3, "-o", f).returncode == 0
    assert cli("run", "-q", "--size", 4, "--t-end", 1, "-o", target).returncode == 0
    before, target_bytes = open(f, "rb").read(), open(target, "rb").read()
    for out in ([], ["-o", tmp_path / "copy.h5"], ["-o", target, "--overwrite"]):
        r = cli("run", "-q", "--continue-from", f, "--t-end", 9, *extra, *out)
        assert r.returncode == 2 and words in r.stderr, r.stderr
        assert open(f, "rb").read() == before and open(target, "rb").read() == target_bytes
        assert not (tmp_path / "copy.h5").exists()


def test_a_sidecar_in_the_way_is_refused_before_the_copy_and_replaced_with_overwrite(tmp_path):
    src, copy = tmp_path / "a.h5", tmp_path / "b.h5"
    assert cli("run", "-q", *OPTS, "--t-end", 2, "--xdmf", "-o", src).returncode == 0
    (tmp_path / "b.xdmf").write_text("a user's notes\n")
    r = cli("run", "-q", "--continue-from", src, "--t-end", 4, "-o", copy)
    assert r.returncode == 3 and "b.xdmf already exists" in r.stderr, r.stderr
    assert not copy.exists() and (tmp_path / "b.xdmf").read_text() == "a user's notes\n"
    r = cli("run", "-q", "--continue-from", src, "--t-end", 4, "-o", copy, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert "b.h5" in (tmp_path / "b.xdmf").read_text() and contents(copy)["final_t"] == 4


def test_a_stopped_or_adaptive_run_is_refused_with_the_way_on(tmp_path):
    f = tmp_path / "ad.h5"
    assert cli("run", "-q", "--size", 8, "--integrator", "dopri5", "--t-end", 1, "-o", f).returncode == 0
    r = cli("run", "--continue-from", f, "--t-end", 2)
    assert r.returncode == 2 and "only finished rk4 runs" in r.stderr
    r = cli("run", "--resume", f, "--t-end", 2)
    assert r.returncode == 2 and "--continue-from" in r.stderr


def test_a_stopped_run_is_carried_on_from_its_last_snapshot(tmp_path):
    f = tmp_path / "stopped.h5"
    opts = dict(size=64, steady_tol=0, snapshot_every=2)

    def stop(report):
        if not report["last"]:  # the first report, well before the end (as in test_commands)
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        xyzmf.run(f, t_end=20, progress=stop, **opts)
    with h5py.File(f, "r") as h:
        assert h.attrs["status"].startswith("stopped by the caller") and "final" not in h
    xyzmf.run(continue_from=f, t_end=22)  # past its own t_end
    whole = xyzmf.run(t_end=22, as_xarray=False, **opts)
    with h5py.File(f, "r") as h:
        assert h["final/t"][()] == 22 and h["parameters"].attrs["t_end"] == 22
        assert np.array_equal(h["final/spins"][...], whole.final.spins)


def test_a_run_to_t_end_0_is_carried_on_with_snapshots_of_its_new_end(tmp_path):
    # It had no snapshot interval (t_end / 10 = 0): the continuation wrote 0 into the file,
    # which no later read accepted (a review found it).
    f = tmp_path / "zero.h5"
    assert cli("run", "-q", "--size", 8, "--t-end", 0, "-o", f).returncode == 0
    r = cli("run", "-q", "--continue-from", f, "--t-end", 1)
    assert r.returncode == 0, r.stderr
    with h5py.File(f, "r") as h:
        assert h["final/t"][()] == 1 and abs(h["parameters"].attrs["snapshot_every"] - 0.1) < 1e-12
    r = cli("analyze", f)
    assert r.returncode == 0, r.stderr
