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
Both return the population sorted by total MAE. On a constrained problem (a design
spec: objectives F and constraints G in pymoo's convention) both take the problem's own
objectives and constraints instead: feasibility first, then fitness or non-domination.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import (ADSORPTION, Algorithm, InputError, PointErrors, Population, constrained, hookimpl,
                               starting_grids)

DEFAULT_GENERATIONS = 50  # used only without a time limit
EXACT = 1e-12  # a perfect match: stop searching
BIG = 1e9  # stands for +inf (all-wall grids) inside pymoo's survival
CROSSOVERS = ("two-point", "uniform", "block")


def grid_problem(evaluator, space, columns: list[int], constraints: list[int] = ()):
    """A pymoo Problem whose batch evaluation is the stage's (cached) Evaluator:
    objective ``columns`` of its scores are F, ``constraints`` columns are G."""
    from pymoo.core.problem import Problem as PymooProblem

    class GridProblem(PymooProblem):
        def __init__(self):
            super().__init__(n_var=space.cells, n_obj=len(columns), n_ieq_constr=len(constraints),
                             xl=0, xu=1, vtype=bool)

        def _evaluate(self, x, out, *args, **kwargs):
            scores = evaluator.evaluate(np.asarray(x, dtype=np.uint8).reshape(len(x), *space.shape))
            out["F"] = np.where(np.isfinite(scores[:, columns]), scores[:, columns], BIG)
            if len(constraints):
                out["G"] = np.where(np.isfinite(scores[:, constraints]), scores[:, constraints], BIG)

    return GridProblem()


def block_masks(rng, n: int, shape) -> np.ndarray:
    """(n, *shape) masks of random periodic boxes (1 .. the whole grid along each axis)."""
    starts = [rng.integers(0, length, n) for length in shape]
    sides = [rng.integers(1, length + 1, n) for length in shape]
    mask = np.ones((n, *shape), bool)
    for axis, (length, start, side) in enumerate(zip(shape, starts, sides)):
        inside = (np.arange(length)[None] - start[:, None]) % length < side[:, None]
        mask &= inside.reshape([n] + [length if b == axis else 1 for b in range(len(shape))])
    return mask


def block_operators(shape, mutation: float | None):
    """Periodic block crossover (a box of one parent pasted into the other: pores stay
    whole) and, unless a per-cell ``mutation`` is given, a flip of one to three cells."""
    from pymoo.core.crossover import Crossover
    from pymoo.core.mutation import Mutation
    from pymoo.operators.mutation.bitflip import BitflipMutation

    class BlockCrossover(Crossover):
        def __init__(self):
            super().__init__(2, 2, prob=0.9)

        def _do(self, problem, X, random_state=None, **kwargs):
            n = X.shape[1]
            rng = random_state or np.random.default_rng()
            a, b = X[0].reshape(n, *shape), X[1].reshape(n, *shape)
            mask = block_masks(rng, n, shape)
            return np.stack([np.where(mask, b, a).reshape(n, -1), np.where(mask, a, b).reshape(n, -1)])

    class CellFlip(Mutation):
        def _do(self, problem, X, random_state=None, **kwargs):
            rng = random_state or np.random.default_rng()
            flipped = np.array(X, dtype=bool, copy=True)
            n, n_var = flipped.shape
            flips = 1 + (rng.random(n) < 0.3) + (rng.random(n) < 0.1)  # mostly one cell
            for k in range(3):
                rows = np.flatnonzero(flips > k)
                cells = rng.integers(0, n_var, len(rows))
                flipped[rows, cells] = ~flipped[rows, cells]
            return flipped

    return BlockCrossover(), CellFlip() if mutation is None else BitflipMutation(prob=1.0, prob_var=mutation)


class PymooSearch(Algorithm):
    """Common driver; subclasses pick the algorithm and the objectives.

    A constrained problem (a design spec's: ``n_obj`` objectives and ``n_ieq_constr``
    constraints) brings its own objectives and constraints (pymoo's feasibility first);
    when it also has a cheap estimate (a pre-screen surrogate), every generation draws
    ``screen_factor`` times more offspring and only the best ``pop_size`` by the estimate
    (feasibility first, then non-domination) are evaluated.
    """

    name = "pymoo"

    def __init__(self, pop_size: int = 64, mutation: float | None = None, crossover: str = "two-point",
                 generations: int | None = None, keep: int | None = None, sampler: str | None = "mixed",
                 structured: bool = True, initial: int | None = None, screen_factor: int = 8):
        if int(pop_size) < 4:
            raise InputError(f"{self.name}: pop_size must be >= 4")
        if mutation is not None and not 0 < float(mutation) <= 0.5:
            raise InputError(f"{self.name}: mutation (per-cell flip probability) must be in (0, 0.5]")
        if crossover not in CROSSOVERS:
            raise InputError(f"{self.name}: crossover must be {', '.join(CROSSOVERS)}, got '{crossover}'")
        if generations is not None and int(generations) < 1:
            raise InputError(f"{self.name}: generations must be >= 1")
        if initial is not None and int(initial) < int(pop_size):
            raise InputError(f"{self.name}: initial (the first generation) must be >= pop_size")
        if int(screen_factor) < 1:
            raise InputError(f"{self.name}: screen_factor must be >= 1")
        self.pop_size = int(pop_size)
        self.mutation = None if mutation is None else float(mutation)
        self.crossover = crossover
        self.generations = None if generations is None else int(generations)
        self.keep = None if keep is None else int(keep)
        self.sampler = sampler
        if not isinstance(structured, bool):
            raise InputError(f"{self.name}: structured must be true or false, got '{structured}'")
        self.structured = structured
        self.initial = self.pop_size if initial is None else int(initial)
        self.screen_factor = int(screen_factor)
        self.screened = 0  # offspring ranked by the problem's estimate

    # subclasses -----------------------------------------------------------------
    def objectives(self, problem):
        """(score, k, columns): score(grids, diffs) -> (n,k) with column 0 = total MAE
        (None: the problem's objective only); ``columns`` are the ones pymoo minimises."""
        return None, 1, [0]

    def algorithm(self, **operators):
        raise NotImplementedError

    # the template's steps ---------------------------------------------------------
    def scoring(self, problem):
        self.constrained = constrained(problem)
        if self.constrained:  # columns: [key, F..., G...] (the Evaluator scores them)
            k = problem.n_obj
            self.columns = list(range(1, 1 + k))
            self.constraints = list(range(1 + k, 1 + k + problem.n_ieq_constr))
            return None, 1 + k + problem.n_ieq_constr
        score, n_obj, self.columns = self.objectives(problem)
        self.constraints = []
        return score, n_obj

    def budget(self, termination):
        self.n_gen = self.generations
        if self.n_gen is None and not termination.bounded:
            self.n_gen = DEFAULT_GENERATIONS
        return termination

    def _operators(self):
        if self.crossover == "block":
            return block_operators(self.space.shape, self.mutation)
        from pymoo.operators.crossover.pntx import TwoPointCrossover
        from pymoo.operators.crossover.ux import UniformCrossover
        from pymoo.operators.mutation.bitflip import BitflipMutation

        crossover = UniformCrossover() if self.crossover == "uniform" else TwoPointCrossover()
        return crossover, BitflipMutation(prob=1.0, prob_var=self.mutation)

    def start(self, evaluator, population, rng):
        # A first generation larger than pop_size shrinks to the budget (it is evaluated in one call).
        n = self.initial if self.initial == self.pop_size else int(max(self.pop_size,
                                                                       min(self.initial, evaluator.budget_left())))
        start = starting_grids(evaluator.problem, population, n, rng, self.sampler,
                               evaluator=evaluator if self.structured else None)
        crossover, mutation = self._operators()
        self.pymoo = self.algorithm(pop_size=self.pop_size, sampling=start.reshape(len(start), -1).astype(bool),
                                    crossover=crossover, mutation=mutation, eliminate_duplicates=True)
        self.pm_problem = grid_problem(evaluator, self.space, self.columns, self.constraints)
        termination = ("n_gen", self.n_gen if self.n_gen is not None else 10**9)
        self.pymoo.setup(self.pm_problem, termination=termination, seed=int(rng.integers(2**31)), verbose=False)

    def propose(self, evaluator, rng):
        if not self.pymoo.has_next() or (not self.constrained and evaluator.best_error <= EXACT):
            return None
        initialized = self.pymoo.is_initialized
        self.infills = self.pymoo.ask()
        if self.infills is None or len(self.infills) == 0:
            return None
        if initialized and self.screen_factor > 1:
            self.infills = self._screened(evaluator, self.infills)
        return np.asarray(self.infills.get("X"), dtype=np.uint8).reshape(-1, *self.space.shape)

    def _screened(self, evaluator, infills):
        """The ``len(infills)`` best of ``screen_factor`` draws of offspring by the problem's
        estimate (feasibility first, then the non-dominated rank); as drawn without one."""
        from pymoo.core.population import Population as PymooPopulation
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        if not evaluator.can_estimate:
            return infills
        pool = PymooPopulation.merge(infills, *[self.pymoo.ask() for _ in range(self.screen_factor - 1)])
        grids = np.asarray(pool.get("X"), dtype=np.uint8).reshape(-1, *self.space.shape)
        columns = evaluator.estimate(grids)
        f = columns[:, self.columns]
        g = columns[:, self.constraints]
        cv = np.maximum(np.where(np.isfinite(g), g, BIG), 0.0).sum(axis=1)
        rank = np.zeros(len(f), dtype=np.int64)
        for r, front in enumerate(NonDominatedSorting().do(np.where(np.isfinite(f), f, BIG))):
            rank[front] = r
        self.screened += len(pool)
        return pool[np.lexsort((rank, cv))[: len(infills)]]

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

    Options: ``pop_size``, ``mutation`` (per-cell flip probability, default 1/cells;
    with block crossover: a flip of one to three cells), ``crossover`` ("two-point",
    "uniform" or "block": a periodic box of one parent pasted into the other),
    ``generations`` (default: until the deadline, or 50 without one), ``keep`` (grids
    returned; default all), ``sampler`` filling the first generation (default "mixed";
    "cells": random cells), ``structured`` (default true: the best structured seeds join
    the first generation), ``initial`` (size of the first generation, default pop_size:
    e.g. every grid of the incoming population), ``screen_factor`` (offspring drawn per
    kept one when the problem has a cheap estimate, default 8).
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
