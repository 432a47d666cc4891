#!/usr/bin/env bash
# Times `xyzmf quantum --method exact` (steady state in its symmetry sector, and the
# gap over all sectors) on rings and periodic clusters: the median of REPEATS runs
# (one run for the 12-spin cases, which take minutes), the SDW point (4, 2, 1); the
# sXY rows at (1, -1, 0), where the steady state's sector splits by the staggered charge.
# Usage: tools/bench_exact.sh [path/to/xyzmf] [repeats] [rows]   (prints a markdown table;
# rows: an extended regular expression on the case names, e.g. 'gap' or 'ring of (8|10)$')
set -euo pipefail
X=${1:-build/xyzmf}
R=${2:-3}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ROWS=${3:-.}
row() {  # label repeats args...
  local label=$1 n=$2; shift 2
  [[ $label =~ $ROWS ]] || return 0
  local times=() out
  for _ in $(seq "$n"); do
    out=$(/usr/bin/time -f "%e %M" "$X" quantum --method exact ${J:---Jx 4 --Jy 2 --Jz 1} --json "$@" 2>&1 >/dev/null | tail -1)
    times+=("$out")
  done
  local t m
  t=$(printf '%s\n' "${times[@]}" | awk '{print $1}' | median)
  m=$(printf '%s\n' "${times[@]}" | awk '{print $2}' | sort -g | tail -1)
  printf '| %s | %s | %s | %.0f |\n' "$label" "$n" "$t" "$((m / 1024))"
}
echo "| case | runs | seconds (median) | peak memory (MB) |"
echo "|---|---|---|---|"
row "steady state, ring of 8" "$R" --sites 8
row "steady state, ring of 10" "$R" --sites 10
row "steady state, 3x3 cluster" "$R" --size 3x3
row "gap, ring of 8" "$R" --sites 8 --gap
row "gap, ring of 10" "$R" --sites 10 --gap
J="--Jx 1 --Jy -1 --Jz 0" row "steady state, sXY point, ring of 10" "$R" --sites 10
row "steady state, ring of 12" 1 --sites 12
J="--Jx 1 --Jy -1 --Jz 0" row "steady state, sXY point, ring of 12" 1 --sites 12
row "steady state, 4x3 cluster" 1 --size 4x3
row "gap, ring of 12" 1 --sites 12 --gap
