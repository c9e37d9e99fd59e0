#!/usr/bin/env bash
# Reproduces the shipped generator plugins/models/deconv/ (deconv, trained through the
# shipped CNN surrogate on the curves of the training dataset).
#
#   DATA=/work/data/train.zarr RUN=/work/runs/deconv bash training/train_generator.sh
#
# Resumable: the checkpoint in $RUN/model/checkpoint is picked up when re-run.
set -euo pipefail
DATA=${DATA:-/work/data/train.zarr}
RUN=${RUN:-/work/runs/deconv}
SURROGATE=${SURROGATE:-cnn}
mkdir -p "$RUN"
export OMP_NUM_THREADS=1
invtoolkit train generator \
  --surrogate "$SURROGATE" \
  --targets "$DATA" \
  -o "$RUN/model" \
  --epochs "${EPOCHS:-40}" \
  --time-limit "${TIME_LIMIT_MIN:-35}" \
  --batch-size 256 --lr 1e-3 --latent-dim 12 --info-weight 0.02 \
  --seed 0 --threads 1
# Ship the weights, config, history and learning curve (not the checkpoint).
mkdir -p plugins/models/deconv
cp "$RUN/model/config.json" "$RUN/model/weights.pt" "$RUN/model/history.json" \
   "$RUN/model/learning_curve.png" plugins/models/deconv/
python training/evaluate_generator.py --model plugins/models/deconv --per-sampler 40 --seed 12345 \
  -o plugins/models/deconv/evaluation.json
