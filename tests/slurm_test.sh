#!/usr/bin/env bash
# tools/slurm-sweep.sh on a real Slurm cluster: starts munged, slurmctld and slurmd
# on localhost (config tests/slurm/slurm.conf.in, all state in a temporary folder),
# submits a sweep as a job array plus a merge job that waits for it through the real
# sbatch, checks the merged map equals the sweep run whole, runs the MPI test program
# and xyzmf run with `srun -n 2 --mpi=pmix` when the MPI layer is built, and stops
# the daemons.
#   tests/slurm_test.sh path/to/xyzmf [path/to/xyzmf_mpi_tests]
# Waits are on events (a node state, a job state), each with a generous deadline as
# a safety net only.
set -euo pipefail
X=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
MPI_TESTS=${2:+$(cd "$(dirname "$2")" && pwd)/$(basename "$2")}
HERE=$(cd "$(dirname "$0")" && pwd)
S=$HERE/../tools/slurm-sweep.sh
fail() { echo "slurm_test: FAIL: $*" >&2; for f in "$W"/*.log "$W"/out/*.log; do [[ -e $f ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done; exit 1; }
for p in munged slurmctld slurmd sbatch srun scontrol; do
    command -v "$p" >/dev/null || { echo "slurm_test: $p not found: install slurm-wlm and munge (tools/install-deps.sh)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/xyzmf-slurm.XXXXXX)  # short: the munge socket path must fit a sockaddr
chmod 755 "$W"
stop() {
    set +e
    [[ -n ${SLURM_CONF:-} ]] && scontrol shutdown >/dev/null 2>&1
    for f in slurmd slurmctld munged; do
        [[ -s $W/$f.pid ]] && kill "$(cat "$W/$f.pid")" 2>/dev/null
    done
    # The daemons are gone when their pid files' processes are.
    for f in slurmd slurmctld munged; do
        [[ -s $W/$f.pid ]] || continue
        p=$(cat "$W/$f.pid")
        for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$W"
}
trap stop EXIT
# wait_for WHAT SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
    local what=$1 limit=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || fail "no $what after ${limit} s"
        sleep 0.2
    done
}
# Two ports the kernel hands out while both sockets are held, so never the same one
# twice (drawn one at a time, a port just closed could come back).
two_free_ports() {
    /usr/bin/python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])'
}

mkdir -p "$W/state" "$W/spool" "$W/out"
head -c 1024 /dev/urandom >"$W/munge.key"
chmod 600 "$W/munge.key"
munged --force --key-file="$W/munge.key" --socket="$W/munge.sock" --pid-file="$W/munged.pid" \
    --log-file="$W/munged.log" --seed-file="$W/munged.seed" || fail "munged did not start"
host=$(hostname -s)
read -r ctld_port d_port < <(two_free_ports)
[[ $ctld_port != "$d_port" ]] || fail "the same port twice: $ctld_port"
sed -e "s#@DIR@#$W#g" -e "s#@HOST@#$host#g" -e "s#@USER@#$(id -un)#g" -e "s#@CPUS@#$(nproc)#g" \
    -e "s#@CTLD_PORT@#$ctld_port#g" -e "s#@D_PORT@#$d_port#g" "$HERE/slurm/slurm.conf.in" >"$W/slurm.conf"
export SLURM_CONF=$W/slurm.conf
slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
node_idle() { [[ $(sinfo -h -o %t) == idle ]]; }
wait_for "idle node" 60 node_idle

# 1. The sweep through the real sbatch: an array of 3 tasks and a merge that waits on it.
cd "$W"
export XYZMF=$X GPUS_PER_TASK=0 OMP_NUM_THREADS=1
SW=(--x Jx:-3:3:7 --y Jy:-3:3:5 --Jz 1 --size 8 --t-end 40 --backend cpu -q)
SBATCH_OPTIONS="--partition=test --time=00:10:00" "$S" submit 3 out -- "${SW[@]}" >submit.txt || fail "submit: $(cat submit.txt)"
read -r array merge < <(sed -nE 's/^submitted array job ([0-9]+) \(3 tasks\) and merge job ([0-9]+);.*/\1 \2/p' submit.txt)
[[ -n ${merge:-} ]] || fail "submit said: $(cat submit.txt)"
scontrol show job "$merge" | grep -q "Dependency=afterok:${array}" || fail "merge job $merge does not wait for $array"
# SBATCH_OPTIONS reach both jobs (Slurm shows TimeLimit=00:10:00).
for j in "$array" "$merge"; do
    scontrol show job "$j" | grep -q "TimeLimit=00:10:00" || fail "job $j lacks SBATCH_OPTIONS' --time"
done
job_done() { scontrol show job "$1" | grep -qE "JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT)"; }
wait_for "end of merge job $merge" 300 job_done "$merge"
scontrol show job "$merge" | grep -q "JobState=COMPLETED" || fail "merge job: $(scontrol show job "$merge" | grep JobState)"
tasks=$(ls out/shard-*-of-0003.h5 | wc -l)
[[ $tasks == 3 ]] || fail "$tasks shard files, not 3"
"$X" sweep "${SW[@]}" -o whole.h5 >/dev/null
/usr/bin/python3 - out/sweep.h5 whole.h5 <<'PY' || fail "merged map differs from the whole sweep"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["sweep"] for p in sys.argv[1:])
for name in ("phase", "order", "m_perp", "k", "residual", "vortices", "predicted", "x", "y"):
    x, y = a[name][()], b[name][()]
    if x.shape != y.shape or not np.array_equal(x, y, equal_nan=True):
        sys.exit(f"/sweep/{name}: merged differs from whole")
PY
echo "slurm_test: array job $array (3 tasks) and merge job $merge through sbatch: merged map = whole sweep"

# 2. An MPI program launched by srun on 2 tasks (PMIx): one communicator of 2 ranks.
if [[ -n $MPI_TESTS ]]; then
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 srun -n 2 --mpi=pmix "$MPI_TESTS" >srun.txt 2>&1 ||
        fail "srun -n 2: $(tail -20 srun.txt)"
    # Rank 0 alone reports: two reports would mean two separate one-rank worlds.
    [[ $(grep -c "PASSED" srun.txt) == 1 ]] || fail "srun -n 2 did not make one MPI world: $(cat srun.txt)"
    echo "slurm_test: srun -n 2 --mpi=pmix ran the MPI tests as one world of 2 ranks"
    # 3. xyzmf run itself on 2 tasks: one lattice in two slabs, the file the serial run's.
    R=(run --size 48x37 --t-end 2 --Jx 0.9 --Jy 1.1 --Jz 1 --seed 5 -q)
    "$X" "${R[@]}" -o serial.h5
    OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 srun -n 2 --mpi=pmix \
        "$X" "${R[@]}" -o srun.h5 >srun-run.txt 2>&1 || fail "srun -n 2 xyzmf run: $(tail -20 srun-run.txt)"
    h5diff serial.h5 srun.h5 /final /final >/dev/null || fail "srun -n 2 xyzmf run: /final differs from the serial run"
    /usr/bin/python3 -c "
import h5py, sys; b = h5py.File('srun.h5', 'r')['parameters'].attrs['backend']
sys.exit(0 if '2 MPI ranks' in str(b) else f'backend attribute {b!r}')" || fail "srun -n 2 xyzmf run was not one run of 2 ranks"
    echo "slurm_test: srun -n 2 --mpi=pmix xyzmf run: one lattice over 2 ranks, /final equals the serial run"
fi
