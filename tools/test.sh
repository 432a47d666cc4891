#!/usr/bin/env bash
# THE test command (README, .ci/run): installs dependencies, builds (CUDA
# sources compile whenever nvcc exists), and runs the whole suite with CTest.
# GPU cases skip with a message when no device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
/usr/bin/python3 tools/bench_numpy.py --check
# Sequential: each test already uses every core through OpenMP.
cd build && ctest --output-on-failure
