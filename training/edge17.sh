#!/usr/bin/env bash
# Fine-tune the shipped cnn on the grids of its worst cases (issue 17), as run for the
# shipped model of session 8:
#
# 1. training/edge17.py: a pool of 600,000 high-porosity grids (seed 1719), probed past
#    saturation; the ones whose condensation step lies in p/p0 0.93-1.06, plus 3 mutants
#    of each within 0.03 of p0 (one or two wall cells moved), labelled on the 81-point loop;
# 2. 150,000 grids of 'families-mixed' (seed 1720), so that the rest is not forgotten;
# 3. their union, and the shipped model fine-tuned on it (--init plugins/models/cnn,
#    warm-up + cosine over TIME_LIMIT minutes, best validation epoch kept; running again
#    resumes);
# 4. the held-out family evaluation (training/eval_families.py, seed 20261717).
# Ship only with SHIP=1 (copies the model files into plugins/models/cnn/).
#
# Usage: training/edge17.sh [OUT]; environment TIME_LIMIT (default 50), THREADS (2),
# LR (5e-4), SEED (19), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/edge17}
TIME_LIMIT=${TIME_LIMIT:-50}
THREADS=${THREADS:-2}
LR=${LR:-5e-4}
SEED=${SEED:-19}
export PATH="$PWD/.venv/bin:$PATH"

source training/finetune_cnn.sh
if [ "${SHIP:-0}" = 1 ]; then ship_model "$OUT"; exit 0; fi
mkdir -p "$OUT"
[ -d "$OUT/edge.zarr" ] || python training/edge17.py --out "$OUT/edge.zarr" --pool 600000 --mutants 3 \
  --seed 1719 --threads "$THREADS"
[ -d "$OUT/replay.zarr" ] || invtoolkit dataset generate -o "$OUT/replay.zarr" --n 150000 --sampler families-mixed \
  --seed 1720 --chunk-size 25000 --workers "$THREADS" --no-progress
python - "$OUT" <<'PY'
import sys
sys.path.insert(0, "training")
from pathlib import Path
import lofo
out = Path(sys.argv[1])
print(len(lofo.build_union([out / "edge.zarr", out / "replay.zarr"], out / "union.zarr")), "grids in", out / "union.zarr")
PY
finetune_cnn "$OUT/union.zarr" "$OUT"
