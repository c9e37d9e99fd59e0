#!/usr/bin/env bash
# The cnn-fast surrogate (issue 31): data, training, held-out evaluation, shipping.
#   1. 400,000 'families-mixed' grids (seed 3101) labelled by lattice-dft (water, 298 K,
#      y = 1.5, 81 points) -> $DATA/families.zarr (resumable: generate continues a store);
#   2. base model: training/cnn_fast.py, 8 channels, seed 31, 6 epochs, one thread, a
#      checkpoint every epoch (running the script again resumes) -> $DATA/run;
#   3. 120,000 grids of the structure families weighted towards the weak ones (pairs and
#      unions x2, slits, boxes, smooth x1, random and dense x0.5; seed 3102) WITH duplicates
#      up to symmetry (the deduplicated store holds only ~570 slits: a slit family has 19
#      members up to symmetry) -> $DATA/weak.zarr;
#   4. the base model widened (widen_state: the same function at step 0) to 12 channels,
#      embed 48, hidden 192, fine-tuned on both stores: seed 32, 4 epochs, peak lr 1e-3,
#      one thread, resumable -> $DATA/run_c12;
#   5. 120,000 more family grids weighted towards unions (union x2; pair, smooth x1; the
#      rest x0.5; seed 3103, duplicates kept) -> $DATA/weak2.zarr; the shipped model:
#      run_c12 fine-tuned on the three stores, seed 33, 2 epochs, peak lr 5e-4 -> $DATA/run_c12b;
#   6. 60,000 'fam-union' grids (seed 3104, duplicates kept) -> $DATA/union3.zarr; the shipped
#      model: run_c12b fine-tuned on the four stores, seed 34, 1 epoch, peak lr 2e-4 -> $OUT;
#   7. held-out families (seed 20261717, 7 x 1000 grids) and the unseen families (seed
#      20261202, 4 x 500 grids), as training/eval_families.py and the cnn records.
# Held-out seeds 20261717 / 20261202 and the unseen families are never trained on.
# Ship with SHIP=1 (copies the model into plugins/models/cnn-fast/).
#
# Usage: training/cnn_fast.sh [DATA] [OUT]; environment EPOCHS (6), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/work/data/cnn_fast}
OUT=${2:-/work/data/cnn_fast/run_c12c}
EPOCHS=${EPOCHS:-6}
export NUMBA_NUM_THREADS=${NUMBA_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
PY=${PY:-python}

if [ "${SHIP:-0}" = 1 ]; then
  mkdir -p plugins/models/cnn-fast
  cp "$OUT/config.json" "$OUT/weights.pt" "$OUT/learning_curve.png" plugins/models/cnn-fast/
  cp "$OUT"/eval_*.json "$OUT"/bench_speed.json plugins/models/cnn-fast/ 2>/dev/null || true
  echo "shipped: plugins/models/cnn-fast/"; exit 0
fi
mkdir -p "$DATA" "$OUT"
invtoolkit dataset generate -o "$DATA/families.zarr" --n 400000 --sampler families-mixed --seed 3101 \
  --chunk-size 25000 --workers 1 --no-progress
$PY training/cnn_fast.py "$DATA/families.zarr" -o "$DATA/run" --epochs "$EPOCHS" --seed 31 --threads 1
invtoolkit dataset generate -o "$DATA/weak.zarr" --n 120000 --sampler families --seed 3102 \
  --sampler-param 'weights={"slit":1,"rect":1,"pair":2,"union":2,"smooth":1,"random":0.5,"dense":0.5}' \
  --chunk-size 20000 --workers 1 --allow-duplicates --no-progress
$PY training/cnn_fast.py "$DATA/families.zarr" "$DATA/weak.zarr" -o "$DATA/run_c12" --init "$DATA/run" \
  --arch '{"channels": 12, "embed": 48, "hidden": 192}' --epochs 4 --lr 1e-3 --seed 32 --threads 1
invtoolkit dataset generate -o "$DATA/weak2.zarr" --n 120000 --sampler families --seed 3103 \
  --sampler-param 'weights={"slit":0.5,"rect":0.5,"pair":1,"union":2,"smooth":1,"random":0.5,"dense":0.5}' \
  --chunk-size 20000 --workers 1 --allow-duplicates --no-progress
$PY training/cnn_fast.py "$DATA/families.zarr" "$DATA/weak.zarr" "$DATA/weak2.zarr" -o "$DATA/run_c12b" \
  --init "$DATA/run_c12" --arch '{"channels": 12, "embed": 48, "hidden": 192}' --epochs 2 --lr 5e-4 --seed 33 \
  --threads 1
invtoolkit dataset generate -o "$DATA/union3.zarr" --n 60000 --sampler fam-union --seed 3104 \
  --chunk-size 20000 --workers 1 --allow-duplicates --no-progress
$PY training/cnn_fast.py "$DATA/families.zarr" "$DATA/weak.zarr" "$DATA/weak2.zarr" "$DATA/union3.zarr" \
  -o "$OUT" --init "$DATA/run_c12b" --arch '{"channels": 12, "embed": 48, "hidden": 192}' --epochs 1 \
  --lr 2e-4 --seed 34 --threads 1
$PY training/cnn_fast_eval.py --model "$OUT" --n 1000 --seed 20261717 --json "$OUT/eval_families.json"
$PY training/cnn_fast_eval.py --model "$OUT" --n 500 --seed 20261202 --families unseen \
  --json "$OUT/eval_unseen.json"
