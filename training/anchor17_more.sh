#!/usr/bin/env bash
# A second cycle for the anchored cnn (issue 17), after training/anchor17.sh shipped it:
# 300,000 fresh 'families-mixed' grids (seed 1721) joined with the edge store of
# training/edge17.sh, and the shipped (anchored) model fine-tuned on the union at a
# lower peak lr, then evaluated on the held-out families (seed 20261717).
# Running again resumes. Ship only with SHIP=1.
#
# Usage: training/anchor17_more.sh [EDGE_OUT] [OUT]; environment TIME_LIMIT (default 45),
# THREADS (2), LR (3e-4), SEED (22), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGE=${1:-runs/edge17}
OUT=${2:-runs/anchor17_more}
TIME_LIMIT=${TIME_LIMIT:-45}
THREADS=${THREADS:-2}
LR=${LR:-3e-4}
SEED=${SEED:-22}
export PATH="$PWD/.venv/bin:$PATH"

source training/finetune_cnn.sh
if [ "${SHIP:-0}" = 1 ]; then ship_model "$OUT"; exit 0; fi
mkdir -p "$OUT"
[ -d "$OUT/families.zarr" ] || invtoolkit dataset generate -o "$OUT/families.zarr" --n 300000 \
  --sampler families-mixed --seed 1721 --chunk-size 25000 --workers "$THREADS" --no-progress
python - "$EDGE" "$OUT" <<'PY'
import sys
sys.path.insert(0, "training")
from pathlib import Path
import lofo
edge, out = Path(sys.argv[1]), Path(sys.argv[2])
if not (out / "union.zarr").exists():
    print(len(lofo.build_union([edge / "edge.zarr", out / "families.zarr"], out / "union.zarr")), "grids")
PY
finetune_cnn "$OUT/union.zarr" "$OUT"
