"""Pack the first N grids of a labelled dataset store into a bank directory (plugin 'bank').

    python training/build_bank.py STORE.zarr OUT_DIR --n 65536 --command "..."

The store must be labelled on the full loop (2*steps+1 points); its simulator and
parameters are copied into the bank's config.json with the build command.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import zarr

from invtoolkit_plugins.bank.store import load_bank, save_bank


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, required=True, help="grids kept (the store's first N)")
    ap.add_argument("--command", default="", help="the build command, recorded in config.json")
    args = ap.parse_args(argv)

    group = zarr.open_group(args.store, mode="r")
    attrs = dict(group.attrs)
    if attrs.get("length", 0) < args.n:
        raise SystemExit(f"{args.store} holds {attrs.get('length', 0)} grids, {args.n} wanted")
    params = dict(attrs["simulator_params"])
    steps = int(params["steps"])
    curves = np.asarray(group["curves"][: args.n], dtype=np.float64)
    if curves.shape[1] != 2 * steps + 1:
        raise SystemExit(f"{args.store}: curves have {curves.shape[1]} points, the full loop has {2 * steps + 1}")
    config = {"plugin": "bank", "grid_shape": list(attrs["grid_shape"]), "steps": steps,
              "pressures": [float(p) for p in group["pressures"][:]], "simulator": attrs["simulator"],
              "simulator_params": params, "sampler": attrs.get("sampler"), "seed": attrs.get("seed"),
              "build_command": args.command}
    save_bank(args.out, np.asarray(group["grids"][: args.n]), curves, config)
    t0 = time.perf_counter()
    _, _, back = load_bank(args.out)
    print(f"{args.out}: {args.n} grids, load {time.perf_counter() - t0:.3f} s, "
          f"largest quantisation error {np.abs(back - curves).max():.2e}")


if __name__ == "__main__":
    main()
