#!/usr/bin/env bash
# What a session with a GPU runs first: every test on the CUDA backend (the kernels
# written without a device once more under compute-sanitizer), then the GPU speed of
# the mean-field stepping (every scheme, and the JAX peer tools/bench_jax.py on the
# same lattices), of DTWA, of the analysis on the device and the Fig. 1(a) sweep, MPI
# ranks on the GPU against a serial run, then the quantum trajectories and the exact
# Liouvillian gap, each with a baseline measured in the same run on the same
# machine's CPU cores.
#
#   tools/gpu-check.sh [BIN_DIR] [OUT_DIR]
#
# BIN_DIR holds xyzmf and xyzmf_tests (default: build and build/tests of a build
# by tools/build.sh with nvcc). On a lent GPU machine, which has none of Debian's
# libraries, run it through tools/gpu-bundle.sh's bundle: `tools/gpu-bundle.sh
# --print-command` prints the one device call. OUT_DIR (default gpu-check/) receives gpu.md, the
# report in the form results/bench/gpu.md keeps, and one log per step.
# Environment: GPU_CHECK_QUICK=1 runs the tests and one size of each benchmark
# only; GPU_CHECK_BUDGET (s, default 400) stops starting new quantum runs. Each step has its own time limit; a failing step is reported and the
# steps that need what it checks are skipped, so the report always comes back.
set -uo pipefail
BIN=${1:-build}
OUT=${2:-gpu-check}
X=$BIN/xyzmf
T=$BIN/xyzmf_tests
[[ -x $T ]] || T=$BIN/tests/xyzmf_tests
mkdir -p "$OUT"
export XYZMF_EXE=$(realpath "$X")  # the tests run this program, wherever the build folder was
R=$OUT/gpu.md
QUICK=${GPU_CHECK_QUICK:-0}
t_start=$(date +%s)
say() { printf '%s\n' "$*" | tee -a "$R"; }
elapsed() { echo $(($(date +%s) - t_start)); }

: >"$R"
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
say "# GPU check"
say ""
say "Run $(date -u '+%Y-%m-%d %H:%M UTC') with \`tools/gpu-check.sh\` on **${gpu:-no GPU found}**,"
say "$(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $($X --version 2>/dev/null | head -1)."
say "cuFFT for the device analysis: ${XYZMF_CUFFT:-libcufft.so.12 found by the dynamic loader}."
say ""

# 1. Tests: every test of the suite, so the CUDA instances of the backend-parametrised
# tests and the CudaVsCpu comparisons run (they skip where no device is).
say "## Tests on the CUDA backend"
say ""
timeout 300 "$T" --gtest_brief=1 >"$OUT/tests.log" 2>&1
rc=$?
summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED) *\]' "$OUT/tests.log" | tr '\n' ' ')
say "\`xyzmf_tests\` exit $rc: $summary"
grep -E '^\[  FAILED  \] [A-Za-z]' "$OUT/tests.log" | sort -u | sed 's/^/    /' | tee -a "$R"
mf_ok=1; q_ok=1
grep -qE '^\[  FAILED  \] .*(/cuda|CudaVsCpu\.(SameSeed|Observables))' "$OUT/tests.log" && mf_ok=0
grep -qE '^\[  FAILED  \] CudaVsCpu\.Quantum' "$OUT/tests.log" && q_ok=0
gap_ok=1
grep -qE '^\[  FAILED  \] CudaVsCpu\.GapFilter' "$OUT/tests.log" && gap_ok=0
[[ $rc -eq 124 ]] && { mf_ok=0; q_ok=0; say "(the test run timed out after 300 s)"; }
# The kernels written without a device at hand (the device analysis, the sweep's
# per-copy observables) once more under compute-sanitizer's memcheck, where it works
# (on gVisor machines it refuses the device: reported, not fatal).
if command -v compute-sanitizer >/dev/null; then
    timeout 90 compute-sanitizer --tool memcheck --error-exitcode 9 "$T" --gtest_brief=1 \
        --gtest_filter='DeviceAnalysis.*:Backends/Sweep.*/cuda' >"$OUT/sanitizer.log" 2>&1
    src=$?
    say "compute-sanitizer memcheck on DeviceAnalysis.* and the CUDA sweeps: exit $src ($(grep -cE '^========= (Invalid|Program hit|Error)' "$OUT/sanitizer.log") error lines; $(grep -E '^\[  (PASSED|FAILED) *\]' "$OUT/sanitizer.log" | tr '\n' ' '))"
