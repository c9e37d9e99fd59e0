"""``invtoolkit active-learn``: parse the options, run :class:`invtoolkit.learning.active_learning.ActiveLearner`."""

from __future__ import annotations

import click

from invtoolkit.hooks import registry

@click.command("active-learn")
@click.option("--data", required=True, type=click.Path(file_okay=False), help="Labelled dataset (zarr).")
@click.option("--surrogate-model", default=registry.RoleDefault("surrogate"), type=str, show_default=True,
              help="Surrogate model directory or plugin name (its default model).")
@click.option("--generator-model", default="default", show_default=True,
              help="Generator model directory ('default': the shipped one).")
@click.option("--generator", default=registry.RoleDefault("generator"), type=str, show_default=True,
              help="Generator plugin.")
@click.option("--rounds", type=click.IntRange(1), default=3, show_default=True)
@click.option("--targets", "n_targets", type=click.IntRange(1), default=64, show_default=True,
              help="Training targets per round (fresh dataset curves, verified by DFT and appended).")
@click.option("--eval-targets", type=click.Path(), default=None,
              help="Evaluation targets: a dataset or .npy (M,P) (default: --eval-count held out from --data).")
@click.option("--eval-count", type=click.IntRange(1), default=512, show_default=True,
              help="Evaluation targets held out from --data (at most a quarter of it).")
@click.option("--val-count", type=click.IntRange(1), default=512, show_default=True,
              help="Validation targets held out from --data for generator selection (at most a quarter of it).")
@click.option("-n", "n", type=click.IntRange(1), default=16, show_default=True, help="Grids per target.")
@click.option("--wrong", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="Surrogate-vs-DFT MAE above which a pair counts as a surrogate mistake.")
@click.option("--surrogate-epochs", type=click.IntRange(1), default=5, show_default=True)
@click.option("--generator-epochs", type=click.IntRange(1), default=3, show_default=True)
@click.option("--generator-targets", type=click.IntRange(1), default=4096, show_default=True,
              help="Replayed dataset targets per generator fine-tuning.")
@click.option("--hard-repeat", type=click.IntRange(0), default=3, show_default=True,
              help="Times the round's hard targets (best-of-n error above the median) enter generator fine-tuning.")
@click.option("--generator-best-of", type=click.IntRange(1), default=None,
              help="Codes per target whose best surrogate MAE the generator fine-tuning trains (relaxed "
                   "winner-takes-all; default: the generator's recorded recipe).")
@click.option("--surrogate-lr", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True)
@click.option("--generator-lr", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True)
@click.option("--replay", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Older pairs replayed per surrogate mistake while fine-tuning.")
@click.option("--select/--no-select", default=True, show_default=True,
              help="Pick the generator epoch by DFT on the validation targets and keep it only if it beats "
                   "the previous round's generator there.")
@click.option("--in-place", is_flag=True, help="Append to --data itself instead of a copy in WORKDIR.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="torch threads.")
@click.option("-o", "--output", "workdir", required=True, type=click.Path(file_okay=False), help="Work directory.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def active_learn_command(data, surrogate_model, generator_model, rounds, threads, workdir, **settings):
    """Active learning: generate, verify by lattice DFT, fine-tune, repeat.

    Reports per round the DFT-verified error (median over evaluation targets of the
    best-of-N MAE) in WORKDIR/rounds.json, with whether the round's fine-tuned
    generator was accepted (it must beat the previous one by DFT on separate
    validation targets). Resumable: finished rounds are skipped.

    \b
    Example:
      invtoolkit active-learn --data train.zarr --rounds 3 --targets 64 -o al/
    """
    from invtoolkit.learning.active_learning import ActiveLearner, ActiveLearningSettings

    if threads:
        import torch

        torch.set_num_threads(threads)
    settings["targets"] = settings.pop("n_targets")
    learner = ActiveLearner(workdir, data, surrogate_model, generator_model, ActiveLearningSettings(**settings),
                            log=lambda msg: click.echo(msg, err=True))
    done = len(learner.rounds)
    if done > rounds:
        click.echo(f"{workdir}: {done - 1} rounds already done", err=True)
    learner.run(rounds)


def register(cli):
    cli.add_command(active_learn_command)
