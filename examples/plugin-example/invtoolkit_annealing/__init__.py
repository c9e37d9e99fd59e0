"""invtoolkit plugin ``annealing``: simulated annealing over single-cell flips.

Uses only invtoolkit's public API (roles, Population, hookspecs): what any
third-party plugin can rely on.
"""

from __future__ import annotations

import math
import time

import click
import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.population import Population
from invtoolkit.roles import Optimizer

EVALS_WITHOUT_DEADLINE = 2000  # budget when the chain gives no time limit


class Annealing(Optimizer):
    """Simulated annealing: ``chains`` Markov chains flip one cell each per step.

    All chains' proposals go to the evaluator in one call. A worse proposal is
    accepted with probability exp(-(increase in MAE) / T); T falls geometrically
    from ``t_start`` to ``t_end`` over the stage's time (or ``max_evals``). Starts
    from the best incoming grids, topped up with random ones. Returns the ``keep``
    best distinct grids seen.
    """

    name = "anneal"

    def __init__(self, chains: int = 8, t_start: float = 0.01, t_end: float = 1e-4, max_evals: int | None = None,
                 keep: int = 16):
        if int(chains) < 1 or int(keep) < 1:
            raise InputError("anneal: chains and keep must be >= 1")
        if not (t_start > 0 and t_end > 0):
            raise InputError("anneal: temperatures must be > 0")
        self.chains, self.keep = int(chains), int(keep)
        self.t_start, self.t_end = float(t_start), float(t_end)
        self.max_evals = None if max_evals is None else int(max_evals)

    def temperature(self, fraction: float) -> float:
        """Temperature after ``fraction`` (0..1) of the budget: geometric cooling."""
        fraction = min(max(fraction, 0.0), 1.0)
        return self.t_start * (self.t_end / self.t_start) ** fraction

    def run(self, problem, population, *, rng, deadline=None, progress=False) -> Population:
        deadlines = [d for d in (deadline, problem.deadline) if d is not None]
        deadline = min(deadlines) if deadlines else None
        limit = self.max_evals if self.max_evals is not None else (None if deadline else EVALS_WITHOUT_DEADLINE)
        shape = tuple(population.grids.shape[1:]) if len(population) else tuple(problem.grid_shape)
        start = time.monotonic()

        current = self._starting_grids(population, shape, rng)
        errors = problem.errors(current)
        evals, step_seconds = len(current), time.monotonic() - start
        seen = Population(current.copy(), errors.copy())
        h, w = shape
        rows = np.arange(len(current))
        while True:
            if limit is not None and evals + len(current) > limit:
                break
            now = time.monotonic()
            if deadline is not None and now + step_seconds > deadline:  # the next step would overrun
                break
            fraction = evals / limit if limit is not None else (now - start) / max(deadline - start, 1e-9)
            temp = self.temperature(fraction)
            proposal = current.copy()
            cells = rng.integers(0, h * w, size=len(current))
            proposal.reshape(len(current), -1)[rows, cells] ^= 1
            t0 = time.monotonic()
            new_errors = problem.errors(proposal)  # all-wall grids score inf: never accepted
            step_seconds = time.monotonic() - t0
            evals += len(proposal)
            worse = np.maximum(new_errors - errors, 0.0)
            accept = rng.random(len(current)) < np.exp(-worse / temp)
            current[accept], errors[accept] = proposal[accept], new_errors[accept]
            seen = seen.concat(Population(proposal, new_errors)).sorted().unique()[: 4 * self.keep]
        return seen.best(self.keep)

    def _starting_grids(self, population, shape, rng) -> np.ndarray:
        seeds = population.sorted().unique().grids[: self.chains] if len(population) else np.zeros((0, *shape), np.uint8)
        missing = self.chains - len(seeds)
        if missing > 0:
            seeds = np.concatenate([seeds, Population.random(missing, shape, rng).grids])
        return np.ascontiguousarray(seeds, dtype=np.uint8)


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