else
    say "compute-sanitizer: not on this machine"
fi
say ""

# 2. Device memory bandwidth: a large device-to-device copy (bytes read + written),
# through CuPy or PyTorch where the machine has one; the ceiling for the stepping.
bw=$(timeout 60 python3 - 2>/dev/null <<'EOF'
import time
try:
    import cupy as cp
    a = cp.ones(1 << 28); b = cp.empty_like(a); cp.cuda.Device().synchronize()
    ts = []
    for _ in range(20):
        e0, e1 = cp.cuda.Event(), cp.cuda.Event(); e0.record(); b[...] = a; e1.record(); e1.synchronize()
        ts.append(cp.cuda.get_elapsed_time(e0, e1) / 1e3)
except ImportError:
    import torch
    a = torch.ones(1 << 28, dtype=torch.float64, device="cuda"); b = torch.empty_like(a)
    ts = []
    for _ in range(20):
        e0 = torch.cuda.Event(enable_timing=True); e1 = torch.cuda.Event(enable_timing=True)
        e0.record(); b.copy_(a); e1.record(); e1.synchronize(); ts.append(e0.elapsed_time(e1) / 1e3)
ts.sort()
print(f"{2 * 8 * (1 << 28) / ts[len(ts) // 2] / 1e9:.0f}")
EOF
)
say "## Mean-field RK4 stepping (\`xyzmf bench\`)"
say ""
say "Device copy bandwidth (2 GiB device-to-device, bytes read + written, median of 20): ${bw:-n/a} GB/s."
say "Each row: \`xyzmf bench --backend B --precision P --dim D --size L [--stepper four-sweep | --scheme tiles|stream --steps-per-pass S]\`, median of 5 repeats of about 0.5 s; the jax rows: \`tools/bench_jax.py --precision P --dim D --size L\` (jax.jit RK4 of the same equations, median of 5), in the same call."
say ""
bench_line() {  # backend precision dim size extra... -> a table row
    local b=$1 p=$2 d=$3 L=$4; shift 4
    local line
    line=$(timeout 90 "$X" bench --backend "$b" --precision "$p" --dim "$d" --size "$L" --repeats 5 "$@" 2>>"$OUT/bench.log")
    echo "$line" >>"$OUT/bench.log"
    local rate gbs
    rate=$(sed -n 's/.*median \([0-9.e+]*\) site-steps.*/\1/p' <<<"$line")
    gbs=$(sed -n 's/.* \([0-9.]*\) GB\/s.*/\1/p' <<<"$line")
    local frac=""
    [[ -n $bw && -n $gbs && $b == cuda ]] && frac=$(awk -v g="$gbs" -v c="$bw" 'BEGIN{printf "%.2f", g / c}')
    local how  # the stepper bench actually used (the backend's choice where no option forced one)
    how=$(sed -n 's/.* | \(rk4 [^|]*\) | .*/\1/p' <<<"$line")
    say "| $b | $p | $d | $L | ${*:-default}: ${how:-?} | ${rate:-failed} | ${gbs:-} | $frac |"
}
jax_line() {  # precision dim size -> a table row: the JAX peer (tools/bench_jax.py) on the same lattice
    local line rate
    line=$(timeout 120 python3 "$(dirname "$0")/bench_jax.py" --precision "$1" --dim "$2" --size "$3" 2>>"$OUT/jax.log")
    echo "$line" >>"$OUT/jax.log"
    rate=$(sed -n 's/.*median \([0-9.e+]*\) site-steps.*/\1/p' <<<"$line")
    say "| jax | $1 | $2 | $3 | JAX jit RK4 (tools/bench_jax.py) | ${rate:-failed} | | |"
}
if [[ $mf_ok == 1 ]]; then
    say "| backend | precision | d | L | stepper | site-steps/s | GB/s | / copy |"
    say "|---|---|---|---|---|---|---|---|"
    sizes="2:4096 3:256 1:16777216"
    [[ $QUICK == 1 ]] && sizes="2:4096"
    for p in double float; do
        for dl in $sizes; do
            d=${dl%%:*}; L=${dl##*:}
            bench_line cuda "$p" "$d" "$L" --stepper four-sweep
            bench_line cuda "$p" "$d" "$L" --scheme tiles --steps-per-pass 1
            bench_line cuda "$p" "$d" "$L" --scheme stream --steps-per-pass 1
            [[ $d != 3 ]] && bench_line cuda "$p" "$d" "$L" --scheme stream --steps-per-pass 2
            [[ $QUICK == 1 || $d == 1 ]] || bench_line cuda "$p" "$d" "$L" --scheme tiles --steps-per-pass 2
            bench_line cuda "$p" "$d" "$L"
            [[ $p == double ]] && bench_line cpu "$p" "$d" "$L"
            jax_line "$p" "$d" "$L"
        done
    done
    say ""
    say "The JAX peer's equations against tools/bench_numpy.py: $(timeout 60 python3 "$(dirname "$0")/bench_jax.py" --check 2>&1 | tr '\n' ' ')"
else
    say "Skipped: the mean-field CUDA tests failed."
fi
say ""

# 2b. DTWA trajectories against the mean-field stepping of the same site-steps (results/dtwa):
# 4 trajectories of 2048^2 (one batch) for 200 steps against bench on 4096^2, both on the GPU.
say "## DTWA trajectories (\`xyzmf dtwa\`)"
say ""
if [[ $mf_ok == 1 ]]; then
    d_line=$(timeout 120 "$X" dtwa --backend cuda --size 2048 --Jx 4 --Jy 2 --Jz 1 --trajectories 4 --batch 4 --t-end 2 \
        --dt 0.01 --record-every 2 2>>"$OUT/dtwa.log" | grep "run now")
    echo "$d_line" >>"$OUT/dtwa.log"
    d_rate=$(sed -n 's/.*(\([0-9.e+]*\) trajectory site-steps.*/\1/p' <<<"$d_line")
    m_line=$(timeout 90 "$X" bench --backend cuda --dim 2 --size 4096 --repeats 3 2>>"$OUT/dtwa.log")
    m_rate=$(sed -n 's/.*median \([0-9.e+]*\) site-steps.*/\1/p' <<<"$m_line")
    ratio=""
    [[ -n $d_rate && -n $m_rate ]] && ratio=$(awk -v a="$d_rate" -v b="$m_rate" 'BEGIN{printf "%.2f", a / b}')
    say "\`xyzmf dtwa --backend cuda --size 2048 --trajectories 4 --batch 4 --t-end 2 --dt 0.01\` (sampling and two records included): ${d_rate:-failed} trajectory site-steps/s; mean field on 4096^2 (the same sites): ${m_rate:-failed} site-steps/s; ratio ${ratio:-n/a}."
else
    say "Skipped: the mean-field CUDA tests failed."
fi
say ""

# 2c. Analysis on the device (issue 22): a 4096^2 and a 256^3 sXY state after 100 steps
# analysed by the host (FFTW, every core) and by the GPU (cuFFT and kernels, only the
# spectrum's summary and the radial sums coming back), the same numbers required; then
# run --analyze with a snapshot every 100 steps with each, and without.
say "## Analysis on the device (\`--analysis-backend cuda\`)"
say ""
if [[ $mf_ok == 1 ]]; then
    A=(--Jx 1 --Jy -1 --Jz 0 --seed 3 --backend cuda -q --overwrite)
    : >"$OUT/analysis.log"
    for case in "4096^2|--size 4096" "256^3|--dim 3 --size 256"; do
        name=${case%%|*}
        read -ra size <<<"${case#*|}"
        timeout 60 "$X" run "${A[@]}" "${size[@]}" --t-end 1 -o "$OUT/an.h5" >>"$OUT/analysis.log" 2>&1
        for ab in cpu cuda; do
            t0=$(date +%s.%N)
            timeout 120 "$X" analyze "$OUT/an.h5" --analysis-backend $ab --sk-storage radial --json --overwrite \
                --out "$OUT/an-$ab.h5" >"$OUT/an-${name/^/-}-$ab.json" 2>>"$OUT/analysis.log"
            echo "$name $ab exit $? wall $(python3 -c "import time; print(f'{time.time() - $t0:.2f}')") s" >>"$OUT/analysis.log"
        done
    done
    say "\`xyzmf analyze STATE --analysis-backend B --sk-storage radial --json\` on a 4096^2 and a 256^3 sXY state at t = 1 (100 steps from random); 'ms' is the JSON's structure_factor_ms (cpu: the three FFTs; cuda: everything on the device, FFTs, spectrum summary, tallies, windings and transfers), 'wall' the whole command (reading the file, classifying, writing):"
    say ""
    say '```'
    python3 - "$OUT" 2>&1 <<'PY' | tee -a "$R"
import json, re, sys
out = sys.argv[1]
log = open(f"{out}/analysis.log").read()
for name in ("4096^2", "256^3"):
    rows = {}
    for b in ("cpu", "cuda"):
        try:
            j = json.load(open(f"{out}/an-{name.replace('^', '-')}-{b}.json"))
        except Exception as e:
            print(f"{name} {b}: no result ({e})"); continue
        wall = re.search(rf"^{re.escape(name)} {b} exit \d+ wall ([0-9.]+) s", log, re.M)
        rows[b] = j
        print(f"{name:7s} {b:5s} {j['structure_factor_ms']:9.1f} ms  wall {wall.group(1) if wall else '?'} s  phase {j['phase']}  "
              f"vortices {j.get('vortices')} antivortices {j.get('antivortices')} skipped {j.get('skipped_plaquettes')}  "
              f"m_perp {j['m_perp']!r} residual {j['residual']!r}")
    if len(rows) == 2:
        a, b = rows["cpu"], rows["cuda"]
        same = all(a.get(k) == b.get(k) for k in ("phase", "order", "vortices", "antivortices", "skipped_plaquettes", "k"))
        close = all(abs(a[k] - b[k]) <= 1e-12 * max(1.0, abs(a[k])) for k in ("m_perp", "mean_z", "residual", "peak_weight"))
        print(f"{name}: host and device: " + ("the same verdict and census, sums within 1e-12" if same and close else "DIFFERENT"))
PY
    say '```'
    say ""
    say "\`xyzmf run --size 4096 --Jx 1 --Jy -1 --Jz 0 --t-end 3 --snapshot-every 1 --backend cuda [--analyze --sk-storage radial --analysis-backend B]\` (300 steps, four snapshots; wall time of the command, one run each):"
    say ""
    for how in none cuda cpu; do
        if (($(elapsed) > ${GPU_CHECK_BUDGET:-400})); then say "- $how: not run, past the budget"; continue; fi
        extra=(); [[ $how != none ]] && extra=(--analyze --sk-storage radial --analysis-backend $how)
        t0=$(date +%s.%N)
        timeout 150 "$X" run "${A[@]}" --size 4096 --t-end 3 --snapshot-every 1 "${extra[@]}" -o "$OUT/an-run.h5" >>"$OUT/analysis.log" 2>&1
        rc=$?
        say "- analysis $how: exit $rc, $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')") s"
    done
    rm -f "$OUT"/an*.h5
