"""Do a measured fit's intervals cover what another seed finds? (issue 34)

For each measured file whose adsorption branch reaches a plateau, the default fit runs
with seeds 0, 1, 2; its score table is kept (profiles over y = 0.2-6.0, pore volumes,
dominant widths). Then, for each tolerance rule, every run's best y, pore volume and
dominant width is checked against every other run's y interval, pore-volume interval
and width range (nm), and the intervals' widths against the issue's bounds (y <= 2,
pore volume hi/lo <= 1.5, width <= 1.5 nm). Runs are cached in --runs (delete to redo).

    python benchmarks/fit_coverage.py --data ../shared/isotherms --runs /tmp/coverage
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SLACKS = (0.5, 0.7, 1.0)  # relative slack of the tolerance (solutions.RELATIVE_SLACK)


def run_fit(path: Path, seed: int, out: Path, budget: int) -> None:
    from invtoolkit.core.descriptors import batch_descriptors
    from invtoolkit.core.space import GridSpace
    from invtoolkit.fitting.api import MEASURED_CHAIN, as_measured
    from invtoolkit.fitting.physical import file_scale
    from invtoolkit.fitting.search import FitSettings, fit_material
    from invtoolkit.fitting.table import y_grid
    from invtoolkit.search.chain import Chain

    m = as_measured(path)
    fit = fit_material([m], Chain.parse(MEASURED_CHAIN), FitSettings(budget=budget, seed=seed),
                       space=GridSpace.parse("20"))
    wide = y_grid(0.2, 6.0)
    scores, vols = fit.table.profile(fit.solutions.ys, 0, wide)
    scale = file_scale(m)
    per_cap = scale.pore_volume(1.0)
    np.savez(out, wide=wide, scores=scores, vols=vols, share=fit.objective.pore_share(fit.table.grids),
             dom=[d["dominant_width"] for d in batch_descriptors(fit.table.grids, 2)],
             spacing=scale.lattice_spacing_nm, pv_per_cap=np.nan if per_cap is None else per_cap,
             searched=fit.solutions.searched[0], noise=fit.solutions.noise,
             slack=fit.objective.volume_slack(1.0), bound=fit.objective.bounds[1])


def summary(d: dict, slack: float) -> dict:
    """One run under a tolerance rule: its best and its intervals, by solutions.py's own
    pieces (tolerance, widen_volumes) and physical.nm_range."""
    from invtoolkit.fitting.physical import nm_range
    from invtoolkit.fitting.solutions import tolerance, widen_volumes

    values, scores = d["wide"], d["scores"]
    lo, hi = d["searched"]
    searched = (values >= lo - 1e-9) & (values <= hi + 1e-9)
    masked = np.where(searched[:, None], scores, np.inf)
    best = float(masked.min())
    limit = best + tolerance(best, float(d["noise"]), slack)
    allowed = masked <= limit
    i, j = np.unravel_index(np.argmin(masked), scores.shape)
    leeway = np.clip(limit - scores, 0, None) * d["slack"]  # volume_slack is linear in the gap
    low, high = widen_volumes(d["vols"], leeway, float(d["bound"]), d["share"][None] * d["pv_per_cap"])
    pv, a = d["vols"] * d["share"][None] * d["pv_per_cap"], float(d["spacing"])
    ys = values[allowed.any(axis=1)]
    widths = nm_range(d["dom"][allowed.any(axis=0)], [a])
    return {"y": values[i], "pv": pv[i, j], "w": d["dom"][j] * a, "best": best,
            "y_int": (ys.min(), ys.max()), "w_int": (widths["min"], widths["max"]),
            "pv_int": (low[allowed].min(), high[allowed].max())}


def inside(value, interval) -> bool:
    return not np.isfinite(value) or interval[0] - 1e-9 <= value <= interval[1] + 1e-9


def check(runs: dict, slack: float) -> dict:
    misses, wide, named = 0, {"y": 0, "pv": 0, "w": 0}, []
    for name, seeds in runs.items():
        s = [summary(d, slack) for d in seeds]
        missed = sorted({k for a in s for b in s for k in ("y", "pv", "w") if not inside(a[k], b[f"{k}_int"])})
        misses += bool(missed)
        named += [f"{name}: {', '.join(missed)}"] if missed else []
        for r in s:
            wide["y"] += r["y_int"][1] - r["y_int"][0] > 2 + 1e-9
            wide["pv"] += bool(r["pv_int"][1] > 1.5 * r["pv_int"][0])
            wide["w"] += r["w_int"][1] - r["w_int"][0] > 1.5 + 1e-9
    return {"files with a miss": misses, "missed": named, "runs": sum(len(v) for v in runs.values()), **{f"{k} too wide": v for k, v in
                                                                                        wide.items()}}


def plateau_files(data: Path) -> list[Path]:
    from invtoolkit.errors import InputError
    from invtoolkit.fitting.api import as_measured
    from invtoolkit.fitting.capacity import plateau

    out = []
    for path in sorted(data.glob("*.aif")):
        try:
            m = as_measured(path)
        except InputError:
            continue
        if m.normalization == "pore" and plateau(m.pressures, m.amounts, m.n_adsorption).reached:
            out.append(path)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/isotherms"))
    parser.add_argument("--runs", type=Path, default=Path("coverage_runs"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=None, help="evaluations (default: the fit's default)")
    args = parser.parse_args()
    from invtoolkit.fitting.search import MEASURED_BUDGET

    args.runs.mkdir(parents=True, exist_ok=True)
    runs = {}
    for path in plateau_files(args.data):
        for seed in args.seeds:
            out = args.runs / f"{path.stem}_{seed}.npz"
            if not out.exists():
                run_fit(path, seed, out, args.budget or MEASURED_BUDGET)
            runs.setdefault(path.stem, []).append(dict(np.load(out)))
    missed = []
    print("| tolerance | files with a miss | runs | y > 2 wide | pore volume > 1.5x | width > 1.5 nm |")
    print("|---|---|---|---|---|---|")
    for slack in SLACKS:
        c = check(runs, slack)
        print(f"| max(2 noise, {slack} x best, 0.002) | {c['files with a miss']} of {len(runs)} | {c['runs']} | "
              f"{c['y too wide']} | {c['pv too wide']} | {c['w too wide']} |")
        missed.append(f"{slack} x best: " + ("; ".join(c["missed"]) or "none"))
    print("\nmisses (file: the quantity another seed's best fell outside of)\n" + "\n".join(missed))


if __name__ == "__main__":
    main()
