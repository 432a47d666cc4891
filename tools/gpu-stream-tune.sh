#!/usr/bin/env bash
# Measures the CUDA streaming RK4 kernel (kernels/stream_kernels.cu) in its
# variants on a lent GPU, in one call: the tests of the kernel first, then
# `xyzmf bench` rows of every scheme and cross-section, the JAX peer
# (tools/bench_jax.py) on the same lattices, and Nsight Compute's view of the
# default kernels. What it prints last is the table to choose defaults from.
#
#   tools/gpu-stream-tune.sh [BIN_DIR] [OUT_DIR]
#
# BIN_DIR holds xyzmf and tests/xyzmf_tests (default build). OUT_DIR (default
# gpu-tune/) receives tune.md and the logs. The variants are chosen with
# XYZMF_STREAM_LANES=NXxNY and XYZMF_STREAM_AHEAD=1|2 (see cuda_backend.cpp).
set -uo pipefail
BIN=${1:-build}
OUT=${2:-gpu-tune}
X=$BIN/xyzmf
T=$BIN/tests/xyzmf_tests
[[ -x $T ]] || T=$BIN/xyzmf_tests  # tools/gpu-bundle.sh puts both in one folder
mkdir -p "$OUT"
export XYZMF_EXE=$(realpath "$X")
R=$OUT/tune.md
: >"$R"
say() { printf '%s\n' "$*" | tee -a "$R"; }
t0=$(date +%s)

say "# Streaming kernel variants, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1); $($X --version 2>/dev/null | head -1)"
say ""
timeout 240 "$T" --gtest_brief=1 --gtest_filter='*Fused*cuda*:CudaVsCpu.*:*Io.*cuda*' >"$OUT/tests.log" 2>&1
say "kernel tests exit $?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) *\]' "$OUT/tests.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \] [A-Za-z]|Expected|actual' "$OUT/tests.log" | head -20 | tee -a "$R"
say ""

bw=$(timeout 60 python3 - 2>/dev/null <<'EOF'
import cupy as cp
a = cp.ones(1 << 28); b = cp.empty_like(a); cp.cuda.Device().synchronize()
ts = []
for _ in range(20):
    e0, e1 = cp.cuda.Event(), cp.cuda.Event(); e0.record(); b[...] = a; e1.record(); e1.synchronize()
    ts.append(cp.cuda.get_elapsed_time(e0, e1) / 1e3)
ts.sort()
print(f"{2 * 8 * (1 << 28) / ts[len(ts) // 2] / 1e9:.0f}")
EOF
)
say "copy bandwidth (2 GiB device to device, read + written, median of 20): ${bw:-n/a} GB/s"
say ""
say "| d | L | precision | variant | site-steps/s | GB/s | / copy |"
say "|---|---|---|---|---|---|---|"
row() {  # d L precision label env... -- bench args...
    local d=$1 L=$2 p=$3 label=$4; shift 4
    local envs=()
    while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    local line rate gbs frac
    line=$(env "${envs[@]}" timeout 60 "$X" bench --backend cuda --precision "$p" --dim "$d" --size "$L" --repeats 3 "$@" 2>>"$OUT/bench.log")
    echo "$label: $line" >>"$OUT/bench.log"
    rate=$(sed -n 's/.*median \([0-9.e+]*\) site-steps.*/\1/p' <<<"$line")
    gbs=$(sed -n 's/.* \([0-9.]*\) GB\/s.*/\1/p' <<<"$line")
    [[ -n $bw && -n $gbs ]] && frac=$(awk -v g="$gbs" -v c="$bw" 'BEGIN{printf "%.2f", g / c}')
    say "| $d | $L | $p | $label | ${rate:-failed} | ${gbs:-} | ${frac:-} |"
}
jax_row() {  # d L precision
    local line rate
    line=$(timeout 90 python3 "$(dirname "$0")/bench_jax.py" --dim "$1" --size "$2" --precision "$3" 2>>"$OUT/jax.log")
    echo "$line" >>"$OUT/jax.log"
    rate=$(sed -n 's/.*median \([0-9.e+]*\) site-steps.*/\1/p' <<<"$line")
    say "| $1 | $2 | $3 | JAX jit RK4 | ${rate:-failed} | | |"
}
for p in double float; do
    row 2 4096 $p "default" --
    row 2 4096 $p "stream 32, ahead 1" XYZMF_STREAM_AHEAD=1 -- --scheme stream --steps-per-pass 1
    row 2 4096 $p "stream 64" XYZMF_STREAM_LANES=64 -- --scheme stream --steps-per-pass 1
    row 2 4096 $p "stream 128" XYZMF_STREAM_LANES=128 -- --scheme stream --steps-per-pass 1
    row 2 4096 $p "stream 128, 2 steps" XYZMF_STREAM_LANES=128 -- --scheme stream --steps-per-pass 2
    row 2 4096 $p "tiles" -- --scheme tiles --steps-per-pass 1
    row 2 4096 $p "four-sweep" -- --stepper four-sweep
    jax_row 2 4096 $p
done
for p in double float; do
    row 3 256 $p "default" --
    row 3 256 $p "stream 32x12, ahead 1" XYZMF_STREAM_AHEAD=1 XYZMF_STREAM_LANES=32x12 -- --scheme stream
    row 3 256 $p "stream 32x10" XYZMF_STREAM_LANES=32x10 -- --scheme stream
    [[ $p == float ]] && row 3 256 $p "stream 32x16" XYZMF_STREAM_LANES=32x16 -- --scheme stream
    row 3 256 $p "four-sweep" -- --stepper four-sweep
    jax_row 3 256 $p
done
for p in double float; do
    row 1 16777216 $p "default" --
    row 1 16777216 $p "stream, ahead 1" XYZMF_STREAM_AHEAD=1 -- --scheme stream
    row 1 16777216 $p "four-sweep" -- --stepper four-sweep
    [[ $p == double ]] && jax_row 1 16777216 $p
done
say ""
timeout 60 python3 "$(dirname "$0")/bench_jax.py" --check >>"$R" 2>&1 || say "bench_jax.py --check failed"
say ""
# Nsight Compute: one launch of each default kernel (clocks left alone).
if command -v ncu >/dev/null; then
    for dp in "2 4096 double" "2 4096 float" "3 256 double" "1 16777216 double"; do
        read -r d L p <<<"$dp"
        timeout 90 ncu --clock-control none --kernel-name regex:stream_kernel --launch-count 1 \
            --section SpeedOfLight --section Occupancy --section LaunchStats \
            "$X" bench --backend cuda --precision "$p" --dim "$d" --size "$L" --steps 2 --repeats 1 >"$OUT/ncu-$d-$p.log" 2>&1
        say "ncu $d $L $p: $(grep -E 'DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per Thread|Duration' "$OUT/ncu-$d-$p.log" | sed -E 's/ +/ /g' | tr '\n' ';')"
    done
fi
say ""
say "total $(( $(date +%s) - t0 )) s"