else
    say "Skipped: the mean-field CUDA tests failed."
fi
say ""

# 2d. The Fig. 1(a) sweep (issue 22): 1681 lattices of 32^2 to t = 100, each on its own
# clock in the batch's slots, on the GPU with two batch sizes and on every CPU core; the
# phases must be the same point for point.
say "## Fig. 1(a) sweep (\`xyzmf sweep\`)"
say ""
if [[ $mf_ok == 1 ]]; then
    SW=(sweep --Jz 1 --x Jx:-6:6:41 --y Jy:-6:6:41 --size 32 --dt 0.02 --t-end 100 --steady-tol 1e-6 -q --overwrite)
    say "\`xyzmf ${SW[*]} --backend B --batch-points P\` (wall time of the command, one run each):"
    say ""
    for bp in cuda:64 cuda:400 cuda:1681 cpu:64; do
        b=${bp%%:*} p=${bp##*:}
        if (($(elapsed) > ${GPU_CHECK_BUDGET:-400})); then say "- $b, $p points a batch: not run, past the budget"; continue; fi
        t0=$(date +%s.%N)
        timeout 150 "$X" "${SW[@]}" --backend $b --batch-points $p -o "$OUT/sweep-$b-$p.h5" >>"$OUT/sweep.log" 2>&1
        rc=$?
        say "- $b, $p points a batch: exit $rc, $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')") s"
    done
    python3 - "$OUT" 2>&1 <<'PY' | tee -a "$R"
