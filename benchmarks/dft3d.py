"""Benchmark of the 3-D lattice-DFT solver (plugins/dft3d) beside the 2-D kernel.

In one run, side by side: grids/s of the fast 3-D numba solver (float32 default and
float64 exact mode) on random p=0.5 grids at 8^3, 16^3, 32^3 over the full 81-point
loop, its max error per pore cell against the plain float64 reference
(``dft3d.reference``, on a few grids), and the cost per cell-sweep (CPU time / (grids x
lane-sweeps x cells)) against the 2-D kernel on random 20x20 grids measured in the same
process.  CPU seconds make the per-cell cost robust on a shared machine.  Both kernels
run the one lane worker of ``lattice_dft/lanes.py``; the last line checks issue 21's
done-when (16^3 float32 >= 600 grids/s on this machine's threads).

Then, with ``--baseline PATH`` (a git worktree or pinned copy of the previous release),
16^3 float32 side by side in subprocesses: this tree's 3-D kernel beside the baseline's,
one core and all, ``--repeat`` times interleaved (``invtoolkit_plugins.benchmarking.sidebyside``).

    nice python benchmarks/dft3d.py --n 256 --n-ref 3 --baseline ../dft-baseline
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from invtoolkit_plugins.dft3d import numba3d, reference

from invtoolkit_plugins.lattice_dft import _dft_numba as numba2d  # the 2-D kernel, same worker

KB = 0.0019872041
T, TC, Y = 298.0, 647.0, 1.5
BETA = 1.0 / (KB * T)
MU_SAT = -2.0 * KB * TC


def w_ff(rank: int) -> float:
    return -2.0 * MU_SAT / (2 * rank)


def default_mus(npts: int = 41) -> np.ndarray:
    rh = np.linspace(0.0, 1.0, npts)
    rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        mu = MU_SAT + KB * T * np.log(rh)
    mu[rh == 0] = -90.0
    return mu


def random_grids(n, shape, seed, p=0.5):
    g = (np.random.default_rng(seed).random((n, *shape)) < p).astype(np.uint8)
    g.reshape(n, -1)[g.reshape(n, -1).sum(1) == 0, 0] = 1
    return g


def timed(solver, grids, mus, rank, **kw):
    """(sums, wall s, cpu s, lane-sweeps per grid)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = solver.solve(grids, mus, BETA, w_ff(rank), Y, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    st = solver.last_stats()
    return out, wall, cpu, (st["lane_sweeps"] + st["polish_lane_sweeps"]) / len(grids)


def numba3d_threads() -> int:
    import numba

    return numba.get_num_threads()


def worker(args) -> None:
    """Time one 16^3 float32 ``solve`` of this interpreter's 3-D kernel; one JSON line."""
    mus = default_mus()
    numba3d.solve(random_grids(4, (8, 8, 8), 1), mus, BETA, w_ff(3), Y)
    g = np.load(args.grids) if args.grids else random_grids(args.n, (16, 16, 16), args.seed)
    c0, t0 = time.process_time(), time.perf_counter()
    numba3d.solve(g, mus, BETA, w_ff(3), Y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"n": len(g), "wall": wall, "cpu": cpu}))


def side_by_side(args) -> None:
    """16^3 float32, this tree vs the baseline, 1 core vs all, interleaved repeats."""
    from invtoolkit_plugins.benchmarking.sidebyside import Trees, machine, run_worker, span

    trees, nall = Trees(args.baseline), os.cpu_count() or 1
    rates: dict = {}
    for _ in range(args.repeat):
        for tree in trees.names():
            for th in sorted({1, nall}):
                r = run_worker(trees, tree, th, __file__, ["--n", str(args.n), "--seed", str(args.seed)])
                rates.setdefault((tree, th), []).append(r["n"] / r["wall"])
    print(f"\n# 16^3 float32, {args.n} random grids per run, subprocesses, grids/s median (min-max)"
          f" of {args.repeat} interleaved runs; machine: {machine()}")
    print(f"{'kernel':<10}{'1 core':>22}{f'{nall} cores':>22}{'scaling':>9}")
    for tree in trees.names():
        one, all_ = rates[(tree, 1)], rates[(tree, nall)]
        print(f"{'baseline' if tree == 'base' else 'this':<10}{span(one):>22}{span(all_):>22}"
              f"{statistics.median(all_) / statistics.median(one):>9.2f}")
    if "base" in trees.names():
        r = {th: [a / b for a, b in zip(rates[("new", th)], rates[("base", th)])] for th in (1, nall)}
        print(f"{'ratio':<10}{span(r[1]):>22}{span(r[nall]):>22}   this/baseline, paired runs")
    if args.e2e:
        end_to_end(args, trees, nall)


