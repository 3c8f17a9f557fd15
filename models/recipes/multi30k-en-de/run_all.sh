#!/usr/bin/env bash
# One-command steps of the Multi30k English->German recipe (see README.md).
#
#   ./run_all.sh train [train.py flags]   prepare (once) + train member $MEMBER; resumes automatically
#   ./run_all.sh export                   average each trained member's 5 best checkpoints, export it,
#                                         write the ensemble manifest, choose the beam size
#   ./run_all.sh evaluate                 heed on val and test_2016_flickr: BLEU / chrF2 (ensemble, members)
#   ./run_all.sh test                     unit tests of the recipe
#   ./run_all.sh all                      train member a, train member b, export, evaluate
#
# The shipped model is an ensemble of two members, each a MarianMT directory in
# OUT_DIR/<member>, listed by OUT_DIR/ensemble.yml:
#   a  seed 1, dropout 0.2                                         (work dir work/)
#   b  seed 2, dropout 0.2 (a's settings, another seed)           (work dir work-b/)
# Environment: MEMBER (a), ENSEMBLE_WEIGHTS ("1 0.5"), PYTHON (default /usr/bin/python3), THREADS (2), BUDGET_MINUTES
# (150, per member), WORK_DIR (the member's), OUT_DIR (models/multi30k-en-de), DATA_DIR,
# HEED (build/heed), VOCAB_SIZE (8000).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
THREADS="${THREADS:-2}"
BUDGET_MINUTES="${BUDGET_MINUTES:-150}"
OUT_DIR="${OUT_DIR:-$REPO/models/multi30k-en-de}"
DATA_DIR="${DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data/multi30k}"
HEED="${HEED:-$REPO/build/heed}"
VOCAB_SIZE="${VOCAB_SIZE:-8000}"
MEMBERS=(a b)
# The members' weights in ensemble.yml, chosen on val between "1 1" and "1 0.5"
# (the model card has the scores).
ENSEMBLE_WEIGHTS="${ENSEMBLE_WEIGHTS:-1 0.5}"

# The work directory and train.py flags of member $1.
member_work_dir() { case "$1" in a) echo "$HERE/work" ;; *) echo "$HERE/work-$1" ;; esac; }
member_flags() {
  case "$1" in
  a) echo "--seed 1 --dropout 0.2" ;;
  b) echo "--seed 2 --dropout 0.2" ;;
  esac
}

require_heed() {
  [[ -x "$HEED" ]] || { echo "error: $HEED not found: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && make -C build -j2 heed" >&2; exit 2; }
}

step_train() {
  local member="${MEMBER:-a}" flags
  [[ " ${MEMBERS[*]} " == *" $member "* ]] || { echo "error: MEMBER=$member: the members are ${MEMBERS[*]}" >&2; exit 2; }
  flags="$(member_flags "$member")"
  local work="${WORK_DIR:-$(member_work_dir "$member")}"
  if [[ ! -f "$work/vocab.json" ]]; then
    "$PY" "$HERE/prepare.py" --data-dir "$DATA_DIR" --work-dir "$work" --vocab-size "$VOCAB_SIZE"
  fi
  # shellcheck disable=SC2086 # the member's flags are words
  "$PY" "$HERE/train.py" --data-dir "$DATA_DIR" --work-dir "$work" --threads "$THREADS" \
    --time-budget-minutes "$BUDGET_MINUTES" $flags "$@"
}

step_export() {
  # Members trained here are averaged and exported; a member trained elsewhere
  # (no work dir here) keeps the directory already in OUT_DIR, and the manifest
  # lists every member OUT_DIR holds, so exporting one never drops another.
  local exported=() listed=()
  for member in "${MEMBERS[@]}"; do
    local work
    work="$(member_work_dir "$member")"
    if [[ -d "$work/checkpoints" ]]; then
      "$PY" "$HERE/average.py" --work-dir "$work" --best 5 --metric val_bleu
      "$PY" "$HERE/export.py" --work-dir "$work" --out "$OUT_DIR/$member" --dtype f16
      [[ -f "$work/train.log" ]] && cp "$work/train.log" "$OUT_DIR/$member/training.log"
      exported+=("$member")
    elif [[ -f "$OUT_DIR/$member/config.json" ]]; then
      echo "note: member $member not trained here ($work/checkpoints missing): keeping $OUT_DIR/$member" >&2
    else
      echo "note: member $member not trained ($work/checkpoints missing): not exported" >&2
      continue
    fi
    listed+=("$member")
  done
  [[ ${#listed[@]} -gt 0 ]] || { echo "error: no member trained: run_all.sh train first" >&2; exit 2; }
  local weights=()
  # shellcheck disable=SC2206 # the weights are words
  [[ ${#listed[@]} -eq ${#MEMBERS[@]} ]] && weights=(--weights $ENSEMBLE_WEIGHTS)
  "$PY" "$HERE/ensemble.py" --out "$OUT_DIR" --members "${listed[@]}" "${weights[@]}"
  if [[ -x "$HEED" ]]; then
    # Each exported member's own defaults, then the ensemble's (beam-size and
    # normalize in ensemble.yml).
    for member in "${exported[@]}"; do
      "$PY" "$HERE/choose_beam.py" --model-dir "$OUT_DIR/$member" --beams 4 5 --heed "$HEED" \
        --data-dir "$DATA_DIR" --threads "$THREADS"
    done
    "$PY" "$HERE/choose_beam.py" --model-dir "$OUT_DIR" \
      --beams 4 5 --length-penalties 0.6 1.0 1.4 --heed "$HEED" --data-dir "$DATA_DIR" --threads "$THREADS"
  else
    echo "note: $HEED not built; num_beams left at 4 (run choose_beam.py after building heed)" >&2
  fi
}

step_evaluate() {
  require_heed
  local model
  for model in "$OUT_DIR" "$OUT_DIR"/*/; do
    [[ -f "$model/config.json" || -f "$model/ensemble.yml" ]] || continue
    model="${model%/}"
    echo "== $model"
    "$PY" "$HERE/evaluate.py" --translate-cmd "$HEED translate -m $model --threads $THREADS" \
      --sets val,test_2016_flickr --data-dir "$DATA_DIR" --save-dir "$HERE/work/eval/$(basename "$model")" \
      --json "$HERE/work/eval/$(basename "$model")/scores.json"
  done
}

cmd="${1:-}"
shift || true
case "$cmd" in
  train) step_train "$@" ;;
  export) step_export ;;
  evaluate) step_evaluate ;;
  test) cd "$HERE" && "$PY" -m unittest -v ;;
  all) MEMBER=a step_train "$@"; MEMBER=b step_train "$@"; step_export; step_evaluate ;;
  *) sed -n '2,19p' "$0"; exit 2 ;;
esac