import glob, sys
try:
    import h5py
except ImportError:
    sys.exit("(no h5py here: phases not compared)")
out = sys.argv[1]
ref = f"{out}/sweep-cpu-64.h5"
try:
    base = h5py.File(ref, "r")["sweep/phase"][...]
except Exception as e:
    sys.exit(f"(no CPU map to compare with: {e})")
for f in sorted(glob.glob(f"{out}/sweep-cuda-*.h5")):
    try:
        ph = h5py.File(f, "r")["sweep/phase"][...]
        print(f"- {f.split('/')[-1]}: {int((ph != base).sum())} of {base.size} phases differ from the CPU's")
    except Exception as e:
        print(f"- {f.split('/')[-1]}: unreadable ({e})")
PY
    rm -f "$OUT"/sweep-*.h5
else
    say "Skipped: the mean-field CUDA tests failed."
fi
say ""

# 2e. One lattice over MPI ranks on the GPU (before the quantum sections, which stop
# starting runs past the budget) (docs/cluster.md): P = 1 and 2 ranks sharing
# the device (one rank per GPU is the intended use; here correctness, not speed), the
# ghost rows through host buffers unless the MPI is CUDA-aware, each rank writing its rows
# of every snapshot: the file must equal a serial CUDA run's (h5diff), bit for bit.
say "## MPI ranks on the GPU (\`mpirun -np P xyzmf run --backend cuda\`)"
say ""
if [[ $mf_ok != 1 ]]; then
    say "Skipped: the mean-field CUDA tests failed."
