#!/usr/bin/env bash
# Active learning where it has something to learn: a lab that starts with 10,000
# DFT-labelled grids. The record is plugins/models/deconv/active_learning_small_start.json.
#
#   1. a 10,000-grid dataset (default sampler, seed 3);
#   2. the CNN surrogate (shipped architecture) trained on it: 3 min, val MAE 0.030
#      (the shipped CNN, 1.3 M grids: 0.0088);
#   3. the held-out evaluation and validation targets drawn (as active-learn draws them)
#      and the deconv generator trained through that surrogate on the remaining curves;
#   4. active learning from these two models (one torch thread): per round, 1,024 fresh
#      targets x 16 grids verified by DFT and appended, the surrogate fine-tuned on them
#      (plus as many replayed pairs), the generator fine-tuned through the corrected
#      surrogate on the hard targets plus replay, kept only if better by DFT on the
#      validation targets.
#
#   WORK=/work/runs/small bash training/active_learn_small_start.sh
#   WORK=/work/runs/small REPLICATE=1 bash training/active_learn_small_start.sh   # + the replicate
#
# Steps 1-3 take ~8 min with two threads; each active-learning round 11-17 min with one
# thread on the 2-core build machine (beside another run). Every step is seeded; a step
# is skipped when its output exists, and active-learn resumes after its last finished
# round (the record was made with --rounds 4, then resumed with ROUNDS=6; rounds 4-5
# ran alone, 5.5-7 min each).
set -euo pipefail
WORK=${WORK:-runs/small}
THREADS=${THREADS:-2}
mkdir -p "$WORK"
[ -d "$WORK/small.zarr" ] || invtoolkit dataset generate -o "$WORK/small.zarr" --n 10000 --seed 3 --no-progress
[ -f "$WORK/cnn/weights.pt" ] || invtoolkit train surrogate "$WORK/small.zarr" -o "$WORK/cnn" \
  --arch conv=iso --arch channels=16 --arch dilations=1,1,2,4 --arch embed=64 --arch hidden=256 \
  --epochs 30 --time-limit 7 --batch-size 256 --lr 2e-3 --patience 8 --seed 0 --threads "$THREADS" --no-progress
[ -f "$WORK/generator_targets.npy" ] || python "$(dirname "$0")/held_out_split.py" \
  "$WORK/al" "$WORK/small.zarr" "$WORK/generator_targets.npy" --seed 0 --eval-count 512 --val-count 512
[ -f "$WORK/generator/weights.pt" ] || invtoolkit train generator --surrogate "$WORK/cnn" \
  --targets "$WORK/generator_targets.npy" -o "$WORK/generator" --epochs 10 --time-limit 12 \
  --batch-size 256 --lr 1e-3 --latent-dim 12 --info-weight 0.02 --diversity-weight 0.3 --diversity-margin 0.005 \
  --seed 0 --threads "$THREADS" --no-progress
invtoolkit active-learn --data "$WORK/small.zarr" --surrogate-model "$WORK/cnn" --generator-model "$WORK/generator" \
  --rounds "${ROUNDS:-6}" --targets 1024 --eval-count 512 --val-count 512 -n 16 \
  --surrogate-epochs 4 --surrogate-lr 3e-4 --wrong 0 --replay 1 \
  --generator-epochs 3 --generator-targets 4096 --generator-lr 1e-4 --hard-repeat 3 \
  --seed 0 --threads 1 -o "$WORK/al" --no-progress
cp "$WORK/al/rounds.json" plugins/models/deconv/active_learning_small_start.json
# Replicate (record active_learning_small_start_seed1.json): the same models and evaluation
# targets, other draws of training/validation targets and codes (two threads, ~3 min a round).
if [ -n "${REPLICATE:-}" ]; then
  invtoolkit active-learn --data "$WORK/small.zarr" --surrogate-model "$WORK/cnn" --generator-model "$WORK/generator" \
    --eval-targets "$WORK/al/eval_targets.npy" --rounds 4 --targets 1024 --val-count 512 -n 16 \
    --surrogate-epochs 4 --surrogate-lr 3e-4 --wrong 0 --replay 1 \
    --generator-epochs 3 --generator-targets 4096 --generator-lr 1e-4 --hard-repeat 3 \
    --seed 1 --threads "$THREADS" -o "$WORK/al_seed1" --no-progress
  cp "$WORK/al_seed1/rounds.json" plugins/models/deconv/active_learning_small_start_seed1.json
fi
