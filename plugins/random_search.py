"""Optimizer plugin ``random``: random search, the baseline every stage must beat."""

from __future__ import annotations

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.population import Population
from invtoolkit.roles import Optimizer

from invtoolkit_plugins._search import Objective, finish, porosity_guess, random_grids, sampled_grids

DEFAULT_EVALS_WITHOUT_DEADLINE = 2000


class RandomSearch(Optimizer):
    """Batches of independent random grids with a spread of porosities; keeps the best.

    Options: ``batch`` grids per evaluator call, ``keep`` grids returned,
    ``max_evals`` (default: until the deadline, or 2000 without one),
    ``low``/``high`` porosity range (a site-normalised target fixes it instead),
    ``sampler`` (default: independent random cells; e.g. "mixed" for structured grids).
    """

    name = "random"

    def __init__(self, batch: int = 64, keep: int = 32, max_evals: int | None = None,
                 low: float = 0.1, high: float = 0.9, sampler: str | None = None):
        if int(batch) < 1 or int(keep) < 1:
            raise InputError("random: batch and keep must be >= 1")
        if not 0.0 <= low <= high <= 1.0:
            raise InputError(f"random: need 0 <= low <= high <= 1, got low={low}, high={high}")
        self.batch, self.keep = int(batch), int(keep)
        self.max_evals = None if max_evals is None else int(max_evals)
        self.low, self.high = float(low), float(high)
        self.sampler = sampler

    def run(self, problem, population, *, rng, deadline=None, progress=False) -> Population:
        shape = problem.search_shape(population)
        limit = self.max_evals
        if limit is None and problem.deadline is None and deadline is None:
            limit = DEFAULT_EVALS_WITHOUT_DEADLINE
        guess = porosity_guess(problem.target)
        with Objective(problem, deadline=deadline, progress=progress, desc="random", archive=self.keep) as obj:
            obj.prime(population)
            while limit is None or obj.evaluations < limit:
                n = self.batch if limit is None else min(self.batch, limit - obj.evaluations)
                if not obj.fits(n):
                    break
                if self.sampler in (None, "cells"):
                    grids = random_grids(n, shape, rng, porosity=guess, spread=(self.low, self.high))
                else:
                    grids = sampled_grids(n, shape, rng, porosity=guess, sampler=self.sampler)
                obj.evaluate(grids)
            return finish(obj, population, keep=self.keep)


@hookimpl
def register_optimizers(register):
    register("random", RandomSearch, "Random search baseline (random grids, spread of porosities)")
