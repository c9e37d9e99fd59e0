"""Plain float64 Jacobi solver of the lattice mean-field DFT: slow, simple, exact.

Same signature as the fast solvers so the plugin can swap them.
"""

from __future__ import annotations

import numpy as np


def neighbour_sum(a: np.ndarray) -> np.ndarray:
    """Sum of the 4 periodic neighbours over the last two axes."""
    return np.roll(a, 1, -1) + np.roll(a, -1, -1) + np.roll(a, 1, -2) + np.roll(a, -1, -2)


def solve(grids, mus, beta, w_ff, y, *, dtype="float64", tol=None, threads=None, max_sweeps=10_000_000):
    """Return float64 (N,P): sum of rho at every chemical potential of ``mus``.

    Each point starts from the previous converged state (the first from rho = s);
    Jacobi iteration of the monotone map from there reaches the right branch.
    Stops when the step and the geometric tail bound d*r/(1-r) are both below ``tol``.
    """
    tol = 1e-11 if tol is None else tol
    s = np.asarray(grids, dtype=np.float64)
    n = len(s)
    wall = y * neighbour_sum(1.0 - s)  # constant wall term per cell
    rho = s.copy()
    out = np.empty((n, len(mus)))
    with np.errstate(over="ignore"):
        for p, mu in enumerate(mus):
            active = np.arange(n)
            prev = np.full(n, np.inf)
            sweeps = 0
            while active.size and sweeps < max_sweeps:
                r = rho[active]
                field = beta * (mu + w_ff * (neighbour_sum(r) + wall[active]))
                new = s[active] / (1.0 + np.exp(-field))
                d = np.abs(new - r).reshape(len(active), -1).max(1)
                rho[active] = new
                ratio = d / prev[active]
                tail = np.where(ratio < 1, d * ratio / np.maximum(1 - ratio, 1e-300), np.inf)
                done = (d == 0) | ((d < tol) & (tail < tol))
                prev[active] = d
                active = active[~done]
                sweeps += 1
            out[:, p] = rho.reshape(n, -1).sum(1)
    return out
