#!/usr/bin/env bash
# Snapshots of one lattice over MPI ranks (results/bench/mpi.md): the ranks writing
# their own rows (MPI-IO) against rank 0 gathering every state and writing it alone
# (a program from before, e.g. built at 5f0ef7a), in turn: each rank's peak resident
# memory (/usr/bin/time) and the whole run's wall time, for a run that writes a snapshot
# every 10 steps.
#   results/mpi/snapshots.sh GATHERING_XYZMF PARALLEL_XYZMF [ROUNDS] [SIZE] [RANKS] [OPTIONS...]
# (defaults 5, 2048, 2; 2D, double; OPTIONS added to the run, e.g. --analyze). About 2 min
# on the 2-core machine.
set -euo pipefail
old=$(realpath "$1") new=$(realpath "$2")
rounds=${3:-5} size=${4:-2048} ranks=${5:-2}
extra=("${@:6}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
R=(run --size "$size" --t-end 0.5 --snapshot-every 0.1 --Jx 0.9 --Jy 1.1 --Jz 1 --steady-tol 0 --seed 1 --backend cpu -q "${extra[@]}")
echo "# $(date -u +%Y-%m-%d) $(nproc --all) cores, $(lscpu | sed -n 's/^Model name: *//p'); ${size}^2 double, $ranks ranks${extra:+, ${extra[*]}},"
echo "# 5 snapshots + /final of $(( 3 * 8 * size * size / 1000000 )) MB each; state $(( 3 * 8 * size * size / 1000000 )) MB"
echo "# round  kind  seconds  peak RSS of rank 0..$((ranks - 1)) (MB)"
one() {  # one KIND XYZMF
    rm -f o.h5 rss-*
    local t0 t1
    t0=$(date +%s.%N)
    mpirun -np "$ranks" --bind-to none sh -c "exec /usr/bin/time -f %M -o rss-\$OMPI_COMM_WORLD_RANK $2 \"\$@\"" sh "${R[@]}" -o o.h5
    t1=$(date +%s.%N)
    local mem=""
    for r in $(seq 0 $((ranks - 1))); do mem="$mem $(( $(tail -1 rss-$r) / 1024 ))"; done
    echo "$i $1 $(/usr/bin/python3 -c "print(f'{$t1 - $t0:.2f}')")$mem"
}
for i in $(seq "$rounds"); do
    one gather "$old"
    one parallel "$new"
done
