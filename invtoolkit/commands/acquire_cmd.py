"""``invtoolkit acquire``: parse the options, run :class:`invtoolkit.learning.acquisition.Acquirer`."""

from __future__ import annotations

import click

from invtoolkit.learning.acquisition import DEFAULT_POOL_SAMPLER, HELD_OUT_SAMPLERS, HELD_OUT_SEED


@click.command("acquire")
@click.argument("store", type=click.Path())
@click.option("-o", "--output", "workdir", required=True, type=click.Path(file_okay=False),
              help="Work directory: data.zarr (the growing copy), rounds.json, held_out.npz, round_K/.")
@click.option("--model", "models", multiple=True, required=True, type=click.Path(),
              help="Committee model directory; repeatable. One model alone needs >= 2 ensemble members.")
@click.option("--rounds", type=click.IntRange(1), default=1, show_default=True)
@click.option("--pool", type=click.IntRange(1), default=20_000, show_default=True,
              help="Candidate grids drawn per round.")
@click.option("--take", type=click.IntRange(1), default=2000, show_default=True,
              help="Most-disputed grids labelled and appended per round.")
@click.option("--control", type=click.IntRange(0), default=None,
              help="Random pool grids labelled (not appended) as the comparison [default: --take].")
@click.option("--sampler", default=DEFAULT_POOL_SAMPLER, show_default=True,
              help="Pool sampler, or a mixture 'a:W,b:W' (then counts per sampler are recorded).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Round K's pool and control are drawn with (seed, K).")
@click.option("--train-minutes", type=float, default=None,
              help="Fine-tune a model for this long after every round (default: no training).")
@click.option("--init", type=click.Path(), default=None,
              help="Model the first fine-tuning starts from [default: the first --model].")
@click.option("--worst", type=float, default=0.05, show_default=True,
              help="With training: stop once no held-out family's worst MAE is above this.")
@click.option("--held-out", type=click.IntRange(0), default=500, show_default=True,
              help="Held-out grids per family (drawn once, never acquired; 0: none).")
@click.option("--held-out-seed", type=click.IntRange(0), default=HELD_OUT_SEED, show_default=True)
@click.option("--in-place", is_flag=True, help="Append to STORE itself instead of WORKDIR/data.zarr.")
@click.option("--threads", type=click.IntRange(1), default=None, help="torch and simulator threads.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def acquire_command(store, workdir, models, rounds, threads, **settings):
    """Add exact DFT labels to STORE where the committee's models disagree most.

    \b
    Disagreement: every member of every --model predicts the isotherm of each pool
    grid; at every pressure point the spread (standard deviation) of the members'
    predictions is taken, and its mean over the points is the grid's score. Where
    models trained differently disagree, at least one of them is wrong, so the
    high-scored grids are where new labels teach the most.

    \b
    Per round K: draw --pool grids (--sampler, seed (--seed, K)), score them, take the
    --take highest (distinct up to torus symmetry from each other, from the store and
    from the held-out set), label them with the store's exact simulator and append them
    to WORKDIR/data.zarr (STORE itself only with --in-place). A random --control sample
    of the pool is labelled too, so rounds.json records the committee mean's true MAE
    on the taken grids vs on the control, the mean score of both and of the pool, the
    rank correlation of score and error, counts by porosity band (and per sampler of a
    mixture), and the per-family MAE on held-out grids (fam-* samplers, seed
    --held-out-seed). With --train-minutes M, a model is fine-tuned on the grown store
    (as 'invtoolkit train surrogate --init') into WORKDIR/round_K/ and replaces the
    first committee model; the run stops early once no held-out family's worst MAE
    exceeds --worst. Running the command again resumes after the last finished round.

    \b
    Example:
      invtoolkit acquire train.zarr -o acq/ --model m1 --model m2 --rounds 3 --pool 20000 --take 2000
    """
    from invtoolkit.learning.acquisition import Acquirer, AcquisitionSettings

    if threads:
        import torch

        torch.set_num_threads(threads)
    st = AcquisitionSettings(models=list(models), threads=threads, held_out_samplers=HELD_OUT_SAMPLERS, **settings)
    acquirer = Acquirer(workdir, store, st, log=lambda msg: click.echo(msg, err=True))
    done = len(acquirer.rounds)
    if done >= rounds:
        click.echo(f"{workdir}: {done} rounds already done", err=True)
    acquirer.run(rounds)


def register(cli):
    cli.add_command(acquire_command)
