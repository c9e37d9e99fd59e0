"""Held-out evaluation of a surrogate on the structure families (issue 17), shared by
``training/eval_families.py`` (the shipped cnn), ``training/cnn_fast_eval.py`` (any
surrogate plugin), ``training/evaluate_generator.py`` and ``training/lofo.py``.

Fresh grids are drawn from every ``fam-*`` sampler (plugins/families.py) or from the
UNSEEN families (:mod:`.targets`), labelled by lattice-dft and predicted by the
surrogate. Per family: MAE over the loop (mean, 95th percentile, worst, and the porosity
of the worst grid), adsorption-branch MAE; the same by porosity band; and grids/s.
"""

from __future__ import annotations

import time

import numpy as np

from invtoolkit.plugin import create

from invtoolkit_plugins.benchmarking.targets import UNSEEN, family_grids

__all__ = ["FAMILIES", "POROSITY_BANDS", "UNSEEN", "band_rows", "draw", "error_summary", "family_names",
           "family_rows", "predict_speed", "print_result"]

FAMILIES = ["fam-random", "fam-smooth", "fam-slit", "fam-rect", "fam-pair", "fam-union", "fam-dense"]
POROSITY_BANDS = [(0.0, 0.15), (0.15, 0.5), (0.5, 0.85), (0.85, 1.0001)]


def error_summary(err: np.ndarray) -> dict:
    """Mean, 95th percentile and worst of per-grid errors."""
    return {"n": int(len(err)), "mae_mean": float(err.mean()), "mae_p95": float(np.quantile(err, 0.95)),
            "mae_worst": float(err.max())}


def family_names(spec: str) -> list[str]:
    """Comma-separated sampler names; "unseen" stands for the four UNSEEN families."""
    names = []
    for name in spec.split(","):
        names += list(UNSEEN) if name == "unseen" else [name]
    return names


def draw(name: str, n: int, shape, rng) -> np.ndarray:
    """``n`` grids of a sampler, or of an UNSEEN family (:mod:`.targets`, 20 x 20 only)."""
    if name in UNSEEN:
        return family_grids(name, n, rng)
    return create("sampler", name).sample(n, shape, rng)


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
