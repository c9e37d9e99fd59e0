"""Benchmark of the exact lattice-DFT kernel: this tree beside the previous release, one core
beside all, the float64 Jacobi reference, and ``invtoolkit simulate`` end to end.

In one run, side by side (subprocesses, ``invtoolkit_plugins.benchmarking.sidebyside``):

* kernel throughput, full 81-point adsorption + desorption loop, float32 (the default):
  this tree's ``_dft_numba.solve`` and the baseline's (``--baseline``: a git worktree or a
  pinned copy of the previous release), each with NUMBA_NUM_THREADS=1 and with all
  cores, on (a) random 20x20 grids with half the cells pores and (b) grids with large
  pores that condense late (square pores, slits of width 2..10, rectangles with noise),
  ``--repeat`` times interleaved (the machine is shared: medians and ranges);
* accuracy: max error per pore cell of the float32 and float64 modes against a plain,
  independent numpy float64 Jacobi written here (tight stopping rule), and the speed
  ratio to it per core;
* ``invtoolkit simulate`` of ``--e2e`` random grids (a .npy in a temporary directory), a
  cold interpreter as a user runs it, with one core and with all, beside the in-process
  kernel on the same grids (same tree, all cores) and the baseline's ``simulate``.

    git worktree add ../dft-baseline <previous release>      # once
    python benchmarks/dft.py --baseline ../dft-baseline --repeat 3

The 3-D kernel: ``benchmarks/dft3d.py`` (same options).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

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


SETS = {"a:random": lambda n, seed: random_grids(n, 20, 0.5, seed),
        "b:large": lambda n, seed: large_pore_grids(n, 20, seed)}


# ----------------------------------------------------------------- worker (subprocess)
def worker(args) -> None:
    """Time one ``solve`` of this interpreter's kernel (this tree or the baseline, by path)
    after a warm-up; print one JSON line."""
    from invtoolkit_plugins.lattice_dft import _dft_numba

    mus = default_mus()
    _dft_numba.solve(random_grids(64, 20, seed=1), mus, BETA, W_FF, Y, dtype=args.dtype)
    g = np.load(args.set) if args.set.endswith(".npy") else SETS[args.set](args.n, args.seed)
    c0, t0 = time.process_time(), time.perf_counter()
    _dft_numba.solve(g, mus, BETA, W_FF, Y, dtype=args.dtype)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"n": len(g), "wall": wall, "cpu": cpu}))


# ----------------------------------------------------------------- sections
def accuracy(args, per_core: dict) -> None:
    """Max error of this tree's kernel against the plain float64 Jacobi, in process."""
    from invtoolkit_plugins.lattice_dft import _dft_numba

    mus = default_mus()
    print(f"\n# accuracy: max over grids and points of |sum - ref| / pore count; ref = plain numpy"
          f" float64 Jacobi (tol 1e-11) on {args.n_ref} grids per set, in this process;"
          " 'x ref' = this tree's 1-core kernel rate / the reference's (one core each)")
    print(f"{'set':<10}{'reference grids/s':>18}{'x ref':>8}{'err float32':>13}{'err float64':>13}")
    for name, make in SETS.items():
        g = make(args.n_ref, args.seed)
        npore = g.reshape(len(g), -1).sum(1)[:, None]
        t0 = time.perf_counter()
        ref, _ = reference_jacobi(g, mus)
        ref_rate = len(g) / (time.perf_counter() - t0)
        errs = [(np.abs(_dft_numba.solve(g, mus, BETA, W_FF, Y, dtype=dt) - ref) / npore).max()
                for dt in ("float32", "float64")]
        x = per_core.get(name, float("nan")) / ref_rate
        print(f"{name:<10}{ref_rate:>18.1f}{x:>8.0f}{errs[0]:>13.2e}{errs[1]:>13.2e}")


