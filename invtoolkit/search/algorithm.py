"""The template optimizer: an algorithm says how to start, what to propose and what
to learn from the scores; :meth:`Algorithm.run` owns the rest (the evaluator and its
termination, priming with the incoming population, the loop, the result)."""

from __future__ import annotations

import numpy as np

from invtoolkit.core.population import Population
from invtoolkit.core.roles import Optimizer
from invtoolkit.search.evaluator import Evaluator
from invtoolkit.search.seeding import search_space
from invtoolkit.core.termination import Termination, as_termination

__all__ = ["Algorithm", "finish", "search_space"]


class Algorithm(Optimizer):
    """Subclass and implement :meth:`start`, :meth:`propose` and :meth:`tell`.

    The loop: ``start`` once (it may evaluate grids itself, e.g. its starting grids),
    then, until the termination stops it, ``propose`` a batch of grids (None: done),
    which is evaluated in one call if it fits in the time and budget left, and ``tell``
    the scores back. The result merges :meth:`result`, the incoming population and
    the evaluator's archive, best first, distinct, at most ``keep`` grids.
    """

    name = "algorithm"
    keep: int | None = None  # grids returned (None: all)
    archive_size: int = 16  # best distinct grids the evaluator remembers
    iterations: int = 0  # batches proposed and evaluated by the last run (a GA's generations)

    # -- what subclasses write -------------------------------------------------------
    def start(self, evaluator: Evaluator, population: Population, rng: np.random.Generator) -> None:
        """Set up the search state (starting grids from ``invtoolkit.search.seeding``)."""

    def propose(self, evaluator: Evaluator, rng: np.random.Generator) -> np.ndarray | None:
        """The next batch of grids (N, *shape) to evaluate, or None to stop."""
        raise NotImplementedError

    def tell(self, evaluator: Evaluator, grids: np.ndarray, scores: np.ndarray, rng: np.random.Generator) -> None:
        """Scores (N, k) of the proposed grids (column 0: the objective)."""

    def result(self) -> list[Population]:
        """Populations to return besides the archive (e.g. a swarm's personal bests)."""
        return []

    def budget(self, termination: Termination) -> Termination:
        """The stage's termination combined with the algorithm's own limits (override)."""
        return termination

    def scoring(self, problem):
        """(score, n_obj) for multi-objective search (see Evaluator); None: the objective."""
        return None, 1

    # -- the driver --------------------------------------------------------------------
    def run(self, problem, population, *, rng, termination=None, progress=False) -> Population:
        self.space = search_space(problem, population)
        self.iterations = 0
        score, n_obj = self.scoring(problem)
        with Evaluator(problem, self.budget(as_termination(termination)), progress=progress, desc=self.name,
                       score=score, n_obj=n_obj, archive=self.archive_size) as evaluator:
            evaluator.prime(population)
            self.start(evaluator, population, rng)
            while not evaluator.expired():
                grids = self.propose(evaluator, rng)
                if grids is None or not len(grids) or not evaluator.fits(len(grids)):
                    break
                self.tell(evaluator, grids, evaluator.evaluate(grids), rng)
                self.iterations += 1
            return finish(evaluator, *self.result(), population, keep=self.keep, space=self.space)


def finish(evaluator: Evaluator, *populations: Population, keep: int | None = None, space=None) -> Population:
    """Merge populations and the evaluator's archive, scored by column 0, best first, distinct."""
    merged = evaluator.archive
    for pop in populations:
        if pop is None or not len(pop):
            continue
        scored = pop if pop.scored else Population(pop.grids, evaluator.errors(pop.grids))
        merged = scored if merged is None else merged.concat(scored)
    if merged is None:  # the time ran out before anything was evaluated
        return Population.empty(space if space is not None else search_space(evaluator.problem))
    out = merged.sorted().unique()
    return out[:keep] if keep else out
