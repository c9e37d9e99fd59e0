"""Data of the conditioned surrogate ``cnn-cond`` (issue 31 part 2); driven by training/cond_data.sh.

    python training/cond_data.py design [--cells 8] [--seed 3201]        # print the design
    python training/cond_data.py generate DATA --n 20000 [--cells 8]     # one store per (t, y)
    python training/cond_data.py time                                    # lattice-dft on 4 corners
    python training/cond_data.py dense-design                            # print the dense design (stage c)
    python training/cond_data.py dense DATA --n 5000                     # its stores, d*.zarr

The (t = T/TC, y) design: t in 0.40-0.80, log y in log 0.5 - log 4, a CELLS x CELLS
stratified design (one jittered point per cell, seed 3201). Each point is one store of
``families-mixed`` grids labelled by lattice-dft at T = t * 647 K, TC = 647 K (the lattice
model depends on T and TC only through t, docs/physics.md) on the 2 x 40-step loop.
Store k uses sampler seed 3300 + k. Resumable: ``dataset generate`` continues a store.

Held out (never trained on): 6 points inside the box as far as possible from every store
(greedy max-min distance in (t, log y) scaled to the unit square), plus the conditions of
the measured files (DUT-67 vapours at 298 K, N2 77 K, Ar 87 K, n-butane 273 K) at y = 1 and
y = 2.5, each with its file's own pressure path.

Dense design (stage c): a scrambled Sobol sequence of 256 (t, log y) points over the same
box (seed 3202), less every point within 0.05 (unit square) of a held-out condition above;
each kept point j is one store ``dJJJ_t.._y...zarr`` of 5,000 ``families-mixed`` grids,
sampler seed 4000 + j (no collision with 3300 + k, k < 64, nor the evaluation seed
20263101).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

T_RANGE = (0.40, 0.80)
Y_RANGE = (0.5, 4.0)
TC_LABEL = 647.0  # the stores' TC; T = t * TC_LABEL
ISOTHERMS = Path("/work/shared/isotherms")
MEASURED = ["DUT-67_DUT67_1_Garching_MeOH_298K.aif", "DUT-67_DUT67_1_Garching_EtOH_298K.aif",
            "DUT-67_DUT67_1_Garching_hexane_298K.aif", "DUT-67_DUT67_1_Garching_toluol_298K.aif",
            "DUT-67_DUT67_1_Garching_DCM_298K.aif", "examples_NK_DUT-6_LP_N2_114PKT.aif", "Ar_test_1.aif",
            "DUT-49_DUT-49_nbutane_273K_viele_Punkte.aif"]
MEASURED_Y = (1.0, 2.5)


def unit(t, y):
    """(t, y) -> the unit square of the design (t linear, y logarithmic)."""
    return ((np.asarray(t) - T_RANGE[0]) / (T_RANGE[1] - T_RANGE[0]),
            (np.log(y) - math.log(Y_RANGE[0])) / (math.log(Y_RANGE[1]) - math.log(Y_RANGE[0])))


def from_unit(u, v):
    return (T_RANGE[0] + np.asarray(u) * (T_RANGE[1] - T_RANGE[0]),
            np.exp(math.log(Y_RANGE[0]) + np.asarray(v) * (math.log(Y_RANGE[1]) - math.log(Y_RANGE[0]))))


def design(cells: int = 8, seed: int = 3201) -> list[dict]:
    """One jittered point per cell of a cells x cells grid over the unit square."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(cells):
        for j in range(cells):
            u, v = (i + rng.uniform()) / cells, (j + rng.uniform()) / cells
            t, y = from_unit(u, v)
            rows.append({"k": len(rows), "t": round(float(t), 4), "y": round(float(y), 4)})
    return rows


def held_out_points(stores: list[dict], n: int = 6) -> list[dict]:
    """n points of a 41 x 41 lattice strictly inside the box, greedily farthest from the
    stores and from each other (unit-square distance)."""
    lat = np.linspace(0.05, 0.95, 41)
    cand = np.stack(np.meshgrid(lat, lat, indexing="ij"), -1).reshape(-1, 2)
    taken = np.array([unit(s["t"], s["y"]) for s in stores])
    out = []
    for _ in range(n):
        d = np.linalg.norm(cand[:, None] - taken[None], axis=-1).min(1)
        best = cand[int(np.argmax(d))]
        t, y = from_unit(*best)
        out.append({"name": f"inside{len(out)}", "t": round(float(t), 4), "y": round(float(y), 4),
                    "store_distance": round(float(d.max()), 4)})
        taken = np.vstack([taken, best])
    return out


def measured_conditions() -> list[dict]:
    """The measured files' (t, path) at y in MEASURED_Y; t from the toolkit's fluid lookup."""
    from invtoolkit.plugin import read_target

    out = []
    for name in MEASURED:
        m = read_target(ISOTHERMS / name)
        for y in MEASURED_Y:
            out.append({"name": f"{m.fluid.name}@{m.T:.0f}K", "file": name, "t": round(m.T / m.fluid.TC, 4), "y": y,
                        "T": float(m.T), "TC": float(m.fluid.TC), "pressures": [float(p) for p in m.path.pressures],
                        "n_adsorption": int(m.path.n_adsorption)})
    return out


