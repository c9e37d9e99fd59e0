#!/usr/bin/env bash
# Reproduces the shipped generator plugins/models/deconv/: the deconv generator trained
# through the shipped CNN surrogate (plugins/models/cnn) on the adsorption branches of
# the training dataset's curves, validated on the held-out dataset, then measured on
# fresh DFT-labelled grids from every sampler (training/evaluate_generator.py).
#
#   DATA=/work/data/train.zarr HELDOUT=/work/data/heldout.zarr RUN=/work/runs/deconv \
#     bash training/train_generator.sh
#
# Resumable: re-running picks up $RUN/model/checkpoint.
set -euo pipefail
DATA=${DATA:-/work/data/train.zarr}
HELDOUT=${HELDOUT:-/work/data/heldout.zarr}
RUN=${RUN:-/work/runs/deconv}
SURROGATE=${SURROGATE:-cnn}
mkdir -p "$RUN"
export OMP_NUM_THREADS=1
invtoolkit train generator \
  --surrogate "$SURROGATE" \
  --targets "$DATA" --max-targets 120000 \
  --val-targets "$HELDOUT" --max-val 3000 \
  -o "$RUN/model" \
  --epochs "${EPOCHS:-4}" --time-limit "${TIME_LIMIT_MIN:-45}" \
  --batch-size 256 --lr 1e-3 --latent-dim 12 --info-weight 0.02 \
  --seed 0 --threads 1 --no-progress
# Ship weights, config, history and learning curve (not the checkpoint).
mkdir -p plugins/models/deconv
cp "$RUN/model/config.json" "$RUN/model/weights.pt" "$RUN/model/history.json" \
   "$RUN/model/learning_curve.png" plugins/models/deconv/
python training/evaluate_generator.py --model plugins/models/deconv --per-sampler 40 --seed 12345 \
  -o plugins/models/deconv/evaluation.json
