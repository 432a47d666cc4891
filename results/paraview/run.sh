#!/usr/bin/env bash
# The ParaView picture of results/paraview (README.md there): a 2D sXY run with its
# vortices analysed, its XDMF sidecar, and tools/render_paraview.py under xvfb-run
# (Debian's ParaView needs an X server even offscreen). About 10 s on 2 cores.
#   results/paraview/run.sh        (XYZMF=path/to/xyzmf, default build/xyzmf)
set -euo pipefail
cd "$(dirname "$0")/../.."
X=${XYZMF:-build/xyzmf}
D=results/paraview
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$X" run -q --backend cpu --size 64 --Jx 1 --Jy -1 --Jz 0 --t-end 10 --snapshot-every 10 --seed 3 --analyze --xdmf \
    -o "$W/sxy64.h5"
xvfb-run -a -s -noreset pvbatch tools/render_paraview.py "$W/sxy64.xdmf" -o "$D/sxy64-psi-vortices.png" --size 900 800 | tee "$D/render.txt"