def end_to_end(args, trees, nall) -> None:
    """``invtoolkit simulate`` of args.e2e 16^3 grids, cold, 1 core vs all, vs the kernel,
    and its start-up (one grid)."""
    import tempfile

    from invtoolkit_plugins.benchmarking.sidebyside import run_cli, run_worker, span

    runs: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, one = Path(tmp) / "grids.npy", Path(tmp) / "curves.npy", Path(tmp) / "one.npy"
        np.save(src, random_grids(args.e2e, (16, 16, 16), args.seed + 5))
        np.save(one, random_grids(1, (16, 16, 16), args.seed + 5))
        for _ in range(args.repeat):
            wall, cpu = run_cli(trees, "new", nall, ["simulate", str(one), "-o", str(dst)])
            runs.setdefault("start", []).append(wall)
            runs.setdefault("start_cpu", []).append(cpu)
            for th in (1, nall):
                wall, cpu = run_cli(trees, "new", th, ["simulate", str(src), "-o", str(dst)])
                runs.setdefault(th, []).append(args.e2e / wall)
                runs.setdefault(("cpu", th), []).append(args.e2e / cpu)
            r = run_worker(trees, "new", nall, __file__, ["--grids", str(src)])
            runs.setdefault("kernel", []).append(r["n"] / r["wall"])
            runs.setdefault(("cpu", "kernel"), []).append(r["n"] / r["cpu"])
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"\n# invtoolkit simulate, {args.e2e} random 16^3 grids, cold interpreter, wall clock including"
          " start-up; median (min-max)")
    print(f"{'':<30}{'grids/s':>22}{'grids/CPU-s':>22}")
    print(f"{'this tree, 1 core':<30}{span(runs[1]):>22}{span(runs[('cpu', 1)]):>22}")
    print(f"{f'this tree, {nall} cores':<30}{span(runs[nall]):>22}{span(runs[('cpu', nall)]):>22}"
          f"   {med[nall] / med[1]:.2f}x its 1-core rate")
    print(f"{f'in-process kernel, {nall} cores':<30}{span(runs['kernel']):>22}{span(runs[('cpu', 'kernel')]):>22}"
          f"   simulate = {med[nall] / med['kernel']:.2f} of it")
    print(f"{'start-up (1 grid), s':<30}{span(runs['start']):>22}{span(runs['start_cpu']):>22} CPU s")
    print(f"{'0.9 of the kernel from':<30}{9 * med['start'] * med['kernel']:>16,.0f} grids"
          "   (start-up = 1/9 of the kernel's time)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1024, help="grids of 16^3 for the speed test")
    ap.add_argument("--n-ref", type=int, default=3, help="grids per size for the reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline", default=os.environ.get("DFT_BASELINE"),
                    help="checkout of the previous release: adds the side-by-side 16^3 table")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only-side-by-side", action="store_true", help="skip the size scan")
    ap.add_argument("--e2e", type=int, default=4000, help="16^3 grids for invtoolkit simulate (0: skip)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--grids", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.only_side_by_side:
        return side_by_side(args)
    mus = default_mus()
    for dt in ("float32", "float64"):   # warm up the JIT cache
        numba3d.solve(random_grids(2, (4, 4, 4), 1), mus, BETA, w_ff(3), Y, dtype=dt)
        numba2d.solve(random_grids(2, (5, 5), 1), mus, BETA, w_ff(2), Y, dtype=dt)
    print(f"# 3-D lattice DFT: {len(mus)} points, random p=0.5 grids, seed {args.seed}")
    print("# max err: max |sum - ref| / pores over n_ref grids (ref = numpy float64 Jacobi)")
    print("# ns/cell-sweep: CPU time / (grids x lane-sweeps incl. polish x cells)")
    print(f"{'grid':<8}{'solver':<15}{'n':>6}{'grids/s':>10}{'grids/cpu-s':>12}{'max err':>10}"
          f"{'sweeps/pt':>10}{'ns/cell-sweep':>15}")
    ns, rate = {}, {}
    for side in (8, 16, 32):
        shape = (side,) * 3
        n = max(8, args.n * 4096 // side ** 3)
        n = min(n, 4 * args.n)
        gref = random_grids(args.n_ref, shape, args.seed + 7)
        ref = reference.solve(gref, mus, BETA, w_ff(3), Y) if side <= 16 else None
        g = random_grids(n, shape, args.seed)
        for dt in ("float32", "float64"):
            m = n if dt == "float32" else max(8, n // 4)
            _, wall, cpu, sw = timed(numba3d, g[:m], mus, 3, dtype=dt)
            err = "-"
            if ref is not None:
                small = numba3d.solve(gref, mus, BETA, w_ff(3), Y, dtype=dt)
                err = f"{(np.abs(small - ref) / gref.reshape(len(gref), -1).sum(1)[:, None]).max():.1e}"
            cost = cpu * 1e9 / (m * sw * side ** 3)
            ns[(side, dt)] = cost
            if dt == "float32":
                rate[side] = m / wall
            print(f"{side}^3{'':<4}{'numba3d ' + dt:<15}{m:>6}{m / wall:>10.1f}{m / cpu:>12.1f}{err:>10}"
                  f"{sw / len(mus):>10.1f}{cost:>15.3f}")
    g2 = random_grids(args.n * 4, (20, 20), args.seed)
    _, wall, cpu, sw = timed(numba2d, g2, mus, 2)
    cost2 = cpu * 1e9 / (len(g2) * sw * 400)
    print(f"20x20{'':<3}{'numba2d float32':<15}{len(g2):>6}{len(g2) / wall:>10.1f}{len(g2) / cpu:>12.1f}"
          f"{'-':>10}{sw / len(mus):>10.1f}{cost2:>15.3f}")
    print(f"# cost per cell-sweep, 3-D 16^3 / 2-D 20x20 (float32): {ns[(16, 'float32')] / cost2:.2f}")
    print(f"# 16^3 float32: {rate[16]:.0f} grids/s (target 600 with {numba3d_threads()} threads)")
    if args.baseline:
        side_by_side(args)


if __name__ == "__main__":
    main()
