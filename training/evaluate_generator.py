"""Measure a generator on held-out realisable targets (DFT-verified).

Targets: the adsorption branch of lattice-DFT curves of fresh grids from every
built-in sampler (seeded, not in any training set). For each target the generator
proposes 16 grids (16 latent codes); all are verified by the lattice DFT.

Reports, overall and per sampler: median of the best-of-16 DFT MAE, median of all
DFT MAEs, distinct grids up to torus symmetry out of 16, and the mean Hamming
distance between them modulo symmetry.

    python training/evaluate_generator.py --model plugins/models/deconv --per-sampler 40 --seed 12345
    python training/evaluate_generator.py --generator bank --per-sampler 40 --seed 12345
    python training/evaluate_generator.py --generator bank --targets unseen --seed 20261204

``--targets unseen`` draws the targets instead from the four families no model, store or
bank was built from (disks, diagonal channels, pore arrays, random walks; defined in
invtoolkit_plugins.benchmarking.targets): the held-out-family measure of issue 17.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.learning.generation import mean_symmetric_hamming
from invtoolkit.core.symmetry import distinct_up_to_symmetry
from invtoolkit_plugins.benchmarking.families import UNSEEN, draw


def labelled_targets(names, per_name: int, seed: int, shape=(20, 20)):
    """(name, grids, lattice-DFT curves) for every sampler or UNSEEN family name."""
    dft = registry.create("simulator", "lattice-dft")
    rows = []
    for k, name in enumerate(names):
        grids = draw(name, per_name, shape, np.random.default_rng([seed, k]))
        rows.append((name, grids, dft.simulate(grids)))
    return rows


def held_out_targets(per_sampler: int, seed: int, shape=(20, 20)):
    return labelled_targets(list(registry.registry().names("sampler")), per_sampler, seed, shape)


def unseen_targets(per_family: int, seed: int):
    """Targets of the UNSEEN families (numpy-only grids)."""
    return labelled_targets(UNSEEN, per_family, seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", default="deconv", help="generator plugin (deconv, bank, ...)")
    ap.add_argument("--model", default="default")
    ap.add_argument("--per-sampler", type=int, default=40)
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--gen-seed", type=int, default=0)
    ap.add_argument("--targets", choices=["samplers", "unseen"], default="samplers",
                    help="samplers: every registered sampler; unseen: the held-out families")
    ap.add_argument("-o", "--output", default=None, help="write the JSON report here")
    args = ap.parse_args()
    gen = registry.create("generator", args.generator, model=args.model)
    dft = registry.create("simulator", "lattice-dft")
    report = {"generator": args.generator, "model": args.model, "n": args.n, "seed": args.seed,
              "targets": args.targets, "per_sampler": {}}
    all_best, all_distinct = [], []
    t0 = time.time()
    draw = unseen_targets if args.targets == "unseen" else held_out_targets
    for name, _, curves in draw(args.per_sampler, args.seed):
        targets = curves[:, :41]
        grids = gen.generate(targets, args.n, seed=args.gen_seed)
        verified = dft.simulate(grids.reshape(-1, 20, 20)).reshape(len(targets), args.n, -1)[:, :, :41]
        mae = np.abs(verified - targets[:, None]).mean(2)
        best = mae.min(1)
        distinct = [distinct_up_to_symmetry(g) for g in grids]
        hamming = [mean_symmetric_hamming(g) for g in grids]
        all_best += list(best)
        all_distinct += distinct
        report["per_sampler"][name] = {
            "median_best_of_n_mae": float(np.median(best)), "median_mae": float(np.median(mae)),
            "fraction_best_below_0.02": float((best <= 0.02).mean()),
            "median_distinct": float(np.median(distinct)), "min_distinct": int(min(distinct)),
            "mean_hamming_up_to_symmetry": float(np.mean(hamming)),
        }
    report["median_best_of_n_mae"] = float(np.median(all_best))
    report["median_distinct"] = float(np.median(all_distinct))
    report["fraction_targets_with_4_distinct"] = float((np.array(all_distinct) >= 4).mean())
    report["seconds"] = round(time.time() - t0, 1)
    text = json.dumps(report, indent=1)
    print(text)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
