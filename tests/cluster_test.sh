#!/usr/bin/env bash
# tools/slurm-sweep.sh without a cluster: the shard arithmetic of array tasks
# (arrays from 0 and from 1), that the merged shards equal one unsharded sweep
# point for point, that a finished shard is not redone, and the refusals. `submit`
# goes through the real sbatch of a one-node cluster in tests/slurm_test.sh.
#   tests/cluster_test.sh path/to/xyzmf
set -euo pipefail
X=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
S=$(cd "$(dirname "$0")/../tools" && pwd)/slurm-sweep.sh
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
export XYZMF=$X
fail() { echo "cluster_test: FAIL: $*" >&2; exit 1; }
SW=(--x Jx:-3:3:7 --y Jy:-3:3:5 --Jz 1 --size 8 --t-end 40 --backend cpu -q)

# 1. plan: task k gets --shard k/3 and its own file.
"$S" plan 3 out -- "${SW[@]}" >plan.txt
for k in 0 1 2; do
    grep -q "^task $k: .* --shard $k/3 -o out/shard-000$k-of-0003.h5$" plan.txt || fail "plan of task $k: $(cat plan.txt)"
done
[[ $(grep -c '^task' plan.txt) == 3 ]] || fail "plan has $(grep -c '^task' plan.txt) tasks, not 3"

# 2. An array numbered 1..3 (SLURM_ARRAY_TASK_MIN = 1) runs shards 0..2; merged, they
# equal the sweep run whole.
for id in 1 2 3; do
    SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3 "$S" task 3 out -- "${SW[@]}" 2>>tasks.log
done
grep -q "shard 0 of 3" tasks.log && grep -q "shard 2 of 3" tasks.log || fail "tasks: $(cat tasks.log)"
"$S" merge 3 out >/dev/null
"$X" sweep "${SW[@]}" -o whole.h5 >/dev/null
/usr/bin/python3 - out/sweep.h5 whole.h5 <<'EOF' || fail "merged shards differ from the whole sweep"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["sweep"] for p in sys.argv[1:])
checked = 0
for name in ("phase", "order", "m_perp", "k", "residual", "vortices", "predicted", "x", "y"):
    x, y = a[name][()], b[name][()]
    if x.shape != y.shape or not np.array_equal(x, y, equal_nan=True):
        sys.exit(f"/sweep/{name}: merged {x.shape} differs from whole {y.shape}")
    checked += 1
if np.any(a["phase"][()] < 0):
    sys.exit("merged map has points not done")
print(f"merged = whole in {checked} datasets")
EOF

# 3. A task whose shard is finished runs nothing again (the file is continued, not
# redone), as it was told to run (--backend cpu -q: they were dropped on a resume).
SLURM_ARRAY_TASK_ID=1 "$S" task 3 out -- "${SW[@]}" 2>task1.log
grep -q -- "--resume out/shard-0001-of-0003.h5 --backend cpu -q$" task1.log || fail "rerun of a finished shard: $(cat task1.log)"
# How a task runs is no setting of the sweep: a resubmission may change it.
SLURM_ARRAY_TASK_ID=2 "$S" task 3 out -- "${SW[@]:0:12}" --threads 1 --batch-points=3 2>task2.log ||
    fail "a resubmission with --threads and --batch-points, without -q, refused: $(cat task2.log)"
grep -q -- "--resume out/shard-0002-of-0003.h5 --backend cpu --threads 1 --batch-points=3$" task2.log ||
    fail "a resubmission's task: $(cat task2.log)"
# ... and the merge job of a resubmitted array replaces the map made from the same shards.
"$S" merge 3 out >/dev/null || fail "a second merge into out/sweep.h5 failed"

# 4. Refusals: a task outside the array, a step, a count that is not SHARDS, an option
# the script owns, a missing shard at merge time.
expect_refusal() {  # text, command...
    local want=$1; shift
    if "$@" >err.txt 2>&1; then fail "accepted: $*"; fi
    grep -q -- "$want" err.txt || fail "'$*' said: $(cat err.txt)"
}
expect_refusal "outside 0..2" env SLURM_ARRAY_TASK_ID=3 "$S" task 3 out -- "${SW[@]}"
expect_refusal "steps by 2" env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_STEP=2 "$S" task 3 out -- "${SW[@]}"
expect_refusal "has 4 tasks" env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=4 "$S" task 3 out -- "${SW[@]}"
expect_refusal "not set" env -u SLURM_ARRAY_TASK_ID "$S" task 3 out -- "${SW[@]}"
expect_refusal "leave out -o" "$S" plan 3 out -- "${SW[@]}" -o x.h5
expect_refusal "positive whole number" "$S" plan 0 out -- "${SW[@]}"
# A resubmission with other options: its shards would resume with the old ones, unseen.
expect_refusal "out holds a sweep with other options (--x Jx:-3:3:7" env SLURM_ARRAY_TASK_ID=0 "$S" task 3 out -- "${SW[@]/40/60}"
expect_refusal "out holds a sweep with other options" "$S" plan 3 out -- "${SW[@]/40/60}"  # (plan printed them)
expect_refusal "shard(s) 1" bash -c "mkdir -p gap && cp out/shard-0000-of-0003.h5 out/shard-0002-of-0003.h5 gap/ && '$S' merge 3 gap"

echo "cluster_test: plan, tasks from 1, merge = whole sweep, no redo (run options kept), merged again, 9 refusals: all passed"
