#!/usr/bin/env bash
# THE test command (README, .ci/run): installs dependencies, builds (CUDA
# sources compile whenever nvcc exists), and runs the whole suite with CTest and
# the robustness drill's option, kill, signal, second-writer and blow-up cases; then builds
# the CPU code with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/
# and runs our C++ code's own tests there: the GoogleTest suite (and
# io.ReadableWhileRunning), the drill's crafted-file and full-disk cases, and one
# case of each kind of kill, signal and second writer; not the tests
# whose work is Python, ParaView, shell or QuTiP (see below). GPU cases skip with a message when no device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
# Seconds since the start before each stage: CI has 20 minutes on 2 cores.
stage() { echo "xyzmf: [${SECONDS} s] $*"; }
# With the MPI layer (src/mpi) and its tests under mpiexec; the program itself is the
# same serial program either way.
# Tests run two at a time (and the drill two cases at a time) on 2 cores: OpenMP threads
# that spin at barriers while another program holds the cores make both crawl (two DTWA
# tests side by side: 73 and 79 s spinning, 1 and 2 s passive), so they wait passively.
export OMP_WAIT_POLICY=passive
# A new build folder compiles the CUDA code for one architecture, 80 (A100), whose PTX
# the newer GPUs (H100, H200) compile once at their first run: CI has no GPU, and the
# second architecture cost 35 s of the 2-core build (236 s against 271 s, 2026-12-07).
# tools/build.sh's default is 80 and 90; a folder configured before keeps its own.
archs=()
[[ -f build/CMakeCache.txt ]] || archs=(-DCMAKE_CUDA_ARCHITECTURES=80)
# The Python package is asked for: without pybind11 its tests would drop out of CTest
# unseen, and CI would pass without them.
bash tools/build.sh -DXYZMF_MPI=ON -DXYZMF_PYTHON=ON "${archs[@]}"
/usr/bin/python3 tools/bench_numpy.py --check
stage "CTest on the release build"
# Two tests at a time, except the drill: apart from it the tests leave a core idle
# (84 s one at a time, 57 s two at a time on 2 cores before the Python tests came,
# 2026-11-27; 83 s two at a time with them), while the drill
# runs two cases at a time itself (its kill, signal and second-writer cases wait for
# events, not times, so a busy machine only makes them slower: tools/stress-ci.sh).
(cd build && ctest -j2 --output-on-failure -E '^robustness\.Drill$')
# The drill (tests/robustness/drill.py; CTest's robustness.Drill runs all of it on one build):
# each case runs once here, on the build it tells most about. On this release build the
# hostile options (400 refused starts: 0.04 s each here, 0.43 s under the sanitizers) and
# the classes that step for seconds and stop, kill and race processes (kill_resume,
# two_writers, signals, blowups); the crafted-file and full-disk classes, where files are
# parsed and writes fail, run below under the sanitizers, which check the same exit codes,
# messages and files and the memory besides (every class on both builds took 24 min from a
# fresh clone on 2 cores, 2026-12-04: over CI's 20).
# Of the signals class (each stop signal at 0, 1, 2, 5, 10, 20, 50 and 100 ms into every
# writing command), the moments the sanitizer build below does not take: 1, 5, 20 and 100 ms
# (2 and 10 ms lie between moments taken; robustness.Drill takes them all).
stage "robustness drill on the release build"
/usr/bin/python3 tests/robustness/drill.py --xyzmf build/xyzmf --jobs 2 \
    --only options,kill_resume,two_writers,blowups
# And the two stops inside the exact quantum solvers, each sent once a progress line shows
# the stage under way (the gap's sectors, the steady state's incomplete LU; 13 s together).
/usr/bin/python3 tests/robustness/drill.py --xyzmf build/xyzmf --jobs 2 --only signals \
    --case " at 1 ms" --case " at 5 ms" --case " at 20 ms" --case " at 100 ms" \
    --case "SIGINT once a sector is done" --case "SIGINT in the steady state"

