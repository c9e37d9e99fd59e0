"""invtoolkit plugin ``annealing``: simulated annealing over single-cell flips.

Written on invtoolkit's public search toolkit (``invtoolkit.search``): the template
``Algorithm`` runs the loop, the evaluator counts, caches, keeps the best distinct
grids and honours the chain's time limit; the plugin is only its algorithm.
"""

from __future__ import annotations

import math

import click
import numpy as np

from invtoolkit.plugin import Algorithm, InputError, MaxEvaluations, any_of, hookimpl, starting_grids


class Annealing(Algorithm):
    """Simulated annealing: ``chains`` Markov chains flip one cell each per step, all
    proposals in one evaluator call. A worse proposal is accepted with probability
    exp(-(increase in error) / T); T falls geometrically from ``t_start`` to ``t_end``
    over the stage's time or ``max_evals`` (2000 without either). Returns the ``keep``
    best distinct grids seen."""

    name = "anneal"

    def __init__(self, chains: int = 8, t_start: float = 0.01, t_end: float = 1e-4, max_evals: int | None = None,
                 keep: int = 16):
        if int(chains) < 1 or int(keep) < 1:
            raise InputError("anneal: chains and keep must be >= 1")
        if not (t_start > 0 and t_end > 0):
            raise InputError("anneal: temperatures must be > 0")
        self.chains, self.keep, self.archive_size = int(chains), int(keep), int(keep)
        self.t_start, self.t_end, self.max_evals = float(t_start), float(t_end), max_evals

    def temperature(self, fraction: float) -> float:
        """Temperature after ``fraction`` (0..1) of the budget: geometric cooling."""
        return self.t_start * (self.t_end / self.t_start) ** min(max(fraction, 0.0), 1.0)

    def budget(self, termination):
        limit = self.max_evals or (None if termination.has_time_limit else 2000)
        return any_of(termination, MaxEvaluations(limit) if limit else None)

    def start(self, evaluator, population, rng):
        self.current = starting_grids(evaluator.problem, population, self.chains, rng, sampler="cells")
        self.errors = evaluator.errors(self.current)

    def propose(self, evaluator, rng):
        self.temp = self.temperature(evaluator.used_fraction())
        proposal, n = self.current.copy(), len(self.current)
        proposal.reshape(n, -1)[np.arange(n), rng.integers(0, self.space.cells, n)] ^= 1
        return proposal

    def tell(self, evaluator, grids, scores, rng):
        accept = rng.random(len(grids)) < np.exp(-np.maximum(scores[:, 0] - self.errors, 0.0) / self.temp)
        self.current[accept], self.errors[accept] = grids[accept], scores[accept, 0]


@hookimpl
def register_optimizers(register):
    register("anneal", Annealing, "Simulated annealing over single-cell flips (example third-party plugin)")


@click.command("anneal-info")
@click.option("--steps", type=int, default=5, show_default=True, help="Points of the schedule to print.")
def anneal_info(steps):
    """Show the 'anneal' optimizer's options and its default temperature schedule."""
    opt = Annealing()
    click.echo("anneal: simulated annealing over single-cell flips (plugin invtoolkit-annealing)")
    click.echo(f"options: chains={opt.chains}, t_start={opt.t_start:g}, t_end={opt.t_end:g}, "
               f"max_evals={opt.max_evals}, keep={opt.keep}")
    for i in range(steps):
        f = i / max(steps - 1, 1)
        click.echo(f"  {f:4.0%} of the budget: T = {opt.temperature(f):.2e} "
                   f"(accepts +0.001 MAE with p = {math.exp(-0.001 / opt.temperature(f)):.3f})")


@hookimpl
def register_commands(cli):
    cli.add_command(anneal_info)
