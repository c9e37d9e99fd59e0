"""Held-out evaluation of a cnn surrogate on the structure families (issue 17).

Fresh grids are drawn from every ``fam-*`` sampler (plugins/families.py) with a seed
that no training run uses (default 20261717; the family training set uses 1717, the
earlier cnn sets 0 and 7), labelled by lattice-dft in this run and predicted by the
surrogate. Per family: MAE over the 81-point loop (mean, 95th percentile, worst, and
the porosity of the worst grid), adsorption-branch MAE; the same by porosity band; and
grids/s of the surrogate. Writes a JSON record.

    python training/eval_families.py --n 1000 --seed 20261717 [--model DIR] [--json out.json]

``--families unseen`` draws instead the four families of benchmarks/chain_default.py that
no model, store or bank was built from (disks, diagonal channels, pore arrays, random
walks); names of both kinds may be mixed.

Slits (19 distinct widths on 20 x 20 up to symmetry) and some pairs cannot be unseen
by a model trained on these families; the other families are overwhelmingly new grids.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry

FAMILIES = ["fam-random", "fam-smooth", "fam-slit", "fam-rect", "fam-pair", "fam-union", "fam-dense"]
POROSITY_BANDS = [(0.0, 0.15), (0.15, 0.5), (0.5, 0.85), (0.85, 1.0001)]


def error_summary(err: np.ndarray) -> dict:
    """Mean, 95th percentile and worst of per-grid errors."""
    return {"n": int(len(err)), "mae_mean": float(err.mean()), "mae_p95": float(np.quantile(err, 0.95)),
            "mae_worst": float(err.max())}


def unseen_module():
    """benchmarks/chain_default.py: its UNSEEN family names and grids."""
    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    import chain_default

    return chain_default


def family_names(spec: str) -> list[str]:
    """Comma-separated sampler names; "unseen" stands for the four UNSEEN families."""
    names = []
    for name in spec.split(","):
        names += list(unseen_module().UNSEEN) if name == "unseen" else [name]
    return names


def draw(name: str, n: int, shape, rng) -> np.ndarray:
    """``n`` grids of a sampler, or of an UNSEEN family of chain_default (20 x 20 only)."""
    chain_default = unseen_module()
    if name in chain_default.UNSEEN:
        return chain_default.family_grids(name, n, rng)
    return registry.create("sampler", name).sample(n, shape, rng)


def family_rows(sur, dft, names, n, seed, shape):
    """Per-family errors; also returns all grids, errors and family labels."""
    rows, errs, grids_all, labels, dft_time = [], [], [], [], 0.0
    for k, name in enumerate(names):
        rng = np.random.default_rng([seed, k])
        grids = draw(name, n, shape, rng)
        t = time.perf_counter()
        truth = dft.simulate(grids)
        dft_time += time.perf_counter() - t
        diff = np.abs(sur.simulate(grids) - truth)
        err = diff.mean(1)
        porosity = grids.reshape(len(grids), -1).mean(1)
        row = {"family": name, **error_summary(err),
               "ads_mae_mean": float(diff[:, : sur.schedule.steps + 1].mean()),
               "worst_porosity": float(porosity[err.argmax()]),
               "above_0.05": int((err > 0.05).sum())}
        rows.append(row)
        errs.append(err)
        grids_all.append(grids)
        labels += [name] * len(grids)
    return rows, np.concatenate(errs), np.concatenate(grids_all), np.array(labels), dft_time


def band_rows(err, grids):
    porosity = grids.reshape(len(grids), -1).mean(1)
    rows = []
    for low, high in POROSITY_BANDS:
        mask = (porosity >= low) & (porosity < high)
        if mask.any():
            rows.append({"porosity": [low, min(high, 1.0)], **error_summary(err[mask])})
    return rows


def predict_speed(sur, pool, n_speed):
    big = pool[np.arange(n_speed) % len(pool)]
    sur.simulate(big[:4096])  # warm-up outside the timing
    t = time.perf_counter()
    sur.simulate(big)
    return n_speed / (time.perf_counter() - t)


def print_result(result):
    print(f"cnn surrogate vs lattice-dft on held-out families ({result['model']}, seed {result['seed']})")
    print(f"{'family':<12}{'n':>6}{'mean':>9}{'p95':>9}{'worst':>8}{'por.':>6}{'>0.05':>6}")
    for r in result["per_family"]:
        print(f"{r['family']:<12}{r['n']:>6}{r['mae_mean']:>9.5f}{r['mae_p95']:>9.5f}{r['mae_worst']:>8.4f}"
              f"{r['worst_porosity']:>6.2f}{r['above_0.05']:>6}")
    o = result["overall"]
    print(f"{'overall':<12}{o['n']:>6}{o['mae_mean']:>9.5f}{o['mae_p95']:>9.5f}{o['mae_worst']:>8.4f}")
    for r in result["per_porosity_band"]:
        lo, hi = r["porosity"]
        print(f"porosity {lo:.2f}-{hi:.2f}: n {r['n']:>5}  mean {r['mae_mean']:.5f}  p95 {r['mae_p95']:.5f}  "
              f"worst {r['mae_worst']:.4f}")
    print(f"predict: {result['predict_grids_per_s']:,.0f} grids/s ({result['threads']} threads)   "
          f"lattice-dft: {result['dft_grids_per_s']:,.0f} grids/s")


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
