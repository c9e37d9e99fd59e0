"""Pictures of the ensemble of solutions: psd.png (pore widths with their spread) and
clusters.png (one grid per family and their isotherms against the target)."""

from __future__ import annotations

import numpy as np

from invtoolkit.pressure import ADSORPTION, PressureSchedule
from invtoolkit.objective import mae


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_width_distribution(path, summary: dict, best: dict) -> None:
    """Share of pore cells per width: the best grid's bars, the ensemble's min-max range
    as error bars around its mean (what the isotherm leaves open)."""
    plt = _pyplot()
    spread = np.array(summary["psd"], dtype=float).reshape(-1, 4)
    fig, ax = plt.subplots(figsize=(6, 4))
    widths, lo, mean, hi = spread.T
    ax.bar(widths, mean, width=0.8, color="0.8", label=f"ensemble mean ({summary['count']} grids)")
    ax.errorbar(widths, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="k", capsize=3,
                label="ensemble min-max")
    bw, bf = np.array(best["psd"], dtype=float).reshape(-1, 2).T
    ax.plot(bw, bf, "o", color="C3", label="best grid")
    ax.set_xlabel("pore width (cells: side of the largest all-pore square containing the cell)")
    ax.set_ylabel("fraction of pore cells")
    ax.set_xticks(widths)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"pore-width distribution, grids within +{summary['tolerance']:g} MAE of the best", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cluster_title(i: int, cluster: dict, grid: np.ndarray) -> str:
    d = cluster["descriptors"]
    return (f"family {i + 1}: {cluster['size']} grid{'s' if cluster['size'] > 1 else ''}\n"
            f"MAE {cluster['error']:.4f}  porosity {d['porosity']['min']:.2f}-{d['porosity']['max']:.2f}\n"
            f"width {d['dominant_width']['min']:.0f}-{d['dominant_width']['max']:.0f}")


def plot_clusters(path, result, summary: dict, *, limit: int = 8, draw_isotherms=None) -> None:
    """Top: the representative grid of each family (best.npy order). Bottom: their DFT
    isotherms against the target (adsorption solid, desorption dashed), drawn by
    ``draw_isotherms(ax, rows, labels)`` when given (measured files: the file's units)."""
    plt = _pyplot()
    clusters = [c for c in summary["clusters"] if c["best_row"] is not None][:limit]
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
    n_t = len(target.values)
    t_ads = target.schedule.branches == ADSORPTION
    ax.plot(target.pressures[t_ads], target.values[t_ads], "o", color="k", ms=4, label="target adsorption")
    if (~t_ads).any():
        ax.plot(target.pressures[~t_ads], target.values[~t_ads], "o", mfc="none", color="k", ms=4,
                label="target desorption")
    full = PressureSchedule(target.schedule.steps)  # the verified curves cover the whole loop
    n = len(result.curves[0]) if len(result.curves) else 0
    pressures = full.pressures[:n]
    ads = (full.branches == ADSORPTION)[:n]
    for i, cluster in enumerate(clusters):
        curve = result.curves[cluster["best_row"]]
        c = f"C{i % 10}"
        ax.plot(pressures[ads], curve[ads], "-", color=c, lw=1.4,
                label=f"family {i + 1} (MAE {float(mae(curve[:n_t], target.values)):.4f})")
        if (~ads).any():
            ax.plot(pressures[~ads], curve[~ads], "--", color=c, lw=1.0)
    ax.set_xlabel("relative pressure (RH)")
    ax.set_ylabel("amount (" + ("fraction of pore cells filled" if target.normalization == "pore"
                                else "per lattice site") + ")")
    ax.set_xlim(0, 1)
    shown = [np.max(target.values)] + [np.max(result.curves[c["best_row"]]) for c in clusters]
    ax.set_ylim(-0.02, min(1.02, 1.1 * float(max(shown)) + 0.02))
    ax.legend(fontsize=7, loc="upper left")