elif ! command -v mpirun >/dev/null || ! ldd "$X" 2>/dev/null | grep -q libmpi; then
    say "Skipped: no mpirun on this machine, or $X was built without -DXYZMF_MPI=ON."
else
    M=(run --backend cuda --size 1024x515 --t-end 2 --snapshot-every 0.5 --Jx 2.3 --Jy -1.1 --Jz 0.7 --seed 41 -q --overwrite)
    timeout 120 "$X" "${M[@]}" -o "$OUT/mpi-serial.h5" >"$OUT/mpi.log" 2>&1
    # --halo: after-pass, overlap (edge strips stepped first, sent while the slab steps)
    # and auto (the faster of the two, timed at the first pass): the same numbers.
    for ph in 1:auto 2:after-pass 2:overlap 2:auto; do
        p=${ph%%:*} halo=${ph#*:}
        t0=$(date +%s.%N)
        timeout 180 env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 \
            mpirun --oversubscribe -np $p "$X" "${M[@]}" --halo $halo -o "$OUT/mpi-p$p.h5" >>"$OUT/mpi.log" 2>&1
        rc=$?
        secs=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
        same=different
        h5diff "$OUT/mpi-serial.h5" "$OUT/mpi-p$p.h5" /final /final >>"$OUT/mpi.log" 2>&1 &&
            h5diff "$OUT/mpi-serial.h5" "$OUT/mpi-p$p.h5" /snapshots /snapshots >>"$OUT/mpi.log" 2>&1 && same="equal (h5diff)"
        say "- P = $p, --halo $halo: exit $rc, $secs s, snapshots and /final $same to the serial CUDA run"
    done
    rm -f "$OUT"/mpi-*.h5
fi
say ""
# 3. Quantum trajectories: trajectories x time per second at the dissipative XYZ
# point (4, 2, 1) from all spins down, one batch per run, against this machine's
# CPU cores (OpenMP) on the same physics.
say "## Quantum trajectories (\`xyzmf quantum\`)"
say ""
say "Each row: \`xyzmf quantum --sites N --Jx 4 --Jy 2 --Jz 1 --trajectories B --batch B --t-end TE --burn-in 0 --backend BK --json -q\`; rate = B x TE / the run's own seconds (one run each)."
say ""
qrun() {  # backend N batch t_end -> rate or empty
    local j
    j=$(timeout "${QLIMIT:-90}" "$X" quantum --sites "$2" --Jx 4 --Jy 2 --Jz 1 --trajectories "$3" --batch "$3" \
        --t-end "$4" --burn-in 0 --sample-dt "$4" --backend "$1" --seed 7 --json -q 2>>"$OUT/quantum.log")
    echo "$1 N=$2 B=$3 TE=$4: $j" | cut -c1-400 >>"$OUT/quantum.log"
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); t=float(sys.argv[2]); print("%.4g %.1f %.4f %.4f" % (j["trajectories"]*t/j["seconds"], j["seconds"], j["sz"], j["sz_err"]))' "$j" "$4" 2>/dev/null
}
if [[ $q_ok == 1 ]]; then
    say "| N | backend | batch B | t_end | traj x time / s | seconds | <sz> | s.e. |"
    say "|---|---|---|---|---|---|---|---|"
    # The first rows of each N give the same work to the CPU and the GPU; short runs
    # at N = 20 include the start (allocation, first samples), so they read low.
    runs="16:cpu:32:0.25 16:cuda:32:0.25 16:cuda:100:0.25 16:cuda:300:0.25 16:cuda:1000:0.25 20:cpu:16:0.02 20:cuda:16:0.02 20:cuda:100:0.25 20:cuda:300:0.1 20:cuda:1000:0.05"
    [[ $QUICK == 1 ]] && runs="16:cpu:32:0.25 16:cuda:100:0.25 20:cuda:100:0.05"
    for r in $runs; do
        IFS=: read -r n bk b te <<<"$r"
        if (($(elapsed) > ${GPU_CHECK_BUDGET:-400})); then
            say "| $n | $bk | $b | $te | not run: past the check's budget of ${GPU_CHECK_BUDGET:-400} s | | | |"
            continue
        fi
        out=$(qrun "$bk" "$n" "$b" "$te")
        read -r rate secs sz se <<<"$out"
        say "| $n | $bk | $b | $te | ${rate:-failed or over the limit} | ${secs:-} | ${sz:-} | ${se:-} |"
        [[ $n == 16 && $bk == cuda && $b == 100 && -n $rate ]] && echo "$rate" >"$OUT/rate-n16.txt"
    done
