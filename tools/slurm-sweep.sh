#!/usr/bin/env bash
# A phase-map sweep as a Slurm job array: one shard of the grid per array task (one
# GPU each), then one job, started when every task has succeeded, that merges the
# shards into one file (docs/cluster.md).
#
#   tools/slurm-sweep.sh submit SHARDS DIR -- SWEEP_OPTIONS...   submit the array and the merge job
#   tools/slurm-sweep.sh task   SHARDS DIR -- SWEEP_OPTIONS...   one array task (what the array runs)
#   tools/slurm-sweep.sh merge  SHARDS DIR                       join the shards into DIR/sweep.h5
#   tools/slurm-sweep.sh plan   SHARDS DIR -- SWEEP_OPTIONS...   print every task's command (no Slurm needed)
#
# Task k of the array (k = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, so arrays that
# start at 1 work too) runs `xyzmf sweep SWEEP_OPTIONS --shard k/SHARDS -o
# DIR/shard-K-of-N.h5`: the grid points p with p mod SHARDS = k. A task that finds its
# shard file continues it (--resume), so a requeued or resubmitted array redoes only
# the unfinished points. DIR/sweep-options.txt records the sweep's settings among
# SWEEP_OPTIONS (one per line) at the first task or submit: a resubmission (or a plan)
# with other settings is refused (a resumed shard takes them from its file, so they
# would be ignored). How a task runs is no setting: --threads, --backend, --device,
# --batch-points and -q go to every task, resumed or not, and may change between
# submissions. merge replaces DIR/sweep.h5, made from the shards, which it keeps.
#
# Environment: XYZMF, the program (default: xyzmf on PATH, else build/xyzmf of this
# repository); SBATCH_OPTIONS, more sbatch options for both jobs (for example
# "--partition=gpu --time=04:00:00 --account=myproj"); GPUS_PER_TASK (default 1; 0 on
# CPU-only nodes, where --backend auto picks the CPU).
set -euo pipefail
prog=slurm-sweep.sh
die() { echo "$prog: $*" >&2; exit 2; }

mode=${1:-}
[[ $mode =~ ^(submit|task|merge|plan)$ ]] || die "usage: $prog submit|task|merge|plan SHARDS DIR [-- SWEEP_OPTIONS...]"
shards=${2:-}
dir=${3:-}
[[ $shards =~ ^[1-9][0-9]*$ ]] || die "SHARDS '${shards}': give a positive whole number of shards"
[[ -n $dir ]] || die "DIR: give the folder for the shard files"
shift 3
if [[ ${1:-} == -- ]]; then shift; fi
# Options in two lists: the sweep's settings (recorded, and taken from the shard
# file by a resume) and how a task runs (given to every task).
split_options() {
    sweep_args=() run_args=()
    while (($#)); do
        case $1 in
            -o | --output | --output=* | --shard | --shard=* | --resume | --resume=* | --overwrite)
                die "SWEEP_OPTIONS: leave out $1; the script sets the output, shard and resume of each task" ;;
            --threads | --backend | --device | --batch-points)
                (($# >= 2)) || die "SWEEP_OPTIONS: $1 needs a value"
                run_args+=("$1" "$2"); shift ;;
            --threads=* | --backend=* | --device=* | --batch-points=* | -q | --quiet) run_args+=("$1") ;;
            *) sweep_args+=("$1") ;;
        esac
        shift
    done
}
split_options "$@"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${XYZMF:-} ]]; then
    if command -v xyzmf >/dev/null; then XYZMF=xyzmf; else XYZMF=$here/../build/xyzmf; fi
fi

shard_file() { printf '%s/shard-%04d-of-%04d.h5' "$dir" "$1" "$shards"; }

# The sweep DIR holds is this one: its options are recorded once (the first of
# simultaneous tasks wins: the record is written whole under another name and
# hard-linked into place, which fails where it exists), then compared. (A DIR made
# before the record existed is taken as it is.) plan only compares (it writes nothing).
same_sweep() {
    local rec=$dir/sweep-options.txt want tmp
    want=$(printf '%s\n' ${sweep_args[@]+"${sweep_args[@]}"})
    if [[ $mode != plan ]]; then
        mkdir -p "$dir"
        tmp=$(mktemp "$dir/.sweep-options.XXXXXX") || die "$dir: cannot record the sweep's options there"
        printf '%s\n' "$want" >"$tmp"
        ln "$tmp" "$rec" 2>/dev/null || [[ -e $rec ]] || mv -n "$tmp" "$rec"  # (no hard links there)
        rm -f "$tmp"
        [[ -f $rec ]] || die "$dir: cannot record the sweep's options in $rec"
    fi
    # (a record of an older script may hold how its tasks ran too: only settings count)
    local recorded=""
    [[ -f $rec ]] && recorded=$(
        mapfile -t had <"$rec"
        split_options ${had[@]+"${had[@]}"}
        printf '%s\n' ${sweep_args[@]+"${sweep_args[@]}"}
    )
    [[ ! -f $rec || $recorded == "$want" ]] ||
        die "$dir holds a sweep with other options ($(paste -sd' ' "$rec")), not these (${sweep_args[*]}); resubmit those, or use another DIR (or remove $rec)"
}

