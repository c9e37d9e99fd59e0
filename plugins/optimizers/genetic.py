"""Optimizer plugins ``ga`` and ``nsga2``: pymoo genetic algorithms on binary grids.

Driven through pymoo's ask-and-tell interface, one generation per evaluator call,
so the termination is checked between generations and every generation's offspring
are evaluated in one batch. The first generation is the incoming population
(best first) with the best structured seeds (slits of every width, squares, rectangles,
pairs: scored once, at most an eighth of the population; ``structured=false`` leaves them
out), topped up with sampled grids.

``nsga2`` objectives:
  * ``branches``: adsorption-branch MAE and desorption-branch MAE (loop targets);
  * ``porosity``: total MAE and |porosity - x| for the option ``porosity=x``;
  * ``halves``: error on the points at RH <= 0.5 and above (any objective with
    per-point errors: a model isotherm, measured points);
  * ``auto`` (default): branches for a loop, porosity when known, else halves.
Both return the population sorted by total MAE.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import (ADSORPTION, Algorithm, InputError, PointErrors, Population, hookimpl,
                               starting_grids)

DEFAULT_GENERATIONS = 50  # used only without a time limit
EXACT = 1e-12  # a perfect match: stop searching
BIG = 1e9  # stands for +inf (all-wall grids) inside pymoo's survival


def grid_problem(evaluator, space, columns: list[int]):
    """A pymoo Problem whose batch evaluation is the stage's (cached) Evaluator."""
    from pymoo.core.problem import Problem as PymooProblem

    class GridProblem(PymooProblem):
        def __init__(self):
            super().__init__(n_var=space.cells, n_obj=len(columns), xl=0, xu=1, vtype=bool)

        def _evaluate(self, x, out, *args, **kwargs):
            grids = np.asarray(x, dtype=np.uint8).reshape(len(x), *space.shape)
            f = evaluator.evaluate(grids)[:, columns]
            out["F"] = np.where(np.isfinite(f), f, BIG)

    return GridProblem()


class PymooSearch(Algorithm):
    """Common driver; subclasses pick the algorithm and the objectives."""

    name = "pymoo"

    def __init__(self, pop_size: int = 64, mutation: float | None = None, crossover: str = "two-point",
                 generations: int | None = None, keep: int | None = None, sampler: str | None = "mixed",
                 structured: bool = True):
        if int(pop_size) < 4:
            raise InputError(f"{self.name}: pop_size must be >= 4")
        if mutation is not None and not 0 < float(mutation) <= 0.5:
            raise InputError(f"{self.name}: mutation (per-cell flip probability) must be in (0, 0.5]")
        if crossover not in ("two-point", "uniform"):
            raise InputError(f"{self.name}: crossover must be 'two-point' or 'uniform', got '{crossover}'")
        if generations is not None and int(generations) < 1:
            raise InputError(f"{self.name}: generations must be >= 1")
        self.pop_size = int(pop_size)
        self.mutation = None if mutation is None else float(mutation)
        self.crossover = crossover
        self.generations = None if generations is None else int(generations)
        self.keep = None if keep is None else int(keep)
        self.sampler = sampler
        if not isinstance(structured, bool):
            raise InputError(f"{self.name}: structured must be true or false, got '{structured}'")
        self.structured = structured

    # subclasses -----------------------------------------------------------------
    def objectives(self, problem):
        """(score, k, columns): score(grids, diffs) -> (n,k) with column 0 = total MAE
        (None: the problem's objective only); ``columns`` are the ones pymoo minimises."""
        return None, 1, [0]

    def algorithm(self, **operators):
        raise NotImplementedError

    # the template's steps ---------------------------------------------------------
    def scoring(self, problem):
        score, n_obj, self.columns = self.objectives(problem)
        return score, n_obj

    def budget(self, termination):
        self.n_gen = self.generations
        if self.n_gen is None and not termination.bounded:
            self.n_gen = DEFAULT_GENERATIONS
        return termination

    def start(self, evaluator, population, rng):
        from pymoo.operators.crossover.pntx import TwoPointCrossover
        from pymoo.operators.crossover.ux import UniformCrossover
        from pymoo.operators.mutation.bitflip import BitflipMutation

        start = starting_grids(evaluator.problem, population, self.pop_size, rng, self.sampler,
                               evaluator=evaluator if self.structured else None)
        self.pymoo = self.algorithm(
            pop_size=self.pop_size,
            sampling=start.reshape(self.pop_size, -1).astype(bool),
            crossover=UniformCrossover() if self.crossover == "uniform" else TwoPointCrossover(),
            mutation=BitflipMutation(prob=1.0, prob_var=self.mutation),
            eliminate_duplicates=True,
        )
        self.pm_problem = grid_problem(evaluator, self.space, self.columns)
        termination = ("n_gen", self.n_gen if self.n_gen is not None else 10**9)
        self.pymoo.setup(self.pm_problem, termination=termination, seed=int(rng.integers(2**31)), verbose=False)

    def propose(self, evaluator, rng):
        if not self.pymoo.has_next() or evaluator.best_error <= EXACT:
            return None
        self.infills = self.pymoo.ask()
        if self.infills is None or len(self.infills) == 0:
            return None
        return np.asarray(self.infills.get("X"), dtype=np.uint8).reshape(-1, *self.space.shape)

    def tell(self, evaluator, grids, scores, rng):
        self.pymoo.evaluator.eval(self.pm_problem, self.infills)  # from the evaluator's cache
        self.pymoo.tell(infills=self.infills)

    def result(self):
        pop = self.pymoo.pop
        if pop is None or not len(pop) or pop.get("F") is None:
            return []
        if not all(f is not None and np.size(f) > 0 for f in pop.get("F")):
            return []
        return [Population(np.asarray(pop.get("X"), dtype=np.uint8).reshape(-1, *self.space.shape))]


