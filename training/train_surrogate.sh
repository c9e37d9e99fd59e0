#!/usr/bin/env bash
# Reproduce the shipped default cnn surrogate (plugins/models/cnn/).
#
# 1. the training set: 300,000 grids from the default sampler ('mixed', seed 0), labelled
#    by lattice-dft (T=298, TC=647, y=1.5, 40 steps, pore normalization);
# 2. one model trained on it for a fixed wall-time budget (warm-up + cosine learning rate
#    over the budget, best validation epoch kept), checkpoints in $OUT (--resume continues);
# 3. the model files copied into the package.
#
# Usage: training/train_surrogate.sh [DATA.zarr] [OUT_DIR]
# Environment: TIME_LIMIT (minutes, default 60), THREADS (default 1), SEED (default 0).
# The learning-rate schedule follows the wall-time budget, so a faster or slower machine
# trains more or fewer epochs; the configuration and command are recorded in config.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/train.zarr}
OUT=${2:-runs/cnn}
TIME_LIMIT=${TIME_LIMIT:-50}
THREADS=${THREADS:-2}
SEED=${SEED:-0}

if [ ! -d "$DATA" ]; then
  mkdir -p "$(dirname "$DATA")"
  invtoolkit dataset generate -o "$DATA" --n 300000 --seed 0
fi

RESUME=()
[ -f "$OUT/checkpoint.pt" ] && RESUME=(--resume)
invtoolkit train surrogate "$DATA" -o "$OUT" \
  --arch conv=iso --arch channels=16 --arch dilations=1,1,2,4 --arch embed=64 --arch hidden=256 \
  --epochs 100 --time-limit "$TIME_LIMIT" --batch-size 256 --lr 2e-3 --patience 8 \
  --seed "$SEED" --threads "$THREADS" "${RESUME[@]}"

mkdir -p plugins/models/cnn
cp "$OUT/config.json" "$OUT/weights.pt" "$OUT/learning_curve.png" plugins/models/cnn/
echo "shipped: plugins/models/cnn/"
