"""cnn-fast against the exact lattice DFT and the shipped cnn, measured in ONE run on the same grids.

The same N grids (families-mixed, fresh seed) go through: lattice-dft (the full 81-point
loop), cnn, cnn-fast, and the parts of cnn-fast (its anchor = exact top point by the DFT on
RH 0 -> 1; its network alone in the numba kernel; the same network in torch, eager and
traced+frozen). Rounds are interleaved and each rate is the median over rounds, so load from
other processes hits all of them alike. Prints grids/s, the ratios to the DFT and the machine.

    python benchmarks/surrogate_fast.py [--n 20000] [--rounds 3] [--threads 2] [--model DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time

import numpy as np

from invtoolkit.hooks import registry


def machine() -> str:
    """CPU model and core count (lscpu), for the record."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        name = info.get("Model name", "?").strip()
        return f"{name}, {info.get('CPU(s)', '?').strip()} CPU(s), {platform.machine()}"
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()


def rate(fn, n: int) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def contenders(args):
    """name -> zero-argument callable on the benchmark grids."""
    import torch

    torch.set_num_threads(args.threads)
    fast_opts = {"threads": args.threads, **({"model": args.model} if args.model else {})}
    fast = registry.create("surrogate", "cnn-fast", **fast_opts)
    cnn = registry.create("surrogate", "cnn", threads=args.threads)
    dft = registry.create("simulator", "lattice-dft", threads=args.threads)
    rng = np.random.default_rng(args.seed)
    grids = registry.create("sampler", "families-mixed").sample(args.n, fast.grid_shape, rng)
    tops = fast.top_points(grids)
    x, t = torch.from_numpy(grids).float(), torch.from_numpy(tops)

    def torch_batched(net, bs=1024):
        with torch.inference_mode():
            for s in range(0, len(x), bs):
                net(x[s:s + bs], t[s:s + bs])

    with torch.no_grad():
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(fast.net, (x[:1024], t[:1024]),
                                                                                   check_trace=False)))
    runs = {
        "lattice-dft": lambda: dft.simulate(grids),
        "cnn": lambda: cnn.simulate(grids),
        "cnn-fast": lambda: fast.simulate(grids),
        "cnn-fast anchor only": lambda: fast.top_points(grids),
        "cnn-fast network only (numba)": lambda: fast._predict_cpu(grids, tops),
        "cnn-fast network only (torch eager)": lambda: torch_batched(fast.net),
        "cnn-fast network only (torch frozen)": lambda: torch_batched(frozen),
    }
    dft.simulate(grids[:64])  # compile / warm up outside the timing
    cnn.simulate(grids[:4096])
    fast.simulate(grids[:4096])
    return runs, grids


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261231)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=None, help="cnn-fast model directory (default: the shipped one)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    runs, grids = contenders(args)
    rates = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            rates[name].append(rate(fn, len(grids)))
    med = {name: float(np.median(r)) for name, r in rates.items()}
    dft = med["lattice-dft"]
    result = {"machine": machine(), "threads": args.threads, "n": len(grids), "rounds": args.rounds,
              "grids_per_s": med, "all_rounds": rates, "ratio_to_dft": {k: v / dft for k, v in med.items()},
              "anchor_share_of_cnn_fast": med["cnn-fast"] / med["cnn-fast anchor only"]}
    print(f"machine: {result['machine']}; {args.threads} threads; {len(grids)} grids 20x20 (families-mixed), "
          f"81-point loops; median of {args.rounds} interleaved rounds")
    print(f"{'':<40}{'grids/s':>10}{'x DFT':>8}")
    for name, v in med.items():
        print(f"{name:<40}{v:>10,.0f}{v / dft:>8.2f}")
    print(f"cnn-fast / cnn: {med['cnn-fast'] / med['cnn']:.2f}x; the anchor takes "
          f"{100 * result['anchor_share_of_cnn_fast']:.0f}% of cnn-fast's time")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
