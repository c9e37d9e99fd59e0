"""Lattice DFT solvers for rank-3 grids and for the reservoir boundary (docs/physics.md).

* ``reference``: plain numpy float64 Jacobi for rank 2 and 3, periodic or reservoir
  boundary: slow, simple, the independent check.
* ``numba3d``: the fast numba solver for rank 3 (float32 with float64 polish, or float64).
* ``boundary``: the reservoir layers and the neighbour table of a lattice.

Both solvers keep the call of the 2-D solvers, ``solve(grids, mus, beta, w_ff, y, *,
dtype, tol, threads) -> (N, P) sums of rho`` over the grid's own cells, with the caller
passing ``w_ff = -2 mu_sat / c``, ``c = 2 * rank``.
"""
