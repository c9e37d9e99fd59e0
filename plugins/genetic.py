"""Optimizer plugins ``ga`` and ``nsga2``: pymoo genetic algorithms on binary grids.

Driven through pymoo's ask-and-tell interface, one generation per evaluator call,
so the deadline is checked between generations and every generation's offspring
are evaluated in one batch. The first generation is the incoming population
(best first), topped up with random grids.

``nsga2`` objectives:
  * ``branches``: adsorption-branch MAE and desorption-branch MAE (loop targets);
  * ``porosity``: total MAE and |porosity - x| for the option ``porosity=x``;
  * ``halves``: MAE on the points below and above RH = 0.5;
  * ``auto`` (default): branches for a loop, porosity when known, else halves.
Both return the population sorted by total MAE.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.population import Population
from invtoolkit.roles import Optimizer

from invtoolkit_plugins._search import Objective, branch_masks, finish, starting_grids

DEFAULT_GENERATIONS = 50  # used only without a deadline
EXACT = 1e-12  # a perfect match: stop searching
BIG = 1e9  # stands for +inf (all-wall grids) inside pymoo's survival


class _GridProblem:
    """Factory of a pymoo Problem whose batch evaluation is the stage's Objective."""

    @staticmethod
    def build(objective: Objective, shape, columns: list[int]):
        from pymoo.core.problem import Problem as PymooProblem

        class GridProblem(PymooProblem):
            def __init__(self):
                super().__init__(n_var=shape[0] * shape[1], n_obj=len(columns), xl=0, xu=1, vtype=bool)

            def _evaluate(self, x, out, *args, **kwargs):
                grids = np.asarray(x, dtype=np.uint8).reshape(len(x), *shape)
                f = objective.evaluate(grids)[:, columns]
                out["F"] = np.where(np.isfinite(f), f, BIG)

        return GridProblem()


class PymooSearch(Optimizer):
    """Common driver; subclasses pick the algorithm and the objectives."""

    name = "pymoo"

    def __init__(self, pop_size: int = 64, mutation: float | None = None, crossover: str = "two-point",
                 generations: int | None = None, keep: int | None = None, sampler: str | None = "mixed"):
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

    # subclasses -----------------------------------------------------------------
    def objectives(self, problem):
        """(score, k, columns): score(grids, diffs) -> (n,k) with column 0 = total MAE
        (None: total MAE only); ``columns`` are the ones pymoo minimises."""
        return None, 1, [0]

    def algorithm(self, **operators):
        raise NotImplementedError

    # driver -----------------------------------------------------------------------
    def run(self, problem, population, *, rng, deadline=None, progress=False) -> Population:
        from pymoo.operators.crossover.pntx import TwoPointCrossover
        from pymoo.operators.crossover.ux import UniformCrossover
        from pymoo.operators.mutation.bitflip import BitflipMutation

        shape = problem.search_shape(population)
        score, n_obj, columns = self.objectives(problem)
        generations = self.generations
        if generations is None and deadline is None and problem.deadline is None:
            generations = DEFAULT_GENERATIONS
        with Objective(problem, deadline=deadline, progress=progress, desc=self.name, score=score,
                       n_obj=n_obj) as obj:
            obj.prime(population)
            start = starting_grids(problem, population, self.pop_size, rng, self.sampler).reshape(self.pop_size, -1).astype(bool)
            algorithm = self.algorithm(
                pop_size=self.pop_size,
                sampling=start,
                crossover=UniformCrossover() if self.crossover == "uniform" else TwoPointCrossover(),
                mutation=BitflipMutation(prob=1.0, prob_var=self.mutation),
                eliminate_duplicates=True,
            )
            pm_problem = _GridProblem.build(obj, shape, columns)
            termination = ("n_gen", generations if generations is not None else 10**9)
            algorithm.setup(pm_problem, termination=termination, seed=int(rng.integers(2**31)), verbose=False)
            while algorithm.has_next() and not obj.best_error <= EXACT:
                infills = algorithm.ask()
                if infills is None or len(infills) == 0:
                    break
                if not obj.fits(len(infills)):
                    break
                algorithm.evaluator.eval(pm_problem, infills)
                algorithm.tell(infills=infills)
            last = Population.empty(shape)
            if algorithm.pop is not None and len(algorithm.pop) and algorithm.pop.get("F") is not None:
                X = np.asarray(algorithm.pop.get("X"), dtype=np.uint8).reshape(-1, *shape)
                evaluated = np.array([f is not None and np.size(f) > 0 for f in algorithm.pop.get("F")])
                if evaluated.all():
                    last = Population(X, obj.errors(X))  # cached: no new evaluations
            return finish(obj, last, population, keep=self.keep)


class GA(PymooSearch):
    """Single-objective GA (pymoo ``GA``) on the total MAE.

    Options: ``pop_size``, ``mutation`` (per-cell flip probability, default 1/(H*W)),
    ``crossover`` ("two-point" or "uniform"), ``generations`` (default: until the
    deadline, or 50 without one), ``keep`` (grids returned; default all),
    ``sampler`` filling the first generation (default "mixed"; "cells": random cells).
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
        target = problem.target
        kind = self.objective_kind
        porosity = self.porosity  # a site target's value at RH = 1 is only a lower bound
        if kind == "auto":
            kind = "branches" if target.is_loop else ("porosity" if porosity is not None else "halves")
        if kind == "branches":
            if not target.is_loop:
                raise InputError("nsga2: objectives=branches needs a full-loop target (adsorption + desorption)")
            ads, des = branch_masks(target)
            return (lambda grids, d: np.stack([d.mean(1), d[:, ads].mean(1), d[:, des].mean(1)], 1)), 3, [1, 2]
        if kind == "porosity":
            if porosity is None:
                raise InputError("nsga2: objectives=porosity needs the option porosity=x")
            return (lambda grids, d: np.stack(
                [d.mean(1), np.abs(grids.reshape(len(grids), -1).mean(1) - porosity)], 1)), 2, [0, 1]
        low = target.pressures <= 0.5
        return (lambda grids, d: np.stack([d.mean(1), d[:, low].mean(1), d[:, ~low].mean(1)], 1)), 3, [1, 2]

    def algorithm(self, **operators):
        from pymoo.algorithms.moo.nsga2 import NSGA2 as PymooNSGA2

        return PymooNSGA2(**operators)


@hookimpl
def register_optimizers(register):
    register("ga", GA, "Genetic algorithm (pymoo GA, binary crossover + bit-flip mutation)")
    register("nsga2", NSGA2, "Two-objective NSGA-II (pymoo): branch errors, or error and porosity")
