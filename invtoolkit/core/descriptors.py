"""Structure descriptors of periodic pore grids (2-D (H,W) or 3-D (D,H,W)).

What a practitioner reads from an isotherm, computed exactly on the lattice:

* ``porosity``: the pore fraction;
* ``psd``: the pore-width distribution ``[[width, fraction], ...]``; a pore cell's width is
  the side of the largest all-pore square (cube in 3-D) of the periodic grid containing
  it, i.e. the largest k for which the cell survives a morphological opening by a k-box;
* ``dominant_width`` (the width holding most pore cells, ties: the larger), ``mean_width``
  (pore-cell average) and ``max_width``;
* ``surface``: pore-wall contacts (nearest-neighbour pairs) per pore cell;
* ``n_pores``: face-connected pore clusters on the torus; ``largest_pore_fraction``: the
  share of pore cells in the largest one;
* ``percolating``: some cluster connects to its own periodic image (it spans the cell);
  ``connectivity``: the number of independent directions it does so in (0 = isolated
  pores, 1 = channels or slits, 2 = a 2-D network, 3 = a 3-D network).

Every axis is periodic. Widths are capped at the smallest side: an all-pore axis wraps
onto itself (an all-pore grid has width = the smallest side).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy import ndimage

__all__ = ["pore_widths", "batch_pore_widths", "batch_width_shares", "dominant_widths", "torus_cluster_masks", "grid_descriptors", "batch_descriptors", "DESCRIPTOR_NAMES"]

# Scalar descriptors (the ones an ensemble summarises by min, max, mean).
DESCRIPTOR_NAMES = ("porosity", "dominant_width", "mean_width", "max_width", "surface", "n_pores",
                    "largest_pore_fraction", "percolating", "connectivity")


def _check_rank(grids: np.ndarray, rank: int) -> None:
    if rank not in (2, 3) or grids.ndim != rank + 1:
        raise ValueError(f"expected a batch of rank-{rank} grids (N, {'D,' if rank == 3 else ''}H,W), "
                         f"got shape {grids.shape}")


def _erode_axis(mask: np.ndarray, k: int, axis: int) -> np.ndarray:
    """out[x] = all of mask[x], mask[x+1], ..., mask[x+k-1] along ``axis`` (periodic)."""
    out = mask.copy()
    for d in range(1, k):
        out &= np.roll(mask, -d, axis=axis)
    return out


def _dilate_axis(mask: np.ndarray, k: int, axis: int) -> np.ndarray:
    """out[x] = any of mask[x], mask[x-1], ..., mask[x-k+1] along ``axis`` (periodic)."""
    out = mask.copy()
    for d in range(1, k):
        out |= np.roll(mask, d, axis=axis)
    return out


def batch_pore_widths(grids: np.ndarray, rank: int | None = None) -> np.ndarray:
    """Width of every cell of a batch (N, *shape): 0 on walls, else the largest k-box.

    The k-box opening (erosion then dilation by the same box, separable and periodic) is
    the union of all all-pore k-boxes; openings shrink as k grows, so a cell's width is
    the number of k whose opening contains it.
    """
    grids = np.asarray(grids).astype(bool)
    rank = grids.ndim - 1 if rank is None else rank
    _check_rank(grids, rank)
    axes = range(1, rank + 1)
    widths = np.zeros(grids.shape, np.int32)
    for k in range(1, min(grids.shape[1:]) + 1):
        anchors = grids
        for ax in axes:
            anchors = _erode_axis(anchors, k, ax)  # corner of an all-pore k-box
        if not anchors.any():
            break
        opened = anchors
        for ax in axes:
            opened = _dilate_axis(opened, k, ax)
        widths += opened
    return widths


def batch_width_shares(grids: np.ndarray, rank: int | None = None) -> np.ndarray:
    """(N, side + 1): share of each grid's pore cells at each width (column 0 is empty;
    all zeros for an all-wall grid)."""
    grids = np.asarray(grids)
    widths = batch_pore_widths(grids, rank).reshape(len(grids), -1)
    side = min(grids.shape[1:])
    counts = np.stack([np.bincount(w, minlength=side + 1)[:side + 1] for w in widths]) if len(grids) else \
        np.zeros((0, side + 1), np.int64)
    counts[:, 0] = 0
    pores = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(pores, 1)


def dominant_widths(shares: np.ndarray) -> np.ndarray:
    """The width holding most pore cells per row of :func:`batch_width_shares` (ties: the
    larger, as ``dominant_width``); 0 for an all-wall grid."""
    last = shares.shape[1] - 1 - np.argmax(shares[:, ::-1], axis=1)
    return np.where(shares.max(axis=1) > 0, last, 0)


def pore_widths(grid: np.ndarray) -> np.ndarray:
    """Width of every cell of one grid (any rank): 0 on walls."""
    grid = np.asarray(grid)
    return batch_pore_widths(grid[None], grid.ndim)[0]


def _surface(grid: np.ndarray, n_pore: int) -> float:
    """Pore-wall nearest-neighbour contacts per pore cell (periodic)."""
    pore = grid.astype(bool)
    contacts = 0
    for ax in range(grid.ndim):
        for shift in (1, -1):
            contacts += int((pore & ~np.roll(pore, shift, axis=ax)).sum())
    return contacts / n_pore


def _cluster_graph(grid: np.ndarray):
    """Open (non-periodic) face-connected labels and the edges joining them across
    each periodic face: (labels, count, [(a, b, axis), ...]) with a on the high side."""
    labels, count = ndimage.label(grid.astype(bool))
    edges = set()
    for ax in range(grid.ndim):
        high = np.take(labels, -1, axis=ax)
        low = np.take(labels, 0, axis=ax)
        both = (high > 0) & (low > 0)
        for a, b in zip(high[both].tolist(), low[both].tolist()):
            edges.add((a, b, ax))
    return labels, count, sorted(edges)


def _torus_clusters(grid: np.ndarray):
    """Per torus cluster: its open labels and the rank of its winding vectors.

    Walks the graph of open clusters; crossing face ``axis`` from the high side to the
    low side shifts the unwrapped position by +1 along it. An edge that closes a cycle
    with a non-zero total shift is a winding: the cluster meets its periodic image.
    """
    labels, count, edges = _cluster_graph(grid)
    rank = grid.ndim
    adjacency: dict[int, list] = {i: [] for i in range(1, count + 1)}
    for a, b, ax in edges:
        step = np.zeros(rank, np.int64)
        step[ax] = 1
        adjacency[a].append((b, step))
        adjacency[b].append((a, -step))
    offset: dict[int, np.ndarray] = {}
    clusters = []
    for root in range(1, count + 1):
        if root in offset:
            continue
        offset[root] = np.zeros(rank, np.int64)
        members, windings, queue = [root], [], deque([root])
        while queue:
            u = queue.popleft()
            for v, step in adjacency[u]:
                want = offset[u] + step
                if v not in offset:
                    offset[v] = want
                    members.append(v)
                    queue.append(v)
                elif np.any(offset[v] != want):
                    windings.append(want - offset[v])
        dims = int(np.linalg.matrix_rank(np.array(windings))) if windings else 0
        clusters.append((members, dims))
    return labels, clusters


def torus_cluster_masks(grid: np.ndarray) -> np.ndarray:
    """One 0/1 mask per pore cluster of ``grid`` on its torus (face neighbours, any rank):
    (clusters, *grid.shape) uint8; the masks add up to the grid's pores."""
    labels, clusters = _torus_clusters(grid)
    masks = [np.isin(labels, members) for members, _ in clusters]
    return np.array(masks, dtype=np.uint8).reshape(len(masks), *grid.shape)


