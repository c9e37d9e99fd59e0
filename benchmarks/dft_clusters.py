"""How much could solving each pore cluster on its own save the 2-D kernel? (issue 30)

Pore cells joined only through walls do not interact (a wall's density is 0, its pull a
constant), so a grid's isotherm is exactly the sum of the isotherms of its periodic pore
clusters, each solved alone in a grid of its own (same neighbours, same fixed points,
same branches).  A small cluster then costs only its own box and its own sweeps instead of
the whole grid's.  This script measures, with one thread, on the benchmark's random grids:

* the kernel on the whole grids;
* the largest cluster of every grid alone: the floor of any such split (every other
  cluster free), so ``whole / largest`` is its best possible speed-up;
* the rest of every grid (the grid minus its largest cluster), and every cluster of size
  >= 2 in a grid of its own: what a split actually pays;
* the largest deviation of the summed clusters from the whole grids (the split is exact);
* the sweeps per grid of each arm, in all and at the first adsorption points (the slow ones).

    python benchmarks/dft_clusters.py --n 4000
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from dft import BETA, SETS, W_FF, Y, default_mus
from invtoolkit.core.descriptors import torus_cluster_masks
from invtoolkit_plugins.lattice_dft import _dft_numba


def periodic_clusters(g: np.ndarray):
    """One grid per pore cluster of every grid (``torus_cluster_masks``): (clusters, owner grid, size)."""
    masks = [torus_cluster_masks(x) for x in g]
    owner = np.repeat(np.arange(len(g)), [len(m) for m in masks])
    clusters = np.concatenate(masks)
    return clusters, owner, clusters.reshape(len(clusters), -1).sum(1)


def cpu_seconds(grids, mus) -> tuple[float, np.ndarray]:
    """CPU time of one solve, and the sums."""
    c0 = time.process_time()
    sums = _dft_numba.solve(grids, mus, BETA, W_FF, Y)
    return time.process_time() - c0, sums


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000, help="random 20x20 grids (half pores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    g, mus = SETS["a:random"](args.n, args.seed), default_mus()
    _dft_numba.solve(g[:64], mus, BETA, W_FF, Y)                       # JIT warm-up
    clusters, owner, size = periodic_clusters(g)
    first = np.lexsort((-size, owner))
    first = first[np.r_[True, np.diff(owner[first]) != 0]]             # largest per grid
    rest = g & ~clusters[first]
    print(f"# {args.n} random 20x20 grids, seed {args.seed}, one thread, best CPU time of"
          f" {args.repeat} interleaved runs: {len(clusters) / args.n:.1f} clusters per grid,"
          f" {np.mean(size == 1) * 100:.0f}% of them single cells")
    rows = {"whole grids": g, "largest cluster alone": clusters[first], "rest of each grid": rest,
            "clusters >= 2 cells, each alone": clusters[size > 1]}
    best, sums, sweeps = dict.fromkeys(rows, float("inf")), {}, {}
    for _ in range(args.repeat):              # interleaved: a disturbance hits every arm alike
        for label, grids in rows.items():
            t, sums[label] = cpu_seconds(grids, mus)
            best[label] = min(best[label], t)
            sweeps[label] = _dft_numba.last_stats()["sweeps_per_point"]   # per grid, active lanes
    t_whole = best["whole grids"]
    for label, grids in rows.items():
        print(f"{label:<34}{len(grids):>8} grids {best[label]:>7.2f} CPU s   whole / this"
              f" {t_whole / best[label]:.2f}   sweeps per grid {sweeps[label].sum():.0f},"
              f" points 1-4: {np.round(sweeps[label][1:5]).astype(int).tolist()}")
    t, alone = cpu_seconds(clusters, mus)
    summed = np.zeros((len(g), alone.shape[1]))
    np.add.at(summed, owner, alone)
    err = (np.abs(summed - sums["whole grids"]) / g.reshape(len(g), -1).sum(1)[:, None]).max()
    print(f"{'every cluster alone':<34}{len(clusters):>8} grids {t:>7.2f} CPU s   whole / this"
          f" {t_whole / t:.2f}; summed vs whole: max {err:.1e} per pore cell")


if __name__ == "__main__":
    main()
