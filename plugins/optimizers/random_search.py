"""Optimizer plugin ``random``: random search, the baseline every stage must beat."""

from __future__ import annotations

from invtoolkit.plugin import (Algorithm, InputError, MaxEvaluations, any_of, hookimpl, porosity_guess,
                               random_grids, sampled_grids)

DEFAULT_EVALS_WITHOUT_DEADLINE = 2000


class RandomSearch(Algorithm):
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
        self.archive_size = self.keep
        self.max_evals = None if max_evals is None else int(max_evals)
        self.low, self.high = float(low), float(high)
        self.sampler = sampler

    def budget(self, termination):
        limit = self.max_evals
        if limit is None and not termination.bounded:
            limit = DEFAULT_EVALS_WITHOUT_DEADLINE
        return any_of(termination, None if limit is None else MaxEvaluations(limit))

    def start(self, evaluator, population, rng):
        self.guess = porosity_guess(evaluator.problem.target)

    def propose(self, evaluator, rng):
        n = int(min(self.batch, evaluator.budget_left()))
        if not evaluator.fits(n):  # before drawing: the stages after this one share rng
            return None
        if self.sampler in (None, "cells"):
            return random_grids(n, self.space, rng, porosity=self.guess, spread=(self.low, self.high))
        return sampled_grids(n, self.space, rng, porosity=self.guess, sampler=self.sampler)


@hookimpl
def register_optimizers(register):
    register("random", RandomSearch, "Random search baseline (random grids, spread of porosities)")
