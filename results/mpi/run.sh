#!/usr/bin/env bash
# The exchange overhead of one lattice over MPI ranks (results/bench/mpi.md): the
# same 2D run as one process of 2 OpenMP threads and as 2 ranks of 1 thread each
# (mpirun, bound to cores as Open MPI does by default, and unbound), in turn, the loop's own rate (site-steps/s, from the
# summary line, process start-up excluded). Needs an MPI build (-DXYZMF_MPI=ON).
#   results/mpi/run.sh [ROUNDS] [SIZE] [T_END]      (defaults 7, 1024, 2)
# XYZMF=path/to/xyzmf (default build/xyzmf). About 1 min on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
X=${XYZMF:-build/xyzmf}
pairs=${1:-7} size=${2:-1024} tend=${3:-2}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
R=(run --size "$size" --t-end "$tend" --Jx 0.9 --Jy 1.1 --Jz 1 --steady-tol 0 --snapshot-every 1000 --seed 1 --backend cpu)
rate() { sed -n 's/.*steps in [0-9.e+-]* s (\([0-9.e+-]*\) site-steps\/s).*/\1/p' "$1"; }
echo "# $(date -u +%Y-%m-%d) $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); $size^2 double, t_end $tend"
echo "# round  threads2  ranks2(bound to cores, Open MPI's default)  ranks2(--bind-to none)  ratios to threads2"
for i in $(seq "$pairs"); do
    "$X" "${R[@]}" --threads 2 -o "$W/t.h5" --overwrite >"$W/t.txt"
    OMP_NUM_THREADS=1 mpirun -np 2 "$X" "${R[@]}" -o "$W/r.h5" --overwrite >"$W/r.txt"
    OMP_NUM_THREADS=1 mpirun -np 2 --bind-to none "$X" "${R[@]}" -o "$W/n.h5" --overwrite >"$W/n.txt"
    a=$(rate "$W/t.txt") b=$(rate "$W/r.txt") c=$(rate "$W/n.txt")
    echo "$i $a $b $c $(/usr/bin/python3 -c "print(f'{$b/$a:.3f} {$c/$a:.3f}')")"
done
