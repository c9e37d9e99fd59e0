"""isotherms.png of a measured fit: every file's points and its fitted model, in its units."""

from __future__ import annotations

import numpy as np

from invtoolkit.core.pressure import ADSORPTION

from .answer import MaterialAnswer


def draw_file(ax, answer: MaterialAnswer, k: int, rows, labels, *, log_pressure: bool = False) -> None:
    """On ``ax``: file k's measured points and capacity x the DFT curve of each best.npy row."""
    objective = answer.fit.objective
    m, ff = objective.files[k], answer.files[k]
    ads = m.branches == ADSORPTION
    ax.plot(m.pressures[ads], m.amounts[ads], "o", color="k", ms=4, label="measured adsorption")
    if (~ads).any():
        ax.plot(m.pressures[~ads], m.amounts[~ads], "o", mfc="none", color="k", ms=4, label="measured desorption")
    parts = objective.split(answer.curves)[k]
    for j, (i, label) in enumerate(zip(rows, labels)):
        model = answer.capacities[i, k] * parts[i]
        if not np.all(np.isfinite(model)):
            continue
        ax.plot(m.pressures[ads], model[ads], "-", color=f"C{j % 10}", lw=1.5,
                label=f"{label} (y {ff.y:.3g}, capacity {answer.capacities[i, k]:.4g})")
        if (~ads).any():
            ax.plot(m.pressures[~ads], model[~ads], "--", color=f"C{j % 10}", lw=1.2)
    if log_pressure and (m.pressures > 0).all():
        ax.set_xscale("log")
    else:
        ax.set_xlim(0, 1)
    ax.set_xlabel("relative pressure p/p0")
    ax.set_ylabel(f"amount adsorbed ({m.unit or 'as measured'})")
    ax.legend(fontsize=7, loc="lower right")


def plot_material(path, answer: MaterialAnswer, *, log_pressure: bool = False) -> None:
    """One panel per file: its points and the best structure's fitted isotherm."""
    from invtoolkit.results.plotting import pyplot

    plt = pyplot()
    k = len(answer.files)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.3 * rows), squeeze=False)
    for ax in axes.flat[k:]:
        ax.axis("off")
    for i, (ax, ff) in enumerate(zip(axes.flat, answer.files)):
        draw_file(ax, answer, i, [0], ["best grid"], log_pressure=log_pressure)
        volume = "" if ff.pore_volume is None else f", pore volume {ff.pore_volume:.3g} cm3/g"
        ax.set_title(f"{ff.measured.fluid.name}, {ff.measured.T:.4g} K: relative MAE {ff.relative_mae:.4f}{volume}",
                     fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
