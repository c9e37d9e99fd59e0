#!/usr/bin/env bash
# Reproduce the shipped default cnn surrogate (plugins/models/cnn/).
#
# 1. the training set: 300,000 grids from the default sampler ('mixed', seed 0), labelled
#    by lattice-dft (T=298, TC=647, y=1.5, 40 steps, pore normalization);
# 2. a base model trained on it for a fixed wall-time budget (warm-up + cosine learning
#    rate over the budget, best validation epoch kept), checkpoints in $OUT (--resume);
# 3. a fine-tuning set: 1,000,000 more grids from the default sampler (seed 7);
# 4. the base model fine-tuned on it (--init: same architecture, new warm-up + cosine
#    cycle at a lower peak learning rate), checkpoints in $OUT-finetune;
# 5. the model files copied into the package.
#
# The shipped model's fine-tune ran with --time-limit 95, was stopped after epoch 2
# (51.5 min) and resumed with --time-limit 120, which is the command recorded in its
# config.json (the resume raised the learning rate from 0.44 to 0.64 of the peak).
#
# Usage: training/train_surrogate.sh [DATA.zarr] [OUT_DIR] [FINETUNE_DATA.zarr]
# Environment: TIME_LIMIT (minutes, default 50), FINETUNE_LIMIT (default 120),
# THREADS (default 2), SEED (default 0).
# The learning-rate schedule follows the wall-time budget, so a faster or slower machine
# trains more or fewer epochs; the configuration and command are recorded in config.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/train.zarr}
OUT=${2:-runs/cnn}
MORE=${3:-data/m1.zarr}
FINETUNE_LIMIT=${FINETUNE_LIMIT:-120}
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

if [ ! -d "$MORE" ]; then
  invtoolkit dataset generate -o "$MORE" --n 1000000 --seed 7 --chunk-size 20000 --workers "$THREADS"
fi
RESUME=()
[ -f "$OUT-finetune/checkpoint.pt" ] && RESUME=(--resume)
invtoolkit train surrogate "$MORE" -o "$OUT-finetune" --init "$OUT" \
  --epochs 100 --time-limit "$FINETUNE_LIMIT" --batch-size 256 --lr 1e-3 --patience 8 \
  --seed "$((SEED + 1))" --threads "$THREADS" "${RESUME[@]}"

mkdir -p plugins/models/cnn
cp "$OUT-finetune/config.json" "$OUT-finetune/weights.pt" "$OUT-finetune/learning_curve.png" plugins/models/cnn/
echo "shipped: plugins/models/cnn/"