# The command of shard k, one word per line (plan prints it, task runs it).
task_command() {
    local k=$1 f
    f=$(shard_file "$k")
    if [[ -e $f ]]; then
        printf '%s\n' "$XYZMF" sweep --resume "$f" ${run_args[@]+"${run_args[@]}"}
    else
        printf '%s\n' "$XYZMF" sweep "${sweep_args[@]}" ${run_args[@]+"${run_args[@]}"} --shard "$k/$shards" -o "$f"
    fi
}

case $mode in
plan)
    same_sweep
    for ((k = 0; k < shards; k++)); do
        mapfile -t cmd < <(task_command "$k")
        echo "task $k: ${cmd[*]}"
    done
    echo "merge: $XYZMF merge $(shard_file 0) ... $(shard_file $((shards - 1))) -o $dir/sweep.h5 --overwrite"
    ;;
task)
    [[ -n ${SLURM_ARRAY_TASK_ID:-} ]] || die "task: SLURM_ARRAY_TASK_ID is not set (run through submit, or set it by hand)"
    [[ $SLURM_ARRAY_TASK_ID =~ ^[0-9]+$ ]] || die "task: SLURM_ARRAY_TASK_ID '$SLURM_ARRAY_TASK_ID' is not a whole number"
    k=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
    ((k >= 0 && k < shards)) || die "task: array task ${SLURM_ARRAY_TASK_ID} (first ${SLURM_ARRAY_TASK_MIN:-0}) is shard $k, outside 0..$((shards - 1))"
    [[ ${SLURM_ARRAY_TASK_STEP:-1} == 1 ]] || die "task: the array steps by $SLURM_ARRAY_TASK_STEP; submit it with --array=0-$((shards - 1))"
    if [[ -n ${SLURM_ARRAY_TASK_COUNT:-} && $SLURM_ARRAY_TASK_COUNT != "$shards" ]]; then
        die "task: the array has $SLURM_ARRAY_TASK_COUNT tasks but SHARDS is $shards; submit it with --array=0-$((shards - 1))"
    fi
    same_sweep
    mapfile -t cmd < <(task_command "$k")
    echo "$prog: shard $k of $shards on $(hostname): ${cmd[*]}" >&2
    exec "${cmd[@]}"
    ;;
merge)
    files=() missing=()
    for ((k = 0; k < shards; k++)); do
        f=$(shard_file "$k")
        if [[ -e $f ]]; then files+=("$f"); else missing+=("$k"); fi
    done
    ((${#missing[@]} == 0)) || die "merge: no file for shard(s) ${missing[*]} of $shards in $dir"
    exec "$XYZMF" merge "${files[@]}" -o "$dir/sweep.h5" --overwrite
    ;;
submit)
    command -v sbatch >/dev/null || die "submit: sbatch not found (not a Slurm login node?); 'plan' prints the commands instead"
    # The jobs run a copy of this script from Slurm's spool folder and inherit this
    # environment: name the program by an absolute path.
    XYZMF=$(command -v "$XYZMF") || die "submit: the program '$XYZMF' was not found (build it, or set XYZMF)"
    XYZMF=$(cd "$(dirname "$XYZMF")" && pwd)/$(basename "$XYZMF")
    export XYZMF
    same_sweep  # (recorded once every check has passed)
    gpus=()
    [[ ${GPUS_PER_TASK:-1} == 0 ]] || gpus=(--gpus="${GPUS_PER_TASK:-1}")
    # shellcheck disable=SC2086  # SBATCH_OPTIONS is a list of options
    array=$(sbatch --parsable --job-name=xyzmf-sweep --array="0-$((shards - 1))" --ntasks=1 "${gpus[@]}" \
        --output="$dir/slurm-%A_%a.log" ${SBATCH_OPTIONS:-} "$here/$prog" task "$shards" "$dir" -- "${sweep_args[@]}" ${run_args[@]+"${run_args[@]}"})
    array=${array%%;*}
    # shellcheck disable=SC2086
    merge=$(sbatch --parsable --job-name=xyzmf-merge --dependency="afterok:$array" --ntasks=1 \
        --output="$dir/slurm-merge-%j.log" ${SBATCH_OPTIONS:-} "$here/$prog" merge "$shards" "$dir")
    merge=${merge%%;*}
    echo "submitted array job $array ($shards tasks) and merge job $merge; the map will be $dir/sweep.h5"
    ;;
esac
