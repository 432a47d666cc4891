#!/usr/bin/env bash
# `mpirun -np P xyzmf run` (an MPI build) against the serial run of the same
# options: on 1-4 ranks, 1D/2D/3D, sizes that do not divide by P, the four-sweep
# path and fused passes, dopri5, double and float, compressed spins, the file equals
# the serial file dataset for dataset (h5diff: every snapshot and the final state bit
# for bit, the time series to 1e-13), its spins written by the ranks together (MPI-IO). Slabs thinner than their ghost rows and commands other than
# run and sweep are refused in one line, as is a missing --config file. A rank killed
# mid-run, or sent SIGTERM alone, stops every rank (the second as SIGTERM), and the
# file, resumed on another number of ranks, ends bit for bit where an
# uninterrupted run ends. A sweep's points over the ranks give the serial map, also
# interrupted (on every rank, or on one) and resumed; its parts are not overwritten
# by a new sweep nor resumed on another number of ranks, and a finished sweep
# resumed again exits 0.
#   tests/mpi_run_test.sh path/to/xyzmf
# Waits are on events (the file's snapshots, the processes' ends), with generous
# deadlines only as a guard against a hang.
set -euo pipefail
X=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
W=$(mktemp -d)
trap 'pkill -9 -f "$W/" 2>/dev/null || true; rm -rf "$W"' EXIT
cd "$W"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "mpi_run_test: FAIL: $*" >&2; exit 1; }
mpi() { local p=$1; shift; mpirun --oversubscribe -np "$p" "$X" "$@"; }
# A refusal: every rank exits on its own with the code. mpirun then waits a second
# (its SIGTERM-to-SIGKILL grace for the job's other processes) before it returns, a
# second for each of the refusals below; none is needed, as none is left running.
refused() { OMPI_MCA_odls_base_sigkill_timeout=0 mpi "$@"; }
same() {  # same A B WHAT: the states of the run files A and B equal bit for bit, the time series to roundoff
    for g in /final /snapshots; do
        h5diff "$1" "$2" "$g" "$g" >diff.txt 2>&1 || fail "$3: $g differs from the serial run: $(head -3 diff.txt)"
    done
    # Means and staggered means are sums over the sites, added in another order
    # over several ranks (as over several threads): equal to roundoff, not bit for bit.
    h5diff --delta=1e-13 "$1" "$2" /timeseries /timeseries >diff.txt 2>&1 ||
        fail "$3: /timeseries differs from the serial run by more than 1e-13: $(head -3 diff.txt)"
}

# Physics strong enough that a wrong ghost row shows at once.
P=(--Jx 2.3 --Jy -1.1 --Jz 0.7 --gamma-phi 0.05 --seed 41 -q)
# "ranks|options": each P of 1-4 and each dimension at least once, not every P on
# every case (each mpirun costs a second of start-up on a loaded 2-core machine).
# --halo overlap: the ghost rows sent from edge strips stepped before the slab
# (the default on a GPU), in 2D with two steps a pass and in 3D with four sweeps.
# --compress: chunks of 174 rows over slabs of 101 and 75 rows (2D: a chunk
# gathers rows from up to three ranks), chunks that also cut the faster axis
# (3D: planes over 1 MiB), and a 1D line.
cases=("3|--size 3001 --dim 1 --t-end 1.5 --steps-per-pass 2"
       "4|--size 61 --dim 1 --t-end 2"
       "4|--size 130x129 --t-end 1 --steps-per-pass 2 --halo overlap"
       "1|--size 37x45 --t-end 2"
       "2|--size 37x45 --t-end 2 --precision float"
       "3|--size 19x11x23 --t-end 1 --halo overlap"
       "2|--size 67x65x33 --t-end 0.2 --steps-per-pass 1"
       "2|--size 37x45 --t-end 3 --integrator dopri5 --snapshot-every 1"
       "3|--size 19x23x23 --t-end 1 --integrator dopri5 --rtol 1e-5 --precision float"
       "3 4|--size 250x301 --t-end 0.2 --snapshot-every 0.1 --compress 1"
       "2|--size 220x200x10 --t-end 0.05 --steps-per-pass 1 --compress 2"
       "3|--size 100003 --dim 1 --t-end 0.1 --compress 3 --precision float")
