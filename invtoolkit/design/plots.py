"""Plots of a design result: isotherms and grids of the best designs, the Pareto front."""

from __future__ import annotations

import numpy as np

from invtoolkit.fileio import atomic_path


def _figure(path, fig) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def isotherms(path, result, show: int = 4) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    p, n_ads = result.pressures, len(result.pressures) // 2 + 1
    for i, curve in enumerate((result.curves if result.curves is not None else [])[:show]):
        tag = "feasible" if result.best.feasible[i] else "infeasible"
        line, = ax.plot(p[:n_ads], curve[:n_ads], label=f"#{i + 1} ({tag})")
        if len(curve) > n_ads:
            ax.plot(p[n_ads - 1:], curve[n_ads - 1:], "--", color=line.get_color())
    for e in result.spec.constraints:  # shade RH windows of step constraints
        if e.prop.name == "step":
            ax.axvspan(max(e.min, 0), min(e.max, 1), color="0.9", zorder=0)
    ax.set(xlabel="relative pressure p/p0", ylabel=f"filled fraction ({result.spec.normalization})",
           title="best designs (solid: adsorption, dashed: desorption)")
    ax.legend(fontsize=8)
    _figure(path, fig)


def grids(path, result, columns: int = 4, show: int = 8) -> None:
    plt = _pyplot()
    g = result.best.grids[:show]
    rows = max(1, -(-len(g) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, grid in enumerate(g):
        ax = axes.ravel()[i]
        ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1)  # pores light, walls dark
        ax.set_title(f"#{i + 1}" + ("" if result.best.feasible[i] else " (infeasible)"), fontsize=9)
    _figure(path, fig)


def front(path, result) -> None:
    """First two objectives of the verified front (one objective: value against rank)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    objectives = result.spec.objectives
    values = result.pareto.values[:, len(result.spec.constraints):]
    if len(objectives) >= 2 and len(values):
        ax.plot(values[:, 0], values[:, 1], "o-", ms=4)
        ax.set(xlabel=f"{objectives[0].label} ({objectives[0].goal})",
               ylabel=f"{objectives[1].label} ({objectives[1].goal})")
    elif len(values):
        ax.plot(np.arange(1, len(values) + 1), values[:, 0], "o")
        ax.set(xlabel="design", ylabel=f"{objectives[0].label} ({objectives[0].goal})")
    ax.set_title(f"Pareto front: {len(values)} feasible non-dominated designs")
    _figure(path, fig)
