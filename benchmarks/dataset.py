"""Benchmark of dataset generation, stage by stage, and the extrapolated time for 1M grids.

Measures in one run, on the same grids:

* sampling rate of every sampler (grids/s),
* canonicalisation / symmetry hashing rate (what duplicate removal costs),
* labelling rate of the simulator (lattice-dft, default float32),
* writing rate into a zarr store (append + commit per chunk) and reading rate,

then prints the time each stage would take for ``--target`` grids (default 1,000,000)
and the total, against the 15-minute goal. Sampling, hashing and writing run in the
main process; labelling is what ``--workers`` / ``--scheduler`` spread out.

    python benchmarks/dataset.py --n 20000 --label-n 5000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.datasets.dataset import Dataset
from invtoolkit.core.symmetry import canonical_hash


def rate(fn, n, repeat=3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return n / best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="grids for sampling, hashing and writing")
    ap.add_argument("--label-n", type=int, default=5_000, help="grids for the (slower) labelling")
    ap.add_argument("--grid", default="20x20")
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--target", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.grid.split("x"))
    rng = np.random.default_rng(args.seed)

    print(f"grids {shape[0]}x{shape[1]}, best of 3 (labelling: 1 run after warm-up)\n")
    print("sampling")
    for name in ["random", "correlated", "slit", "rect", "mixed"]:
        sampler = registry.create("sampler", name)
        r, grids = rate(lambda: sampler.sample(args.n, shape, rng), args.n)
        print(f"  {name:<11} {r:>12,.0f} grids/s")
        if name == "mixed":
            sample_rate, mixed = r, grids

    canonical_hash(mixed[:10])  # JIT / cache load
    hash_rate, _ = rate(lambda: canonical_hash(mixed), args.n)
    print(f"\nsymmetry hash (canonical form) {hash_rate:>12,.0f} grids/s")

    sim = registry.create("simulator", "lattice-dft")
    sim.simulate(mixed[:64])  # JIT / cache load
    labelled = mixed[: args.label_n]
    t = time.perf_counter()
    curves = sim.simulate(labelled).astype(np.float32)
    label_rate = len(labelled) / (time.perf_counter() - t)
    print(f"labelling (lattice-dft)        {label_rate:>12,.0f} grids/s")

    tmp = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    try:
        reps = np.resize(np.arange(len(curves)), args.n)
        all_curves = curves[reps]

        def write():
            path = tmp / f"w{time.perf_counter_ns()}.zarr"
            ds = Dataset.create(path, shape=shape, simulator_name=sim.name, simulator_params=sim.params,
                                pressures=sim.pressures, chunk_size=args.chunk)
            for start in range(0, args.n, args.chunk):
                ds._write(start, mixed[start:start + args.chunk], all_curves[start:start + args.chunk],
                          generated=True)
            return path

        write_rate, path = rate(write, args.n)
        read_rate, _ = rate(lambda: Dataset.open(path).load(), args.n)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        print(f"writing (zarr, chunks of {args.chunk})  {write_rate:>10,.0f} grids/s "
              f"({size / args.n:.0f} bytes/grid on disk)")
        print(f"reading                        {read_rate:>12,.0f} grids/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = args.target
    stages = {"sampling": sample_rate, "symmetry hash": hash_rate, "labelling": label_rate, "writing": write_rate}
    print(f"\nextrapolated for {n:,} grids (stages run one after another, this machine):")
    total = 0.0
    for name, r in stages.items():
        total += n / r
        print(f"  {name:<14} {n / r:>8.0f} s  ({label_rate / r:6.3f} x labelling time)")
    print(f"  {'total':<14} {total:>8.0f} s = {total / 60:.1f} min  (goal < 15 min: "
          f"{'met' if total < 900 else 'NOT met'})")


if __name__ == "__main__":
    main()
