"""Stop signals and stop requests in the Python module's calls.

A call installs the program's handlers at its first instruction and gives Python
its own back when it returns: a signal at any moment of a script either stops
the call cleanly (the file closed, resumable) and then has its usual effect in
Python (SIGINT: KeyboardInterrupt; SIGTERM, SIGHUP, SIGQUIT: by default the end of
the process by that signal), or comes before or after the call. Nothing is left
half written. What stops a call, and whom its progress reaches, is that call's
own: calls in other threads are not touched."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import h5py
import pytest

import xyzmf

RUN = dict(size=64, t_end=60, dt=0.01, snapshot_every=2, steady_tol=0, Jx=0.9, Jy=-0.6, Jz=1.0)


def script(out, progress=None):
    """The call, in a script that prints "ready" before it and waits for a signal
    after it; progress: a callback's source, e.g. one that prints a line."""
    return textwrap.dedent(f"""
        import os, sys, time, xyzmf
        from xyzmf import _core  # (a SIGINT while a module loads is Python's ImportError)
        try:
            # inside the try: a SIGINT that lands while print() returns, after the
            # line went out, is this script's KeyboardInterrupt too (it once escaped)
            print("ready", flush=True)
            xyzmf.run({str(out)!r}, **{RUN!r}, progress={progress})
            print("returned", flush=True)
            # A signal after the call has its effect here, so none can pass unseen:
            # a call that swallowed one would leave this loop running.
            while True:
                time.sleep(0.01)
        except KeyboardInterrupt as e:
            print("KeyboardInterrupt:", e, flush=True)
    """)


def heard(p, sig, where):
    """Waits for the script and asserts that the signal had its usual effect in
    Python, whenever it came: SIGINT a KeyboardInterrupt (Python's handler before or
    after the call, or the call's stop), the others the end of the process by that
    signal (Python's default, after the call closed its file)."""
    try:
        rest, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail(f"{where}: the signal was lost (the script still waits for it after the call)")
    if sig == signal.SIGINT:
        assert p.returncode == 0, f"{where}: exit {p.returncode}: {err[-300:]}"
        assert "KeyboardInterrupt" in rest, f"{where}: {rest!r}"
    else:
        assert p.returncode == -sig, f"{where}: exit {p.returncode}: {err[-300:]}"
    return rest, err


def leftovers(d):
    return sorted(n for n in os.listdir(d) if n.startswith(".") and (".tmp-" in n or n.endswith(".lock")))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=lambda s: s.name)
