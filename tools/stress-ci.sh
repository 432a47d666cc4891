#!/usr/bin/env bash
# The test suite on a busy machine: runs the README's test command (tools/test.sh: the
# whole suite, its release and sanitizer parts) N times while two busy loops hold both
# cores of a 2-core machine, as a developer's machine or a shared CI runner often is.
# A suite whose cases wait for events instead of fixed times passes every time.
#   tools/stress-ci.sh [N]          (default 5)
# Each run's log is stress-ci/run-I.log; the last line says how many runs failed, and the
# exit status is 0 only if none did. Leaves the machine as it found it (the loops end with
# the script, however it ends).
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "stress-ci: N must be a positive whole number (got '$N')" >&2; exit 2; }
mkdir -p stress-ci
loops=()
stop_loops() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop_loops EXIT
trap 'exit 130' INT TERM
for _ in 1 2; do
    (while :; do :; done) &
    loops+=($!)
done
echo "stress-ci: $N runs of tools/test.sh with two busy loops (pids ${loops[*]}) on $(nproc) cores" >&2
failed=0
for i in $(seq "$N"); do
    start=$(date +%s)
    bash tools/test.sh >"stress-ci/run-$i.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    (( rc == 0 )) || failed=$((failed + 1))
    printf 'stress-ci: run %d of %d: %s, %d min %02d s (stress-ci/run-%d.log)\n' "$i" "$N" \
        "$([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)")" $((secs / 60)) $((secs % 60)) "$i" >&2
    [[ $rc == 0 ]] || grep -E "^FAIL|Failed|FAILED|Error" "stress-ci/run-$i.log" | head -20 >&2
done
echo "stress-ci: $failed of $N runs failed" >&2
(( failed == 0 ))