DENSE_POINTS, DENSE_SEED, DENSE_SAMPLER_SEED, DENSE_EXCLUDE = 256, 3202, 4000, 0.05


def held_out_units(held: list[dict]) -> np.ndarray:
    """(H, 2) the held-out conditions on the unit square."""
    return np.array([unit(h["t"], h["y"]) for h in held])


def held_out_distance(units: np.ndarray, u, v) -> float:
    """Unit-square distance from (u, v) to the nearest held-out condition (``held_out_units``)."""
    return float(np.linalg.norm(units - np.array([u, v]), axis=1).min())


def dense_design(points: int = DENSE_POINTS, seed: int = DENSE_SEED, exclude: float = DENSE_EXCLUDE,
                 cells: int = 8, design_seed: int = 3201) -> dict:
    """Scrambled Sobol (t, log y) points; those within ``exclude`` (unit-square distance) of
    a held-out condition of the 8 x 8 design (inside points and measured conditions) are
    dropped. Returns {"stores": kept rows (k = Sobol index), "dropped": the others}."""
    from scipy.stats import qmc

    rows = design(cells, design_seed)
    held = held_out_points(rows) + measured_conditions()
    hu = held_out_units(held)
    pts = qmc.Sobol(d=2, scramble=True, seed=seed).random(points)
    kept, dropped = [], []
    for j, (u, v) in enumerate(pts):
        t, y = from_unit(u, v)
        row = {"k": j, "t": round(float(t), 4), "y": round(float(y), 4)}
        d = held_out_distance(hu, *unit(row["t"], row["y"]))
        (kept if d >= exclude else dropped).append({**row, "held_out_distance": round(d, 4)})
    return {"seed": seed, "points": points, "exclude": exclude, "sampler_seed": f"{DENSE_SAMPLER_SEED} + k",
            "stores": kept, "dropped": dropped}


def generate_dense(data, n: int, log=print) -> None:
    from invtoolkit.datasets.dataset import generate

    for row in dense_design()["stores"]:
        t0 = time.monotonic()
        generate(Path(data) / f"d{row['k']:03d}_t{row['t']:.4f}_y{row['y']:.4f}.zarr", n, sampler="families-mixed",
                 seed=DENSE_SAMPLER_SEED + row["k"],
                 simulator_options={"T": round(row["t"] * TC_LABEL, 4), "TC": TC_LABEL, "y": row["y"], "threads": 1},
                 chunk_size=min(n, 10_000), workers=0)
        log(f"dense store {row['k']}: t {row['t']:.4f} y {row['y']:.4f}  {time.monotonic() - t0:.0f} s", flush=True)


def store_path(data, row) -> Path:
    return Path(data) / f"s{row['k']:02d}_t{row['t']:.4f}_y{row['y']:.4f}.zarr"


def generate_all(data, n: int, cells: int, seed: int, log=print) -> None:
    from invtoolkit.datasets.dataset import generate

    for row in design(cells, seed):
        t0 = time.monotonic()
        generate(store_path(data, row), n, sampler="families-mixed", seed=3300 + row["k"],
                 simulator_options={"T": round(row["t"] * TC_LABEL, 4), "TC": TC_LABEL, "y": row["y"], "threads": 1},
                 chunk_size=min(n, 10_000), workers=0)
        log(f"store {row['k']}: t {row['t']:.4f} y {row['y']:.4f}  {time.monotonic() - t0:.0f} s", flush=True)


def time_corners(n: int = 300) -> None:
    """lattice-dft grids/s (1 thread) on n families-mixed grids at the 4 corners of the box."""
    from invtoolkit.plugin import GridSpace, create

    grids = create("sampler", "families-mixed").sample(n, GridSpace((20, 20)), np.random.default_rng(0))
    for t in T_RANGE:
        for y in Y_RANGE:
            sim = create("simulator", "lattice-dft", T=t * TC_LABEL, TC=TC_LABEL, y=y, threads=1)
            sim.simulate(grids[:4])
            t0 = time.monotonic()
            sim.simulate(grids)
            print(f"t {t:.2f} y {y:.2f}: {n / (time.monotonic() - t0):.0f} grids/s", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["design", "generate", "time", "dense-design", "dense"])
    ap.add_argument("data", nargs="?", default="/work/data/cnn_cond")
    ap.add_argument("--n", type=int, default=20_000, help="grids per store")
    ap.add_argument("--cells", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3201)
    args = ap.parse_args(argv)
    if args.action == "time":
        time_corners()
    elif args.action == "dense-design":
        print(json.dumps(dense_design(), indent=1))
    elif args.action == "dense":
        generate_dense(args.data, args.n)
    elif args.action == "design":
        rows = design(args.cells, args.seed)
        print(json.dumps({"stores": rows, "held_out": held_out_points(rows) + measured_conditions()}, indent=1))
    else:
        generate_all(args.data, args.n, args.cells, args.seed)


if __name__ == "__main__":
    main()
