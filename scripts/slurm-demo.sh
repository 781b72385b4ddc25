#!/usr/bin/env bash
# A real sharded run on Slurm, end to end, on this machine: starts a one-node cluster (munged,
# slurmctld, slurmd; config, state and logs in a temporary folder), submits
# scripts/slurm/isg-shard.sbatch as an array of N tasks over a real tree, kills one shard
# mid-run (scancel) and submits it again (it resumes from its cache), checks that a merge of an
# incomplete set of shards is refused and writes nothing, merges the shards and checks that the
# merged summaries equal a single-machine run of the same tree (path, lines, kind and summary of
# every record). Prints the wall time of each shard and of the merge, then stops the daemons it
# started. Needs root (it starts the daemons) and installs slurm-wlm and munge with apt-get when
# they are absent.
#
# Settings (environment):
#   ISG_SLURM_SHARDS   N, the number of shards (default 2)
#   ISG_SLURM_TREE     the tree to summarize (default: a copy of this repository's committed files)
#   ISG_SLURM_INCLUDE  an --include glob, empty for the whole tree (default: src/{pipeline,run,rollup,output,record}/**, the summarize pipeline)
#   ISG_SLURM_KILL     the shard that is killed and resubmitted, 0 for none (default 1)
#   ISG_BIN            the isg binary (default: target/release/isg, built when missing)
#   ISG_HOME           the model cache, shared by every task (default ~/.cache/isg)
#   ISG_SLURM_KEEP=1   keep the temporary folder (it is also kept when a check fails)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
job_file="$here/slurm/isg-shard.sbatch"
shards=${ISG_SLURM_SHARDS:-2}
include=${ISG_SLURM_INCLUDE-src/{pipeline,run,rollup,output,record}/**}
kill_shard=${ISG_SLURM_KILL:-1}

die() {
    echo "slurm-demo: $*" >&2
    exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root: the demo starts munged, slurmctld and slurmd"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "ISG_SLURM_SHARDS=$shards is not a positive number; set it to N >= 1, e.g. 2"
[[ "$kill_shard" =~ ^[0-9]+$ ]] && [ "$kill_shard" -le "$shards" ] ||
    die "ISG_SLURM_KILL=$kill_shard is not a shard of 1..$shards (or 0 for none)"
command -v python3 >/dev/null || die "python3 is needed to read the outputs; install it (apt-get install -y python3)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge
fi

isg=${ISG_BIN:-$repo/target/release/isg}
if [ ! -x "$isg" ]; then
    [ -z "${ISG_BIN:-}" ] || die "ISG_BIN=$isg is not an executable; build isg (cargo build --release) or unset ISG_BIN"
    echo "== building isg"
    cargo build --release --manifest-path "$repo/Cargo.toml"
fi
export ISG_BIN=$isg

work=$(mktemp -d /tmp/isg-slurm.XXXXXX)
pids=()
ok=0
cleanup() {
    set +e
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ] && [ "${#pids[@]}" -gt 0 ]; then
        scancel --quiet --user=root 2>/dev/null
        # Give the job steps a moment to end before slurmd goes.
        for _ in $(seq 20); do
            [ -z "$(squeue -h 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    if [ "$ok" = 1 ] && [ "${ISG_SLURM_KEEP:-0}" != 1 ]; then
        rm -rf "$work"
    else
        echo "slurm-demo: outputs and logs kept in $work (remove it with: rm -rf $work)" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"/{munge,state,spool,log,out,jobs}

# The tree: as given, or a copy of this repository's committed files (stable while it runs).
if [ -n "${ISG_SLURM_TREE:-}" ]; then
    [ -d "$ISG_SLURM_TREE" ] || die "ISG_SLURM_TREE=$ISG_SLURM_TREE is not a folder; name the tree to summarize"
    tree=$(cd "$ISG_SLURM_TREE" && pwd)
else
    git -C "$repo" rev-parse --verify -q HEAD >/dev/null ||
        die "$repo is not a git checkout to copy the tree from; set ISG_SLURM_TREE to the tree to summarize"
    tree="$work/tree/isg"
    mkdir -p "$tree"
    git -C "$repo" archive HEAD | tar -x -C "$tree"
fi
include_args=()
[ -z "$include" ] || include_args=(--include "$include")

# --- munge: a fresh key and socket of our own.
echo "== starting munged, slurmctld and slurmd in $work"
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 600 "$work/munge/munge.key"
sock="$work/munge/munge.socket"
munged --foreground --force --socket="$sock" --key-file="$work/munge/munge.key" \
    --log-file="$work/log/munged.log" --pid-file="$work/munge/munged.pid" \
    --seed-file="$work/munge/munged.seed" >"$work/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
    sleep 0.2
done
munge -n -S "$sock" | unmunge -S "$sock" >/dev/null ||
    die "munged did not start: $(tail -3 "$work/log/munged.log" "$work/log/munged.out" 2>/dev/null)"

# --- slurm.conf: one node with this machine's cores and memory, ports that are free.
ports=$(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
read -r ctld_port slurmd_port <<<"$ports"
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=isgdemo
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=3600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=isg Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
sleep 1
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || die "the node did not come up (state: ${state:-none}); see $work/log/slurmctld.log and slurmd.log:
$(tail -5 "$work/log/slurmctld.log" "$work/log/slurmd.log" 2>/dev/null)"
echo "   node $host: $cpus CPUs, ${mem_mb} MB, state $state; slurm $(sinfo -V | awk '{ print $2 }')"

# --- the model, set up once in the cache every task shares.
echo "== isg setup (model cache: ${ISG_HOME:-$HOME/.cache/isg})"
"$isg" setup

echo "== tree: $tree ${include:+(--include '$include')}"

# --- the reference: one machine, the whole tree.
echo "== single-machine run"
t0=$(now)
"$isg" summarize "$tree" "${include_args[@]}" --out "$work/single" >"$work/log/single.out" 2>&1 ||
    die "the single-machine run failed: $(tail -3 "$work/log/single.out")"
single_wall=$(since "$t0")
echo "   ${single_wall} s"

# --- the shards, as a Slurm array; each task takes every core, so they run one at a time.
submit() { # ARRAY -> job id
    sbatch --parsable --array="$1" --cpus-per-task="$cpus" \
        --output="$work/jobs/shard-%a-job-%A.out" \
        "$job_file" "$tree" "$work/out" "$shards" "${include_args[@]}"
}
echo "== sbatch --array=1-$shards --cpus-per-task=$cpus --output=$work/jobs/shard-%a-job-%A.out scripts/slurm/isg-shard.sbatch $tree $work/out $shards ${include_args[*]}"
t_array=$(now)
array_job=$(submit "1-$shards")
echo "   job $array_job"
jobs_submitted=("$array_job")

task_state() { # JOB TASK -> JobState
    scontrol -o show job "${1}_$2" 2>/dev/null | tr ' ' '\n' | awk -F= '$1 == "JobState" { print $2; exit }'
}
task_field() { # JOB TASK FIELD
    scontrol -o show job "${1}_$2" 2>/dev/null | tr ' ' '\n' | awk -F= -v f="$3" '$1 == f { print $2; exit }'
}
wait_jobs() {
    local deadline=$(($(date +%s) + ${ISG_SLURM_TIMEOUT:-7200}))
    while [ -n "$(squeue -h -j "$(
        IFS=,
        echo "${jobs_submitted[*]}"
    )" 2>/dev/null)" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || die "the jobs did not finish in ${ISG_SLURM_TIMEOUT:-7200} s (ISG_SLURM_TIMEOUT)"
        sleep 2
    done
}

killed_at=0
if [ "$kill_shard" -gt 0 ]; then
    cache="$work/out/shard-$kill_shard/.isg-cache/cache.jsonl"
    echo "== fault: scancel shard $kill_shard/$shards once it has cached 3 lines"
    for _ in $(seq 1800); do
        [ -f "$cache" ] && [ "$(wc -l <"$cache")" -ge 3 ] && break
        st=$(task_state "$array_job" "$kill_shard")
        case "$st" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
            die "shard $kill_shard ended ($st) before it could be killed; use a larger tree (ISG_SLURM_INCLUDE)" ;;
        esac
        sleep 0.5
    done
    [ -f "$cache" ] && [ "$(wc -l <"$cache")" -ge 3 ] ||
        die "shard $kill_shard cached fewer than 3 lines in 15 minutes; see $work/jobs/"
    scancel "${array_job}_$kill_shard"
    for _ in $(seq 60); do
        [ "$(task_state "$array_job" "$kill_shard")" = CANCELLED ] && break
        sleep 0.5
    done
    st=$(task_state "$array_job" "$kill_shard")
    [ "$st" = CANCELLED ] || die "shard $kill_shard is $st after scancel, not CANCELLED"
    killed_at=$(wc -l <"$cache")
    echo "   cancelled after $(task_field "$array_job" "$kill_shard" RunTime) with $killed_at cache lines written"
    [ ! -f "$work/out/shard-$kill_shard/run.json" ] || die "the killed shard wrote run.json: it finished before scancel"
    resubmitted=$(submit "$kill_shard")
    jobs_submitted+=("$resubmitted")
    echo "   resubmitted as job $resubmitted (sbatch --array=$kill_shard ...)"
fi
wait_jobs
array_wall=$(since "$t_array")

# Every shard's last task must have completed.
declare -A shard_job
for k in $(seq "$shards"); do shard_job[$k]=$array_job; done
[ "$kill_shard" -eq 0 ] || shard_job[$kill_shard]=$resubmitted
for k in $(seq "$shards"); do
    st=$(task_state "${shard_job[$k]}" "$k")
    [ "$st" = COMPLETED ] || die "shard $k/$shards is $st; see $work/jobs/shard-$k-job-${shard_job[$k]}.out:
$(tail -5 "$work/jobs/shard-$k-job-${shard_job[$k]}.out" 2>/dev/null)"
done

# --- an incomplete set of shards is refused and writes nothing.
if [ "$shards" -gt 1 ]; then
    echo "== merge of shards 1..$((shards - 1)) only (shard $shards/$shards left out)"
    partial=()
    for k in $(seq $((shards - 1))); do partial+=("$work/out/shard-$k"); done
    if "$isg" merge "${partial[@]}" --out "$work/partial" 2>"$work/log/partial.err"; then
        die "the merge of an incomplete set of shards succeeded"
    fi
    echo "   refused: $(cat "$work/log/partial.err")"
    grep -q "shard $shards/$shards is missing" "$work/log/partial.err" ||
        die "the refusal does not name the missing shard $shards/$shards"
    [ ! -e "$work/partial" ] || die "the refused merge wrote $work/partial"
    echo "   nothing written to $work/partial"
fi

# --- the merge.
echo "== isg merge $work/out/shard-{1..$shards} --out $work/merged"
all=()
for k in $(seq "$shards"); do all+=("$work/out/shard-$k"); done
t0=$(now)
"$isg" merge "${all[@]}" --out "$work/merged" 2>"$work/log/merge.err" ||
    die "the merge failed: $(cat "$work/log/merge.err")"
merge_wall=$(since "$t0")

# --- figures and checks.
echo
echo "== figures"
python3 - "$work" "$shards" "$kill_shard" "$killed_at" "$single_wall" "$array_wall" "$merge_wall" \
    "$(for k in $(seq "$shards"); do printf '%s ' "$(task_field "${shard_job[$k]}" "$k" RunTime)"; done)" \
    "$( [ "$kill_shard" -eq 0 ] || task_field "$array_job" "$kill_shard" RunTime)" <<'PY'
import json, sys
work, shards, kill, killed_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
single_wall, array_wall, merge_wall = sys.argv[5], sys.argv[6], sys.argv[7]
runtimes, killed_runtime = sys.argv[8].split(), sys.argv[9]

def records(d):
    with open(f"{d}/summaries.jsonl") as f:
        return [json.loads(l) for l in f if l.strip()]

def report(d):
    with open(f"{d}/run.json") as f:
        return json.load(f)

def kinds(recs):
    out = {}
    for r in recs:
        out[r["kind"]] = out.get(r["kind"], 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(out.items()))

failed = False
single = report(f"{work}/single")
t = single["totals"]
print(f"single machine: {t['chunks']} chunks in {t['files']} files, {single_wall} s "
      f"({t['chunks_per_min']:.1f} chunks/min)")
for k in range(1, shards + 1):
    r = report(f"{work}/out/shard-{k}")
    t = r["totals"]
    line = (f"shard {k}/{shards}: {t['chunks']} chunks in {t['files']} files, job RunTime "
            f"{runtimes[k - 1]}, isg wall {t['wall_seconds']:.1f} s, {t['cached']} cached, "
            f"{t['computed']} computed")
    if k == kill:
        line += f" (resumed; the killed task ran {killed_runtime} and wrote {killed_at} cache lines)"
        if t["cached"] < 1 or t["cached"] + t["computed"] + t["failed"] != t["chunks"]:
            print(f"FAIL: the resumed shard {k} did not reuse its cache: {t}")
            failed = True
        if t["cached"] > killed_at:
            print(f"FAIL: the resumed shard {k} reports {t['cached']} cache hits but only {killed_at} lines were cached")
            failed = True
    elif t["cached"] != 0:
        print(f"FAIL: shard {k} was never killed but reports {t['cached']} cache hits")
        failed = True
    print(line)
    print(f"  cache: {json.dumps(r.get('cache'))}")
print(f"array (submit to last task done): {array_wall} s")
m = report(f"{work}/merged")
print(f"merge: {merge_wall} s ({m['totals']['chunks']} chunks, roll-up {json.dumps(m.get('rollup', {}).get('dirs'))} dirs)")

fields = ("kind", "path", "start_line", "end_line", "summary")
key = lambda r: tuple(r.get(f) for f in fields)
a = [key(r) for r in records(f"{work}/single")]
b = [key(r) for r in records(f"{work}/merged")]
if a == b:
    print(f"merged summaries equal the single-machine run: {len(a)} records "
          f"({kinds(records(f'{work}/merged'))}), compared on {', '.join(fields)}")
else:
    failed = True
    sa, sb = set(a), set(b)
    print(f"FAIL: merged ({len(b)} records) differs from single-machine ({len(a)} records):")
    for r in [r for r in a if r not in sb][:10]:
        print(f"  only single: {r}")
    for r in [r for r in b if r not in sa][:10]:
        print(f"  only merged: {r}")
    if sa == sb:
        print("  (same records, different order)")
sys.exit(1 if failed else 0)
PY
ok=1
echo "slurm-demo: all checks passed"
