#!/usr/bin/env bash
# Regenerates results/quantum: the paper's Fig. 4 from quantum trajectories on a ring of
# 12 spins, and the Liouvillian gap along Jy at Jx = 2, Jz = 1 (exact, N = 4-8).
# Usage: results/quantum/run.sh [path/to/xyzmf]   (from the repository root)
set -euo pipefail
X=${1:-build/xyzmf}
D=results/quantum
P=/usr/bin/python3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

fig4() {
# Fig. 4: FM, AFM, SDW (Jz = 1) and sXY (Jz = 0), from all spins down.
N=${N:-12}; M=${M:-48}
run() { "$X" quantum --sites "$N" --Jx "$1" --Jy "$2" --Jz "$3" --trajectories "$M" --t-end 25 --burn-in 8 \
          --sample-dt 0.5 --seed 1 --backend cpu -q -o "$W/$4.h5" >"$D/$4-n$N.txt"; }
run 2 0 1 fm; run -2 0 1 afm; run 4 2 1 sdw; run 1 -1 0 sxy
$P tools/plot_quantum.py fig4 "$W/fm.h5" "$W/afm.h5" "$W/sdw.h5" -o "$D/fig4a-n$N.png" >"$D/fig4a-n$N-fit.txt"
$P tools/plot_quantum.py fig4 "$W/sxy.h5" --components x,y -o "$D/fig4b-n$N.png" >"$D/fig4b-n$N-signs.txt"
}

gap() {
# The gap along Jy (mean-field PM boundary of the ring, d = 1: Jy = 1.219).
for n in 4 5 6 7; do
  for jy in $(seq 0 0.2 2.4); do "$X" quantum --sites $n --Jx 2 --Jy "$jy" --Jz 1 --method exact --gap --json; done \
    >"$D/gap-n$n.jsonl"
done
for jy in $(seq 0 0.4 2.4); do "$X" quantum --sites 8 --Jx 2 --Jy "$jy" --Jz 1 --method exact --gap --json; done \
  >"$D/gap-n8.jsonl"
$P tools/plot_quantum.py gap "$D"/gap-n*.jsonl --boundary 1.219 -o "$D/gap.png"
}
# The two halves side by side, one core each.
export OMP_NUM_THREADS=1
fig4 & gap & wait
