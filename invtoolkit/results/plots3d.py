"""Pictures of 3-D grids: three orthogonal middle slices and a projection of the pore space.

A (D, H, W) grid cannot be shown as one image. Each grid gets one row of four panels:
the middle slices across each axis (``d = D//2``, ``h = H//2``, ``w = W//2``; pores
light, walls dark) and the projection along the depth axis: the fraction of pore cells
on every line of sight through the grid (1 = a straight open channel, 0 = solid
throughout), which shows channels and pores that the slices miss.
"""

from __future__ import annotations

import numpy as np

__all__ = ["views", "plot_grids_3d"]

TITLES = ("slice d={}", "slice h={}", "slice w={}", "pore fraction along d")


def views(grid: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(title, image) of the three orthogonal middle slices and the depth projection."""
    g = np.asarray(grid)
    if g.ndim != 3:
        raise ValueError(f"views need one (D,H,W) grid, got shape {g.shape}")
    d, h, w = (n // 2 for n in g.shape)
    images = [g[d], g[:, h, :], g[:, :, w], g.mean(0)]
    titles = [TITLES[0].format(d), TITLES[1].format(h), TITLES[2].format(w), TITLES[3]]
    return list(zip(titles, images))


def plot_grids_3d(path, grids: np.ndarray, errors, *, max_rows: int = 8) -> None:
    """One row per grid (at most ``max_rows``): its views, titled with MAE and porosity."""
    from invtoolkit.results.plotting import fmt, pyplot

    plt = pyplot()
    grids = np.asarray(grids)[:max_rows]
    errors = np.full(len(grids), np.nan) if errors is None else np.asarray(errors, dtype=float).ravel()
    errors = np.concatenate([errors, np.full(max(len(grids) - len(errors), 0), np.nan)])  # one per grid
    rows = max(len(grids), 1)
    fig, axes = plt.subplots(rows, 4, figsize=(9.6, 2.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (grid, err) in enumerate(zip(grids, errors)):
        panels = views(grid)
        for j, (title, image) in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(image, cmap="gray" if j < 3 else "viridis", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(title, fontsize=8)
        axes[i, 0].set_title(f"#{i + 1} MAE {fmt(err, '.4f')}, porosity {grid.mean():.2f}\n{panels[0][0]}",
                             fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
