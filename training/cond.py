"""Train the conditioned surrogate ``cnn-cond`` (issue 31 part 2); driven by training/cond.sh.

    python training/cond.py STORE [STORE ...] -o OUT --init plugins/models/cnn-fast --epochs 4 --seed 3211 \
        [--max-epochs-now K]

Starts from the cnn-fast model (FiLM at identity), resumes from OUT/checkpoint.pt; the
finished model directory (config.json + weights.pt) is written to OUT.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stores", nargs="+", help="DFT-labelled dataset stores (.zarr), any (T, TC, y)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--init", default="plugins/models/cnn-fast", help="cnn-fast model to start from (FiLM at identity), or a cnn-cond model (a further stage)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=3211)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--val-n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-epochs-now", type=int, default=None)
    ap.add_argument("--epoch-rows", type=int, default=None, help="rows per epoch (default: all)")
    args = ap.parse_args(argv)
    from invtoolkit_plugins.cnn_cond.training import train_cond

    command = "python training/cond.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    summary = train_cond(args.stores, args.output, init=args.init, epochs=args.epochs, seed=args.seed,
                         batch_size=args.batch_size, lr=args.lr, val_n=args.val_n, threads=args.threads,
                         max_epochs_now=args.max_epochs_now, epoch_rows=args.epoch_rows,
                         command=command)
    if summary is not None:
        print(f"saved {args.output}: val MAE {summary['val_mae']:.5f}")


if __name__ == "__main__":
    main()
