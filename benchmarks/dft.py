"""Benchmark of the fast lattice-DFT kernel against a plain float64 reference.

Runs, in one process and side by side:

* the fast numba solver (``invtoolkit_plugins.lattice_dft._dft_numba.solve``, float32 default and
  float64 exact mode), and
* a plain, independent numpy float64 Jacobi solver of the same model (written here,
  vectorised over grids, per-grid masking, tight stopping rule on the estimated
  remaining error),

on (a) random 20x20 grids with half the cells pores and (b) grids with large pores
that condense late (square pores, slits of width 2..10); prints grids/s of each,
the speed ratio, and the max error per point of the pore-normalised isotherm.
Then the cost of the fast solver versus grid size (20, 40, 80).

The reference is slow, so it runs on a smaller number of grids (``--n-ref``); the
errors are measured on those grids, the fast solver's speed on ``--n`` grids.

    python benchmarks/dft.py --n 20000 --seed 0
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

# Import only through the package name: numba's on-disk cache stores the module name,
# so importing the same file under another name (sys.path hacks) breaks cache loads.
from invtoolkit_plugins.lattice_dft import _dft_numba

KB = 0.0019872041
T = 298.0
TC = 647.0
Y = 1.5
BETA = 1.0 / (KB * T)
MU_SAT = -2.0 * KB * TC
W_FF = -2.0 * MU_SAT / 4.0


def default_mus(npts: int = 41) -> np.ndarray:
    """Adsorption RH = 0..1 in npts steps, then desorption back to 0 (2*npts-1 points)."""
    rh = np.linspace(0.0, 1.0, npts)
    rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        mu = MU_SAT + KB * T * np.log(rh)
    mu[rh == 0] = -90.0
    return mu


# ----------------------------------------------------------------- reference
def _nsum(a: np.ndarray) -> np.ndarray:
    return (np.roll(a, 1, -2) + np.roll(a, -1, -2)) + (np.roll(a, 1, -1) + np.roll(a, -1, -1))


def reference_jacobi(grids, mus, beta=BETA, w_ff=W_FF, y=Y, tol=1e-11, max_iter=10_000_000):
    """Plain float64 Jacobi; returns (N,P) sums of rho and the total iteration count.

    Stops a grid when the max-norm step d and the geometric tail d*r/(1-r)
    (r = d/d_prev) are below tol on two consecutive iterations, or when a step
    is exactly zero.
    """
    s = np.asarray(grids, dtype=np.float64)
    N = s.shape[0]
    wall = y * _nsum(1.0 - s)
    rho = s.copy()
    out = np.zeros((N, len(mus)))
    iters = 0
    for p, mu in enumerate(mus):
        act = np.arange(N)
        dprev = np.full(N, np.inf)
        okprev = np.zeros(N, dtype=bool)
        k = 0
        while act.size:
            r_a = rho[act]
            x = beta * (mu + w_ff * (_nsum(r_a) + wall[act]))
            new = s[act] * (0.5 * (1.0 + np.tanh(0.5 * x)))
            d = np.abs(new - r_a).reshape(act.size, -1).max(1)
            rho[act] = new
            k += 1
            iters += act.size
            r = d / dprev[act]
            ok = (d <= tol) & (r < 1) & (d * r <= tol * (1 - r))
            done = (ok & okprev[act]) | (d == 0) | (k >= max_iter)
            dprev[act] = d
            okprev[act] = ok
            act = act[~done]
        out[:, p] = rho.reshape(N, -1).sum(1)
    return out, iters


# ----------------------------------------------------------------- grid sets
def random_grids(n, size=20, p=0.5, seed=0):
    rng = np.random.default_rng(seed)
    g = (rng.random((n, size, size)) < p).astype(np.uint8)
    g[g.reshape(n, -1).sum(1) == 0, 0, 0] = 1
    return g


def large_pore_grids(n, size=20, seed=0):
    """Square pores 6..16, slits of width 2..10, and rectangles, randomly shifted."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), dtype=np.uint8)
    for i in range(n):
        kind = i % 3
        g = np.zeros((size, size), dtype=np.uint8)
        if kind == 0:  # square pore
            a = int(rng.choice([6, 8, 10, 12, 14, 16]))
            g[:a, :a] = 1
        elif kind == 1:  # slit
            w = int(rng.integers(2, 11))
            g[:w, :] = 1
        else:  # rectangle plus some random pore noise in the wall
            a, b = int(rng.integers(4, 17)), int(rng.integers(4, 17))
            g[:a, :b] = 1
            g |= (rng.random((size, size)) < 0.1).astype(np.uint8)
        g = np.roll(g, (int(rng.integers(size)), int(rng.integers(size))), (0, 1))
        if rng.random() < 0.5:
            g = g.T.copy()
        out[i] = g
    return out


