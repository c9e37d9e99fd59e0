"""Plain float64 Jacobi solver of the lattice mean-field DFT for rank 2 and 3: the check.

Slow and simple on purpose: whole-array numpy sweeps (``np.roll`` on periodic axes, an
edge copy on a mirror face), no tables, no colouring, no float32, so that it shares no
code with the fast solvers except the reservoir padding (``boundary.extend``).  Same call
as the fast solvers; ``boundary`` adds the reservoir of ``boundary.py``.
"""
from __future__ import annotations

import numpy as np

from .boundary import PERIODIC, Boundary, extend

__all__ = ["solve", "neighbour_sum"]


def _shift_sum(a: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """a[i-1] + a[i+1] along ``axis``: periodic, or mirrored at both faces."""
    if periodic:
        return np.roll(a, 1, axis) + np.roll(a, -1, axis)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 1)
    p = np.pad(a, pad, mode="edge")   # the cell beyond a mirror face is the face cell
    n = a.shape[axis]
    return np.take(p, range(0, n), axis) + np.take(p, range(2, n + 2), axis)


def neighbour_sum(a: np.ndarray, boundary: Boundary = PERIODIC) -> np.ndarray:
    """Sum over the 2*rank nearest neighbours of every cell of (N, *shape) arrays."""
    total = np.zeros_like(a)
    for ax in range(1, a.ndim):
        periodic = boundary.periodic or ax - 1 != boundary.axis
        total += _shift_sum(a, ax, periodic)
    return total


def _own_cells(boundary: Boundary, shape) -> tuple:
    """Index of the grid's own cells inside the extended lattice."""
    if boundary.periodic:
        return (slice(None),)
    sl = [slice(None)] * (len(shape) + 1)
    start = boundary.layers if boundary.far == "reservoir" else 0
    sl[1 + boundary.axis] = slice(start, start + shape[boundary.axis])
    return tuple(sl)


def solve(grids, mus, beta, w_ff, y, *, dtype="float64", tol=None, threads=None,
          boundary: Boundary = PERIODIC, max_sweeps=2_000_000):
    """Return float64 (N,P): sum of rho over each grid's own cells at every ``mus``.

    Each point starts from the previous converged state (the first from rho = s);
    Jacobi sweeps of the monotone map from there reach the right branch.  A grid stops
    at a point when, on two sweeps in a row, the max-norm step d and the geometric tail
    d*r/(1-r) (r = d/d_prev) are both below ``tol`` (default 1e-12), or a step is 0.
    """
    tol = 1e-12 if tol is None else float(tol)
    g = np.asarray(grids)
    s = extend((g != 0).astype(np.float64), boundary)
    n = len(s)
    wall = y * neighbour_sum(1.0 - s, boundary)  # constant wall term per cell
    rho = s.copy()
    own = _own_cells(boundary, g.shape[1:])
    out = np.empty((n, len(mus)))
    for p, mu in enumerate(np.asarray(mus, dtype=np.float64)):
        active = np.arange(n)
        dprev = np.full(n, np.inf)
        okprev = np.zeros(n, dtype=bool)
        for _ in range(max_sweeps):
            if not active.size:
                break
            r = rho[active]
            x = beta * (mu + w_ff * (neighbour_sum(r, boundary) + wall[active]))
            new = s[active] * (0.5 * (1.0 + np.tanh(0.5 * x)))  # sigmoid without overflow
            d = np.abs(new - r).reshape(len(active), -1).max(1)
            rho[active] = new
            ratio = d / dprev[active]
            ok = (d <= tol) & (ratio < 1) & (d * ratio <= tol * (1 - ratio))
            done = (d == 0) | (ok & okprev[active])
            dprev[active] = d
            okprev[active] = ok
            active = active[~done]
        out[:, p] = rho[own].reshape(n, -1).sum(1)
    return out