else
    say "Skipped: CudaVsCpu.QuantumTrajectoriesAgree failed."
fi
say ""

# 3b. The exact Liouvillian gap with its Chebyshev filter on the GPU (the packed sector
# matrices, one launch per term; Arnoldi on the host) against the same machine's CPU
# cores, along (2, 0.6, 1), whose gap results/quantum/gap-n1?.jsonl hold from the CPU.
say "## Exact Liouvillian gap (\`xyzmf quantum --method exact --gap\`)"
say ""
say "Each row: \`xyzmf quantum --sites N --Jx 2 --Jy 0.6 --Jz 1 --method exact --gap --backend BK --json\` (one run; seconds as the program reports them, the steady state included)."
say ""
grun() {  # backend N [lanes] -> "seconds gap" or empty
    local j
    j=$(XYZMF_GAP_LANES=${3:-1} timeout "${GLIMIT:-240}" "$X" quantum --sites "$2" --Jx 2 --Jy 0.6 --Jz 1 --method exact --gap --backend "$1" \
        --json 2>>"$OUT/quantum.log")
    echo "gap $1 N=$2: $j" | cut -c1-300 >>"$OUT/quantum.log"
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print("%.1f %.12f %s" % (j["seconds"], j["gap"], j["gap_backend"]))' "$j" 2>/dev/null
}
if [[ $gap_ok == 1 ]]; then
    # Threads a row of the products (XYZMF_GAP_LANES; 1, the default, sums as the
    # host does): the filter test with each, then the ring of 10 timed with each.
    for l in 4 8 32; do
        lo=$(XYZMF_GAP_LANES=$l timeout 120 "$T" --gtest_filter='CudaVsCpu.GapFilterAgrees' 2>&1)
        lrc=$?
        printf '%s\n' "$lo" >>"$OUT/quantum.log"
        if [[ $lrc != 0 ]]; then verdict=FAILED
        elif grep -q '^\[  SKIPPED' <<<"$lo"; then verdict="skipped (no device)"
        else verdict=passed; fi
        say "CudaVsCpu.GapFilterAgrees with $l lanes a row: $verdict"
    done
    say ""
    say "| N | backend | seconds | gap | products on | CPU reference (results/quantum) |"
    say "|---|---|---|---|---|---|"
    gruns="10:cpu 10:cuda:1 10:cuda:4 10:cuda:8 10:cuda:32 11:cuda 12:cuda"
    [[ $QUICK == 1 ]] && gruns="10:cpu 10:cuda:1 10:cuda:8"
    for r in $gruns; do
        IFS=: read -r n bk lanes <<<"$r"
        if (($(elapsed) > ${GPU_CHECK_BUDGET:-400} + 200)); then
            say "| $n | $bk | not run: past the check's budget | | | |"
            continue
        fi
        read -r secs gap where <<<"$(grun "$bk" "$n" "$lanes")"
        ref=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if abs(d["Jy"] - 0.6) < 1e-9: print("%.12f" % d["gap"])' "$(dirname "$0")/../results/quantum/gap-n$n.jsonl" 2>/dev/null)
        say "| $n | $bk${lanes:+, $lanes lanes a row} | ${secs:-failed or over the limit} | ${gap:-} | ${where:-} | ${ref:-} |"
    done
else
    say "Skipped: CudaVsCpu.GapFilterAgrees failed."
fi
say ""

say "Total $(elapsed) s. Logs: tests.log, sanitizer.log, bench.log, analysis.log, sweep.log, quantum.log, mpi.log."
