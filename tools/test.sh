#!/usr/bin/env bash
# THE test command (README, .ci/run): installs dependencies, builds (CUDA
# sources compile whenever nvcc exists), and runs the whole suite with CTest;
# then builds the CPU code with AddressSanitizer + UndefinedBehaviorSanitizer
# into build-asan/ and runs the whole suite again there. GPU cases skip with a
# message when no device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
/usr/bin/python3 tools/bench_numpy.py --check
# Sequential: each test already uses every core through OpenMP.
(cd build && ctest --output-on-failure)

echo "xyzmf: sanitizer build (address + undefined behaviour, CPU only)"
# -O1 -g1: the sanitizers need neither -O2 nor full debug info (line tables keep their
# reports readable), and the heavy templates (Eigen/Spectra, CLI11, JSON) compile in
# half the time, which keeps CI under 20 minutes on 2 cores.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DXYZMF_ENABLE_CUDA=OFF -DXYZMF_SANITIZE=ON -DXYZMF_NATIVE=OFF >build-asan.log 2>&1 || { cat build-asan.log; exit 1; }
cmake --build build-asan -j"$(nproc)" 2>&1 | grep -E "error|warning" || true
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure)
