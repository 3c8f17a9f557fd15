#!/usr/bin/env bash
# One-command steps of the Multi30k English->German recipe (see README.md).
#
#   ./run_all.sh train [train.py flags]   prepare (once) + train; resumes automatically
#   ./run_all.sh export                   average the 5 best checkpoints + export + choose the beam size
#   ./run_all.sh evaluate                 heed on val and test_2016_flickr: BLEU / chrF2
#   ./run_all.sh test                     unit tests of the recipe
#   ./run_all.sh all                      train + export + evaluate
#
# Environment: PYTHON (default /usr/bin/python3), THREADS (2), BUDGET_MINUTES (150),
# WORK_DIR (work/ next to this script), OUT_DIR (models/multi30k-en-de), DATA_DIR,
# HEED (build/heed), VOCAB_SIZE (8000).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
THREADS="${THREADS:-2}"
BUDGET_MINUTES="${BUDGET_MINUTES:-150}"
WORK_DIR="${WORK_DIR:-$HERE/work}"
OUT_DIR="${OUT_DIR:-$REPO/models/multi30k-en-de}"
DATA_DIR="${DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data/multi30k}"
HEED="${HEED:-$REPO/build/heed}"
VOCAB_SIZE="${VOCAB_SIZE:-8000}"

step_train() {
  if [[ ! -f "$WORK_DIR/vocab.json" ]]; then
    "$PY" "$HERE/prepare.py" --data-dir "$DATA_DIR" --work-dir "$WORK_DIR" --vocab-size "$VOCAB_SIZE"
  fi
  "$PY" "$HERE/train.py" --data-dir "$DATA_DIR" --work-dir "$WORK_DIR" --threads "$THREADS" \
    --time-budget-minutes "$BUDGET_MINUTES" "$@"
}

step_export() {
  "$PY" "$HERE/average.py" --work-dir "$WORK_DIR" --best 5 --metric val_bleu
  "$PY" "$HERE/export.py" --work-dir "$WORK_DIR" --out "$OUT_DIR" --dtype f16
  if [[ -x "$HEED" ]]; then
    "$PY" "$HERE/choose_beam.py" --model-dir "$OUT_DIR" --beams 4 5 --heed "$HEED" --data-dir "$DATA_DIR" \
      --threads "$THREADS"
  else
    echo "note: $HEED not built; num_beams left at 4 (run choose_beam.py after building heed)" >&2
  fi
}

step_evaluate() {
  [[ -x "$HEED" ]] || { echo "error: $HEED not found: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && make -C build -j2 heed" >&2; exit 2; }
  "$PY" "$HERE/evaluate.py" --translate-cmd "$HEED translate -m $OUT_DIR --threads $THREADS" \
    --sets val,test_2016_flickr --data-dir "$DATA_DIR" --save-dir "$WORK_DIR/eval" \
    --json "$WORK_DIR/eval/scores.json"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  train) step_train "$@" ;;
  export) step_export ;;
  evaluate) step_evaluate ;;
  test) cd "$HERE" && "$PY" -m unittest -v ;;
  all) step_train "$@"; step_export; step_evaluate ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
