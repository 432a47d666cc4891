#!/usr/bin/env bash
# A file that xyzmf is writing can be read at the same time (h5py, h5ls): the
# writer does not take HDF5's file lock. A second writer is still refused, and the
# run, interrupted afterwards, keeps its snapshots.
#   tests/live_read_test.sh path/to/xyzmf
set -euo pipefail
X=$1
W=$(mktemp -d)
cd "$W"
fail() { echo "live_read_test: FAIL: $*" >&2; kill "$pid" 2>/dev/null || true; rm -rf "$W"; exit 1; }
"$X" run -q --backend cpu --size 64 --t-end 1e6 --steady-tol 0 --snapshot-every 5 -o live.h5 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$W"' EXIT
# Waits for events, not for a time: the file (its first snapshot), then a reader that
# sees two complete snapshots. A reader that catches a write half done sees an error and
# reads again (README); the 120 s limit only guards against a hang.
for _ in $(seq 12000); do [[ -e live.h5 ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
[[ -e live.h5 ]] || fail "no live.h5 (the run ended or took over 120 s)"
/usr/bin/python3 - <<'PY' || fail "h5py could not read two snapshots of the running file"
import time, h5py
t0 = time.monotonic()
while True:
    try:
        with h5py.File("live.h5", "r") as f:
            assert f.attrs["status"] == "running", f.attrs["status"]
            done = [k for k in sorted(f["snapshots"]) if f["snapshots"][k].attrs.get("complete", 0) == 1]
            if len(done) >= 2:
                s = f["snapshots"][done[0]]["spins"][...]
                assert s.shape == (64, 64, 3), s.shape
                break
    except (OSError, KeyError):
        pass
    assert time.monotonic() - t0 < 120, "no second snapshot within 120 s"
    time.sleep(0.01)
print(f"live_read_test: h5py read {len(done)} complete snapshots of the running file")
PY
h5ls -r live.h5 >h5ls.txt 2>&1 || fail "h5ls on the running file: $(head -2 h5ls.txt)"
grep -q "/snapshots" h5ls.txt || fail "h5ls listed no snapshots: $(head -5 h5ls.txt)"
if "$X" run -q --backend cpu --size 8 --t-end 1 -o live.h5 --overwrite 2>second.txt; then fail "a second writer was let in"; fi
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc == 130 ]] || fail "interrupted run exited $rc, not 130"
/usr/bin/python3 -c "
import h5py; f = h5py.File('live.h5', 'r'); st = f.attrs['status']
assert st.startswith('interrupted'), st; assert len(f['snapshots']) >= 2
" || fail "after the interrupt: status or snapshots wrong"
echo "live_read_test: read while running (h5py, h5ls), second writer refused ($(head -c 90 second.txt)), snapshots kept"
