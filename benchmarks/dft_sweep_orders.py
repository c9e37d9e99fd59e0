"""Do other sweep orders need fewer sweeps than red-black Gauss-Seidel? (issue 30)

A plain scalar float64 solver, written here, runs the 81-point loop on random 20x20
grids in four orders: red-black, lexicographic, symmetric (forward then backward,
counted as two sweeps) and Jacobi. It stops each point by an oracle: as soon as the sum
is within ``--tol`` per pore cell of the exact value (the benchmark's float64 Jacobi
reference, tol 1e-11). So the counts are the fewest sweeps each order needs, with no
stopping rule's overhead. Compare them with the kernel's lane-sweeps per grid
(``_dft_numba.last_stats()``), which are printed last.

    python benchmarks/dft_sweep_orders.py --n 100
"""
from __future__ import annotations

import argparse
import math

import numpy as np
from numba import njit

from dft import BETA, SETS, W_FF, Y, default_mus, reference_jacobi
from invtoolkit_plugins.lattice_dft import _dft_numba

ORDERS = {"red-black": 0, "lexicographic": 1, "symmetric": 2, "jacobi": 3}


@njit(cache=True)
def _target(rho, s, i, j, bmu, K, KY):
    """The map's value at pore cell (i, j) from the current neighbours."""
    H, W = s.shape
    up, dn, lf, rt = ((i - 1) % H, j), ((i + 1) % H, j), (i, (j - 1) % W), (i, (j + 1) % W)
    near = rho[up] + rho[dn] + rho[lf] + rho[rt]
    solid = 4 - (s[up] + s[dn] + s[lf] + s[rt])
    return 1.0 / (1.0 + math.exp(-(bmu + K * near + KY * solid)))


@njit(cache=True)
def _sweep(rho, s, bmu, K, KY, order):
    """One sweep in the given order (symmetric: both halves)."""
    H, W = s.shape
    if order == 3:
        new = rho.copy()
        for i in range(H):
            for j in range(W):
                if s[i, j]:
                    new[i, j] = _target(rho, s, i, j, bmu, K, KY)
        rho[:] = new
        return
    for half in range(2 if order != 1 else 1):
        for q in range(H * W):
            if order == 0:                          # colour half, row-major within it
                i, j = q // W, q % W
                if (i + j) % 2 != half:
                    continue
            else:                                   # forward, then (symmetric) backward
                q = q if half == 0 else H * W - 1 - q
                i, j = q // W, q % W
            if s[i, j]:
                rho[i, j] = _target(rho, s, i, j, bmu, K, KY)


@njit(cache=True)
def oracle_sweeps(s, bmus, K, KY, order, exact, tol):
    """Sweeps per point until |sum - exact| <= tol * pores, each point from the last state."""
    rho = s.astype(np.float64)
    bound = tol * s.sum()
    counts = np.zeros(bmus.shape[0], dtype=np.int64)
    for p in range(bmus.shape[0]):
        while abs(rho.sum() - exact[p]) > bound and counts[p] < 100_000:
            _sweep(rho, s, bmus[p], K, KY, order)
            counts[p] += 2 if order == 2 else 1
    return counts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="random 20x20 grids (half pores)")
    ap.add_argument("--tol", type=float, default=1e-6, help="oracle stop, per pore cell")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    g, mus = SETS["a:random"](args.n, args.seed), default_mus()
    exact, _ = reference_jacobi(g, mus)
    K = BETA * W_FF
    print(f"# {args.n} random 20x20 grids, seed {args.seed}; sweeps to within {args.tol:g} per"
          " pore cell of the exact sums (oracle stop); mean per grid, and at points 1-6")
    for name, order in ORDERS.items():
        c = np.array([oracle_sweeps(g[n], BETA * mus, K, K * Y, order, exact[n], args.tol)
                      for n in range(len(g))])
        print(f"{name:<15}{c.sum(1).mean():>8.1f}   {np.round(c.mean(0)[1:7], 1)}")
    _dft_numba.solve(g, mus, BETA, W_FF, Y)
    stats = _dft_numba.last_stats()
    print(f"{'kernel':<15}{stats['sweeps_per_point'].sum():>8.1f}   "
          f"{np.round(stats['sweeps_per_point'][1:7], 1)}   (float32 red-black, its own stopping rule)")


if __name__ == "__main__":
    main()
