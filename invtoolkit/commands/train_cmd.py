"""``invtoolkit train``: the group for training learned plugins.

``train surrogate`` is defined here; other modules attach their subcommands with
``from invtoolkit.commands.train_cmd import train_group``.
"""

from __future__ import annotations

import shlex
import sys

import click

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.hooks.options import parse_options
from invtoolkit.core.roles import Trainable


@click.group("train")
def train_group():
    """Train learned plugins (surrogates, generators) from datasets."""


@train_group.command("surrogate")
@click.argument("data", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Model directory to write (config.json, weights.pt, learning_curve.png, checkpoint.pt).")
@click.option("--surrogate", default=registry.RoleDefault("surrogate"), type=str, show_default=True,
              help="Surrogate plugin to train (default: the one a plugin declares).")
@click.option("--epochs", type=int, default=40, show_default=True, help="Maximum epochs per member.")
@click.option("--time-limit", type=float, default=None, help="Minutes for the whole run (all members).")
@click.option("--seed", type=int, default=0, show_default=True, help="Split, initialisation and shuffling seed.")
@click.option("--batch-size", type=int, default=256, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Peak learning rate (warm-up + cosine).")
@click.option("--ensemble", type=int, default=1, show_default=True, help="Members, seeds seed..seed+K-1.")
@click.option("--patience", type=int, default=8, show_default=True, help="Early stopping: epochs without improvement.")
@click.option("--val-fraction", type=float, default=0.05, show_default=True)
@click.option("--threads", type=int, default=None, help="torch CPU threads (default: all cores).")
@click.option("--arch", "arch_items", multiple=True, metavar="KEY=VALUE",
              help="Architecture override, e.g. channels=24, dilations=1,1,2,4. Repeatable.")
@click.option("--resume", is_flag=True, help="Continue from OUTPUT/checkpoint.pt.")
@click.option("--init", "init", type=click.Path(), default=None,
              help="Warm start: initialise from this model directory (its architecture and weights).")
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_surrogate_command(data, output, surrogate, epochs, time_limit, seed, batch_size, lr, ensemble, patience,
                            val_fraction, threads, arch_items, resume, init, progress):
    """Train a surrogate on a labelled dataset DATA (zarr store from 'dataset generate').

    A seeded train/validation split, a checkpoint every epoch (--resume continues),
    early stopping on the validation MAE, and the learning curve saved beside the
    model as learning_curve.png. The model's config.json records the simulator
    parameters, the dataset and this command.

    \b
    Example:
      invtoolkit train surrogate data/train.zarr -o models/cnn --time-limit 60
    """
    if epochs < 1 or batch_size < 1 or ensemble < 1 or lr <= 0 or not 0 < val_fraction < 1:
        raise InputError("epochs, batch size and ensemble must be >= 1, lr > 0 and 0 < val-fraction < 1")
    factory = registry.registry().entry("surrogate", surrogate).factory
    if not (isinstance(factory, type) and issubclass(factory, Trainable)):
        raise InputError(f"surrogate '{surrogate}' cannot be trained (it is not Trainable)")
    summary = factory.train(data, output, epochs=epochs, time_limit=time_limit, seed=seed, batch_size=batch_size, lr=lr,
                      ensemble=ensemble, patience=patience, val_fraction=val_fraction, threads=threads,
                      arch=parse_options(arch_items, flag="--arch"), resume=resume, progress=progress,
                      **({"init": init} if init else {}),
                      command="invtoolkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    click.echo(f"{output}: validation MAE {summary['val_mae']:.5f} (p95 {summary['val_mae_p95']:.5f}) "
               f"on {summary['n_val']} grids", err=True)


def register(cli):
    cli.add_command(train_group)
