#!/usr/bin/env bash
# scripts/heed-slurm against a stand-in `sbatch` (and `squeue`) on PATH: the
# stand-in records its arguments and runs the batch script at once, each array
# task with its SLURM_ARRAY_TASK_ID. Checks the options submitted, that the
# merged output is byte-identical to a single heed run, that a second run on
# the same work directory submits only the unfinished shards, and the one-line
# refusals of bad arguments (exit 2). The real scheduler: tests/cluster/slurm.sh.
# Usage: heed_slurm_standin.sh HEED_BINARY MODEL_DIR
set -euo pipefail
heed=$1 model=$2
script=$(cd "$(dirname "$0")/../.." && pwd)/scripts/heed-slurm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

mkdir "$tmp/bin"
cat >"$tmp/bin/sbatch" <<'EOF'
#!/usr/bin/env bash
# Stand-in sbatch: one line of arguments per call in $SBATCH_LOG; runs the
# script (the last argument) now, once per --array index.
set -euo pipefail
printf '%s\n' "$*" >>"$SBATCH_LOG"
id=$(($(wc -l <"$SBATCH_LOG") + 1000))
array= log=/dev/null
for a in "$@"; do
  case $a in
    --array=*) array=${a#--array=} ;;
    --output=*) log=${a#--output=} ;;
  esac
done
batch=${*: -1}
if [ -z "$array" ]; then
  SLURM_JOB_ID=$id bash "$batch" >>"${log//%j/$id}" 2>&1
else
  for range in ${array//,/ }; do
    for k in $(seq "${range%-*}" "${range#*-}"); do
      SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$k bash "$batch" >>"${log//%a/$k}" 2>&1
    done
  done
fi
echo "$id"
EOF
printf '#!/bin/sh\n: # nothing queued\n' >"$tmp/bin/squeue"
chmod +x "$tmp/bin/sbatch" "$tmp/bin/squeue"
export PATH=$tmp/bin:$PATH SBATCH_LOG=$tmp/sbatch.log HEED=$heed

# Lines of 1 to 30 words: the shards get different batch shapes than one run.
words=(a dog runs in the park while two men play with red ball near old house and
  woman sings song to small child under blue sky at night)
for ((i = 0; i < 90; i++)); do
  line=
  for ((j = 0; j <= (i * 7) % 30; j++)); do line+="${words[(i + j * 3) % ${#words[@]}]} "; done
  echo "${line% }"
done >"$tmp/corpus.en"
"$heed" translate -m "$model" -q -i "$tmp/corpus.en" -o "$tmp/single.de"

# 1. Four shards: options, job ids, output.
out=$("$script" -m "$model" -i "$tmp/corpus.en" -o "$tmp/corpus.de" --tasks 4 \
  --partition short --time 0:10:00 --cpus-per-task 2 -- --account=mt --mem=2G)
echo "$out"
[ "$(wc -l <"$SBATCH_LOG")" -eq 2 ] || fail "expected 2 sbatch calls, got: $(cat "$SBATCH_LOG")"
work=$tmp/corpus.de.heed-slurm
expected_array="--parsable --job-name=heed-translate --array=0-3 --requeue --open-mode=append \
--cpus-per-task=2 --output=$work/logs/translate-%a.log --partition=short --time=0:10:00 \
--account=mt --mem=2G $work/translate.sh"
expected_merge="--parsable --job-name=heed-merge --dependency=afterok:1001 --open-mode=append \
--output=$work/logs/merge.log --partition=short --time=0:10:00 --account=mt --mem=2G \
$work/merge.sh"
[ "$(sed -n 1p "$SBATCH_LOG")" = "$expected_array" ] ||
  fail "array submission: $(sed -n 1p "$SBATCH_LOG") (expected $expected_array)"
[ "$(sed -n 2p "$SBATCH_LOG")" = "$expected_merge" ] ||
  fail "merge submission: $(sed -n 2p "$SBATCH_LOG") (expected $expected_merge)"
grep -q -- "--shard \$k/4 --resume --workers 2 --threads 1" "$work/translate.sh" ||
  fail "translate.sh lacks --shard \$k/4 --resume --workers 2 --threads 1: $(cat "$work/translate.sh")"
[ "$out" = "translate job 1001: shards 0-3 of 4
merge job 1002: writes $tmp/corpus.de" ] || fail "printed job ids: $out"
cmp "$tmp/corpus.de" "$tmp/single.de" || fail "merged output differs from a single run"

# 2. Again on the same work directory: nothing to submit.
out=$("$script" -m "$model" -i "$tmp/corpus.en" -o "$tmp/corpus.de" --tasks 4)
[ "$(wc -l <"$SBATCH_LOG")" -eq 2 ] || fail "a finished run was submitted again: $(cat "$SBATCH_LOG")"
[[ $out == "nothing to do"* ]] || fail "finished run: $out"

# 3. Shard 1 interrupted, shard 3 never written: only those two are submitted,
# then the merge. The interrupted shard: heed run again on it from scratch and
# killed once it has written its resume record (if the run wins the race and
# finishes first, the shard is removed instead: unfinished either way).
rm "$work/part-1"
"$heed" translate -m "$model" -q -i "$tmp/corpus.en" -o "$work/part-1" --shard 1/4 --resume \
  --threads 2 &
pid=$!
for _ in $(seq 500); do [ -e "$work/part-1.heed-resume" ] && break; sleep 0.002; done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -e "$work/part-1.heed-resume" ] || rm "$work/part-1"
rm -f "$work/part-3" "$tmp/corpus.de"
out=$("$script" -m "$model" -i "$tmp/corpus.en" -o "$tmp/corpus.de" --tasks 4)
echo "$out"
[ "$(wc -l <"$SBATCH_LOG")" -eq 4 ] || fail "expected 2 more sbatch calls: $(cat "$SBATCH_LOG")"
[[ $(sed -n 3p "$SBATCH_LOG") == *"--array=1,3 "* ]] ||
  fail "resubmitted array: $(sed -n 3p "$SBATCH_LOG") (expected --array=1,3)"
[[ $(sed -n 4p "$SBATCH_LOG") == *"--dependency=afterok:1003 "* ]] ||
  fail "resubmitted merge: $(sed -n 4p "$SBATCH_LOG")"
cmp "$tmp/corpus.de" "$tmp/single.de" || fail "merged output after a resubmission differs"

# 4. Output removed, shards finished: only the merge, with no dependency.
rm "$tmp/corpus.de"
"$script" -m "$model" -i "$tmp/corpus.en" -o "$tmp/corpus.de" --tasks 4 >/dev/null
[ "$(wc -l <"$SBATCH_LOG")" -eq 5 ] || fail "expected one more sbatch call: $(cat "$SBATCH_LOG")"
[[ $(sed -n 5p "$SBATCH_LOG") == *"--job-name=heed-merge --open-mode"* ]] ||
  fail "merge alone: $(sed -n 5p "$SBATCH_LOG")"
cmp "$tmp/corpus.de" "$tmp/single.de" || fail "merged output of the merge alone differs"

# 5. Bad arguments: one line naming the problem, exit 2, nothing submitted.
refuse() {
  local expect=$1 rc=0 err
  shift
  err=$("$script" "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || fail "heed-slurm $*: exit $rc, expected 2 ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "heed-slurm $*: not one line: $err"
  [[ $err == *"$expect"* ]] || fail "heed-slurm $*: '$err' does not say '$expect'"
}
refuse "--tasks" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 0
refuse "--tasks N is required" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de"
refuse "-i: $tmp/missing.en" -m "$model" -i "$tmp/missing.en" -o "$tmp/x.de" --tasks 2
refuse "-m: $tmp/nomodel" -m "$tmp/nomodel" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2
refuse "the directory $tmp/nodir of" -m "$model" -i "$tmp/corpus.en" -o "$tmp/nodir/x.de" --tasks 2
refuse "--cpus-per-task" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2 --cpus-per-task x
refuse "--threads-per-worker" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2 \
  --cpus-per-task 2 --threads-per-worker 3
refuse "unknown argument '--beam'" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2 --beam
refuse "--time needs a value" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2 --time
refuse "holds the shards of another run" -m "$model" -i "$tmp/corpus.en" -o "$tmp/corpus.de" --tasks 3
HEED=$tmp/nothing refuse "heed not found" -m "$model" -i "$tmp/corpus.en" -o "$tmp/x.de" --tasks 2
[ "$(wc -l <"$SBATCH_LOG")" -eq 5 ] || fail "a refused call submitted: $(cat "$SBATCH_LOG")"
echo "heed-slurm against the stand-in sbatch: all checks passed"
