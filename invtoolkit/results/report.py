"""Inversion output: report.json, isotherms.png, grids.png and a terminal summary."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from invtoolkit.core.pressure import ADSORPTION, PressureSchedule


def grid_rows(result) -> list[dict]:
    """Per verified grid: MAE on the target points and per branch, porosity, descriptors."""
    from invtoolkit.core.descriptors import grid_descriptors

    target = result.target
    n = len(target.values)
    ads = target.schedule.branches == ADSORPTION
    rows = []
    for i, (grid, curve) in enumerate(zip(result.population.grids, result.curves)):
        diff = np.abs(curve[:n] - target.values)
        rows.append({
            "rank": i + 1,
            "mae": float(diff.mean()),
            "mae_adsorption": float(diff[ads].mean()),
            "mae_desorption": float(diff[~ads].mean()) if (~ads).any() else None,
            "porosity": float(grid.mean()),
            "shape": list(grid.shape),
            "descriptors": grid_descriptors(grid),
        })
    return rows


def build_report(result, *, target_file, chain: str, seed: int, time_limit, extra: dict | None = None) -> dict:
    target = result.target
    report = {
        "target": {
            "file": str(target_file),
            "points": int(len(target.values)),
            "branches": "loop" if target.is_loop else "adsorption",
            "normalization": target.normalization,
            "steps": int(target.schedule.steps),
            "notes": list(target.notes),
        },
        **run_fields(result, chain=chain, seed=seed, time_limit=time_limit),
        "grids": grid_rows(result),
    }
    if extra:
        report.update(extra)
    return report


def run_fields(result, *, chain: str, seed: int, time_limit) -> dict:
    """What every report.json says about the run: chain, seed, time, verifier, stages."""
    return {
        "chain": chain,
        "seed": int(seed),
        "time_limit": time_limit,
        "total_seconds": float(result.seconds),
        "startup_seconds": float(result.startup_seconds),
        "verified_by": result.verified_by,
        "stages": [json_safe(asdict(s)) for s in result.stages],
    }


def json_safe(value):
    """JSON has no inf/NaN: null instead, in nested dicts and lists too; numpy scalars as Python's."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def plot_isotherms(path, result, *, show: int = 3) -> None:
    """Target points vs the best grids' DFT isotherms, adsorption solid, desorption dashed."""
    from invtoolkit.results.plotting import finite_mae, fmt, pyplot

    plt = pyplot()
    target = result.target
    full = PressureSchedule(target.schedule.steps)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    t_ads = target.schedule.branches == ADSORPTION
    ax.plot(target.pressures[t_ads], target.values[t_ads], "o", color="k", ms=4, label="target adsorption")
    if (~t_ads).any():
        ax.plot(target.pressures[~t_ads], target.values[~t_ads], "o", mfc="none", color="k", ms=4,
                label="target desorption")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, curve in enumerate(result.curves[:show]):
        c = colors[i % len(colors)]
        n = min(len(curve), len(full.pressures))  # a curve may cover less than the loop
        p, ads, curve = full.pressures[:n], (full.branches == ADSORPTION)[:n], np.asarray(curve)[:n]
        mae = fmt(finite_mae(curve, target.values), ".4f")
        ax.plot(p[ads], curve[ads], "-", color=c, lw=1.5, label=f"grid {i + 1} adsorption (MAE {mae})")
        if (~ads).any():
            extra = "" if target.is_loop else ", not in target"
            ax.plot(p[~ads], curve[~ads], "--", color=c, lw=1.2, label=f"grid {i + 1} desorption{extra}")
    ax.set_xlabel("relative pressure (RH)")
    ax.set_ylabel("amount (" + ("fraction of pore cells filled" if target.normalization == "pore"
                                else "per lattice site") + ")")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_grids(path, result, *, columns: int = 4) -> None:
    """The verified grids, pores light, walls dark, with their MAE and porosity."""
    from invtoolkit.results.plotting import fmt, pyplot

    plt = pyplot()
    grids = result.population.grids
    errors = result.population.errors
    if errors is None:  # an unscored population
        errors = np.full(len(grids), np.nan)
    if grids.ndim == 4:  # 3-D: orthogonal slices and a projection per grid
        from invtoolkit.results.plots3d import plot_grids_3d

        return plot_grids_3d(path, grids, errors)
    k = max(len(grids), 1)
    cols = min(max(columns, 1), k)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (grid, err) in enumerate(zip(grids, errors)):
        ax = axes.flat[i]
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"#{i + 1} MAE {fmt(err, '.4f')}\nporosity {grid.mean():.2f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summary_lines(report: dict) -> list[str]:
    lines = []
    t = report["target"]
    lines.append(f"target {t['file']}: {t['points']} points ({t['branches']}), normalization {t['normalization']}")
    lines.append(f"chain  {report['chain']}   seed {report['seed']}   {report['total_seconds']:.1f} s"
                 f" (+ {report.get('startup_seconds', 0.0):.1f} s start-up)")
    lines.append(f"{'stage':<28} {'evaluator':<14} {'evals':>8} {'seconds':>8} {'best error':>11}")
    for s in report["stages"]:
        best = "-" if s["best_error"] is None else f"{s['best_error']:.5f}"
        lines.append(f"{s['stage'][:28]:<28} {s['evaluator'][:14]:<14} {s['evaluations']:>8} "
                     f"{s['seconds']:>8.2f} {best:>11}")
    lines.append(f"{'grid':>4} {'MAE (DFT)':>10} {'ads MAE':>9} {'des MAE':>9} {'porosity':>9}")
    for g in report["grids"]:
        des = "-" if g["mae_desorption"] is None else f"{g['mae_desorption']:.5f}"
        lines.append(f"{g['rank']:>4} {g['mae']:>10.5f} {g['mae_adsorption']:>9.5f} {des:>9} {g['porosity']:>9.3f}")
    return lines
