#!/usr/bin/env bash
# Regenerates results/quantum: the paper's Fig. 4 from quantum trajectories on a ring of
# 12 spins, and the Liouvillian gap (exact) along two lines that cross the mean-field PM
# boundary. Usage: results/quantum/run.sh [path/to/xyzmf] [all|fig4|gap|gap-large]
# (from the repository root). fig4 and gap: about 75 min on the 2-core development machine,
# one core each, side by side (gap's N = 8 is 45 of them; written before the symmetry
# sectors, which now take 2-3 s per N = 8 point). gap-large: the gap along Jy for N = 7-10
# (13 points each), 11 (3 points) and 12 (Jy = 0.6) on both cores, about 80 min.
set -euo pipefail
X=${1:-build/xyzmf}
D=results/quantum
P=/usr/bin/python3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

fig4() {
  # FM, AFM, SDW (Jz = 1) and sXY (Jz = 0), from all spins down.
  local N=12 M=40
  run() { "$X" quantum --sites "$N" --Jx "$1" --Jy "$2" --Jz "$3" --trajectories "$M" --t-end 25 --burn-in 8 \
            --sample-dt 0.5 --seed 1 --backend cpu -q -o "$W/$4.h5" >"$D/$4-n$N.txt"; }
  run 2 0 1 fm; run -2 0 1 afm; run 4 2 1 sdw; run 1 -1 0 sxy
  (cd "$W" && $P "$OLDPWD/tools/plot_quantum.py" fig4 fm.h5 afm.h5 sdw.h5 -o "$OLDPWD/$D/fig4a-n$N.png") >"$D/fig4a-n$N-fit.txt"
  (cd "$W" && $P "$OLDPWD/tools/plot_quantum.py" fig4 sxy.h5 --components x,y --rmin 1 -o "$OLDPWD/$D/fig4b-n$N.png") >"$D/fig4b-n$N-signs.txt"
}

exact() { "$X" quantum --sites "$1" --Jx "$2" --Jy "$3" --Jz 1 --method exact --gap --json; }
gap() {
  # Along Jx at Jy = 0, Jz = 1: mean-field (d = 1) PM for |Jx| < 1.0625, AFM below, FM above.
  for n in 4 5 6; do for jx in $(seq -2.5 0.25 2.5); do exact $n "$jx" 0; done >"$D/gapjx-n$n.jsonl"; done
  for jx in 0.75 1.0 1.25 1.5 1.75 2.0; do exact 7 "$jx" 0; done >"$D/gapjx-n7.jsonl"
  # Along Jy at Jx = 2, Jz = 1: mean-field FM, SDW from Jy = 2/3, PM from Jy = 1.219.
  for n in 4 5 6; do for jy in $(seq 0 0.2 2.4); do exact $n 2 "$jy"; done >"$D/gap-n$n.jsonl"; done
  for jy in $(seq 0 0.2 1.2); do exact 7 2 "$jy"; done >"$D/gap-n7.jsonl"
  for jy in 0.6 0.8 1.0 1.2 0.4 1.4 0.2 0.0; do exact 8 2 "$jy"; done >"$D/gap-n8.jsonl"  # about 45 min
  (cd "$D" && $P ../../tools/plot_quantum.py gap gapjx-n?.jsonl --boundary -1.0625 --boundary 1.0625 -o gap-jx.png) \
    >"$D/gap-jx.txt" 2>&1
  (cd "$D" && $P ../../tools/plot_quantum.py gap gap-n?.jsonl --boundary 1.219 -o gap-jy.png) >"$D/gap-jy.txt" 2>&1
}

# The gap in the symmetry sectors (both cores): N = 7-11 along the whole line, 12 at the
# points done so far. Each line's "seconds" is the point's time (N = 11's first three and
# N = 12's first four before the gap's Lanczos box and packed products, about 2x slower).
# At Jy = 2 = Jx H conserves the total sz: the sectors split by charge too (N = 10's point
# was added alone, 13.5 s, after that split; it had taken minutes: N = 9 292 s, now 5 s).
gap_large() {
  for n in 7 8 9; do for jy in $(seq 0 0.2 2.4); do exact $n 2 "$jy"; done >"$D/gap-n$n.jsonl"; done
  for jy in $(seq 0 0.2 2.4); do exact 10 2 "$jy"; done >"$D/gap-n10.jsonl"
  for jy in 0.6 0.4 0.8 1.0 1.2 0.2 0.0 1.4 1.6 1.8 2.0 2.2 2.4; do exact 11 2 "$jy"; done >"$D/gap-n11.jsonl"  # 2.5-5 min a point, 0.9 GB
  for jy in 0.6 0.8 0.4 1.0 1.2 0.2 0.0 2.0 1.4 1.6 2.4 1.8 2.2; do exact 12 2 "$jy"; done >"$D/gap-n12.jsonl"  # 42, 47, 33, 97 min (1.0 beside other work); faster code: 38 min (1.2, beside builds), 16 min (0.2, idle), 17 min (0.0, idle), 11 min (2.0, charge split, beside builds), 34 and 45 min (1.4, 1.6, beside builds and the test suite), 43 min (2.4, idle), 96 min (1.8, beside builds, benchmarks and a paused test suite), 49 min (2.2, idle); 3.2 GB
  (cd "$D" && $P ../../tools/plot_quantum.py gap gap-n?.jsonl gap-n1?.jsonl --boundary 1.219 -o gap-jy.png) >"$D/gap-jy.txt" 2>&1
}

case ${2:-all} in
  fig4) OMP_NUM_THREADS=1 fig4 ;;
  gap) OMP_NUM_THREADS=1 gap ;;
  gap-large) gap_large ;;
  all) (export OMP_NUM_THREADS=1; fig4 & gap & wait); gap_large ;;
  *) echo "run.sh: unknown part '$2' (all, fig4, gap or gap-large)" >&2; exit 2 ;;
esac
