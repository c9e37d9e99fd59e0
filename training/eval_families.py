"""Held-out evaluation of a cnn surrogate on the structure families (issue 17).

Fresh grids are drawn from every ``fam-*`` sampler (plugins/families.py) with a seed
that no training run uses (default 20261717; the family training set uses 1717, the
earlier cnn sets 0 and 7), labelled by lattice-dft in this run and predicted by the
surrogate. Per family: MAE over the 81-point loop (mean, 95th percentile, worst, and
the porosity of the worst grid), adsorption-branch MAE; the same by porosity band; and
grids/s of the surrogate. Writes a JSON record.

    python training/eval_families.py --n 1000 --seed 20261717 [--model DIR] [--json out.json]

``--families unseen`` draws instead the four families (invtoolkit_plugins.benchmarking.targets) that
no model, store or bank was built from (disks, diagonal channels, pore arrays, random
walks); names of both kinds may be mixed.

The evaluation itself lives in ``invtoolkit_plugins.benchmarking.families`` (shared with
training/cnn_fast_eval.py, evaluate_generator.py and lofo.py); this script is its entry point.

Slits (19 distinct widths on 20 x 20 up to symmetry) and some pairs cannot be unseen
by a model trained on these families; the other families are overwhelmingly new grids.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit_plugins.benchmarking.families import (FAMILIES, band_rows, draw, error_summary,  # noqa: F401
                                                      family_names, family_rows, predict_speed, print_result)

def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="held-out grids per family")
    ap.add_argument("--seed", type=int, default=20261717, help="never used for training")
    ap.add_argument("--model", default=None, help="model directory (default: the shipped one)")
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help="comma-separated sampler names; 'unseen': disks, diagonal, array, walk")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-n", type=int, default=40_000, help="grids for the predict throughput figure")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    options = {"threads": args.threads, **({"model": args.model} if args.model else {})}
    sur = registry.create("surrogate", "cnn", **options)
    dft = registry.create("simulator", "lattice-dft", threads=args.threads)
    shape = tuple(sur.grid_shape)
    dft.simulate(np.ones((1, *shape), np.uint8))  # compile outside the timing
    names = family_names(args.families)
    rows, err, grids, labels, dft_time = family_rows(sur, dft, names, args.n, args.seed, shape)
    worst = np.argsort(err)[::-1][:10]
    result = {
        "model": str(sur.model_path), "seed": args.seed, "threads": args.threads, "grid_shape": list(shape),
        "per_family": rows, "overall": error_summary(err), "per_porosity_band": band_rows(err, grids),
        "worst_grids": [{"family": str(labels[i]), "mae": float(err[i]),
                         "porosity": float(grids[i].mean())} for i in worst],
        "predict_grids_per_s": predict_speed(sur, grids, args.speed_n),
        "dft_grids_per_s": len(grids) / dft_time,
    }
    print_result(result)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
