#!/usr/bin/env bash
# One acquisition round without training (issue 17), as run for docs/acquisition.md:
# committee = the shipped cnn (plugins/models/cnn, first) + the 8 leave-one-family-out cnn
# models of training/lofo.sh (ROOT/models/{all,minus-fam-*}), 1 member each, 9 members in all;
# store = ROOT/unions/all.zarr (the 7 family stores, 168,000 grids; copied, never written);
# pool 20,000 grids, take 2,000, control 2,000, seed 17, held-out 500 per family (seed 20261717).
#   1. WORK/families-mixed: the default pool sampler 'families-mixed' (counts by porosity band);
#   2. WORK/labelled: the same distribution as a mixture drawn by acquire (1/14 per fam-*
#      family, 1/2 'mixed'), so that the taken grids are counted per family.
# Resumable: a finished round is not redone. nice, 1 thread.
# Usage: nohup setsid training/acquire17.sh > /work/runs/acquire17/log.txt 2>&1 &
# Environment: ROOT (default /work/runs/lofo17), WORK (default /work/runs/acquire17).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${ROOT:-/work/runs/lofo17}
WORK=${WORK:-/work/runs/acquire17}
models=(--model plugins/models/cnn)  # first: the 'first_model' of the held-out record
for name in all minus-fam-random minus-fam-smooth minus-fam-slit minus-fam-rect minus-fam-pair \
    minus-fam-union minus-fam-dense; do
  if [ ! -f "$ROOT/models/$name/config.json" ]; then
    echo "$ROOT/models/$name: the LOFO model is not finished (run training/lofo.sh first)" >&2
    exit 1
  fi
  models+=(--model "$ROOT/models/$name")
done
export OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1
MIX=fam-random:1,fam-smooth:1,fam-slit:1,fam-rect:1,fam-pair:1,fam-union:1,fam-dense:1,mixed:7
for run in families-mixed:families-mixed labelled:$MIX; do
  name=${run%%:*}
  sampler=${run#*:}
  nice -n 10 .venv/bin/invtoolkit acquire "$ROOT/unions/all.zarr" -o "$WORK/$name" "${models[@]}" \
    --rounds 1 --pool 20000 --take 2000 --control 2000 --seed 17 --sampler "$sampler" \
    --held-out 500 --held-out-seed 20261717 --threads 1 --no-progress
done