def throughput(args, trees, threads_all: int) -> dict:
    """Kernel grids/s per (set, tree, threads) over interleaved repeats; prints the table."""
    from invtoolkit_plugins.benchmarking.sidebyside import run_worker, span

    rates: dict = {}
    for rep in range(args.repeat):
        for name in SETS:
            for tree in trees.names():
                for th in sorted({1, threads_all}):
                    r = run_worker(trees, tree, th, __file__,
                                   ["--set", name, "--n", str(args.n), "--seed", str(args.seed + 1)])
                    rates.setdefault((name, tree, th), []).append(r["n"] / r["wall"])
                    rates.setdefault((name, tree, th, "cpu"), []).append(r["n"] / r["cpu"])
    print(f"\n# kernel throughput, grids/s (wall), {args.n} grids per run, float32, full 81-point"
          f" loop; median (min-max) of {args.repeat} interleaved runs")
    print(f"{'set':<10}{'kernel':<9}{'1 core':>22}{f'{threads_all} cores':>22}{'scaling':>9}")
    for name in SETS:
        for tree in trees.names():
            one, all_ = rates[(name, tree, 1)], rates[(name, tree, threads_all)]
            label = "baseline" if tree == "base" else "this"
            print(f"{name:<10}{label:<9}{span(one):>22}{span(all_):>22}"
                  f"{statistics.median(all_) / statistics.median(one):>9.2f}")
        if "base" in trees.names():
            r1 = [a / b for a, b in zip(rates[(name, "new", 1)], rates[(name, "base", 1)])]
            ra = [a / b for a, b in zip(rates[(name, "new", threads_all)],
                                        rates[(name, "base", threads_all)])]
            rc = [a / b for a, b in zip(rates[(name, "new", 1, "cpu")], rates[(name, "base", 1, "cpu")])]
            print(f"{name:<10}{'ratio':<9}{span(r1):>22}{span(ra):>22}   this/baseline, paired"
                  f" runs (per CPU-second, 1 core: {span(rc)})")
    return {name: statistics.median(rates[(name, "new", 1)]) for name in SETS}


def _bare(path) -> str:
    """A bare interpreter's script: import the kernel, solve one grid (its cold start)."""
    return ("import numpy as np; from invtoolkit_plugins.lattice_dft import _dft_numba as k; "
            f"k.solve(np.load({str(path)!r}), np.array({default_mus().tolist()!r}), "
            f"{BETA!r}, {W_FF!r}, {Y!r})")


# what no numba program can start below: numpy, numba, numba's CPU target (initialised the
# way `simulate` does it, without scipy.linalg) and a quick exit
FLOOR = ("import gc, numpy, numba; "
         "from invtoolkit_plugins.lattice_dft import _jit_start; _jit_start.init(); gc.freeze()")


def startup_lines(runs: dict, rate: float) -> None:
    """The start-up lines: simulate of one grid, the numba floor, and from how many grids
    simulate reaches 0.9 of the in-process kernel's rate (start-up = 1/9 of the kernel time)."""
    from invtoolkit_plugins.benchmarking.sidebyside import span

    for key, label in (("start", "start-up (1 grid), s"), ("start_cpu", "start-up (1 grid), CPU s")):
        for tree in ("base", "new"):
            if (key, tree) in runs:
                print(f"{('baseline ' if tree == 'base' else 'this tree ') + label:<34}{span(runs[(key, tree)]):>24}")
    if ("floor", "new") in runs:
        print(f"{'numba floor, s':<34}{span(runs[('floor', 'new')]):>24}"
              "   python -c: import numpy and numba, init numba's target, exit")
    need = 9 * statistics.median(runs[("start", "new")]) * rate
    print(f"{'0.9 of the kernel from':<34}{need:>18,.0f} grids   (start-up = 1/9 of the kernel's time)")


