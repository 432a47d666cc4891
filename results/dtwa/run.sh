#!/usr/bin/env bash
# Makes every number and figure of results/dtwa (README.md there says what they show).
#   results/dtwa/run.sh [rings] [order] [speed]     (default: all three)
# XYZMF=path/to/xyzmf (default build/xyzmf). Times on the 2-core development machine:
# rings about 2 min, order about 40 min, speed about 1 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
X=${XYZMF:-build/xyzmf}
D=results/dtwa
what=${*:-rings order speed}

if [[ $what == *rings* ]]; then
    # Rings of 6 from all spins down at the paper's four points (our couplings, 1/(2d) bonds):
    # DTWA (4000 trajectories), the exact density matrix, and mean field (which stays at the
    # fixed point: all down is stationary for it).
    pts=()
    for p in "FM 2 0 1" "AFM -2 0 1" "SDW 4 2 1" "sXY 1 -1 0"; do
        read -r name jx jy jz <<<"$p"
        $X dtwa --dim 1 --size 6 --Jx "$jx" --Jy "$jy" --Jz "$jz" --trajectories 4000 --t-end 8 --dt 0.005 \
            --record-every 0.1 --seed 1 --json -q >"$D/ring6-$name-dtwa.json"
        $X quantum --sites 6 --Jx "$jx" --Jy "$jy" --Jz "$jz" --method exact --series --t-end 8 --sample-dt 0.1 \
            --json >"$D/ring6-$name-exact.json"
        pts+=("$name:$D/ring6-$name-dtwa.json:$D/ring6-$name-exact.json")
    done
    /usr/bin/python3 tools/plot_dtwa.py rings -o "$D/rings.png" "${pts[@]}"
fi

if [[ $what == *order* ]]; then
    # The 2D benchmark of the dissipative XYZ literature, Jx = 0.9, Jz = 1, gamma = 1 in the
    # convention of unnormalised bonds, i.e. ours x 2d = 4: Jx = 3.6, Jz = 4, Jy = 4 Jy_lit.
    # From all spins down to t = 30; S_xx(k = 0)/N at t_end, errors from 8 batch means.
    mkdir -p "$D/order"
    for L in 8 16 32 64; do
        R=$((L <= 16 ? 400 : L == 32 ? 160 : 64))
        for jy in 0.95 1.00 1.04 1.08 1.12 1.16 1.20 1.30; do
            $X dtwa --size "$L" --Jx 3.6 --Jy "$(awk -v j="$jy" 'BEGIN{print 4 * j}')" --Jz 4 --trajectories "$R" \
                --batch $((R / 8)) --t-end 30 --dt 0.02 --record-every 1 --seed 1 -q --overwrite \
                -o "$D/order/L$L-Jy$jy.h5"
        done
    done
    /usr/bin/python3 tools/plot_dtwa.py order -o "$D/order.png" --table "$D/order.txt" "$D"/order/*.h5
fi

if [[ $what == *speed* ]]; then
    # Trajectory site-steps against the same number of mean-field site-steps (4 x 256^2 x 200
    # = 512^2 x 200), whole processes (sampling and records included), CPU seconds (user +
    # system), 7 pairs run in turn; the ratio is mean field's time over DTWA's.
    cpu_seconds() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
    {
        echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $($X --version | head -1), $(nproc) cores"
        echo "# dtwa_s meanfield_s ratio"
        for rep in 1 2 3 4 5 6 7; do
            a=$(cpu_seconds $X dtwa --backend cpu --size 256 --Jx 4 --Jy 2 --Jz 1 --trajectories 4 --batch 4 \
                --t-end 2 --dt 0.01 --record-every 2 -q)
            b=$(cpu_seconds $X bench --backend cpu --dim 2 --size 512 --steps 200 --repeats 1)
            awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f %.2f %.3f\n", a, b, b / a}'
        done
    } | tee "$D/speed.txt"
fi
