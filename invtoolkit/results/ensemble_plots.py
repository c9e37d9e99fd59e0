"""Pictures of the ensemble of solutions: psd.png (pore widths with their spread) and
clusters.png (one grid per family and their isotherms against the target)."""

from __future__ import annotations

import numpy as np

from invtoolkit.core.pressure import ADSORPTION, PressureSchedule
from invtoolkit.results.plotting import finite_mae, finite_top, fmt, pyplot


def width_spread(summary: dict) -> np.ndarray:
    """(K, 4) rows [width, low, mean, high] of the ensemble's pore-width shares, safe to
    draw: finite widths only, NaN shares as 0, low <= high, and the mean clamped into
    [low, high] -- the mean of equal shares can differ from them in the last bit, which
    made the error bars negative (issue 33)."""
    spread = np.asarray(summary.get("psd") or [], dtype=float).reshape(-1, 4)
    spread = spread[np.isfinite(spread[:, 0])]
    lo, mean, hi = np.nan_to_num(spread[:, 1:], nan=0.0, posinf=1.0, neginf=0.0).T
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return np.column_stack([spread[:, 0], lo, np.clip(mean, lo, hi), hi]) if len(spread) else spread


def plot_width_distribution(path, summary: dict, best: dict, spacing_nm: float | None = None) -> None:
    """Share of pore cells per width: the best grid's bars, the ensemble's min-max range
    as error bars around its mean (what the isotherm leaves open); in nm when the lattice
    spacing is known (measured files), else in cells."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    widths, lo, mean, hi = width_spread(summary).T
    scale = 1.0 if spacing_nm is None else float(spacing_nm)
    widths = widths * scale
    ax.bar(widths, mean, width=0.8 * scale, color="0.8", label=f"ensemble mean ({fmt(summary.get('count'), 'g')} grids)")
    ax.errorbar(widths, mean, yerr=[np.maximum(mean - lo, 0), np.maximum(hi - mean, 0)], fmt="none", ecolor="k",
                capsize=3, label="ensemble min-max")
    best_psd = np.asarray((best or {}).get("psd") or [], dtype=float).reshape(-1, 2)
    best_psd = best_psd[np.isfinite(best_psd).all(1)]
    ax.plot(best_psd[:, 0] * scale, best_psd[:, 1], "o", color="C3", label="best grid")
    if not len(widths) and not len(best_psd):
        ax.text(0.5, 0.5, "no pore widths to show", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("pore width (cells: side of the largest all-pore square containing the cell)" if spacing_nm is None
                  else f"pore width (nm: cells x lattice spacing {spacing_nm:.3f} nm)")
    ax.set_ylabel("fraction of pore cells")
    ax.set_xticks(widths)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"pore-width distribution, grids within +{fmt(summary.get('tolerance'), 'g')} MAE of the best",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cluster_title(i: int, cluster: dict, grid: np.ndarray) -> str:
    d = cluster.get("descriptors") or {}
    size = cluster.get("size", 0)

    def span(name, spec):
        r = d.get(name) or {}
        return f"{fmt(r.get('min'), spec)}-{fmt(r.get('max'), spec)}"

    return (f"family {i + 1}: {size} grid{'s' if size != 1 else ''}\n"
            f"MAE {fmt(cluster.get('error'), '.4f')}  porosity {span('porosity', '.2f')}\n"
            f"width {span('dominant_width', '.0f')}")


def plot_clusters(path, result, summary: dict, *, limit: int = 8, draw_isotherms=None) -> None:
    """Top: the representative grid of each family (best.npy order). Bottom: their DFT
    isotherms against the target (adsorption solid, desorption dashed), drawn by
    ``draw_isotherms(ax, rows, labels)`` when given (measured files: the file's units)."""
    plt = pyplot()
    clusters = [c for c in summary.get("clusters") or [] if c.get("best_row") is not None][:limit]
    cols = max(len(clusters), 1)
    fig = plt.figure(figsize=(max(2.3 * cols, 6.5), 7.2))
    grid_spec = fig.add_gridspec(2, cols, height_ratios=[1, 1.3])
    for i, cluster in enumerate(clusters):
        ax = fig.add_subplot(grid_spec[0, i])
        grid = result.population.grids[cluster["best_row"]]
        shown = grid if grid.ndim == 2 else grid[grid.shape[0] // 2]  # 3-D: the middle slice
        ax.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(_cluster_title(i, cluster, grid), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])  # no ticks, but the frame shows the periodic cell's edge
    ax = fig.add_subplot(grid_spec[1, :])
    if draw_isotherms is None:
        _cluster_isotherms(ax, result, clusters)
    else:
        draw_isotherms(ax, [c["best_row"] for c in clusters], [f"family {i + 1}" for i in range(len(clusters))])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cluster_isotherms(ax, result, clusters: list[dict]) -> None:
    target = result.target
    t_ads = target.schedule.branches == ADSORPTION
    ax.plot(target.pressures[t_ads], target.values[t_ads], "o", color="k", ms=4, label="target adsorption")
    if (~t_ads).any():
        ax.plot(target.pressures[~t_ads], target.values[~t_ads], "o", mfc="none", color="k", ms=4,
                label="target desorption")
    full = PressureSchedule(target.schedule.steps)  # the verified curves cover the whole loop
    shown = [target.values]
    for i, cluster in enumerate(clusters):
        curve = np.asarray(result.curves[cluster["best_row"]], dtype=float)
        n = min(len(curve), len(full.pressures))
        pressures, ads = full.pressures[:n], (full.branches == ADSORPTION)[:n]
        c = f"C{i % 10}"
        ax.plot(pressures[ads], curve[:n][ads], "-", color=c, lw=1.4,
                label=f"family {i + 1} (MAE {fmt(finite_mae(curve, target.values), '.4f')})")
        if (~ads).any():
            ax.plot(pressures[~ads], curve[:n][~ads], "--", color=c, lw=1.0)
        shown.append(curve)
    ax.set_xlabel("relative pressure (RH)")
    ax.set_ylabel("amount (" + ("fraction of pore cells filled" if target.normalization == "pore"
                                else "per lattice site") + ")")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, min(1.02, 1.1 * finite_top(*shown) + 0.02))
    ax.legend(fontsize=7, loc="upper left")
