#!/usr/bin/env bash
# Configures and builds xyzmf into build/ (CUDA backend too when nvcc is found,
# in PATH or at /usr/local/cuda/bin), optimised for this machine's processor
# (-DXYZMF_NATIVE=ON; pass -DXYZMF_NATIVE=OFF for a binary that runs on any x86-64).
# Usage: tools/build.sh [extra cmake args]. The full log is in build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
echo "xyzmf: configuring (build.log)" >&2
# Ninja for a new build folder: it compiles a library's files while the libraries they
# link with are still being built, where Make waits for each (a 2-core build: 271 s
# against 285 s, 2026-12-07); a folder configured before keeps its generator.
generator=()
[[ -f build/CMakeCache.txt ]] || ! command -v ninja >/dev/null || generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DXYZMF_NATIVE=ON "$@" >build.log 2>&1 || { cat build.log; exit 1; }
grep -E "^-- xyzmf:" build.log >&2 || true
echo "xyzmf: building with $(nproc) jobs (a first build takes about 5 minutes on 2 cores; CUDA adds more)" >&2
# One line per file compiled, so a long build shows it is moving; errors in full.
set +o pipefail
cmake --build build -j"$(nproc)" 2>&1 | tee -a build.log |
    grep --line-buffered -E "^\[ *[0-9]+(%|/[0-9]+)\] (Building|Linking)|error|warning" |
    sed -u -E 's#^(\[ *[0-9]+(%|/[0-9]+)\]) Building [A-Z]+ object .*/([^/]+)\.o$#\1 \3#' >&2
status=${PIPESTATUS[0]}
set -o pipefail
[[ $status == 0 ]] || { echo "xyzmf: the build failed (exit $status); see build.log" >&2; exit 1; }
test -x build/xyzmf
# `import xyzmf` in Debian's python3 from any directory: a .pth file naming
# build/python in its site-packages (or the user's, where that is not writable).
if [[ -d build/python/xyzmf ]]; then
    /usr/bin/python3 - "$PWD/build/python" <<'EOF'
import os, site, sys
for d in site.getsitepackages() + [site.getusersitepackages()]:
    try:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "xyzmf-build.pth"), "w") as f:
            f.write(sys.argv[1] + "\n")
    except OSError:
        continue
    print(f"xyzmf: the Python package is importable by /usr/bin/python3 (via {d}/xyzmf-build.pth)", file=sys.stderr)
    break
EOF
fi
