#!/usr/bin/env bash
# Leave-one-family-out measurement of the cnn surrogate (issue 17), as run for the
# committed training/lofo_results.json:
#   1. 24,000 grids per fam-* family labelled by lattice-dft (seed 3131 + family index),
#   2. 9 cnn models from scratch (shipped architecture, 11 min wall time each, 1 thread,
#      seed 3131): ALL (7 families) and ALL-minus-F for each family F, then ALL again
#      with seed 3132 (the seed-to-seed spread of one training),
#   3. held-out evaluation (seed 20261717, 500 grids per family) of the 9 models and the
#      shipped cnn -> training/lofo_results.json.
# Resumable: complete stores and finished model directories are skipped.
# Usage: nohup setsid training/lofo.sh > /work/runs/lofo17/log.txt 2>&1 &
# Environment: ROOT (default /work/runs/lofo17), MINUTES (default 11), N (default 24000),
# WAIT_LOCK (a flock file: no model starts while it is held; as run: /tmp/quiet.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${ROOT:-/work/runs/lofo17}
MINUTES=${MINUTES:-11}
N=${N:-24000}
mkdir -p "$ROOT"
nice -n 10 .venv/bin/python training/lofo.py all --root "$ROOT" --n "$N" --minutes "$MINUTES" \
  --threads 1 --eval-n 500 --reference --json training/lofo_results.json ${WAIT_LOCK:+--wait-lock "$WAIT_LOCK"}
