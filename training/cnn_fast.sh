#!/usr/bin/env bash
# The cnn-fast surrogate (issue 31): data, training, held-out evaluation, shipping.
#   1. 400,000 'families-mixed' grids (seed 3101) labelled by lattice-dft (water, 298 K,
#      y = 1.5, 81 points) -> $DATA/families.zarr (resumable: generate continues a store);
#   2. training/cnn_fast.py: seed 31, 6 epochs, one thread, a checkpoint every epoch
#      (running the script again resumes);
#   3. held-out families (seed 20261717, 7 x 1000 grids) and the unseen families (seed
#      20261202, 4 x 500 grids), as training/eval_families.py and the cnn records.
# Ship with SHIP=1 (copies the model into plugins/models/cnn-fast/).
#
# Usage: training/cnn_fast.sh [DATA] [OUT]; environment EPOCHS (6), SEED (31), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/work/data/cnn_fast}
OUT=${2:-/work/data/cnn_fast/run}
EPOCHS=${EPOCHS:-6}
SEED=${SEED:-31}
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
$PY training/cnn_fast.py "$DATA/families.zarr" -o "$OUT" --epochs "$EPOCHS" --seed "$SEED" --threads 1
$PY training/cnn_fast_eval.py --model "$OUT" --n 1000 --seed 20261717 --json "$OUT/eval_families.json"
$PY training/cnn_fast_eval.py --model "$OUT" --n 500 --seed 20261202 --families unseen \
  --json "$OUT/eval_unseen.json"