def end_to_end(args, trees, threads_all: int) -> None:
    """``invtoolkit simulate`` of args.e2e grids, cold, 1 core vs all, vs the in-process kernel."""
    from invtoolkit_plugins.benchmarking.sidebyside import run_cli, run_python, run_worker, span

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "grids.npy", Path(tmp) / "curves.npy"
        np.save(src, random_grids(args.e2e, 20, 0.5, args.seed + 5))
        np.save(Path(tmp) / "one.npy", random_grids(1, 20, 0.5, args.seed + 5))
        cli = ["simulate", str(src), "-o", str(dst)]
        runs: dict = {}
        for _ in range(args.repeat):
            for tree in trees.names():   # fixed start-up: imports, numba, one grid
                one_grid = ["simulate", str(Path(tmp) / "one.npy"), "-o", str(dst)]
                wall, cpu = run_cli(trees, tree, threads_all, one_grid)
                runs.setdefault(("start", tree), []).append(wall)
                runs.setdefault(("start_cpu", tree), []).append(cpu)
            # the kernel's own cold start: a bare interpreter importing it, one grid
            runs.setdefault(("bare", "new"), []).append(
                run_python(trees, "new", threads_all, _bare(Path(tmp) / "one.npy"))[0])
            runs.setdefault(("floor", "new"), []).append(run_python(trees, "new", threads_all, FLOOR)[0])
            for tree, th in [(t, threads_all) for t in trees.names()] + [("new", 1)]:
                wall, cpu = run_cli(trees, tree, th, cli)
                runs.setdefault(("cli", tree, th), []).append(args.e2e / wall)
                runs.setdefault(("cpu", tree, th), []).append(args.e2e / cpu)
            r = run_worker(trees, "new", threads_all, __file__, ["--set", str(src)])
            runs.setdefault(("kernel", "new"), []).append(r["n"] / r["wall"])
            runs.setdefault(("kcpu", "new"), []).append(r["n"] / r["cpu"])
    e2e, one, kern = runs[("cli", "new", threads_all)], runs[("cli", "new", 1)], runs[("kernel", "new")]
    print(f"\n# invtoolkit simulate, {args.e2e:,} random 20x20 grids (.npy in, .npy out), cold"
          " interpreter, wall clock including start-up; grids/s, median (min-max)")
    print(f"{'':<34}{'grids/s':>24}{'grids/CPU-s':>24}")
    print(f"{'this tree, 1 core':<34}{span(one):>24}{span(runs[('cpu', 'new', 1)]):>24}")
    print(f"{f'this tree, {threads_all} cores':<34}{span(e2e):>24}{span(runs[('cpu', 'new', threads_all)]):>24}"
          f"   {statistics.median(e2e) / statistics.median(one):.2f}x its 1-core rate")
    print(f"{f'in-process kernel, {threads_all} cores':<34}{span(kern):>24}{span(runs[('kcpu', 'new')]):>24}"
          f"   simulate = {statistics.median(e2e) / statistics.median(kern):.2f} of it")
    if ("cli", "base", threads_all) in runs:
        base = runs[("cli", "base", threads_all)]
        print(f"{f'baseline simulate, {threads_all} cores':<34}{span(base):>24}"
              f"   this/baseline {statistics.median(e2e) / statistics.median(base):.2f}")
    print(f"{'bare kernel cold start (1 grid), s':<34}{span(runs[('bare', 'new')]):>24}"
          "   python -c: import the kernel, solve one grid")
    startup_lines(runs, statistics.median(kern))
    rest = args.e2e / (args.e2e / statistics.median(e2e) - statistics.median(runs[("start", "new")]))
    print(f"{'this tree without its start-up':<34}{rest:>24,.0f}"
          f"   = {rest / statistics.median(kern):.2f} of the in-process kernel")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default=os.environ.get("DFT_BASELINE"),
                    help="checkout of the previous release (git worktree or pinned copy)")
    ap.add_argument("--n", type=int, default=8000, help="grids per kernel run")
    ap.add_argument("--n-ref", type=int, default=100, help="grids per set for the slow reference")
    ap.add_argument("--e2e", type=int, default=50_000, help="grids for invtoolkit simulate (0: skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--set", default="a:random", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    from invtoolkit_plugins.benchmarking.sidebyside import Trees, machine

    trees, threads_all = Trees(args.baseline), os.cpu_count() or 1
    print(f"# lattice DFT benchmark, {len(default_mus())} points per grid, seed {args.seed}")
    print(f"# machine: {machine()}")
    print(f"# baseline: {trees.baseline or '(none: --baseline PATH)'}")
    per_core = throughput(args, trees, threads_all)
    accuracy(args, per_core)
    if args.e2e:
        end_to_end(args, trees, threads_all)
    from invtoolkit_plugins.benchmarking.sidebyside import load

    print(f"\n# load average at the end: {load()}")


if __name__ == "__main__":
    main()
