#!/usr/bin/env bash
# Reproduces results/sxy/ and results/orders/ (issue #3) on the CPU backend.
# Run from the repository root after tools/build.sh. Large .h5 files go to $WORK (default /tmp/xyzmf-results).
set -euo pipefail
X=build/xyzmf; P=/usr/bin/python3; W=${WORK:-/tmp/xyzmf-results}; mkdir -p "$W" results/sxy results/orders

# sXY coarsening study: 256^2, Jx = 1, Jy = -1, Jz = 0, gamma = 1, random start, snapshots every 10 to t = 500.
time $X run -q --backend cpu --Jx 1 --Jy -1 --Jz 0 --gamma 1 --size 256 --init random --seed 1 \
  --t-end 500 --snapshot-every 10 --steady-tol 0 --analyze -o "$W/sxy-256.h5" --overwrite
$X analyze "$W/sxy-256.h5" --all-snapshots > results/sxy/analyze-all-snapshots.txt
$X analyze "$W/sxy-256.h5" --json > results/sxy/final.json
$P tools/plot_vortex_count.py "$W/sxy-256.h5" --fit -o results/sxy/vortex-count-256.png
$P tools/plot_texture.py "$W/sxy-256.h5" --snapshot 5 --crop 0:96,0:96 -o results/sxy/texture-t50.png
$P tools/plot_texture.py "$W/sxy-256.h5" --crop 0:96,0:96 -o results/sxy/texture-t500.png
$P tools/plot_sk.py "$W/sxy-256.h5" --snapshot 5 --log -o results/sxy/sk-t50.png
$P tools/plot_sk.py "$W/sxy-256.h5" --log -o results/sxy/sk-t500.png

# FM, AFM and SDW examples (d = 2, 64^2).
run() { name=$1; shift; $X run -q --backend cpu --size 64 "$@" -o "$W/$name.h5" --overwrite --analyze
        $X analyze "$W/$name.h5" --json > "results/orders/$name.json"
        $P tools/plot_sk.py "$W/$name.h5" --log -o "results/orders/$name-sk.png"
        $P tools/plot_run.py "$W/$name.h5" -o "results/orders/$name-state.png"; }
run fm-uniform  --Jx 2  --Jy 0 --Jz 1 --init uniform:0.1,0.1,-0.9 --t-end 200
run fm-random   --Jx 2  --Jy 0 --Jz 1 --init random --t-end 300
run afm-random  --Jx -2 --Jy 0 --Jz 1 --init random --t-end 300
run sdw-random  --Jx 4  --Jy 2 --Jz 1 --init random --t-end 300
# and the 1D ring SDW of physics.md 3.8 (period 5.30)
$X run -q --backend cpu --dim 1 --size 64 --Jx 4 --Jy 2 --Jz 1 --init pm-noise --t-end 300 --analyze -o "$W/sdw-ring.h5" --overwrite
$X analyze "$W/sdw-ring.h5" --json > results/orders/sdw-ring.json
$P tools/plot_run.py "$W/sdw-ring.h5" -o results/orders/sdw-ring-state.png