def _connectivity(grid: np.ndarray, n_pore: int) -> dict:
    labels, clusters = _torus_clusters(grid)
    sizes = np.bincount(labels.ravel(), minlength=1)
    cluster_sizes = [int(sizes[m].sum()) for m, _ in clusters]
    dims = max((d for _, d in clusters), default=0)
    return {
        "n_pores": len(clusters),
        "largest_pore_fraction": max(cluster_sizes, default=0) / n_pore,
        "percolating": bool(dims > 0),
        "connectivity": dims,
    }


def _width_summary(widths: np.ndarray, pore: np.ndarray) -> dict:
    values, counts = np.unique(widths[pore], return_counts=True)
    n_pore = counts.sum()
    dominant = values[counts == counts.max()].max()  # ties: the larger width
    return {
        "psd": [[int(v), float(c / n_pore)] for v, c in zip(values, counts)],
        "dominant_width": int(dominant),
        "mean_width": float((values * counts).sum() / n_pore),
        "max_width": int(values.max()),
    }


def _describe(grid: np.ndarray, widths: np.ndarray) -> dict:
    pore = grid.astype(bool)
    n_pore = int(pore.sum())
    if n_pore == 0:
        raise ValueError("a grid with no pore cell has no descriptors")
    out = {"porosity": n_pore / pore.size}
    out.update(_width_summary(widths, pore))
    out["surface"] = _surface(grid, n_pore)
    out.update(_connectivity(grid, n_pore))
    return out


def grid_descriptors(grid: np.ndarray) -> dict:
    """All descriptors of one grid of any rank, JSON-ready (see the module docstring)."""
    grid = np.asarray(grid)
    return _describe(grid, pore_widths(grid))


def batch_descriptors(grids: np.ndarray, rank: int | None = None) -> list[dict]:
    """Descriptors of every grid of a batch (N, *shape); widths are computed batched."""
    grids = np.asarray(grids)
    widths = batch_pore_widths(grids, rank)
    return [_describe(g, w) for g, w in zip(grids, widths)]
