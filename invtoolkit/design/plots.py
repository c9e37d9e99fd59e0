"""Plots of a design result: isotherms and grids of the best designs, the Pareto front."""

from __future__ import annotations

import numpy as np

from invtoolkit.core.fileio import atomic_path


def _figure(path, fig) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _pyplot():
    from invtoolkit.results.plotting import pyplot

    return pyplot()


def _feasible(result, i: int) -> bool:
    feasible = result.best.feasible
    return bool(feasible[i]) if i < len(feasible) else False


def isotherms(path, result, show: int = 4) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    p = np.asarray(result.pressures if result.pressures is not None else [], dtype=float)
    n_ads = int(np.argmax(p)) + 1 if len(p) else 0  # adsorption runs up to the top pressure
    for i, curve in enumerate((result.curves if result.curves is not None else [])[:show]):
        curve = np.asarray(curve, dtype=float)[:len(p)]
        tag = "feasible" if _feasible(result, i) else "infeasible"
        line, = ax.plot(p[:min(n_ads, len(curve))], curve[:n_ads], label=f"#{i + 1} ({tag})")
        if len(curve) > n_ads:
            ax.plot(p[n_ads - 1:len(curve)], curve[n_ads - 1:], "--", color=line.get_color())
    for e in result.spec.constraints:  # shade RH windows of step constraints
        if e.prop.name == "step":
            lo, hi = max(e.min, 0), min(e.max, 1)
            if np.isfinite(lo) and np.isfinite(hi) and lo < hi:
                ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set(xlabel="relative pressure p/p0", ylabel=f"filled fraction ({result.spec.normalization})",
           title="best designs (solid: adsorption, dashed: desorption)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no design to show", ha="center", va="center", transform=ax.transAxes)
    _figure(path, fig)


def grids(path, result, columns: int = 4, show: int = 8) -> None:
    plt = _pyplot()
    g = result.best.grids[:show]
    columns = max(int(columns), 1)
    rows = max(1, -(-len(g) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, grid in enumerate(g):
        ax = axes.ravel()[i]
        ax.imshow(grid if grid.ndim == 2 else grid[grid.shape[0] // 2], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"#{i + 1}" + ("" if _feasible(result, i) else " (infeasible)"), fontsize=9)
    _figure(path, fig)


def front(path, result) -> None:
    """First two objectives of the verified front (one objective: value against rank)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    objectives = result.spec.objectives
    values = np.asarray(result.pareto.values, dtype=float)
    values = (values[:, None] if values.ndim == 1 else values)[:, len(result.spec.constraints):]
    if len(objectives) >= 2 and len(values) and values.shape[1] >= 2:
        ax.plot(values[:, 0], values[:, 1], "o-", ms=4)
        ax.set(xlabel=f"{objectives[0].label} ({objectives[0].goal})",
               ylabel=f"{objectives[1].label} ({objectives[1].goal})")
    elif len(objectives) and len(values) and values.shape[1]:
        ax.plot(np.arange(1, len(values) + 1), values[:, 0], "o")
        ax.set(xlabel="design", ylabel=f"{objectives[0].label} ({objectives[0].goal})")
    ax.set_title(f"Pareto front: {len(values)} feasible non-dominated designs")
    _figure(path, fig)