n=0
for k in "${cases[@]}"; do
    c=${k#*|}
    # shellcheck disable=SC2086
    "$X" run $c "${P[@]}" -o serial$n.h5
    for p in ${k%%|*}; do
        # shellcheck disable=SC2086
        mpi $p run $c "${P[@]}" -o p$p-$n.h5 || fail "$c on $p ranks exited $?"
        same serial$n.h5 p$p-$n.h5 "$c on $p ranks"
        # The ranks wrote the spins themselves (into storage rank 0 allocated and
        # never filled), not rank 0 a gathered copy. Compressed: the ranks'
        # chunks are byte for byte the serial run's (whose are HDF5's own:
        # IoFiles.SpinsDeflatedOnEveryThreadAreHdf5sOwnChunks).
        fill=$(h5dump -p -H -d /final/spins p$p-$n.h5 | grep -o "H5D_FILL_TIME_[A-Z]*")
        want=H5D_FILL_TIME_NEVER
        [[ $c == *--compress* ]] && want=H5D_FILL_TIME_IFSET
        [[ $fill == "$want" ]] || fail "$c on $p ranks: /final/spins has $fill, not $want (written by the wrong party)"
        if [[ $c == *--compress* ]]; then
            /usr/bin/python3 - serial$n.h5 p$p-$n.h5 <<'PY' || fail "$c on $p ranks: the stored chunks differ from the serial run's"
import sys, h5py
def chunks(path):
    with h5py.File(path, "r") as f:
        out = {}
        for name in ["/final"] + ["/snapshots/" + k for k in f.get("/snapshots", {})]:
            d = f[name + "/spins"].id
            for i in range(d.get_num_chunks()):
                info = d.get_chunk_info(i)
                out[name, info.chunk_offset] = (info.filter_mask, d.read_direct_chunk(info.chunk_offset)[1])
        return out
a, b = chunks(sys.argv[1]), chunks(sys.argv[2])
sys.exit(0 if a == b and a else 1)
PY
        fi
    done
    n=$((n + 1))
done
echo "mpi_run_test: ${#cases[@]} lattices on 1-4 ranks, rk4 (ghost rows after or overlapped with each pass) and dopri5, --compress: every file equals the serial run's (h5diff), its spins written by the ranks (MPI-IO; compressed: each rank's own chunks, byte for byte the serial run's)"

# Initial states: drawn by each rank for its own rows (pm-noise here, random above), and
# read from a file by rank 0 and scattered: the serial run's.
for init in "pm-noise --noise 0.3" "serial3.h5:/final"; do
    # shellcheck disable=SC2086
    "$X" run --size 37x45 --t-end 1 --init $init "${P[@]}" -o si.h5 --overwrite
    # shellcheck disable=SC2086
    mpi 3 run --size 37x45 --t-end 1 --init $init "${P[@]}" -o pi.h5 --overwrite || fail "--init $init on 3 ranks exited $?"
    same si.h5 pi.h5 "--init $init on 3 ranks"
done
# A finished run carried further (--continue-from; each rank reads its rows of /final) on
# 2 ranks: the serial continuation's.
"$X" run --size 37x45 --t-end 1 "${P[@]}" -o c1.h5 && cp c1.h5 c2.h5
"$X" run --continue-from c1.h5 --t-end 2 -q
mpi 2 run --continue-from c2.h5 --t-end 2 -q || fail "--continue-from on 2 ranks exited $?"
same c1.h5 c2.h5 "--continue-from on 2 ranks"

# Each rank checks the rows it reads: a bad site in rank 1's rows (of 2) is named, once.
cp serial3.h5 badsite.h5  # 37x45: spins (45, 37, 3), row 44 is rank 1's
/usr/bin/python3 -c "import h5py; h5py.File('badsite.h5', 'r+')['final/spins'][44, 3] = [2.0, 0.0, 0.0]"
rc=0; refused 2 run --init badsite.h5 --t-end 1 -o bad.h5 -q 2>bad.txt || rc=$?
[[ $rc == 3 ]] && grep -q "badsite.h5: /final/spins: site $((44 * 37 + 3)) has |s| = 2 > 1 + norm_tol" bad.txt &&
    [[ $(grep -c "error" bad.txt) == 1 ]] && [[ ! -e bad.h5 ]] || fail "a bad site in rank 1's rows: exit $rc: $(head -3 bad.txt)"
echo "mpi_run_test: --init drawn by each rank (pm-noise) and read by each rank from a file on 3 ranks, --continue-from on 2: the serial runs'; a bad site in rank 1's rows named in one line"

# --analyze over the ranks: every state's S(k) (FFTW's MPI transform), vortex
# census (each rank its own rows) and classification (sums over each rank's
# rows, merged) equal the serial run's: vortex counts, positions, charges, 3D
# lines and the residual exactly, everything else to 1e-12 relative (FFTW's
# distributed transform and the merged sums may add in another order). No rank
# gathers the state: each writes its own rows of every snapshot, and (--xdmf)
# of the sidecar's fields: the fields file and the document equal the serial
# run's (the document names the vortex points of each state).
xdmf_same() {  # xdmf_same SERIAL.h5 SPREAD.h5 WHAT
    local a=${1%.h5} b=${2%.h5}
    for g in /final /snapshots; do
        h5diff "$a.fields.h5" "$b.fields.h5" $g $g >diff.txt 2>&1 ||
            fail "$3: the sidecar's fields $g differ from the serial run's: $(head -3 diff.txt)"
    done
    sed "s/$(basename "$a")\./R./g" "$a.xdmf" >a.xdmf
    sed "s/$(basename "$b")\./R./g" "$b.xdmf" >b.xdmf
    cmp -s a.xdmf b.xdmf || fail "$3: the XDMF document differs from the serial run's: $(diff a.xdmf b.xdmf | head -3)"
    fill=$(h5dump -p -H -d /final/sz "$b.fields.h5" | grep -o "H5D_FILL_TIME_[A-Z]*")
    [[ $fill == H5D_FILL_TIME_NEVER ]] || fail "$3: /final/sz has $fill: not written by the ranks"
}
A=(--Jx 1 --Jy -1 --Jz 0 --seed 5 -q --analyze --snapshot-every 1 --xdmf)
for k in "3|--size 45x37 --t-end 2" "2|--size 13x12x15 --t-end 1"; do
    c=${k#*|} p=${k%%|*}
    # shellcheck disable=SC2086
    "$X" run $c "${A[@]}" -o sa$p.h5
    # shellcheck disable=SC2086
    mpi $p run $c "${A[@]}" -o pa$p.h5 || fail "--analyze $c on $p ranks exited $?"
    for g in /snapshots /final /analysis; do
        h5diff --relative=1e-12 sa$p.h5 pa$p.h5 $g $g >diff.txt 2>&1 ||
            fail "--analyze $c on $p ranks: $g differs from the serial run: $(head -3 diff.txt)"
    done
    for d in vortex_positions vortex_charges vortex_normals; do
        h5diff sa$p.h5 pa$p.h5 /final/analysis/$d /final/analysis/$d >diff.txt 2>&1 ||
            fail "--analyze $c on $p ranks: /final/analysis/$d differs: $(head -3 diff.txt)"
    done
    for d in t vortices antivortices skipped residual; do
        h5diff sa$p.h5 pa$p.h5 /analysis/coarsening/$d /analysis/coarsening/$d >diff.txt 2>&1 ||
            fail "--analyze $c on $p ranks: /analysis/coarsening/$d differs: $(head -3 diff.txt)"
    done
    [ "$(h5dump -a /final/analysis/vortices pa$p.h5 | grep -A1 DATA | tail -1 | tr -dc 0-9)" -gt 0 ] ||
        fail "--analyze $c: the case must have vortices"
    grep -q 'Name="vortices"' pa$p.xdmf || fail "--analyze --xdmf $c: the document names no vortex points"
    xdmf_same sa$p.h5 pa$p.h5 "--analyze --xdmf $c on $p ranks"
done
# --sk-storage radial: no rank gathers the grid; rank 0 merges the ranks'
# reductions of their blocks of the half spectrum (src/mpi/slab_analysis.cpp).
R=(--size 45x37 --t-end 2 --Jx 1 --Jy -1 --Jz 0 --seed 5 -q --analyze --sk-storage radial --snapshot-every 1)
"$X" run "${R[@]}" -o sr.h5
mpi 3 run "${R[@]}" -o pr.h5 || fail "--analyze --sk-storage radial on 3 ranks exited $?"
for g in /snapshots /final /analysis; do
    h5diff --relative=1e-12 sr.h5 pr.h5 $g $g >diff.txt 2>&1 ||
        fail "--analyze --sk-storage radial on 3 ranks: $g differs from the serial run: $(head -3 diff.txt)"
done
h5ls pr.h5/final/structure_factor | grep -q Sxx_radial || fail "--sk-storage radial on 3 ranks: no radial average stored"
# 1D: the spins in the fields file too; Jx = 0: no psi.
"$X" run --size 61 --dim 1 --t-end 1 --snapshot-every 0.5 --Jx 0 --Jy 1.3 --Jz 0.4 --seed 2 -q --xdmf -o sx.h5
mpi 2 run --size 61 --dim 1 --t-end 1 --snapshot-every 0.5 --Jx 0 --Jy 1.3 --Jz 0.4 --seed 2 -q --xdmf -o px.h5 ||
    fail "--xdmf 1D on 2 ranks exited $?"
xdmf_same sx.h5 px.h5 "--xdmf 1D on 2 ranks"
echo "mpi_run_test: --analyze --xdmf on 2 and 3 ranks (2D, 3D), --sk-storage radial on 3 (no grid gathered), --xdmf 1D: S(k), vortices, phases and the sidecar equal the serial run's, each rank writing its rows"

# Refusals: one line from rank 0, exit code 2 (usage), nothing written.
rc=0; refused 4 run --size 64x10 -o thin.h5 -q 2>thin.txt || rc=$?
[[ $rc == 2 ]] || fail "thin slabs: exit $rc, not 2"
grep -q "64x10 (2D) over 4 ranks leaves 2 y-rows a rank, fewer than the 4 ghost rows a pass needs; run at most 2 ranks" thin.txt ||
    fail "thin slabs: $(cat thin.txt)"
[[ $(grep -c "xyzmf: error" thin.txt) == 1 ]] || fail "thin slabs: not one line: $(cat thin.txt)"
[[ ! -e thin.h5 ]] || fail "thin slabs: a file was written"
rc=0; refused 3 run --size 20 --dim 1 --integrator dopri5 -o d.h5 -q 2>dopri.txt || rc=$?
[[ $rc == 2 ]] && grep -q "fewer than the 7 ghost rows" dopri.txt || fail "dopri5, thin slabs: exit $rc: $(cat dopri.txt)"
rc=0; refused 2 stability --size 8 -o s.h5 2>other.txt || rc=$?
[[ $rc == 2 ]] && grep -q "only \`xyzmf run\` (one lattice over the ranks) and \`xyzmf sweep\`" other.txt ||
    fail "stability under mpirun: exit $rc: $(cat other.txt)"
rc=0; refused 2 bogus 2>other.txt || rc=$?
[[ $rc == 2 ]] && grep -q "'bogus' is not a command" other.txt && [[ $(grep -c "error" other.txt) == 1 ]] ||
    fail "a word that is no command under mpirun: exit $rc: $(grep -v '^--' other.txt | head -3)"
for bad in "uniform:2,0,0|unit Bloch ball|2" "bogus|must be random, pm-noise|2" "nothere.h5|nothere.h5: no such file|3"; do
    IFS='|' read -r init says want <<<"$bad"
    rc=0; refused 2 run --size 16 --init "$init" -o bad.h5 -q 2>bad.txt || rc=$?
    [[ $rc == "$want" ]] && grep -q "$says" bad.txt && [[ $(grep -c "xyzmf: error" bad.txt) == 1 ]] ||
        fail "--init $init on 2 ranks: exit $rc (want $want), not one line: $(grep -v '^--' bad.txt | head -3)"
    [[ ! -e bad.h5 ]] || fail "--init $init on 2 ranks: a file was written"
done
# A refusal of the command line itself (an option, a --config file) is met by every
# rank alike: said once.
rc=0; refused 3 run --size 16 --config nothere.toml -o c.h5 -q 2>cfg.txt || rc=$?
[[ $rc == 3 ]] && grep -q "nothere.toml: no such file" cfg.txt && [[ $(grep -c "error" cfg.txt) == 1 ]] ||
    fail "--config nothere.toml on 3 ranks: exit $rc, not one line: $(grep -v '^--' cfg.txt | head -3)"
# XYZMF_DEVICE exported by a job script is a default the ranks' own choice replaces.
XYZMF_DEVICE=0 mpi 2 run --size 16 --t-end 0.1 -o dev.h5 -q 2>dev.txt || fail "XYZMF_DEVICE=0 on 2 ranks: $(head -2 dev.txt)"
echo "mpi_run_test: thin slabs (rk4 and dopri5), other commands, bad --init (drawn or from a file) and a missing"
echo "  --config file refused in one line; XYZMF_DEVICE in the environment taken as a default, not refused"

# A sweep's points over the ranks: the map equals the serial sweep's; interrupted once
# a batch is in, resumed on the same ranks, it still does.
maps_equal() {
    /usr/bin/python3 - "$1" "$2" <<'PY' || fail "$3: the map differs from the serial sweep"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["sweep"] for p in sys.argv[1:3])
for name in ("phase", "order", "agree", "m_perp", "k", "residual", "vortices", "t_final", "predicted", "x", "y"):
    if not np.array_equal(a[name][()], b[name][()], equal_nan=True):
        sys.exit(f"/sweep/{name} differs")
PY
}
SW=(sweep --x Jx:-3:3:11 --y Jy:-3:3:9 --Jz 1 --size 16 --t-end 120 --steady-tol 0 --batch-points 2 -q)
"$X" "${SW[@]}" -o map1.h5 >/dev/null
mpi 3 "${SW[@]}" -o map3.h5 >/dev/null || fail "sweep on 3 ranks exited $?"
maps_equal map1.h5 map3.h5 "sweep on 3 ranks"
backend_is() {  # FILE GROUP TEXT: the backend a file records ends with TEXT
    /usr/bin/python3 -c "import h5py, sys; b = str(h5py.File('$1', 'r')['$2'].attrs['backend']); sys.exit(0 if b.endswith('$3') else b)" ||
        fail "$1: the recorded backend does not end with '$3'"
}
backend_is map3.h5 / " x 3 MPI ranks"
ls -a | grep -q "^\.map3" && fail "the ranks' parts of map3.h5 were left behind"
# The watchers start first (Python's start-up would outlast a sweep or a run) and
# signal ranks themselves once the file shows progress. signal_ranks.py WHEN FILE OUT
# SIGNAL RANK...: once FILE exists (WHEN = created), a sweep's part has a committed batch
# (batch) or is finished (finished), or a run file two complete snapshots (snapshots), it sends SIGNAL to those ranks of the job that
# writes OUT from this folder; it touches watching-OUT when it starts. Exit 1: not within
# 120 s; 2: not every rank named was found.
cat >signal_ranks.py <<'PY'
import os, signal, sys, time, h5py
when, name, out, sig, ranks = sys.argv[1], sys.argv[2], sys.argv[3], getattr(signal, sys.argv[4]), sys.argv[5:]
open("watching-" + out, "w").close()
def progressed():
    if when == "created":
        return os.path.exists(name)
    try:
        with h5py.File(name, "r") as f:
            if when == "batch":
                return (f["sweep/batch"][()] >= 0).any()
            if when == "finished":
                return str(f.attrs.get("status", "")).startswith("finished")
            return sum(f["snapshots"][k].attrs.get("complete", 0) == 1 for k in f["snapshots"]) >= 2
    except (OSError, KeyError, ValueError):
        return False
t0 = time.monotonic()
while time.monotonic() - t0 < 120:
    if progressed():
        found = []
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                env = open(f"/proc/{p}/environ", "rb").read().split(b"\0")
                cmd = open(f"/proc/{p}/cmdline", "rb").read()
                here = os.readlink(f"/proc/{p}/cwd") == os.getcwd()
            except OSError:
                continue
            if here and out.encode() in cmd and any(b"OMPI_COMM_WORLD_RANK=" + r.encode() in env for r in ranks):
                found.append(int(p))
        for p in found:
            os.kill(p, sig)
        raise SystemExit(0 if len(found) == len(ranks) else 2)
    time.sleep(0.002)
raise SystemExit(1)
PY
# watch_ranks WHEN FILE OUT SIGNAL RANK...: starts signal_ranks.py and returns once it is
# watching (its pid in $watcher).
watch_ranks() {
    /usr/bin/python3 signal_ranks.py "$@" &
    watcher=$!
    until [[ -e watching-$3 ]]; do kill -0 $watcher 2>/dev/null || fail "the watcher ended early"; sleep 0.01; done
}
# At the first batch a rank commits, SIGTERM to both ranks, as Slurm sends at a time
# limit. (Not SIGINT to mpirun: it forwards a stop about a second later, and on a fast
# machine the 1.3 s sweep was done by then.)
watch_ranks batch .mapk.h5.rank-0000-of-0002.h5 mapk.h5 SIGTERM 0 1
mpirun --oversubscribe -np 2 "$X" "${SW[@]}" -o mapk.h5 >/dev/null 2>mapk.txt &  # not the function: $! must be mpirun
job=$!
wrc=0; wait $watcher || wrc=$?
[[ $wrc != 1 ]] || fail "no committed batch in a rank's part of mapk.h5 within 120 s"
[[ $wrc != 2 ]] || fail "the two ranks of the sweep to mapk.h5 not found"
irc=0; wait $job || irc=$?
[[ $irc == 143 ]] || fail "interrupted sweep: mpirun exited $irc, not 143 (SIGTERM)"
grep -q "continue with mpirun -np 2 xyzmf sweep --resume mapk.h5" mapk.txt || fail "interrupted sweep: $(cat mapk.txt)"
# Its parts are its work: a new sweep to the same output, a resume without mpirun or
# on another number of ranks are refused in one line that says how to go on.
for how in "2|sweep --x Jx:-3:3:11 --y Jy:-3:3:9 --Jz 1 --size 16 -o mapk.h5 -q|continue it with mpirun -np 2 xyzmf sweep --resume mapk.h5" \
           "1|sweep --resume mapk.h5 -q|not written yet: the sweep ran over 2 MPI ranks" \
           "3|sweep --resume mapk.h5 -q|it ran over 2 ranks: mpirun -np 2 xyzmf sweep --resume mapk.h5"; do
    IFS='|' read -r p cmd says <<<"$how"
    rc=0
    # shellcheck disable=SC2086
    if [[ $p == 1 ]]; then "$X" $cmd 2>parts.txt || rc=$?; else refused "$p" $cmd 2>parts.txt || rc=$?; fi
    [[ $rc == 3 ]] && grep -qF "$says" parts.txt && [[ $(grep -c "error" parts.txt) == 1 ]] ||
        fail "$cmd on $p ranks beside an interrupted sweep: exit $rc: $(grep -v '^--' parts.txt | head -3)"
done
mpi 2 sweep --resume mapk.h5 --batch-points 5 -q >/dev/null || fail "sweep --resume on 2 ranks exited $?"
maps_equal map1.h5 mapk.h5 "sweep interrupted on 2 ranks and resumed"
# The resume's batch size is the map's, whatever part had points left.
bp=$(/usr/bin/python3 -c "import h5py; print(h5py.File('mapk.h5', 'r')['sweep'].attrs['batch_points'])")
[[ $bp == 5 ]] || fail "sweep resumed on 2 ranks with --batch-points 5: the map records $bp"
[[ -z $(ls -a | grep '^\.mapk') ]] || fail "the parts of mapk.h5 were left after its resume: $(ls -a | grep '^\.mapk')"
# A finished sweep resumed again (a job re-queued) does nothing and exits 0, as without mpirun.
mpi 2 sweep --resume mapk.h5 >again.txt || fail "sweep --resume of the finished map on 2 ranks exited $?"
grep -q "0 lattices (0 points x 1 replicas) done in this call" again.txt || fail "finished sweep resumed: $(cat again.txt)"
maps_equal map1.h5 mapk.h5 "finished sweep resumed again"
# SIGTERM to rank 1 alone, once its part exists (before its first batch, so that it
# cannot have finished): it stops; rank 0 runs its part to the end and says so in one line.
watch_ranks created .mapo.h5.rank-0001-of-0002.h5 mapo.h5 SIGTERM 1
mpirun --oversubscribe -np 2 "$X" "${SW[@]}" -o mapo.h5 >/dev/null 2>mapo.txt &
job=$!
wrc=0; wait $watcher || wrc=$?
[[ $wrc == 0 ]] || fail "sweep, SIGTERM to rank 1: watcher exit $wrc"
orc=0; wait $job || orc=$?
# (Rank 1 tells rank 0, which stops at its next pass and says so, or, had it finished
# its part by then, says that another rank stopped; the case below shows the first.)
[[ $orc == 143 ]] && [[ $(grep -c "error" mapo.txt) == 1 ]] && grep -qF "interrupted (SIGTERM)" mapo.txt &&
    grep -qF "the parts beside mapo.h5" mapo.txt && grep -qF "(continue with mpirun -np 2 xyzmf sweep --resume mapo.h5)" mapo.txt ||
    fail "sweep, SIGTERM to rank 1: exit $orc: $(grep -v '^--' mapo.txt | head -3)"
mpi 2 sweep --resume mapo.h5 -q >/dev/null || fail "sweep --resume after SIGTERM to rank 1 exited $?"
maps_equal map1.h5 mapo.h5 "sweep with rank 1 stopped, resumed"
# The same where rank 0's part would take days (t_end = 1e6 / gamma): the stop that
# reached rank 1 alone stops rank 0 too, which marks its part and says so itself.
# (The timeout only bounds a failure: the stop takes a pass.)
# stop_rank1 LABEL WHEN OUT SWEEP-ARGS...: the sweep to OUT on 2 ranks, SIGTERM to rank 1
# once its part is WHEN (signal_ranks.py); waits for mpirun and sets $lrc (its exit) and
# $part0 (rank 0's part's status); OUT's stem.txt holds stderr.
stop_rank1() {
    local label=$1 when=$2 out=$3
    shift 3
    watch_ranks "$when" ".$out.rank-0001-of-0002.h5" "$out" SIGTERM 1
    timeout 600 mpirun --oversubscribe -np 2 "$X" "$@" -o "$out" >/dev/null 2>"${out%.h5}.txt" &
    local job=$! wrc=0
    wait $watcher || wrc=$?
    [[ $wrc == 0 ]] || fail "$label, SIGTERM to rank 1: watcher exit $wrc"
    lrc=0; wait $job || lrc=$?
    [[ $lrc != 124 ]] || fail "$label, SIGTERM to rank 1: rank 0 did not stop within 600 s"
    part0=$(/usr/bin/python3 -c "import h5py; print(h5py.File('.$out.rank-0000-of-0002.h5', 'r').attrs['status'])")
}
stop_rank1 "long sweep" created mapl.h5 sweep --x Jx:-3:3:11 --y Jy:-3:3:9 --Jz 1 --size 16 --t-end 1e6 --steady-tol 0 \
    --batch-points 2 -q
[[ $lrc == 143 ]] && [[ $(grep -c "error" mapl.txt) == 1 ]] && ! grep -q "on another rank" mapl.txt &&
    grep -qF "interrupted (SIGTERM)" mapl.txt && grep -qF "(continue with mpirun -np 2 xyzmf sweep --resume mapl.h5)" mapl.txt &&
    [[ $part0 == "interrupted after "* ]] ||
    fail "long sweep, SIGTERM to rank 1: exit $lrc, rank 0's part: $part0: $(grep -v '^--' mapl.txt | head -3)"
# And where rank 1 has no point of its own (a map of one point on 2 ranks): its part is
# finished at once, and a SIGTERM to it then still stops rank 0 (the ranks' second word).
stop_rank1 "one-point sweep (rank 1's part done)" finished map1p.h5 sweep --x Jx:2:2:1 --y Jy:0:0:1 --Jz 1 --size 16 \
    --t-end 1e6 --steady-tol 0 -q
[[ $lrc == 143 ]] && [[ $part0 == "interrupted after "* ]] && grep -qF "interrupted (SIGTERM)" map1p.txt ||
    fail "one-point sweep, SIGTERM to rank 1 (its part done): exit $lrc, rank 0's part: $part0: $(grep -v '^--' map1p.txt | head -3)"
echo "mpi_run_test: sweep over 3 ranks = serial map; interrupted on 2 (SIGTERM, mpirun exit $irc; a new sweep to its output and"
echo "  resumes elsewhere refused) and resumed, = serial map; resumed again when finished: nothing done, exit 0;
  rank 1 alone stopped: one line from rank 0, exit 143, resumed = serial map; rank 1 alone stopped
  in a sweep of days, and once its own part was done: rank 0 stopped too ($part0)"

# A stop signal that reaches one rank before the ranks compare it (here pending when
# rank 1 starts): that rank ends the job, in one line and with its exit code, instead of
# leaving the other waiting for it in a collective call (it hung until a timeout).
cat >pending_term.py <<'PY'
import os, signal, sys
if os.environ.get("OMPI_COMM_WORLD_RANK") == "1":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # pending across exec, until
    os.kill(os.getpid(), signal.SIGTERM)                          # xyzmf's handlers unblock it
os.execv(sys.argv[1], sys.argv[1:])
PY
rc=0; OMPI_MCA_odls_base_sigkill_timeout=0 timeout 60 mpirun --oversubscribe -np 2 /usr/bin/python3 pending_term.py "$X" \
    run --size 64 --t-end 1 -o pend.h5 -q 2>pend.txt || rc=$?
[[ $rc == 143 ]] && grep -q "xyzmf (rank 1 of 2): error: interrupted (SIGTERM) before the command started" pend.txt ||
    fail "SIGTERM to rank 1 before it started: exit $rc (124: a hang): $(grep -v '^--' pend.txt | head -3)"
echo "mpi_run_test: a SIGTERM that reached rank 1 before the ranks compared it ends the job (exit 143, one line), no hang"

# A rank on a node with less memory refuses the lattice alone (here rank 1, under a
# data limit of 400 MiB; rank 0 has the machine's): every rank stops with its code, in
# one line from rank 1, instead of rank 0 waiting in a collective call for a rank that
# had left (it hung until the timeout).
cat >small_node.py <<'PY'
import os, resource, sys
if os.environ.get("OMPI_COMM_WORLD_RANK") == "1":
    resource.setrlimit(resource.RLIMIT_DATA, (400 << 20, 400 << 20))
os.execv(sys.argv[1], sys.argv[1:])
PY
for cmd in "run --size 2048 --t-end 1" "sweep --x Jx:2:2:1 --y Jy:0:0:1 --Jz 1 --size 2048"; do
    rc=0
    # shellcheck disable=SC2086
    OMPI_MCA_odls_base_sigkill_timeout=0 timeout 120 mpirun --oversubscribe -np 2 /usr/bin/python3 small_node.py "$X" \
        $cmd -o small.h5 -q 2>small.txt || rc=$?
    [[ $rc == 2 ]] && grep -q "xyzmf (rank 1 of 2): error: --size 2048x2048 (2D).*: needs .* of host memory but only" small.txt &&
        [[ $(grep -c "error" small.txt) == 1 ]] && ! compgen -G "*small.h5*" >/dev/null && ! compgen -G ".*small.h5*" >/dev/null ||
        fail "${cmd%% *} refused by rank 1 alone (less memory): exit $rc (124: a hang): $(grep -v '^--' small.txt | head -3)"
done
echo "mpi_run_test: run and sweep refused by rank 1 alone (a node with less memory): every rank stops, exit 2, one line, no file"

# Kill rank 1 of 2 once the file holds two complete snapshots.
K=(--size 128 --t-end 20 --snapshot-every 0.5 --steady-tol 0 --Jx 0.9 --Jy 1.1 --Jz 1 --seed 7 -q)
"$X" run "${K[@]}" -o whole.h5
# SIGTERM to rank 1 alone: every rank stops at the same step, and the run says SIGTERM
# (in its one line, the file's status and the exit code), not SIGINT.
watch_ranks snapshots termed.h5 termed.h5 SIGTERM 1
mpi 2 run "${K[@]}" -o termed.h5 2>termed.txt &
job=$!
wrc=0; wait $watcher || wrc=$?
[[ $wrc == 0 ]] || fail "SIGTERM to rank 1: watcher exit $wrc (1: no second snapshot in 120 s, 2: no rank 1)"
rc=0; wait $job || rc=$?
[[ $rc == 143 ]] || fail "SIGTERM to rank 1: mpirun exited $rc, not 143"
[[ $(grep -c "xyzmf: error: interrupted (SIGTERM) at t = " termed.txt) == 1 && $(grep -c "error" termed.txt) == 1 ]] ||
    fail "SIGTERM to rank 1: not one line naming SIGTERM: $(grep -v '^--' termed.txt | head -3)"
/usr/bin/python3 -c "import h5py, sys; s = h5py.File('termed.h5', 'r').attrs['status']; sys.exit(0 if 'SIGTERM' in str(s) else str(s))" ||
    fail "SIGTERM to rank 1: the file's status does not name SIGTERM"
mpi 3 run --resume termed.h5 -q || fail "resume on 3 ranks after SIGTERM exited $?"
backend_is termed.h5 /parameters " x 3 MPI ranks"  # the resume's, not the first session's
h5diff whole.h5 termed.h5 /final /final >diff.txt 2>&1 || fail "SIGTERM and resumed on 3 ranks: /final differs: $(head -3 diff.txt)"
# Resumed again once finished (a re-queued job): every rank ends at once, exit 0, file as it was.
cp termed.h5 termed-before.h5
mpi 2 run --resume termed.h5 >again.txt 2>&1 || fail "resume of the finished termed.h5 on 2 ranks exited $?: $(head -3 again.txt)"
grep -q "termed.h5 is already finished (finished.*): nothing to resume" again.txt && cmp -s termed.h5 termed-before.h5 ||
    fail "resume of the finished termed.h5 on 2 ranks: $(head -3 again.txt)"
echo "mpi_run_test: SIGTERM to rank 1 of 2 alone: every rank stopped, one line and the file say SIGTERM, exit 143; resumed on 3 ranks = uninterrupted;"
echo "  resumed again on 2: nothing to do, exit 0"
watch_ranks snapshots killed.h5 killed.h5 SIGKILL 1
mpi 2 run "${K[@]}" -o killed.h5 2>killed.txt &
job=$!
wrc=0; wait $watcher || wrc=$?
[[ $wrc != 1 ]] || fail "no second snapshot in killed.h5 within 120 s"
[[ $wrc != 2 ]] || fail "rank 1 not found (the run ended before it could be killed?)"
rc=0; wait $job || rc=$?
[[ $rc != 0 ]] || fail "mpirun exited 0 after a rank was killed"
! pgrep -f "killed.h5" >/dev/null || fail "ranks still running after rank 1 was killed"
mpi 3 run --resume killed.h5 -q || fail "resume on 3 ranks exited $?"
h5diff whole.h5 killed.h5 /final /final >diff.txt 2>&1 || fail "killed and resumed on 3 ranks: /final differs: $(head -3 diff.txt)"
echo "mpi_run_test: rank 1 of 2 killed (mpirun exit $rc, every rank stopped); resumed on 3 ranks, /final equals the uninterrupted run"
