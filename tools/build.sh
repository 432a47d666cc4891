#!/usr/bin/env bash
# Configures and builds xyzmf into build/ (CUDA backend too when nvcc is found,
# in PATH or at /usr/local/cuda/bin). Usage: tools/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >build.log 2>&1 || { cat build.log; exit 1; }
grep -E "^-- xyzmf:" build.log || true
cmake --build build -j"$(nproc)" 2>&1 | grep -E "error|warning|Error" || true
test -x build/xyzmf
