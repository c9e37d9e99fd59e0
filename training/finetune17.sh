#!/usr/bin/env bash
# Fine-tune the shipped cnn surrogate once more (issue 17), on new draws:
#
# 1. 60,000 grids of the default 'mixed' sampler, seed 1718 (so the project's own
#    samplers are not forgotten), labelled by lattice-dft (defaults, full 81-point loop);
# 2. the union of them and the seven fam-* stores of the leave-one-family-out study
#    (training/lofo.sh: 24,000 grids per family, seeds 3131-3137);
# 3. the shipped model fine-tuned on it (--init plugins/models/cnn, warm-up + cosine over
#    TIME_LIMIT minutes, best validation epoch kept; running again resumes);
# 4. the held-out family evaluation (training/eval_families.py, seed 20261717).
# Ship only with SHIP=1 (copies the model files into plugins/models/cnn/).
#
# Usage: training/finetune17.sh [LOFO_ROOT] [OUT]; environment TIME_LIMIT (default 35),
# THREADS (1), LR (5e-4), SEED (18), SHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-runs/lofo17}
OUT=${2:-runs/ft17}
TIME_LIMIT=${TIME_LIMIT:-35}
THREADS=${THREADS:-1}
LR=${LR:-5e-4}
SEED=${SEED:-18}
export PATH="$PWD/.venv/bin:$PATH"

source training/finetune_cnn.sh
if [ "${SHIP:-0}" = 1 ]; then ship_model "$OUT"; exit 0; fi
mkdir -p "$OUT"
invtoolkit dataset generate -o "$OUT/mixed.zarr" --n 60000 --sampler mixed --seed 1718 --chunk-size 20000 \
  --workers 1 --no-progress
python - "$ROOT" "$OUT" <<'PY'
import sys
sys.path.insert(0, "training")
from pathlib import Path
import lofo
root, out = Path(sys.argv[1]), Path(sys.argv[2])
parts = [lofo.store_path(root, f) for f in lofo.FAMILIES] + [out / "mixed.zarr"]
print(len(lofo.build_union(parts, out / "union.zarr")), "grids in", out / "union.zarr")
PY
finetune_cnn "$OUT/union.zarr" "$OUT"
