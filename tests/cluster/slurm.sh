#!/usr/bin/env bash
# scripts/heed-slurm on a real one-node Slurm cluster (Debian 12's slurm-wlm
# and munge), as root: a fresh munge key and munged on its own socket, a
# generated slurm.conf with every state and spool directory under a temporary
# directory, slurmctld and slurmd. Then
#   1. a 4-task array over 360 Multi30k lines with the shipped model: the
#      merged output is byte-identical to one heed process;
#   2. one array task requeued mid-run (scontrol requeue, as preemption does):
#      it resumes, still byte-identical;
#   3. one array task killed mid-run (scancel --signal=KILL): the merge is
#      cancelled and heed-slurm run again on the same work directory, which
#      resubmits that shard alone: still byte-identical.
# The daemons are stopped (by their pid files) however the script ends.
# Prints SKIP and exits 0 where Slurm cannot start or the data is absent.
# Run by .ci/run; needs the build (build/heed). Usage: tests/cluster/slurm.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
heed=${HEED:-$root/build/heed}
model=$root/models/multi30k-en-de/a # the shipped ensemble's first member: one model is enough here
data=$root/../shared/data/multi30k/test_2016_flickr.en.gz
started=$SECONDS

skip() {
  echo "SKIP: $*"
  exit 0
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || skip "Slurm's daemons need root"
for tool in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$tool" >/dev/null || skip "$tool not found (Debian packages slurm-wlm munge)"
done
[ -f "$data" ] || skip "$data not found (Multi30k, ../shared/data/multi30k)"
[ -x "$heed" ] || fail "$heed not found: build heed first"

# A directory the munge and slurm users can reach.
tmp=$(mktemp -d /tmp/heed-slurm-test.XXXXXX)
chmod 755 "$tmp"
stop() {
  local pidfile pid
  for pidfile in "$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "${keep_logs:-0}" -eq 1 ]; then
    for log in "$tmp"/*.log "$tmp"/munge/*.log; do
      [ -f "$log" ] && { echo "---- $log"; tail -n 30 "$log"; }
    done
  fi
  rm -rf "$tmp"
}
# Under set -e a failing command ends the script: say which, then the daemons' logs.
trap 'rc=$?; echo "FAIL: line $LINENO: $BASH_COMMAND (exit $rc)" >&2; keep_logs=1; stop' ERR
trap stop EXIT

# munge: a fresh key (in a directory of the munge user's only), its own
# socket, pid and log files (in one that the daemons and jobs can reach), run
# as the munge user.
mkdir -m 700 "$tmp/munge-key"
mkdir -m 755 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge-key/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge-key/munge.key"
chown -R munge: "$tmp/munge-key" "$tmp/munge"
socket=$tmp/munge/munge.socket
if ! runuser -u munge -- munged --key-file="$tmp/munge-key/munge.key" --socket="$socket" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" \
  --seed-file="$tmp/munge/munged.seed" 2>"$tmp/munged.err"; then
  skip "munged does not start: $(tail -n 1 "$tmp/munged.err")"
fi

host=$(hostname -s)
cpus=$(nproc)
mkdir "$tmp/state" "$tmp/spool" "$tmp/jobs"
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=heedtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerParameters=sched_interval=1
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=heedtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" 2>"$tmp/slurmctld.err" || skip "slurmctld does not start: $(tail -n 1 "$tmp/slurmctld.err")"
slurmd -f "$SLURM_CONF" 2>"$tmp/slurmd.err" || skip "slurmd does not start: $(tail -n 1 "$tmp/slurmd.err")"
for _ in $(seq 60); do
  [ "$(sinfo -h -n "$host" -o %T 2>/dev/null)" = idle ] && break
  sleep 0.5
done
state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
if [ "$state" != idle ]; then
  keep_logs=1
  skip "the node is '$state', not idle, 30 s after slurmd started (logs above)"
fi
echo "one-node Slurm up ($host, $cpus CPUs) in $((SECONDS - started)) s"

zcat "$data" | sed -n '1,360p' >"$tmp/jobs/corpus.en"
"$heed" translate -m "$model" -q -i "$tmp/jobs/corpus.en" -o "$tmp/jobs/single.de"

# Waits until none of the jobs of work directory $1 is queued or running.
wait_jobs() {
  local jobs
  jobs=$(paste -sd, "$1/jobs")
  for _ in $(seq 400); do
    [ -z "$(squeue -h -j "$jobs" -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  squeue -o "%i %T %r"
  fail "jobs $jobs still queued or running after 200 s"
}

# Runs heed-slurm with 4 tasks writing $tmp/jobs/$1.de; sets `work` (its work
# directory) and `array` (the job id of its array).
submit() {
  HEED=$heed "$root/scripts/heed-slurm" -m "$model" -i "$tmp/jobs/corpus.en" \
    -o "$tmp/jobs/$1.de" --tasks 4
  work=$tmp/jobs/$1.de.heed-slurm
  array=$(head -n 1 "$work/jobs")
}

# 1. Four tasks, then the merge.
t0=$SECONDS
submit run1
wait_jobs "$work"
cmp "$tmp/jobs/run1.de" "$tmp/jobs/single.de" ||
  fail "run 1: merged output differs from one heed process (logs in $work/logs)"
echo "run 1: 4 tasks + merge byte-identical to one process, $((SECONDS - t0)) s"

# The state of task $2 of job array $1: PENDING, RUNNING, CANCELLED, ...
task_state() {
  scontrol -o show job "$1_$2" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2
}

# Waits until the array's task $2 (work directory $1) has written its resume
# record, i.e. is translating.
wait_started() {
  for _ in $(seq 3000); do [ -e "$1/part-$2.heed-resume" ] && return 0; sleep 0.01; done
  fail "task $2 did not start within 30 s"
}

# 2. Preemption: task 1 is requeued while it runs (scontrol requeue kills it
# and puts it back in the queue, as a preempting scheduler does). It resumes
# from its partial shard; the merge, waiting on the whole array, runs after.
t0=$SECONDS
submit run2
wait_started "$work" 1
scontrol requeue "${array}_1"
# A requeued job waits (reason BeginTime, about 2 minutes) before it may
# start again: once it is pending, let it start now.
for _ in $(seq 100); do
  [ "$(task_state "$array" 1)" = PENDING ] && break
  sleep 0.1
done
scontrol update JobId="${array}_1" StartTime=now 2>/dev/null || true
wait_jobs "$work"
cmp "$tmp/jobs/run2.de" "$tmp/jobs/single.de" ||
  fail "run 2: merged output after a requeued task differs (logs in $work/logs)"
echo "run 2: task 1 requeued mid-run, output byte-identical, $((SECONDS - t0)) s"

# 3. A task killed outright (scancel --signal=KILL): its merge can never run
# (afterok failed: DependencyNeverSatisfied), so, as the README says, the
# merge is cancelled and heed-slurm run again on the same work directory: it
# submits only the unfinished shard, which resumes, and a new merge.
t0=$SECONDS
submit run3
merge=$(sed -n 2p "$work/jobs")
wait_started "$work" 2
scancel --signal=KILL "${array}_2"
for _ in $(seq 100); do
  state=$(task_state "$array" 2)
  case $state in PENDING | RUNNING | COMPLETING | CONFIGURING) sleep 0.1 ;; *) break ;; esac
done
echo "task ${array}_2 after the kill: $state"
[ -e "$work/part-2.heed-resume" ] ||
  fail "task 2 finished before the kill reached it (state $state): not a mid-run kill"
for _ in $(seq 400); do
  [ -z "$(squeue -h -j "$array" -o %i 2>/dev/null)" ] && break
  sleep 0.5
done
scancel "$merge"
for _ in $(seq 100); do [ -z "$(squeue -h -j "$merge" -o %i 2>/dev/null)" ] && break; sleep 0.1; done
again=$(HEED=$heed "$root/scripts/heed-slurm" -m "$model" -i "$tmp/jobs/corpus.en" \
  -o "$tmp/jobs/run3.de" --tasks 4)
echo "$again"
[[ $again == *"shards 2 of 4"* ]] || fail "run 3: heed-slurm did not resubmit shard 2 alone"
wait_jobs "$work"
cmp "$tmp/jobs/run3.de" "$tmp/jobs/single.de" ||
  fail "run 3: merged output after a killed task and a second submission differs (logs in $work/logs)"
echo "run 3: task 2 killed mid-run, resubmitted alone, output byte-identical, $((SECONDS - t0)) s"
echo "PASS: tests/cluster/slurm.sh in $((SECONDS - started)) s"
