"""Does the ensemble's descriptor range hold the truth? Realizable targets of known structure.

Makes 20 x 20 grids of known structure with numpy (slits, squares, pairs of pores,
smooth thresholded fields; target i drawn with ``numpy.random.default_rng([SEED, i])``),
simulates their site-normalised adsorption isotherms with the lattice DFT, inverts each
with the default chain and default settings for ``--time-limit`` seconds keeping
``ENSEMBLE_KEEP`` verified grids, and records the verified grids and errors per target
(``OUT/cells/tNN.npz``, resumable). Then, for several tolerances side by side from the
same runs, prints how often the truth's porosity lies within the ensemble range (+-0.02)
and its dominant width within the range (+-1 cell), and the median ranges.

    nice -n 10 python benchmarks/ensemble.py --targets 20 --time-limit 20 -o bench-ensemble
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

SEED = 18
SHAPE = (20, 20)
KINDS = ("slit", "square", "pair", "smooth")
SLIT_WIDTHS = (1, 3, 5, 7, 9)
SQUARE_SIDES = (2, 4, 6, 8, 10)
TOLERANCES = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02)


def _box(grid, rng, side_h, side_w):
    h, w = grid.shape
    rows = (rng.integers(h) + np.arange(side_h)) % h
    cols = (rng.integers(w) + np.arange(side_w)) % w
    grid[np.ix_(rows, cols)] = 1


def truth_grid(kind: str, rng: np.random.Generator, turn: int = 0) -> np.ndarray:
    """One grid of known structure; every box is placed at a random periodic offset.
    Slit widths and square sides step through SLIT_WIDTHS and SQUARE_SIDES by ``turn``
    (random draws repeated sizes among 20 targets)."""
    grid = np.zeros(SHAPE, np.uint8)
    if kind == "slit":
        _box(grid, rng, SLIT_WIDTHS[turn % len(SLIT_WIDTHS)], SHAPE[1])
    elif kind == "square":
        side = SQUARE_SIDES[turn % len(SQUARE_SIDES)]
        _box(grid, rng, side, side)
    elif kind == "pair":  # two square pores of different sizes (they may touch)
        for side in rng.choice(np.arange(2, 9), size=2, replace=False):
            _box(grid, rng, int(side), int(side))
    else:  # smooth field: periodic gaussian-filtered noise at a drawn porosity
        field = ndimage.gaussian_filter(rng.normal(size=SHAPE), sigma=rng.uniform(1.0, 2.5), mode="wrap")
        grid = (field > np.quantile(field, 1.0 - rng.uniform(0.3, 0.6))).astype(np.uint8)
    return grid


def make_targets(n: int):
    from invtoolkit.hooks import registry

    grids = np.stack([truth_grid(KINDS[i % len(KINDS)], np.random.default_rng([SEED, i]), i // len(KINDS)) for i in range(n)])
    sim = registry.create("simulator", "lattice-dft", normalization="site", steps=40, adsorption_only=True)
    return grids, np.asarray(sim.simulate(grids))


def run_target(i: int, values: np.ndarray, time_limit: float, path: Path, keep: int) -> None:
    from invtoolkit.search.chain import Chain
    from invtoolkit.core.defaults import DEFAULT_CHAIN
    from invtoolkit.core.population import Population
    from invtoolkit.core.pressure import PressureSchedule
    from invtoolkit.core.problem import Target

    target = Target(values, PressureSchedule(40, adsorption_only=True), "site")
    t0 = time.monotonic()
    result = Chain.parse(DEFAULT_CHAIN).run(target, time_limit=time_limit, seed=0, keep=keep,
                                            population=Population.empty(SHAPE))
    np.savez(path, grids=result.population.grids, errors=result.population.errors,
             seconds=time.monotonic() - t0)


def evaluate(truths, cells, tolerance: float, limit: int) -> dict:
    """Coverage and median ranges of the ensembles at one tolerance, from the ``limit``
    best verified grids (what an inversion with keep=limit verifies)."""
    from invtoolkit.core.descriptors import grid_descriptors
    from invtoolkit.results.ensemble import build_ensemble

    rows = []
    for truth, cell in zip(truths, cells):
        ens = build_ensemble(cell["grids"][:limit], cell["errors"][:limit], tolerance)
        s = ens.summary()
        t = grid_descriptors(truth)
        por, dom = s["descriptors"]["porosity"], s["descriptors"]["dominant_width"]
        rows.append({
            "porosity_in": por["min"] - 0.02 <= t["porosity"] <= por["max"] + 0.02,
            "width_in": dom["min"] - 1 <= t["dominant_width"] <= dom["max"] + 1,
            "porosity_range": por["max"] - por["min"],
            "width_range": dom["max"] - dom["min"],
            "count": s["count"],
            "families": len(s["clusters"]),
            "full": s["count"] == min(limit, len(cell["errors"])),
        })
    return {
        "tolerance": tolerance,
        "keep": limit,
        "porosity_covered": float(np.mean([r["porosity_in"] for r in rows])),
        "width_covered": float(np.mean([r["width_in"] for r in rows])),
        "median_porosity_range": float(np.median([r["porosity_range"] for r in rows])),
        "median_width_range": float(np.median([r["width_range"] for r in rows])),
        "median_count": float(np.median([r["count"] for r in rows])),
        "median_families": float(np.median([r["families"] for r in rows])),
        "all_candidates_inside": float(np.mean([r["full"] for r in rows])),
        "per_target": rows,
    }


def per_target_lines(truths, cells, tolerance: float, limit: int) -> list[str]:
    from invtoolkit.core.descriptors import grid_descriptors
    from invtoolkit.results.ensemble import build_ensemble

    lines = [f"{'#':>3} {'kind':<7} {'best MAE':>9} {'poro':>5} {'range':>11} {'width':>5} {'range':>7} "
             f"{'count':>5} {'fam':>3}"]
    for i, (truth, cell) in enumerate(zip(truths, cells)):
        s = build_ensemble(cell["grids"][:limit], cell["errors"][:limit], tolerance).summary()
        t = grid_descriptors(truth)
        p, w = s["descriptors"]["porosity"], s["descriptors"]["dominant_width"]
        lines.append(f"{i:>3} {KINDS[i % len(KINDS)]:<7} {s['best_error']:>9.5f} {t['porosity']:>5.2f} "
                     f"{p['min']:.2f}-{p['max']:.2f} {t['dominant_width']:>5} {int(w['min']):>3}-{int(w['max']):<3} "
                     f"{s['count']:>5} {len(s['clusters']):>3}")
    return lines


def plot_coverage(path, truths, cells, tolerance: float, limit: int) -> None:
    """Per target: the truth's porosity and dominant width against the ensemble's range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from invtoolkit.core.descriptors import grid_descriptors
    from invtoolkit.results.ensemble import build_ensemble

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (truth, cell) in enumerate(zip(truths, cells)):
        s = build_ensemble(cell["grids"][:limit], cell["errors"][:limit], tolerance).summary()
        t = grid_descriptors(truth)
        for ax, name, slack in ((axes[0], "porosity", 0.02), (axes[1], "dominant_width", 1)):
            r = s["descriptors"][name]
            inside = r["min"] - slack <= t[name] <= r["max"] + slack
            ax.vlines(i, r["min"], r["max"], color="C0", lw=6, alpha=0.6)
            ax.plot([i, i], [r["min"], r["max"]], "_", color="C0", ms=12, mew=2)  # ends, seen when equal
            ax.plot(i, t[name], "o" if inside else "x", color="k" if inside else "C3", ms=5)
    for ax, label in zip(axes, ("porosity", "dominant width (cells)")):
        ax.set_xticks(range(len(truths)))
        ax.set_xticklabels([f"{i}{KINDS[i % len(KINDS)][:2]}" for i in range(len(truths))], fontsize=6, rotation=90)
        ax.set_ylabel(label)
    axes[0].set_title(f"bars: ensemble range (+{tolerance:g} MAE, {limit} verified); dots: truth (x: outside)",
                      fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--keep", type=int, default=128, help="verified grids recorded per target")
    ap.add_argument("--limits", default="64,128", help="ensembles from the best N of them, side by side")
    ap.add_argument("--show-tolerance", type=float, default=None, help="per-target table at this tolerance")
    ap.add_argument("--figure", default=None, help="PNG: truth against the ensemble range per target")
    ap.add_argument("-o", "--output", default="bench-ensemble")
    args = ap.parse_args(argv)
    out = Path(args.output)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    truths, curves = make_targets(args.targets)
    np.savez(out / "targets.npz", grids=truths, curves=curves, seed=SEED)
    for i in range(args.targets):
        path = out / "cells" / f"t{i:02d}.npz"
        if not path.exists():
            run_target(i, curves[i], args.time_limit, path, args.keep)
            print(f"target {i} ({KINDS[i % len(KINDS)]}) done", flush=True)
    cells = [dict(np.load(out / "cells" / f"t{i:02d}.npz")) for i in range(args.targets)]
    limits = [int(x) for x in args.limits.split(",")]
    table = [evaluate(truths, cells, tol, limit) for limit in limits for tol in TOLERANCES]
    (out / "summary.json").write_text(json.dumps(table, indent=2, default=bool) + "\n")
    print(f"{'keep':>4} {'tolerance':>9} {'poro in':>8} {'width in':>8} {'med poro range':>14} {'med width range':>15} "
          f"{'med count':>9} {'med fam':>7} {'all in':>6}")
    for r in table:
        print(f"{r['keep']:>4} {r['tolerance']:>9.4f} {r['porosity_covered']:>8.0%} {r['width_covered']:>8.0%} "
              f"{r['median_porosity_range']:>14.3f} {r['median_width_range']:>15.1f} {r['median_count']:>9.0f} "
              f"{r['median_families']:>7.0f} {r['all_candidates_inside']:>6.0%}")
    if args.figure:
        plot_coverage(args.figure, truths, cells, args.show_tolerance or 0.002, limits[0])
    if args.show_tolerance is not None:
        for limit in limits:
            print(f"\nkeep {limit}, tolerance {args.show_tolerance:g}")
            print("\n".join(per_target_lines(truths, cells, args.show_tolerance, limit)))


if __name__ == "__main__":
    main()
