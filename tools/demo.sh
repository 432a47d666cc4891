#!/usr/bin/env bash
# THE demo command (README): installs dependencies, builds, and runs the main
# demo job -- a 256x256 staggered-XY lattice from a random state, analysed as it
# goes -- then plots its sXY phase field with the vortices.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
mkdir -p demo
./build/xyzmf run --Jx 1 --Jy -1 --Jz 0 --gamma 1 --size 256 --init random --seed 1 \
  --t-end 100 --snapshot-every 10 --analyze -o demo/sxy.h5 --overwrite
/usr/bin/python3 tools/plot_run.py demo/sxy.h5 -o demo/sxy.png
echo "demo: wrote demo/sxy.h5 and demo/sxy.png"
