"""The cnn surrogate against the exact lattice DFT, measured side by side in one run.

A fresh held-out set is drawn from every built-in sampler (seed independent of the
training set's), labelled by lattice-dft in this run, and predicted by the surrogate.
Prints MAE over the loop points per sampler and overall (mean and 95th percentile),
the adsorption-branch MAE, and grids/s of predict beside grids/s of the DFT.

    python benchmarks/surrogate.py --n 2000 --threads 2 [--model DIR] [--json out.json]
    python benchmarks/surrogate.py --lofo training/lofo_results.json   # print the LOFO table only
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from invtoolkit.hooks import registry


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def print_lofo(path) -> dict:
    """The leave-one-family-out table of training/lofo.py's results file."""
    try:
        with open(path) as fh:
            result = json.load(fh)
        rows = result["lofo"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"error: {path}: not a LOFO results file ({type(exc).__name__})") from None
    print(f"leave-one-family-out ({path}; held-out seed {result.get('eval_seed')}, "
          f"{result.get('eval_n_per_family')} grids per family; MAE mean / p95 / worst)")
    print(f"{'family':<12}{'unseen (ALL-minus-F)':>24}{'seen (ALL)':>24}{'shipped cnn':>24}")
    for r in rows:
        print(f"{r['family']:<12}" + "".join(f"{r[k]['mae_mean']:>9.4f}{r[k]['mae_p95']:>8.4f}{r[k]['mae_worst']:>8.4f}"
                                             for k in ("unseen", "seen", "shipped")))
    return result


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="held-out grids per sampler")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--model", default=None, help="model directory (default: the shipped one)")
    ap.add_argument("--samplers", default=None, help="comma-separated (default: all registered)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-n", type=int, default=40_000, help="grids for the predict throughput figure")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--lofo", default=None, help="only print the LOFO table of this results file")
    args = ap.parse_args(argv)
    if args.lofo:
        return print_lofo(args.lofo)

    import torch

    torch.set_num_threads(args.threads)
    options = {"threads": args.threads}
    if args.model:
        options["model"] = args.model
    sur = registry.create("surrogate", "cnn", **options)
    dft = registry.create("simulator", "lattice-dft", threads=args.threads)
    shape = sur.grid_shape
    names = args.samplers.split(",") if args.samplers else registry.registry().names("sampler")

    rows, all_err, all_ads, dft_time, dft_n, grids_all = [], [], [], 0.0, 0, []
    dft.simulate(np.ones((1, *shape), np.uint8))  # compile / warm up outside the timing
    for k, name in enumerate(names):
        rng = np.random.default_rng([args.seed, k])
        grids = registry.create("sampler", name).sample(args.n, shape, rng)
        truth, dt = timed(dft.simulate, grids)
        dft_time += dt
        dft_n += len(grids)
        pred = sur.simulate(grids)
        err = np.abs(pred - truth).mean(1)
        ads = np.abs(pred - truth)[:, : sur.schedule.steps + 1].mean(1)
        rows.append({"sampler": name, "n": len(grids), "mae_mean": float(err.mean()),
                     "mae_p95": float(np.quantile(err, 0.95)), "ads_mae_mean": float(ads.mean()),
                     "max": float(err.max())})
        all_err.append(err)
        all_ads.append(ads)
        grids_all.append(grids)
    err, ads = np.concatenate(all_err), np.concatenate(all_ads)

    # predict throughput on a larger batch (the held-out grids repeated), after a warm-up
    pool = np.concatenate(grids_all)
    big = pool[np.arange(args.speed_n) % len(pool)]
    sur.simulate(big[:4096])
    _, pt = timed(sur.simulate, big)
    result = {
        "model": str(sur.model_path), "members": sur.n_members, "threads": args.threads, "grid_shape": list(shape),
        "per_sampler": rows,
        "overall": {"n": int(len(err)), "mae_mean": float(err.mean()), "mae_p95": float(np.quantile(err, 0.95)),
                    "ads_mae_mean": float(ads.mean())},
        "predict_grids_per_s": args.speed_n / pt,
        "dft_grids_per_s": dft_n / dft_time,
    }
    if sur.net.anchor is not None:  # the exact top point inside predict, timed alone
        _, at = timed(sur.top_points, big)
        result["anchor_share_of_predict"] = at / pt
    if torch.cuda.is_available():
        gpu = registry.create("surrogate", "cnn", device="cuda", **{k: v for k, v in options.items() if k == "model"})
        gpu.simulate(big[:4096])
        _, gt = timed(gpu.simulate, big)
        result["predict_grids_per_s_gpu"] = args.speed_n / gt

    print(f"cnn surrogate vs lattice-dft ({result['model']}, {sur.n_members} member(s), {args.threads} threads)")
    print(f"{'sampler':<12}{'n':>7}{'MAE mean':>11}{'MAE p95':>10}{'ads MAE':>10}{'max':>9}")
    for r in rows:
        print(f"{r['sampler']:<12}{r['n']:>7}{r['mae_mean']:>11.5f}{r['mae_p95']:>10.5f}{r['ads_mae_mean']:>10.5f}"
              f"{r['max']:>9.4f}")
    o = result["overall"]
    print(f"{'overall':<12}{o['n']:>7}{o['mae_mean']:>11.5f}{o['mae_p95']:>10.5f}{o['ads_mae_mean']:>10.5f}")
    ratio = result["predict_grids_per_s"] / result["dft_grids_per_s"]
    print(f"predict: {result['predict_grids_per_s']:,.0f} grids/s   lattice-dft: {result['dft_grids_per_s']:,.0f} "
          f"grids/s   ratio {ratio:.1f}x")
    if "anchor_share_of_predict" in result:
        print(f"of which the exact top point (lattice-dft, RH 0 -> 1): {100 * result['anchor_share_of_predict']:.0f}%")
    if "predict_grids_per_s_gpu" in result:
        print(f"predict on GPU: {result['predict_grids_per_s_gpu']:,.0f} grids/s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
