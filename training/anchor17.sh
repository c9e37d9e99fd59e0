#!/usr/bin/env bash
# The anchored cnn (issue 17): the shipped model given the exact top adsorption point
# (architecture anchor=top, see plugins/cnn/network.py), fine-tuned on the stores of
# training/edge17.sh (its 123,613 grids at the condensation-near-saturation edge and the
# 150,000-grid families-mixed replay; run that script's steps 1-3 first), then evaluated
# on the held-out families (training/eval_families.py, seed 20261717).
# The MLP's anchor input starts at zero weight (IsothermCNN.load_warm); running again resumes.
# Ship only with SHIP=1 (copies the model files into plugins/models/cnn/).
#
# Usage: training/anchor17.sh [EDGE_OUT] [OUT]; environment TIME_LIMIT (default 60),
# THREADS (2), LR (7e-4), SEED (21), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGE=${1:-runs/edge17}
OUT=${2:-runs/anchor17}
TIME_LIMIT=${TIME_LIMIT:-60}
THREADS=${THREADS:-2}
LR=${LR:-7e-4}
SEED=${SEED:-21}
ARCH=anchor=top
export PATH="$PWD/.venv/bin:$PATH"

source training/finetune_cnn.sh
if [ "${SHIP:-0}" = 1 ]; then ship_model "$OUT"; exit 0; fi
if [ ! -d "$EDGE/union.zarr" ]; then
  echo "anchor17.sh: $EDGE/union.zarr missing; build it with training/edge17.sh $EDGE" >&2
  exit 1
fi
mkdir -p "$OUT"
finetune_cnn "$EDGE/union.zarr" "$OUT"
