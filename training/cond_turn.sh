#!/usr/bin/env bash
# The turning-point head of cnn-cond (issue 31 part 2; plugins/cnn_cond/turning.py).
#   1. data: 512 conditions (t, y) uniform over the box, none within 0.05 of a held-out
#      condition of design.json, 600 families-mixed grids each (sampler seed 7100*1000 + i),
#      a turning point p_t (1 - p_t log-uniform in 0.002-0.25) each; lattice-dft labels of the
#      desorption from p_t at the nodes k/40, and the exact top point; about 4 minutes at one
#      thread; resumable (one .npz per condition);
#   2. fit: the head (64 wide) on the frozen loops of MODEL (the cnn-cond network it will be
#      shipped with), 20 epochs, seed 7101, one thread; OUT = MODEL + the head;
#   3. held-out evaluation as in training/cond.sh (training/cond_eval.py, same grids and
#      conditions): the head only acts on paths turning below 1 (the measured files').
# Ship with SHIP=1 (copies OUT into plugins/models/cnn-cond/).
# Usage: training/cond_turn.sh MODEL [DATA] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: training/cond_turn.sh MODEL [DATA] [OUT]}
DATA=${2:-/work/data/cnn_turn}
OUT=${3:-$DATA/model}
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
PY=${PY:-python}

if [ "${SHIP:-0}" = 1 ]; then
  cp "$OUT/config.json" "$OUT/weights.pt" "$OUT"/eval_*.json plugins/models/cnn-cond/
  echo "shipped: plugins/models/cnn-cond/"; exit 0
fi
$PY training/cond_turn.py data "$DATA/data" --design plugins/models/cnn-cond/design.json --conditions 512 \
  --n 600 --seed 7100
if [ ! -f "$OUT/config.json" ]; then
  $PY training/cond_turn.py fit "$DATA/data" --model "$MODEL" -o "$OUT" --epochs 20 --seed 7101
fi
if [ ! -f "$OUT/eval_held_out.json" ]; then
  $PY training/cond_eval.py --model "$OUT" --design plugins/models/cnn-cond/design.json --n 1000 \
    --seed 20263101 --json "$OUT/eval_held_out.json"
fi