def test_a_signal_at_any_moment_of_a_call_leaves_the_file_absent_complete_or_resumable(tmp_path, sig):
    for ms in (0, 1, 2, 5, 10, 20, 50, 100):
        d = tmp_path / f"{ms}ms"
        d.mkdir()
        out = d / "run.h5"
        p = subprocess.Popen([sys.executable, "-c", script(out)], cwd=d, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        assert p.stdout.readline().strip() == "ready"
        time.sleep(ms / 1000)  # (only spreads the moments: any moment must pass)
        p.send_signal(sig)
        where = f"{sig.name} {ms} ms after the script was ready"
        rest, err = heard(p, sig, where)
        assert leftovers(d) == [], f"{where}: left {leftovers(d)}"
        if not out.exists():
            continue
        with h5py.File(out, "r") as f:
            status = f.attrs["status"]
        assert not status.startswith("running"), f"{where}: status {status!r}"
        if status.startswith("interrupted"):
            resumed = xyzmf.run(resume=out, as_xarray=False)
            assert resumed.final.t == pytest.approx(RUN["t_end"]), where


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=lambda s: s.name)
def test_a_signal_while_the_call_steps_stops_it_resumably(tmp_path, sig):
    """The moments above may all fall before or after the call on some machine; this
    one is sure to fall inside it: the call's first progress report says it is
    stepping, and waits until the signal has been sent (a file says so), so that the
    call cannot end first however loaded the machine."""
    out = tmp_path / "run.h5"
    callback = ("lambda r, once=[]: once or once.append(print('stepping', flush=True)) or "
                "[time.sleep(0.01) for _ in iter(lambda: os.path.exists('sent'), True)]")
    p = subprocess.Popen([sys.executable, "-c", script(out, callback)], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    assert p.stdout.readline().strip() == "ready"
    assert p.stdout.readline().strip() == "stepping"
    p.send_signal(sig)
    (tmp_path / "sent").touch()
    heard(p, sig, f"{sig.name} after the first report")
    assert leftovers(tmp_path) == []
    with h5py.File(out, "r") as f:
        assert f.attrs["status"].startswith(f"interrupted ({sig.name}) at t = "), f.attrs["status"]
    resumed = xyzmf.run(resume=out, as_xarray=False)
    assert resumed.final.t == pytest.approx(RUN["t_end"])


def test_each_thread_hears_its_own_progress():
    """A call in another thread that starts and ends while this one waits in its
    callback neither takes this call's reports nor ends them."""
    first_report, other_done = threading.Event(), threading.Event()
    mine, theirs = [], []

    def my_callback(r):
        mine.append(r)
        if len(mine) == 1:
            first_report.set()
            assert other_done.wait(60)

    def other():
        assert first_report.wait(60)
        try:
            xyzmf.run(size=16, t_end=5, progress=theirs.append)
        finally:
            other_done.set()

    t = threading.Thread(target=other)
    t.start()
    xyzmf.run(size=96, t_end=60, steady_tol=0, progress=my_callback)  # about 1 s: reports every 0.2 s
    t.join()
    assert theirs and theirs[-1]["last"] and theirs[-1]["fraction"] == pytest.approx(1.0)
    assert len(mine) > 1 and mine[-1]["last"], f"{len(mine)} reports, the last {mine[-1]}"
    assert all(r["fraction"] <= 1 for r in mine)


def test_a_callback_that_raises_stops_only_its_own_call(tmp_path):
    """Thread A's callback raises while thread B runs: B runs to its end, and A's file
    says that its callback stopped it (not a signal)."""
    b_running = threading.Event()
    results = {}

    def b():
        try:
            # about 2 s: it is still running while A starts, stops and writes its status
            xyzmf.run(tmp_path / "b.h5", size=64, t_end=300, steady_tol=0, progress=lambda r: b_running.set())
            results["b"] = "finished"
        except BaseException as e:  # noqa: BLE001
            results["b"] = repr(e)
        finally:
            b_running.set()

    def a_callback(r):
        raise RuntimeError("A has seen enough")

    t = threading.Thread(target=b)
    t.start()
    assert b_running.wait(60)
    # A's snapshots (3 MB each, every 0.05) keep its writer busy when it stops, so its
    # stop lasts while B steps on.
    with pytest.raises(RuntimeError, match="A has seen enough"):
        xyzmf.run(tmp_path / "a.h5", size=512, t_end=100, steady_tol=0, snapshot_every=0.05, progress=a_callback)
    t.join()
    assert results["b"] == "finished"
    with h5py.File(tmp_path / "b.h5", "r") as f:
        assert f.attrs["status"].startswith("finished")
    if (tmp_path / "a.h5").exists():
        with h5py.File(tmp_path / "a.h5", "r") as f:
            assert "progress callback" in f.attrs["status"], f.attrs["status"]


def test_the_gaps_worker_threads_stop_with_their_own_call_only():
    """The exact gap solves its sectors on OpenMP worker threads. They poll the
    stop state of the call that started them: a SIGINT that an earlier call of
    the same script handled (KeyboardInterrupt, caught) does not stop them (it
    did: "interrupted (SIGINT) during the Liouvillian gap"), and their progress
    reaches this call's callback, in order."""
    code = textwrap.dedent("""
        import json, os, signal, xyzmf
        try:
            xyzmf.run(size=64, t_end=500, steady_tol=0, progress=lambda r: os.kill(os.getpid(), signal.SIGINT))
            print("not interrupted")
        except KeyboardInterrupt:
            pass
        reports = []
        q = xyzmf.quantum(sites=8, method="exact", gap=True, Jx=2, Jy=0.6, Jz=1, progress=reports.append,
                          as_xarray=False)
        print(json.dumps({"gap": float(q.quantum["gap"]), "fractions": [r["fraction"] for r in reports]}))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    # the ring of 8 at (2, 0.6, 1): results/quantum/gap-n8.jsonl
    assert got["gap"] == pytest.approx(0.28059845157552804, rel=1e-9)
    f = got["fractions"]
    assert all(0 <= a < b <= 1 for a, b in zip(f, f[1:])), f
