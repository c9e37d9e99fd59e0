"""Held-out family evaluation of any surrogate plugin, exactly as training/eval_families.py
(same draws: seed 20261717, ``--n`` grids per family, labelled by lattice-dft in this run;
same summary and JSON record), for ``cnn-fast`` by default.

    python training/cnn_fast_eval.py [--surrogate cnn-fast] [--model DIR] [--families unseen] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit_plugins.benchmarking import families as ef


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--surrogate", default="cnn-fast")
    ap.add_argument("--model", default=None, help="model directory (default: the shipped one)")
    ap.add_argument("--n", type=int, default=1000, help="held-out grids per family")
    ap.add_argument("--seed", type=int, default=20261717, help="never used for training")
    ap.add_argument("--families", default=",".join(ef.FAMILIES),
                    help="comma-separated sampler names; 'unseen': disks, diagonal, array, walk")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-n", type=int, default=40_000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    options = {"threads": args.threads, **({"model": args.model} if args.model else {})}
    sur = registry.create("surrogate", args.surrogate, **options)
    dft = registry.create("simulator", "lattice-dft", threads=args.threads)
    shape = tuple(sur.grid_shape)
    dft.simulate(np.ones((1, *shape), np.uint8))
    rows, err, grids, labels, dft_time = ef.family_rows(sur, dft, ef.family_names(args.families), args.n,
                                                         args.seed, shape)
    worst = np.argsort(err)[::-1][:10]
    result = {
        "surrogate": args.surrogate, "model": str(sur.model_path), "seed": args.seed, "threads": args.threads,
        "grid_shape": list(shape), "per_family": rows, "overall": ef.error_summary(err),
        "per_porosity_band": ef.band_rows(err, grids),
        "worst_grids": [{"family": str(labels[i]), "mae": float(err[i]), "porosity": float(grids[i].mean())}
                        for i in worst],
        "predict_grids_per_s": ef.predict_speed(sur, grids, args.speed_n),
        "dft_grids_per_s": len(grids) / dft_time,
    }
    ef.print_result(result)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