stage "sanitizer build (address + undefined behaviour, CPU only)"
# -O1 -g1: the sanitizers need neither -O2 nor full debug info (line tables keep their
# reports readable), and the heavy templates (Eigen/Spectra, CLI11, JSON) compile in
# half the time, which keeps CI under 20 minutes on 2 cores. For the same reason the test
# files compile at -O0 (but two, tests/CMakeLists.txt) and UBSan leaves out its null check,
# which AddressSanitizer covers (CMakeLists.txt): with those and the CPU stream emulation's
# smaller plans this stage took 349 s at 86d5651, 471 s at c2e16ba (2026-12-07).
generator=()  # Ninja for a new folder, as in tools/build.sh
[[ -f build-asan/CMakeCache.txt ]] || ! command -v ninja >/dev/null || generator=(-G Ninja)
cmake -S . -B build-asan "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DXYZMF_ENABLE_CUDA=OFF -DXYZMF_SANITIZE=ON -DXYZMF_NATIVE=OFF >build-asan.log 2>&1 || { cat build-asan.log; exit 1; }
cmake --build build-asan -j"$(nproc)" 2>&1 | grep -E "error|warning" || true
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The sanitizers are there for memory errors and undefined behaviour in our C++ code.
# Not run under them (times under ASan on 2 cores, 2026-11-27): the tests whose work is
# done by Python, ParaView, shell or QuTiP, which run xyzmf only on inputs that the suite
# and the drill already give it -- tools.PlotsAndTables 26 s, reference.QuantumQutip 8 s,
# paraview.Xdmf 7 s, cluster.Slurm 13 s, tools.SlurmSweep 4 s, reference.GaussianQutip 2 s, install.Prefix 1 s,
# docs.StandAlone, python.* (the Python module is not built with the sanitizers) -- and
# robustness.Drill as a whole (166 s), run as the subset below instead.
# The GoogleTest suite two at a time: it leaves a core idle under ASan (143 s one at a
# time, 67 s two at a time).
# Also not run under them: the sector tests whose work is Eigen's and Spectra's numerics at
# sizes chosen for the numbers (rings of 6-10; 74 s under ASan, 2026-12-05), while smaller
# sector tests (rings of 1-6, including the whole-space one that takes the Arnoldi path)
# run every line of our sector code under them.
stage "CTest under the sanitizers"
(cd build-asan && ctest -j2 --output-on-failure \
    -E '^(tools|cluster|paraview|docs|install|reference|python|robustness)\.|^Sectors\.(TrajectoriesAgreeAtTen|SteadyStateIsPhysicalAtEightAndTen|ArnoldiFindsTheSlowestModesOfTheDenseSectorMatrix)$')
# The drill (tests/robustness/drill.py): every crafted-file and full-disk case (run only
# here, see above), and of the kill_resume and two_writers classes, whose cases are
# seconds of stepping each (110 s of the 166), one case per kind: SIGINT and SIGTERM
# stops and SIGKILL of a run and a sweep with their resumes, SIGKILL of --overwrite and
# of an in-place analyze, a second writer refused during a run and a sweep, a reader of
# a running file, and two resumes of one run; of the signals class (each stop signal at
# 0-100 ms into every writing command, 288 cases) the 0 and 50 ms cases (72).
stage "robustness drill under the sanitizers"
/usr/bin/python3 tests/robustness/drill.py --xyzmf build-asan/xyzmf --jobs 2 --only crafted_files,full_disk
/usr/bin/python3 tests/robustness/drill.py --xyzmf build-asan/xyzmf --jobs 2 --only kill_resume,two_writers,signals \
    --case "run SIGINT at 10% of its records" --case "sweep SIGTERM at 10% of its batches" \
    --case "run SIGKILL at 55% of its records, resume" --case "sweep SIGKILL at 56% of its batches, resume" \
    --case "run --overwrite SIGKILL at 20% of its records" --case "analyze --all-snapshots SIGKILL within 0.00 s" \
    --case "run running, then run --resume" --case "sweep running, then sweep --resume" \
    --case "run running, then analyze out.h5 --out other.h5 (reader)" --case "two resumes of one interrupted run" \
    --case " at 0 ms" --case " at 50 ms"
stage "all passed"
