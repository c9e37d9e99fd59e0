"""Draw an active-learning run's held-out targets before the run, and write the rest.

`invtoolkit active-learn` draws its evaluation and validation targets from the dataset
(seeded) when it first starts in WORKDIR. A generator that is to be trained on the same
dataset BEFORE the loop must not see them: this makes WORKDIR (draws included, exactly
as the command will) and writes the dataset's remaining curves as an .npy of targets
for `invtoolkit train generator --targets`.

    python training/held_out_split.py WORKDIR DATA.zarr REST.npy [--seed 0 --eval-count 512 --val-count 512]
"""

import argparse

import numpy as np

from invtoolkit.learning.active_learning import held_out_split
from invtoolkit.datasets.dataset import Dataset

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("workdir")
parser.add_argument("data")
parser.add_argument("rest")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--eval-count", type=int, default=512)
parser.add_argument("--val-count", type=int, default=512)
args = parser.parse_args()
learner, rest = held_out_split(args.workdir, args.data, seed=args.seed, eval_count=args.eval_count,
                               val_count=args.val_count)
np.save(args.rest, rest)
total = len(Dataset.open(args.data))
print(f"{total} curves: {len(learner.eval_targets)} evaluation + {len(learner.val_targets)} validation held out "
      f"in {args.workdir}, {len(rest)} written to {args.rest}")
