"""Train the ``cnn-fast`` surrogate (issue 31); driven by training/cnn_fast.sh.

    python training/cnn_fast.py STORE [STORE ...] -o OUT --epochs 6 --seed 31 [--max-epochs-now K]

Resumes from OUT/checkpoint.pt; the finished model directory (config.json + weights.pt)
is written to OUT. ``--max-epochs-now`` stops after K more epochs (a test of resuming).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stores", nargs="+", help="DFT-labelled dataset stores (.zarr)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--val-n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--arch", default=None, help="JSON object of architecture keys over the default")
    ap.add_argument("--init", default=None, help="cnn-fast model directory to start from (widened to --arch)")
    ap.add_argument("--max-epochs-now", type=int, default=None)
    args = ap.parse_args(argv)
    from invtoolkit_plugins.cnn_fast.training import train_fast

    command = "python training/cnn_fast.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    summary = train_fast(args.stores, args.output, epochs=args.epochs, seed=args.seed, batch_size=args.batch_size,
                         lr=args.lr, val_n=args.val_n, threads=args.threads, max_epochs_now=args.max_epochs_now,
                         arch=json.loads(args.arch) if args.arch else None, command=command, init=args.init)
    if summary is not None:
        print(f"saved {args.output}: val MAE {summary['val_mae']:.5f}")


if __name__ == "__main__":
    main()
