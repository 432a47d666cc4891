#!/usr/bin/env bash
# `cmake --install` into a fresh prefix: the program runs from there, the tools run
# from their installed folder (importing the xyzmf Python package), the documents are there.
#   tests/install_test.sh BUILD_DIR
set -euo pipefail
B=$1
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
cmake --install "$B" --prefix "$P" >/dev/null
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
version=$("$P/bin/xyzmf" --version)
grep -q "^0\." <<<"$version" || fail "installed xyzmf --version: $version"
T=$P/share/xyzmf/tools
for t in plot_run.py plot_texture.py plot_quantum.py sweep_disagreements.py slurm-sweep.sh; do
    [[ -f $T/$t ]] || fail "$t not installed"
done
[[ -x $T/plot_run.py && -x $T/slurm-sweep.sh ]] || fail "tools not executable"
cd "$P"
"$P/bin/xyzmf" run -q --backend cpu --size 8 --t-end 1 -o r.h5
"$T/plot_run.py" r.h5 -o r.png >/dev/null
[[ -s r.png ]] || fail "installed plot_run.py wrote no figure"
plan=$(XYZMF=$P/bin/xyzmf "$T/slurm-sweep.sh" plan 2 d -- --size 4)
grep -q "task 1: $P/bin/xyzmf sweep" <<<"$plan" || fail "slurm-sweep plan: $plan"
# The Python package, compiled module included, from the prefix's site-packages.
site=$(ls -d "$P"/lib/python3*/dist-packages 2>/dev/null | head -1)
if [[ -n $site ]]; then
    got=$(cd / && PYTHONPATH=$site /usr/bin/python3 -c 'import os, xyzmf
r = xyzmf.run(size=4, t_end=0.5, as_xarray=False)
print(os.path.dirname(xyzmf.__file__), r.final.spins.shape)') || fail "installed package: import or run failed"
    [[ $got == "$site/xyzmf (4, 4, 3)" ]] || fail "installed package: $got"
fi
[[ -f $P/share/xyzmf/python/xyzmf/files.py ]] || fail "the tools' copy of the package's reader not installed"
# A program of one's own against the installed library (find_package(xyzmf)): the growth
# rate of the paramagnet's k = 0 mode at Jx = 3, Jy = 0, Jz = 1, gamma = 1 is
# -gamma/2 + 2 sqrt(-(Jx - Jz)(Jy - Jz)) = 2 sqrt(2) - 1/2 (docs/physics.md 3.5). Not with the
# sanitizers, whose runtime a plain program would have to link too.
if ! grep -q "^XYZMF_SANITIZE:BOOL=ON" "$B/CMakeCache.txt"; then
    mkdir -p "$P/app"
    cat >"$P/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(uses_xyzmf CXX)
find_package(xyzmf REQUIRED)
add_executable(growth growth.cpp)
target_link_libraries(growth PRIVATE xyzmf::xyzmf_phase)
CM
    cat >"$P/app/growth.cpp" <<'CPP'
#include <cstdio>
#include "stability.hpp"
int main() { std::printf("%.12f\n", xyzmf::growth_rate(xyzmf::Couplings{3, 0, 1, 1, 0}, 1.0)); }
CPP
    cmake -S "$P/app" -B "$P/app/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >"$P/app.log" 2>&1 &&
        cmake --build "$P/app/build" >>"$P/app.log" 2>&1 || { cat "$P/app.log" >&2; fail "a program using the installed library did not build"; }
    got=$("$P/app/build/growth")
    [[ $got == 2.328427124746 ]] || fail "installed library: growth rate $got, expected 2 sqrt(2) - 1/2 = 2.328427124746"
fi
[[ -f $P/share/doc/xyzmf/README.md && -f $P/share/doc/xyzmf/docs/physics.md ]] || fail "documents not installed"
echo "install_test: program, library, Python package, tools and documents installed under a fresh prefix and run from there"
