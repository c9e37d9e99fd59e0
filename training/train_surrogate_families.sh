#!/usr/bin/env bash
# Fine-tune the shipped cnn surrogate on the structure families (issue 17).
#
# 1. the training set: 400,000 grids from 'families-mixed' (half from 'families', the
#    mixture of the fam-* structure families, half from the default 'mixed' sampler so
#    the model does not forget), seed 1717, labelled by lattice-dft (T=298, TC=647,
#    y=1.5, 40 steps, pore normalization), duplicates up to symmetry dropped;
# 2. the shipped model (plugins/models/cnn) fine-tuned on it (--init: same architecture,
#    new warm-up + cosine cycle over the wall-time budget, best validation epoch kept),
#    checkpoints in $OUT (running the script again resumes with --resume);
# 3. the held-out family evaluation of the result (training/eval_families.py, seed
#    20261717, never used for training) written beside the model;
# 4. only with SHIP=1: the model files copied into plugins/models/cnn/.
#
# Usage: training/train_surrogate_families.sh [DATA.zarr] [OUT_DIR]
# Environment: N (default 400000), TIME_LIMIT (minutes, default 95), THREADS (training
# threads, default 1), WORKERS (labelling processes, default 2), LR (default 1e-3),
# SEED (training seed, default 17), SHIP (1: copy the result into the package).
# As run for issue 17: nohup setsid training/train_surrogate_families.sh \
#   /work/runs/train17/families_mixed.zarr /work/runs/train17/cnn > /work/runs/train17/log.txt 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-runs/train17/families_mixed.zarr}
OUT=${2:-runs/train17/cnn}
N=${N:-400000}
TIME_LIMIT=${TIME_LIMIT:-95}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-2}
LR=${LR:-1e-3}
SEED=${SEED:-17}
SHIP=${SHIP:-0}
PY=${PY:-python}
export PATH="$PWD/.venv/bin:$PATH"

if [ "$SHIP" != 1 ]; then
  mkdir -p "$(dirname "$DATA")"
  # resumable: a complete store with the same options is left as it is
  invtoolkit dataset generate -o "$DATA" --n "$N" --sampler families-mixed --seed 1717 \
    --chunk-size 20000 --workers "$WORKERS" --no-progress

  RESUME=()
  [ -f "$OUT/checkpoint.pt" ] && RESUME=(--resume)
  invtoolkit train surrogate "$DATA" -o "$OUT" --init plugins/models/cnn \
    --epochs 100 --time-limit "$TIME_LIMIT" --batch-size 256 --lr "$LR" --patience 8 \
    --seed "$SEED" --threads "$THREADS" --no-progress "${RESUME[@]}"

  nice -n 10 "$PY" training/eval_families.py --model "$OUT" --n 1000 --seed 20261717 --threads "$THREADS" \
    --json "$OUT/eval_families.json"
fi

if [ "$SHIP" = 1 ]; then
  [ -f "$OUT/weights.pt" ] || { echo "no trained model in $OUT" >&2; exit 2; }
  mkdir -p plugins/models/cnn
  cp "$OUT/config.json" "$OUT/weights.pt" "$OUT/learning_curve.png" plugins/models/cnn/
  [ -f "$OUT/eval_families.json" ] && cp "$OUT/eval_families.json" plugins/models/cnn/
  echo "shipped: plugins/models/cnn/"
fi
