"""Grids whose condensation step sits near saturation: the cnn's worst cases (issue 17).

The shipped cnn's held-out worst cases (MAE 0.2-0.3) are nearly all grids whose big pore
condenses within a few percent of p/p0 = 1: whether the top adsorption point is filled
decides the whole desorption branch, and such grids are ~0.5% of any sampler's draws.
This script finds them and the grids around them:

1. a pool of fresh grids, weighted to porosity >= 0.5 (where the step can reach p0);
2. a probe of every grid on a fine adsorption ramp that runs past saturation (to 1.06),
   which gives its condensation pressure ``pc`` (the largest jump of the ramp);
3. the grids with ``pc`` in [--low, --high] are kept, and for those nearest to p0 a few
   mutants (one or two wall cells moved to pore cells: same porosity, a slightly
   different step) are labelled and kept too, which fills the decision boundary.

Every kept grid is labelled on the standard 81-point loop (lattice-dft defaults) and
written to a dataset store that ``invtoolkit train surrogate`` reads.

    python training/edge17.py --out runs/edge17/edge.zarr --pool 1200000 --seed 1719
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from invtoolkit.hooks import registry
from invtoolkit.datasets.dataset import Dataset

# (sampler, options, share of the pool): high-porosity draws of the families and mixed
POOL = [
    ("fam-random", {"porosity": (0.5, 0.99)}, 0.25),
    ("fam-smooth", {"porosity": (0.5, 0.99)}, 0.25),
    ("fam-dense", {}, 0.2),
    ("fam-union", {}, 0.15),
    ("mixed", {}, 0.15),
]
RAMP = np.concatenate([np.linspace(0.0, 0.9, 19), np.linspace(0.905, 1.06, 32)])


def ramp_mus(dft) -> np.ndarray:
    from invtoolkit_plugins.lattice_dft import KB, MU_AT_ZERO

    with np.errstate(divide="ignore"):
        return np.where(RAMP > 0, dft.mu_sat + KB * dft.T * np.log(RAMP), MU_AT_ZERO)


def condensation_pressure(dft, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pressure of the largest adsorption jump on RAMP, and the jump's size (pore fraction)."""
    from invtoolkit_plugins.lattice_dft import _dft_numba

    sums = _dft_numba.solve(grids, ramp_mus(dft), dft.beta, dft.w_ff, dft.y, threads=dft.threads)
    frac = sums / np.maximum(grids.reshape(len(grids), -1).sum(1), 1)[:, None]
    jump = np.diff(frac, axis=1)
    return RAMP[jump.argmax(1) + 1], jump.max(1)


def draw_pool(n: int, shape, seed: int) -> np.ndarray:
    parts = []
    for k, (name, options, share) in enumerate(POOL):
        rng = np.random.default_rng([seed, k])
        parts.append(registry.create("sampler", name, **options).sample(int(round(n * share)), shape, rng))
    return np.concatenate(parts)


def mutants(grids: np.ndarray, per: int, rng: np.random.Generator) -> np.ndarray:
    """``per`` copies of every grid with one or two wall cells moved to random pore cells."""
    out = np.repeat(grids, per, axis=0).reshape(len(grids) * per, -1).copy()
    for row in out:
        for _ in range(rng.integers(1, 3)):
            walls, pores = np.flatnonzero(row == 0), np.flatnonzero(row == 1)
            if walls.size and pores.size:
                row[rng.choice(walls)], row[rng.choice(pores)] = 1, 0
    return out.reshape(len(out), *grids.shape[1:])


def select(dft, grids, low, high, min_jump, block):
    """Grids with a step of at least ``min_jump`` in [low, high]; also their pc."""
    keep, pcs = [], []
    for start in tqdm(range(0, len(grids), block), desc="probe", unit="block"):
        g = grids[start:start + block]
        pc, jump = condensation_pressure(dft, g)
        mask = (pc >= low) & (pc <= high) & (jump >= min_jump)
        keep.append(g[mask])
        pcs.append(pc[mask])
    return np.concatenate(keep), np.concatenate(pcs)


def write_store(out: Path, dft, grids: np.ndarray, seed: int, record: dict, block: int) -> Dataset:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.building")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    ds = Dataset.create(tmp, shape=grids.shape[1:], simulator_name="lattice-dft", simulator_params=dft.params,
                        pressures=dft.schedule.pressures, sampler="edge17", seed=seed, chunk_size=block,
                        simulator_options={"normalization": dft.normalization},
                        extra={"edge17": record})
    for start in tqdm(range(0, len(grids), block), desc="label", unit="block"):
        g = grids[start:start + block]
        ds.append(g, dft.simulate(g))
    tmp.rename(out)
    return Dataset.open(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pool", type=int, default=1_200_000)
    ap.add_argument("--seed", type=int, default=1719)
    ap.add_argument("--low", type=float, default=0.93)
    ap.add_argument("--high", type=float, default=1.06)
    ap.add_argument("--min-jump", type=float, default=0.15)
    ap.add_argument("--mutate-within", type=float, default=0.03, help="mutate grids with |pc - 1| <= this")
    ap.add_argument("--mutants", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--block", type=int, default=50_000)
    args = ap.parse_args(argv)
    if args.out.exists():
        raise SystemExit(f"{args.out}: exists; remove it to rebuild")
    dft = registry.create("simulator", "lattice-dft", threads=args.threads)
    pool = draw_pool(args.pool, (20, 20), args.seed)
    edge, pc = select(dft, pool, args.low, args.high, args.min_jump, args.block)
    near = edge[np.abs(pc - 1.0) <= args.mutate_within]
    extra = mutants(near, args.mutants, np.random.default_rng([args.seed, 99]))
    grids = np.concatenate([edge, extra])
    record = {"pool": args.pool, "low": args.low, "high": args.high, "min_jump": args.min_jump,
              "edge": int(len(edge)), "near": int(len(near)), "mutants": int(len(extra)), "seed": args.seed}
    print(record)
    ds = write_store(args.out, dft, grids, args.seed, record, args.block)
    print(len(ds), "grids in", args.out)


if __name__ == "__main__":
    main()
