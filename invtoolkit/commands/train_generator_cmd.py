"""``invtoolkit train generator``: parse, call :func:`invtoolkit.learning.generator_training.train_generator`,
print. Attached to the ``train`` group of ``train_cmd``."""

from __future__ import annotations

from pathlib import Path

import click

from invtoolkit.hooks import registry

from invtoolkit.core.defaults import DEFAULT_GRID_SHAPE

# ------------------------------------------------------------------ command
@click.command("generator")
@click.option("--surrogate", "surrogate_spec", default=registry.RoleDefault("surrogate"), type=str,
              show_default=True,
              help="Surrogate plugin name (its default model) or a surrogate model directory.")
@click.option("--targets", required=True, type=click.Path(),
              help="Dataset (zarr) whose curves are the training targets (or a .npy (N,P) of curves).")
@click.option("--val-targets", type=click.Path(), default=None,
              help="Held-out targets for validation (default: 10% of --targets).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--generator", default=registry.RoleDefault("generator"), type=str, show_default=True,
              help="Generator plugin to train.")
@click.option("--init", type=click.Path(file_okay=False), default=None,
              help="Start from this generator model (fine-tuning) instead of fresh weights.")
@click.option("--epochs", type=click.IntRange(1), default=50, show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None, help="Minutes.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=256, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option("--latent-dim", type=click.IntRange(1), default=12, show_default=True)
@click.option("--info-weight", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Weight of the latent-recovery (diversity) term.")
@click.option("--diversity-weight", type=click.FloatRange(min=0), default=None,
              help="Weight of the penalty on two codes giving grids closer than the margin up to symmetry "
                   "(default: the --init model's recorded one, else the generator's, 0.3 for deconv; 0 turns it off).")
@click.option("--diversity-margin", type=click.FloatRange(0, 1), default=None,
              help="Fraction of cells two grids for one target should differ by, up to symmetry "
                   "(default: the --init model's recorded one, else the generator's, 0.0025 for deconv).")
@click.option("--best-of", type=click.IntRange(1), default=None,
              help="Codes per target whose BEST surrogate MAE is trained (relaxed winner-takes-all), matching "
                   "inversion's best of n (default: the --init model's recorded one, else 1 = every code alone).")
@click.option("--max-targets", type=click.IntRange(1), default=None, help="Use at most this many targets.")
@click.option("--max-val", type=click.IntRange(1), default=4000, show_default=True,
              help="Use at most this many --val-targets.")
@click.option("--checkpoint", type=click.Path(file_okay=False), default=None,
              help="Checkpoint directory (default OUTPUT/checkpoint); an interrupted run resumes from it.")
@click.option("--threads", type=click.IntRange(1), default=None, help="torch threads.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_generator_command(surrogate_spec, targets, val_targets, output, generator, init, epochs, time_limit,
                            seed, batch_size, lr, latent_dim, info_weight, diversity_weight, diversity_margin,
                            best_of, max_targets, max_val, checkpoint, threads, progress):
    """Train a generator (isotherm x latent code -> grid) through a frozen surrogate.

    The loss is the MAE between the surrogate's isotherm of each generated grid and
    its target (the adsorption branch of the dataset's curves), plus terms that make
    different latent codes give different grids (a diversity penalty on pairs of codes
    per target and a latent-recovery term). --init fine-tunes an existing model. Writes OUTPUT/config.json,
    weights.pt, history.json and learning_curve.png.

    \b
    Example:
      invtoolkit train generator --surrogate cnn --targets data/train.zarr -o models/deconv
      invtoolkit train generator --init models/deconv --diversity-weight 0.3 --targets data/train.zarr -o models/deconv2
    """
    from invtoolkit.learning.generator_training import train_generator
    from invtoolkit.learning.loaders import load_dataset, load_surrogate

    if threads:
        import torch

        torch.set_num_threads(threads)
    surrogate = load_surrogate(surrogate_spec)
    grids, curves = load_dataset(targets)
    if max_targets is not None:
        curves = curves[:max_targets]
    shape = tuple(grids.shape[1:]) if grids is not None else (surrogate.grid_shape or DEFAULT_GRID_SHAPE)
    val_curves = load_dataset(val_targets)[1][:max_val] if val_targets else None
    _, history = train_generator(
        generator=generator, surrogate=surrogate, curves=curves, output=output, init=init, epochs=epochs,
        time_limit=None if time_limit is None else time_limit * 60, seed=seed, batch_size=batch_size, lr=lr,
        latent_dim=latent_dim, info_weight=info_weight, checkpoint=checkpoint or Path(output) / "checkpoint",
        progress=progress, grid_shape=shape, val_curves=val_curves, diversity_weight=diversity_weight,
        diversity_margin=diversity_margin, best_of=best_of)
    best = min(history["val_mae"]) if history["val_mae"] else float("nan")
    click.echo(f"{generator}: {len(history['epoch'])} epochs, best validation MAE {best:.4f} (surrogate) -> {output}",
               err=True)


def register(cli):
    from invtoolkit.commands.train_cmd import train_group

    if "generator" not in train_group.commands:
        train_group.add_command(train_generator_command)
