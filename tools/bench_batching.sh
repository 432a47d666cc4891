#!/usr/bin/env bash
# Batched sweep vs looping single runs over the same points (results/bench/batching.md).
# 64 points (8 x 8 over Jx, Jy at Jz = 1), 32^2 lattices, t = 20, dt = 0.02, no early stop.
set -euo pipefail
cd "$(dirname "$0")/.."
X=build/xyzmf; W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
grid=(--x Jx:-6:6:8 --y Jy:-6:6:8)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
batched=(); looped=()
for rep in 1 2 3; do
  t0=$(date +%s.%N)
  $X sweep -q --backend cpu --Jz 1 "${grid[@]}" --size 32 --dt 0.02 --t-end 20 --steady-tol 0 --batch-points 64 -o "$W/b.h5" --overwrite >/dev/null
  t1=$(date +%s.%N); batched+=("$(printf "%.2f" "$(echo "$t1 - $t0" | bc)")")
  t0=$(date +%s.%N)
  for jy in $(seq 0 7); do for jx in $(seq 0 7); do
    Jx=$(echo "-6 + 12 * $jx / 7" | bc -l); Jy=$(echo "-6 + 12 * $jy / 7" | bc -l)
    $X run -q --backend cpu --Jx "$Jx" --Jy "$Jy" --Jz 1 --size 32 --dt 0.02 --t-end 20 --steady-tol 0 \
      --snapshot-every 20 -o "$W/s.h5" --overwrite
    $X analyze "$W/s.h5" --json >/dev/null
  done; done
  t1=$(date +%s.%N); looped+=("$(printf "%.2f" "$(echo "$t1 - $t0" | bc)")")
done
b=$(printf '%s\n' "${batched[@]}" | median); l=$(printf '%s\n' "${looped[@]}" | median)
cat > results/bench/batching.md <<MD
# Batched sweep vs looping single runs

Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores with \`bash tools/bench_batching.sh\`: the same 64 points
(8 x 8 over Jx, Jy in [-6, 6] at Jz = 1), each a 32^2 lattice from a random state, RK4 dt = 0.02 to t = 20 (1000 steps,
no early stop), classified. Batched: one \`xyzmf sweep\` (all 64 lattices in one state array). Looped: 64 x
(\`xyzmf run\` + \`xyzmf analyze\`), as a user scripting single runs would. Medians of 3.

| | seconds (median) | all repeats |
|---|---|---|
| batched sweep | $b | ${batched[*]} |
| looped single runs | $l | ${looped[*]} |

Speed-up of batching: **$(echo "scale=1; $l / $b" | bc)x**.
MD
cat results/bench/batching.md
