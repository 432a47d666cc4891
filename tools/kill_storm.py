#!/usr/bin/python3
"""kill -9 at random moments of a run that writes a snapshot every 0.05 (1200 snapshots of a
64^2 lattice, hundreds of HDF5 flushes a second), then --resume, N times; counts the files that
h5py could not read after the kill, those that --resume rebuilt from their journal, those that
could not be resumed, and those resumed to another state than the uninterrupted run.

    /usr/bin/python3 tools/kill_storm.py --xyzmf build/xyzmf [-n 200] [--seed 11]

Exit status 0 only if every file was resumed to the uninterrupted result bit for bit. The
kill times are random (the point: any moment of the writes), the checks do not depend on them.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
import h5py  # noqa: E402
import numpy as np  # noqa: E402

RUN = ["run", "--size", "64", "--t-end", "60", "--snapshot-every", "0.05", "--backend", "cpu", "-q",
       "--steady-tol", "0"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xyzmf", required=True, help="the program")
    ap.add_argument("-n", type=int, default=200, help="kills (default 200)")
    ap.add_argument("--seed", type=int, default=11, help="seed of the kill times")
    ap.add_argument("--keep", action="store_true", help="keep the directory of every file that failed")
    a = ap.parse_args()
    exe = os.path.abspath(a.xyzmf)
    rng = random.Random(a.seed)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("HDF5_USE_FILE_LOCKING", None)
    top = tempfile.mkdtemp(prefix="xyzmf-kill-storm-")
    try:
        subprocess.run([exe] + RUN + ["-o", "ref.h5"], cwd=top, env=env, check=True)
        with h5py.File(os.path.join(top, "ref.h5"), "r") as h:
            want = h["final/spins"][()]
        counts = dict(absent=0, unreadable=0, rebuilt=0, unresumable=0, differ=0)
        t0 = time.monotonic()
        for i in range(a.n):
            d = tempfile.mkdtemp(dir=top)
            p = subprocess.Popen([exe] + RUN + ["-o", "k.h5"], cwd=d, env=env, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 1.0))
            p.kill()
            p.wait()
            f = os.path.join(d, "k.h5")
            if not os.path.exists(f):
                counts["absent"] += 1
                shutil.rmtree(d)
                continue
            try:
                with h5py.File(f, "r") as h:
                    h.visit(lambda name: None)
            except Exception:           # noqa: BLE001
                counts["unreadable"] += 1
            r = subprocess.run([exe, "run", "--resume", "k.h5", "--backend", "cpu"], cwd=d, env=env,
                               capture_output=True, text=True)
            counts["rebuilt"] += "rebuilt from its journal" in r.stdout
            ok = r.returncode == 0
            if not ok:
                counts["unresumable"] += 1
                print(f"kill {i}: --resume exit {r.returncode}: {r.stderr.strip()[:200]}", flush=True)
            else:
                with h5py.File(f, "r") as h:
                    same = np.array_equal(h["final/spins"][()], want)
                if not same:
                    counts["differ"] += 1
                    ok = False
                    print(f"kill {i}: resumed to a different final state", flush=True)
            if ok or not a.keep:
                shutil.rmtree(d)
        print(f"{a.n} kills in {time.monotonic() - t0:.0f} s: {counts['absent']} before the file existed, "
              f"{counts['unreadable']} files h5py could not read after the kill, {counts['rebuilt']} rebuilt from "
              f"their journal by --resume, {counts['unresumable']} not resumable, {counts['differ']} resumed to "
              f"another state")
        return 0 if counts["unresumable"] == 0 and counts["differ"] == 0 else 1
    finally:
        if not a.keep:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
