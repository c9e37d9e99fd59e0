"""The turning-point head of ``cnn-cond`` (plugins/cnn_cond/turning.py); driven by training/cond_turn.sh.

    python training/cond_turn.py data DATA --design design.json [--conditions 256] [--n 750] [--seed 7100]
    python training/cond_turn.py fit DATA --model MODEL -o OUT [--epochs 60] [--seed 7101]

data: ``--conditions`` (t, y) drawn uniformly over the box (t linear, log y), none within
0.05 (unit square) of a held-out condition of design.json; per condition ``--n``
families-mixed grids (sampler seed SEED*1000 + i), a turning point p_t with 1 - p_t
log-uniform in [0.002, 0.25], and lattice-dft on the path 0, 1/40, ... below p_t, p_t, and
back down the nodes k/40 below p_t: the desorption labels at the nodes, and the exact top
point (lattice-dft at p/p0 = 1, the anchor). One .npz per condition (resumable).

fit: the loops of MODEL (frozen) on those grids, and the head trained on the desorption
nodes (L1), conditions split 90/10 into training and validation by the seed; OUT is
MODEL with the head added (config architecture ``turning_hidden``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cond_data import DENSE_EXCLUDE, TC_LABEL, from_unit, held_out_distance, held_out_units  # noqa: E402

STEPS = 40


def conditions(design: dict, n: int, seed: int) -> np.ndarray:
    """(n, 3) rows (t, y, p_t), none within DENSE_EXCLUDE of a held-out (t, y)."""
    rng = np.random.default_rng(seed)
    held = held_out_units(design["held_out"])
    rows = []
    while len(rows) < n:
        u = rng.uniform(size=2)
        pt = 1.0 - 10.0 ** rng.uniform(np.log10(0.002), np.log10(0.25))
        if held_out_distance(held, *u) >= DENSE_EXCLUDE:
            t, y = from_unit(*u)
            rows.append((float(t), float(y), float(pt)))
    return np.array(rows)


def turning_path(pt: float):
    from invtoolkit.plugin import PressurePath

    nodes = np.arange(STEPS) / STEPS
    below = nodes[nodes < pt - 1e-9]
    return PressurePath(np.concatenate([below, [pt], below[::-1]]), len(below) + 1), below


def label_condition(t, y, pt, grids) -> tuple[np.ndarray, np.ndarray]:
    """(N, STEPS) desorption labels at the nodes (NaN at nodes >= p_t), (N,) exact tops."""
    from invtoolkit.plugin import PressurePath, create

    opts = {"T": t * TC_LABEL, "TC": TC_LABEL, "y": y, "threads": 1}
    path, below = turning_path(pt)
    des = create("simulator", "lattice-dft", **opts, path=path).simulate(grids)[:, len(below) + 1:][:, ::-1]
    labels = np.full((len(grids), STEPS), np.nan, np.float32)
    labels[:, :len(below)] = des
    top = create("simulator", "lattice-dft", **opts, path=PressurePath([0.0, 1.0])).simulate(grids)[:, -1]
    return labels, top.astype(np.float32)


def make_data(out, design_file, n_cond: int, n: int, seed: int) -> None:
    from invtoolkit.plugin import GridSpace, create

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = conditions(json.loads(Path(design_file).read_text()), n_cond, seed)
    sampler = create("sampler", "families-mixed")
    for i, (t, y, pt) in enumerate(rows):
        f = out / f"turn{i:04d}.npz"
        if f.exists():
            continue
        t0 = time.monotonic()
        grids = sampler.sample(n, GridSpace((20, 20)), np.random.default_rng(seed * 1000 + i))
        labels, top = label_condition(t, y, pt, grids)
        tmp = out / f"turn{i:04d}.tmp.npz"
        np.savez(tmp, grids=grids, t=t, y=y, pt=pt, labels=labels, top=top)
        tmp.replace(f)
        print(f"{i}: t {t:.3f} y {y:.3f} p_t {pt:.4f}  {time.monotonic() - t0:.1f} s", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["data", "fit"])
    ap.add_argument("data")
    ap.add_argument("--design", default=None)
    ap.add_argument("--conditions", type=int, default=256)
    ap.add_argument("--n", type=int, default=750)
    ap.add_argument("--seed", type=int, default=7100)
    ap.add_argument("--model", default=None)
    ap.add_argument("-o", "--output", default=None)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args(argv)
    if args.action == "data":
        make_data(args.data, args.design, args.conditions, args.n, args.seed)
    else:
        from invtoolkit_plugins.cnn_cond.turning_training import fit_head

        fit_head(args.data, args.model, args.output, epochs=args.epochs, seed=args.seed,
                 command="python training/cond_turn.py " + " ".join(argv or sys.argv[1:]))


if __name__ == "__main__":
    main()
