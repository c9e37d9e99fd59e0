#!/usr/bin/env bash
# The conditioned surrogate cnn-cond (issue 31 part 2): training, held-out evaluation, shipping.
# Data first: training/cond_data.sh (64 stores of (t, y), 20,000 grids each, in $DATA).
#   1. cnn-cond from the shipped cnn-fast (FiLM at identity), all 64 stores (1.28 M rows,
#      10,000 validation rows), seed 3211, 10 epochs of 400,000 rows (about 3 passes), batch 256,
#      AdamW peak lr 2e-3 warm-up + cosine, one thread; resumable: each call of step 1 runs
#      at most 5 more epochs (runs of <= 40 min: ~400 s an epoch here), so run the script twice;
#   2. held-out evaluation (training/cond_eval.py): the design's held-out conditions
#      ($DATA/design.json), 1,000 families-mixed grids each (seed 20263101), MAE against
#      lattice-dft on the internal loop and on the measured files' paths, and speed.
#   3. stage b: the model of step 1 trained 3 more epochs of 400,000 rows, peak lr 5e-4, seed
#      3211 again (the same validation rows) -> $OUT_b, and evaluated like step 2. Shipped if
#      better on the held-out conditions (docs/surrogate-notes.md says which is shipped).
#   4. stage c (STAGE=c runs only this step): more conditions and more epochs. Data: the 64
#      stores plus the dense design's 232 stores of 5,000 grids (training/cond_data.sh step 4;
#      2.44 M rows). Start: the stage-b model as committed in ca6d2be (extracted to
#      $DATA/stage_b). Seed 3212, 8 epochs of 400,000 rows, batch 256, peak lr 1e-3 with
#      warm-up + cosine, one thread, at most 4 epochs per call (~20 min; run it twice) -> $OUT_c,
#      then evaluated like step 2 (same design.json, grids and seed).
#      Rule, written before the run: ship stage c only if the mean of the per-condition means
#      is lower than stage b's on BOTH the measured files' own paths (stage b 0.01046) AND the
#      internal 81-point loop (stage b 0.00964) (stage-b record: eval_held_out.json in
#      ca6d2be). The comparison is printed at the end of step 4.
#      Note: the validation rows are drawn anew from all 296 stores, so about half of them
#      come from the 64 stores that stages a and b trained on; stage c's val MAE is not a
#      held-out figure (the held-out evaluation decides).
# Ship with SHIP=1 (copies $OUT, or SHIP_DIR, into plugins/models/cnn-cond/).
# Usage: training/cond.sh [DATA] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/work/data/cnn_cond}
OUT=${2:-$DATA/run}
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
PY=${PY:-python}

if [ "${SHIP:-0}" = 1 ]; then
  mkdir -p plugins/models/cnn-cond
  cp "${SHIP_DIR:-$OUT}/config.json" "${SHIP_DIR:-$OUT}/weights.pt" "${SHIP_DIR:-$OUT}/learning_curve.png" plugins/models/cnn-cond/
  cp "${SHIP_DIR:-$OUT}"/eval_*.json plugins/models/cnn-cond/ 2>/dev/null || true
  echo "shipped: plugins/models/cnn-cond/"; exit 0
fi
if [ "${STAGE:-}" = c ]; then
  B=ca6d2be  # the commit that shipped stage b
  if [ ! -f "$DATA/stage_b/weights.pt" ]; then
    mkdir -p "$DATA/stage_b"
    for f in config.json weights.pt eval_held_out.json; do
      git show "$B:plugins/models/cnn-cond/$f" > "$DATA/stage_b/$f"
    done
  fi
  $PY training/cond.py "$DATA"/s*.zarr "$DATA"/d*.zarr -o "${OUT}_c" --init "$DATA/stage_b" --epochs 8 \
    --epoch-rows 400000 --lr 1e-3 --seed 3212 --threads 1 --max-epochs-now 4
  if [ -f "${OUT}_c/config.json" ]; then
    [ -f "${OUT}_c/eval_held_out.json" ] || $PY training/cond_eval.py --model "${OUT}_c" --design "$DATA/design.json" \
      --n 1000 --seed 20263101 --json "${OUT}_c/eval_held_out.json"
    $PY - "$DATA/stage_b/eval_held_out.json" "${OUT}_c/eval_held_out.json" <<'EOF'
import json, sys
b, c = (json.load(open(p))["summary"] for p in sys.argv[1:])
for k in ("loop81", "file", "log_ads25"):
    print(f"{k:>9}: stage b {b[k]['mean_of_means']:.5f}  stage c {c[k]['mean_of_means']:.5f}")
ship = all(c[k]["mean_of_means"] < b[k]["mean_of_means"] for k in ("file", "loop81"))
print("rule (file paths and loop both lower):", "SHIP" if ship else "do not ship")
EOF
  fi
  exit 0
fi
$PY training/cond.py "$DATA"/s*.zarr -o "$OUT" --init plugins/models/cnn-fast --epochs 10 --epoch-rows 400000 \
  --lr 2e-3 --seed 3211 --threads 1 --max-epochs-now 5
if [ -f "$OUT/config.json" ] && [ ! -f "$OUT/eval_held_out.json" ]; then
  $PY training/cond_eval.py --model "$OUT" --design "$DATA/design.json" --n 1000 --seed 20263101 \
    --json "$OUT/eval_held_out.json"
fi
if [ -f "$OUT/config.json" ]; then
  $PY training/cond.py "$DATA"/s*.zarr -o "${OUT}_b" --init "$OUT" --epochs 3 --epoch-rows 400000 --lr 5e-4 \
    --seed 3211 --threads 1
  $PY training/cond_eval.py --model "${OUT}_b" --design "$DATA/design.json" --n 1000 --seed 20263101 \
    --json "${OUT}_b/eval_held_out.json"
fi