class GA(PymooSearch):
    """Single-objective GA (pymoo ``GA``) on the problem's objective.

    Options: ``pop_size``, ``mutation`` (per-cell flip probability, default 1/cells),
    ``crossover`` ("two-point" or "uniform"), ``generations`` (default: until the
    deadline, or 50 without one), ``keep`` (grids returned; default all),
    ``sampler`` filling the first generation (default "mixed"; "cells": random cells),
    ``structured`` (default true: the best structured seeds join the first generation).
    """

    name = "ga"

    def algorithm(self, **operators):
        from pymoo.algorithms.soo.nonconvex.ga import GA as PymooGA

        return PymooGA(**operators)


class NSGA2(PymooSearch):
    """Two-objective NSGA-II (pymoo ``NSGA2``); see the module doc for ``objectives``."""

    name = "nsga2"

    def __init__(self, objectives: str = "auto", porosity: float | None = None, **options):
        super().__init__(**options)
        if objectives not in ("auto", "branches", "porosity", "halves"):
            raise InputError(f"nsga2: objectives must be auto, branches, porosity or halves, got '{objectives}'")
        if porosity is not None and not 0 <= float(porosity) <= 1:
            raise InputError(f"nsga2: porosity must be in [0, 1], got {porosity}")
        self.objective_kind = objectives
        self.porosity = None if porosity is None else float(porosity)

    def objectives(self, problem):
        objective, target = problem.objective, problem.target
        if not isinstance(objective, PointErrors):
            raise InputError(f"nsga2: objective '{objective.name}' has no per-point errors to split")
        kind = self.objective_kind
        porosity = self.porosity  # a site target's value at RH = 1 is only a lower bound
        loop = target is not None and target.is_loop
        if kind == "auto":
            kind = "branches" if loop else ("porosity" if porosity is not None else "halves")
        if kind == "branches":
            if not loop:
                raise InputError("nsga2: objectives=branches needs a full-loop target (adsorption + desorption)")
            ads = target.schedule.branches == ADSORPTION
            return (lambda grids, d: np.stack([d.mean(1), d[:, ads].mean(1), d[:, ~ads].mean(1)], 1)), 3, [1, 2]
        if kind == "porosity":
            if porosity is None:
                raise InputError("nsga2: objectives=porosity needs the option porosity=x")
            return (lambda grids, d: np.stack(
                [d.mean(1), np.abs(grids.reshape(len(grids), -1).mean(1) - porosity)], 1)), 2, [0, 1]
        low = objective.point_pressures <= 0.5
        if low.all() or not low.any():
            raise InputError("nsga2: objectives=halves needs points on both sides of RH = 0.5")
        return (lambda grids, d: np.stack([d.mean(1), d[:, low].mean(1), d[:, ~low].mean(1)], 1)), 3, [1, 2]

    def algorithm(self, **operators):
        from pymoo.algorithms.moo.nsga2 import NSGA2 as PymooNSGA2

        return PymooNSGA2(**operators)


@hookimpl
def register_optimizers(register):
    register("ga", GA, "Genetic algorithm (pymoo GA, binary crossover + bit-flip mutation)")
    register("nsga2", NSGA2, "Two-objective NSGA-II (pymoo): branch errors, or error and porosity")
