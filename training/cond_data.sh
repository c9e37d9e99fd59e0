#!/usr/bin/env bash
# Data of the conditioned surrogate cnn-cond (issue 31 part 2): see training/cond_data.py.
#   1. lattice-dft speed on the 4 corners of the (t, y) box (300 grids, 1 thread);
#   2. the design and held-out conditions -> $DATA/design.json;
#   3. 64 stores (8 x 8 stratified (t, log y) design, seed 3201) of $N families-mixed grids
#      each (sampler seed 3300 + k), lattice-dft at T = t * 647 K, TC = 647 K, y, 2 x 40 steps;
#   4. stage c: the dense design -> $DATA/design_dense.json (scrambled Sobol, 256 points, seed
#      3202, less those within 0.05 of a held-out condition: 232 kept) and its stores
#      $DATA/dJJJ_*.zarr of $N_DENSE families-mixed grids each (sampler seed 4000 + j).
# Resumable: running it again continues the stores (dataset generate continues a store).
# Usage: training/cond_data.sh [DATA]; environment N (20000), N_DENSE (5000).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/work/data/cnn_cond}
N=${N:-20000}
N_DENSE=${N_DENSE:-5000}
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
PY=${PY:-python}
mkdir -p "$DATA"
$PY training/cond_data.py time
$PY training/cond_data.py design > "$DATA/design.json"
$PY training/cond_data.py generate "$DATA" --n "$N"
$PY training/cond_data.py dense-design > "$DATA/design_dense.json"
$PY training/cond_data.py dense "$DATA" --n "$N_DENSE"