_cpu = {"last": 0.0}


def _timeit(f, *a, **k):
    """Wall time; the process CPU time goes to _cpu['last'] (robust on a shared box)."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = f(*a, **k)
    _cpu["last"] = time.process_time() - c0
    return r, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="grids per set for the fast solver")
    ap.add_argument("--n-ref", type=int, default=200, help="grids per set for the slow reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-sizes", action="store_true", help="skip the grid-size scan")
    args = ap.parse_args(argv)

    mus = default_mus()
    kw = dict(beta=BETA, w_ff=W_FF, y=Y, threads=args.threads)
    # warm up the JIT (and the numba cache) before timing
    warm = random_grids(40, 7, seed=1)
    for dt in ("float32", "float64"):
        _dft_numba.solve(warm, mus, **kw, dtype=dt)
    print(f"# lattice DFT benchmark: {len(mus)} points per grid, seed {args.seed}, "
          f"threads {args.threads or 'all'}, {os.cpu_count()} CPUs")
    print(f"# reference = numpy float64 Jacobi, tol 1e-11, on n_ref={args.n_ref} grids "
          f"per set (smaller n: it is slow); fast solver timed on n={args.n}")
    print("# max err: max over grids and points of |sum - ref| / pore count (ref = the reference's")
    print("# grids); sweeps/grid: lane-sweeps of the main pass per grid; polish: float64 lane-sweeps")
    print("# per grid re-converging ill-conditioned float32 points; pol/grid: such points per grid")
    print("# grids/s: wall clock; grids/cpu-s: per CPU-second of this process (all threads)")
    print(f"{'set':<10}{'solver':<18}{'n':>7}{'grids/s':>12}{'grids/cpu-s':>12}{'x ref':>9}{'max err':>11}{'sweeps/grid':>13}"
          f"{'polish':>9}{'pol/grid':>10}")
    sets = {
        "a:random": lambda n, seed: random_grids(n, 20, 0.5, seed),
        "b:large": lambda n, seed: large_pore_grids(n, 20, seed),
    }
    for name, make in sets.items():
        gref = make(args.n_ref, args.seed)
        npore = gref.reshape(len(gref), -1).sum(1)[:, None]
        (ref, _), t_ref = _timeit(reference_jacobi, gref, mus)
        ref_rate = len(gref) / t_ref
        print(f"{name:<10}{'reference f64':<18}{len(gref):>7}{ref_rate:>12.1f}"
              f"{len(gref) / _cpu['last']:>12.1f}{1.0:>9.2f}{'-':>11}")
        gfast = make(args.n, args.seed + 1)
        for dt in ("float32", "float64"):
            small = _dft_numba.solve(gref, mus, **kw, dtype=dt)
            err = np.abs(small - ref) / npore
            n_t = args.n if dt == "float32" else max(args.n // 4, 1)
            _, t = _timeit(_dft_numba.solve, gfast[:n_t], mus, **kw, dtype=dt)
            st = _dft_numba.last_stats()
            rate = n_t / t
            sw = st["lane_sweeps"] / n_t
            pol = st["polish_lane_sweeps"] / n_t
            print(f"{name:<10}{'numba ' + dt:<18}{n_t:>7}{rate:>12.1f}{n_t / _cpu['last']:>12.1f}"
                  f"{rate / ref_rate:>9.1f}{err.max():>11.2e}{sw:>13.0f}{pol:>9.0f}"
                  f"{st['polished'] / n_t:>10.2f}")
    if not args.no_sizes:
        print("# cost vs grid size (numba float32, random p=0.5 grids; us/grid and ns/cell-sweep")
        print("# per CPU-second of this process, so they do not depend on the machine's load)")
        print(f"{'size':<8}{'n':>7}{'grids/s':>12}{'grids/cpu-s':>12}{'cpu-us/grid':>12}"
              f"{'ns/cell-sweep':>15}{'sweeps/grid':>13}")
        for size in (20, 40, 80):
            n = max(args.n * 400 // (size * size) // 4, 64)
            g = random_grids(n, size, 0.5, args.seed + 2)
            _, t = _timeit(_dft_numba.solve, g, mus, **kw)
            st = _dft_numba.last_stats()
            sweeps = st["lane_sweeps"] / n
            cpu = _cpu["last"]
            ns_cell = cpu * 1e9 / (n * sweeps * size * size)
            print(f"{size:<8}{n:>7}{n / t:>12.1f}{n / cpu:>12.1f}{cpu / n * 1e6:>12.1f}"
                  f"{ns_cell:>15.3f}{sweeps:>13.0f}")


if __name__ == "__main__":
    main()
