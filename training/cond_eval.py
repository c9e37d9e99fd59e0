"""Held-out evaluation of ``cnn-cond`` (issue 31 part 2): per held-out (t, y, path), the MAE
against lattice-dft (mean / p95 / worst over grids) and the speed of both, one thread.

    python training/cond_eval.py --model DIR --design DATA/design.json [--n 1000] [--json out.json]

The held-out conditions are the design's (training/cond_data.py): 6 points inside the box
far from every store, on the internal 81-point loop and on an adsorption-only path of 25
log-spaced points (1e-3 to 0.95); and the measured files' conditions (T and TC from the
toolkit's fluid lookup) at y = 1 and 2.5, on the internal loop and on each file's own
path. The grids: ``--n`` families-mixed grids (seed 20263101, never trained on), the same
grids at every condition. Times: lattice-dft and the surrogate (its anchor included) on the
same grids in the same run.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from invtoolkit.plugin import GridSpace, PressurePath, create

LOG_ADS = PressurePath(np.geomspace(1e-3, 0.95, 25))


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def score(sur, grids, T, TC, y, path=None) -> dict:
    """MAE summary and times of the surrogate against lattice-dft at (T, TC, y) on ``path``."""
    opts = {"T": T, "TC": TC, "y": y, "threads": 1}
    dft = create("simulator", "lattice-dft", **opts, **({"path": path} if path is not None else {}))
    s = sur.with_options(T=T, TC=TC, y=y, threads=1, **({"path": path} if path is not None else {"steps": None}))
    dft.simulate(grids[:2])
    s.simulate(grids[:2])  # compiled and warm
    truth, t_dft = _timed(dft.simulate, grids)
    pred, t_sur = _timed(s.simulate, grids)
    diff = np.abs(pred - truth)
    err, n_ads = diff.mean(1), int(s.schedule.n_adsorption)
    return {"points": int(truth.shape[1]), "mean": float(err.mean()), "p95": float(np.quantile(err, 0.95)),
            "worst": float(err.max()), "ads_mean": float(diff[:, :n_ads].mean()),
            "des_mean": float(diff[:, n_ads:].mean()) if n_ads < diff.shape[1] else None,
            "turning_point": float(np.max(s.schedule.pressures)), "dft_s": t_dft, "surrogate_s": t_sur}


def evaluate(sur, design: dict, grids) -> list[dict]:
    rows = []
    for h in design["held_out"]:
        T, TC = (h["T"], h["TC"]) if "TC" in h else (h["t"] * 647.0, 647.0)
        paths = {"loop81": None}
        if "pressures" in h:
            paths["file"] = PressurePath(h["pressures"], h["n_adsorption"])
        else:
            paths["log_ads25"] = LOG_ADS
        for label, path in paths.items():
            r = {"name": h["name"], "t": round(T / TC, 4), "y": h["y"], "path": label, **score(sur, grids, T, TC,
                                                                                             h["y"], path)}
            if "file" in h:
                r["file"] = h["file"]
            rows.append(r)
            print(f"{r['name']:>22} t {r['t']:.3f} y {r['y']:<6g} {label:>9} ({r['points']:3d} pts): MAE mean "
                  f"{r['mean']:.4f} p95 {r['p95']:.4f} worst {r['worst']:.4f}  dft {r['dft_s']:.2f} s  "
                  f"surrogate {r['surrogate_s']:.2f} s", flush=True)
    return rows


def summary(rows) -> dict:
    def agg(sel):
        sel = list(sel)
        return {"conditions": len(sel), "mean_of_means": float(np.mean([r["mean"] for r in sel])),
                "max_mean": float(max(r["mean"] for r in sel)), "max_p95": float(max(r["p95"] for r in sel)),
                "worst": float(max(r["worst"] for r in sel)),
                "speed_ratio": float(sum(r["dft_s"] for r in sel) / sum(r["surrogate_s"] for r in sel))}
    return {label: agg(r for r in rows if r["path"] == label) for label in sorted({r["path"] for r in rows})}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="cnn-cond model directory (default: the shipped one)")
    ap.add_argument("--design", required=True, help="design.json of training/cond_data.py")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20263101, help="never used for training")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    from invtoolkit_plugins.cnn_cond import CNNCondSurrogate

    sur = CNNCondSurrogate(args.model, threads=1)
    grids = create("sampler", "families-mixed").sample(args.n, GridSpace(sur.grid_shape),
                                                       np.random.default_rng(args.seed))
    with open(args.design) as fh:
        design = json.load(fh)
    rows = evaluate(sur, design, grids)
    result = {"model": str(sur.model_path), "n": args.n, "seed": args.seed, "threads": 1, "rows": rows,
              "summary": summary(rows)}
    for label, s in result["summary"].items():
        print(f"{label}: {s}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return result


if __name__ == "__main__":
    main()
