#!/usr/bin/env bash
# Fig. 4 on a ring of 16 spins on a GPU: the four points of run.sh's fig4 (FM, AFM,
# SDW at Jz = 1; sXY at Jz = 0; from all spins down, t = 25, averages over t >= 8)
# run at once on one device for at most SECONDS of wall time. Trajectories are
# written batch by batch, so the files hold every batch that finished; a later
# call with the same OUT_DIR continues them (--resume).
#
#   results/quantum/fig4-gpu.sh XYZMF OUT_DIR SECONDS [BATCH]
#
# Then, on any machine with the files:
#   tools/plot_quantum.py fig4 fm.h5 afm.h5 sdw.h5 -o fig4a-n16.png
#   tools/plot_quantum.py fig4 sxy.h5 --components x,y --rmin 1 -o fig4b-n16.png
set -uo pipefail
X=$1 D=$2 S=$3 B=${4:-32}
N=16 M=1024
mkdir -p "$D"
point() {  # Jx Jy Jz name
    local f=$D/$4.h5
    if [[ -f $f ]]; then
        timeout -s INT -k 30 "$S" "$X" quantum --resume "$f" -q
    else
        timeout -s INT -k 30 "$S" "$X" quantum --sites $N --Jx "$1" --Jy "$2" --Jz "$3" --trajectories $M --batch "$B" \
            --t-end 25 --burn-in 8 --sample-dt 0.5 --seed 1 --backend cuda -q -o "$f"
    fi 2>&1 | sed "s/^/$4: /"
}
point 2 0 1 fm & point -2 0 1 afm & point 4 2 1 sdw & point 1 -1 0 sxy &
wait
