#!/usr/bin/env bash
# Issue 15's acceptance check, outside the unit tests (it needs ~700 MB of
# generated models and several minutes): a random opus-mt-en-de-shaped model
# (58,101-entry joint vocabulary, F16; make_base58k_formats.py) in the four
# layouts heed reads - model.safetensors, pytorch_model.bin (zip and legacy),
# a native Marian directory - must
#   1. convert (heed convert) to byte-identical model.safetensors files
#      (pytorch zip, legacy and Marian), and
#   2. translate LINES test_2016_flickr lines byte-identically (jsonl: text,
#      tokens, scores), greedy and beam 4, every sentence capped at 63 new
#      tokens (a random model never chooses </s> early).
# Usage: tests/reference/base58k_formats_check.sh [OUT_DIR] [LINES]
#        (default /tmp/base58k, 1000; needs ../shared/data/multi30k)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/base58k}
lines=${2:-1000}
heed=${HEED:-build/heed}
data=../shared/data/multi30k/test_2016_flickr.en.gz
[ -f "$data" ] || { echo "skipped: $data is absent" >&2; exit 0; }
[ -d "$out/marian" ] ||
  nice -n 10 /usr/bin/python3 tests/reference/make_base58k_formats.py --out "$out"
zcat "$data" | sed -n "1,${lines}p" > "$out/source.en"

layouts=(safetensors pytorch-zip pytorch-legacy marian)
# heed convert writes each tensor once, in name order: the three converted
# copies must be the same bytes (the original safetensors file, written by
# Python, may order or name its tensors otherwise).
for layout in pytorch-zip pytorch-legacy marian; do
  rm -rf "$out/converted-$layout"
  "$heed" convert -m "$out/$layout" -o "$out/converted-$layout" >/dev/null
done
status=0
if cmp -s "$out/converted-pytorch-zip/model.safetensors" \
  "$out/converted-pytorch-legacy/model.safetensors"; then
  echo "convert: pytorch-legacy gives the same model.safetensors as pytorch-zip"
else
  echo "convert: pytorch-legacy gives a model.safetensors DIFFERENT from pytorch-zip's" && status=1
fi
# Marian stores float32 (the hub's F16 is the converter's rounding of it):
# the same values, other bytes.
if /usr/bin/python3 - "$out" <<'PY'; then
import sys, torch
sys.path.insert(0, "tests/reference")
from safetensors_io import load_file
a = load_file(sys.argv[1] + "/converted-pytorch-zip/model.safetensors")
b = load_file(sys.argv[1] + "/converted-marian/model.safetensors")
assert sorted(a) == sorted(b), (sorted(set(a) ^ set(b)))
bad = [k for k in a if not torch.equal(a[k].float(), b[k].float())]
assert not bad, bad
PY
  echo "convert: marian gives the same tensor values as pytorch-zip"
else
  echo "convert: marian gives tensor values DIFFERENT from pytorch-zip's" && status=1
fi
for search in "-b 1" "-b 4"; do
  for layout in "${layouts[@]}"; do
    "$heed" translate -q -m "$out/$layout" $search --max-new-tokens 63 --format jsonl \
      -i "$out/source.en" -o "$out/out-${search// /}-$layout.jsonl"
  done
  for layout in pytorch-zip pytorch-legacy marian; do
    if cmp -s "$out/out-${search// /}-safetensors.jsonl" "$out/out-${search// /}-$layout.jsonl"; then
      echo "translate $search: $layout identical to safetensors ($lines lines)"
    else
      echo "translate $search: $layout DIFFERS from safetensors" && status=1
    fi
  done
done
exit $status
