"""Constrained search for a design spec: pymoo GA (one objective) or NSGA-II (several).

Constraint handling is pymoo's: feasibility first (less total violation wins),
then the objectives (fitness for GA, non-domination and crowding for NSGA-II).
Variables are the grid's cells (binary); offspring come from a periodic block
crossover (a rectangle of one parent pasted into the other, which keeps pores
whole) and a single-cell flip. The first generation is the default sampler's
grids plus structured seeds (periodic arrays of rectangular pores and slits of
every size), which cover the pore sizes that set where the step sits.
"""

from __future__ import annotations

import time

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.core.progress import progress_bar
from invtoolkit.design.problem import DesignProblem

DEFAULT_POP = 100
DEFAULT_SAMPLER = "mixed"


def rect_arrays(shape) -> np.ndarray:
    """Periodic arrays of a x b pores with walls t thick, single a x b pores, and slits."""
    h, w = shape
    out = []
    for a in range(1, min(h, 10)):
        for b in range(a, min(w, 10)):
            for t in (1, 2, 3):
                g = np.zeros(shape, np.uint8)
                rows = (np.arange(h) % (a + t)) < a
                cols = (np.arange(w) % (b + t)) < b
                g[np.ix_(rows, cols)] = 1
                out.append(g)
            single = np.zeros(shape, np.uint8)
            single[:a, :b] = 1
            out.append(single)
    for width in range(1, h - 1):
        g = np.zeros(shape, np.uint8)
        g[:width] = 1
        out.append(g)
    return np.unique(np.stack(out), axis=0)


def starting_grids(shape, n_sampled: int, seed: int, sampler: str = DEFAULT_SAMPLER) -> np.ndarray:
    """Structured seeds followed by ``n_sampled`` grids of the default sampler."""
    rng = np.random.default_rng(seed)
    sampled = registry.create("sampler", sampler).sample(n_sampled, tuple(shape), rng)
    return np.concatenate([rect_arrays(shape), sampled]).astype(np.uint8)


def _operators(shape):
    """pymoo operators on flattened grids: periodic block crossover and a cell flip."""
    from pymoo.core.crossover import Crossover
    from pymoo.core.mutation import Mutation

    h, w = shape

    class BlockCrossover(Crossover):
        def __init__(self):
            super().__init__(2, 2, prob=0.9)

        def _do(self, problem, X, random_state=None, **kwargs):
            _, n, _ = X.shape
            rng = random_state or np.random.default_rng()
            a, b = X[0].reshape(n, h, w), X[1].reshape(n, h, w)
            mask = _block_masks(rng, n, h, w)
            c1, c2 = np.where(mask, b, a), np.where(mask, a, b)
            return np.stack([c1.reshape(n, -1), c2.reshape(n, -1)])

    class CellFlip(Mutation):
        def _do(self, problem, X, random_state=None, **kwargs):
            rng = random_state or np.random.default_rng()
            Xp = np.array(X, dtype=bool, copy=True)
            n, n_var = Xp.shape
            flips = 1 + (rng.random(n) < 0.3) + (rng.random(n) < 0.1)  # mostly one cell
            for k in range(3):
                rows = np.flatnonzero(flips > k)
                cells = rng.integers(0, n_var, len(rows))
                Xp[rows, cells] = ~Xp[rows, cells]
            return Xp

    return BlockCrossover(), CellFlip()


def _block_masks(rng, n: int, h: int, w: int) -> np.ndarray:
    """(n, h, w) masks of random periodic rectangles (1 .. the whole grid on each side)."""
    y0, x0 = rng.integers(0, h, n), rng.integers(0, w, n)
    dy, dx = rng.integers(1, h + 1, n), rng.integers(1, w + 1, n)
    rows = (np.arange(h)[None] - y0[:, None]) % h < dy[:, None]
    cols = (np.arange(w)[None] - x0[:, None]) % w < dx[:, None]
    return rows[:, :, None] & cols[:, None, :]


def pymoo_problem(problem: DesignProblem):
    from pymoo.core.problem import Problem as PymooProblem

    h, w = problem.shape

    class GridDesign(PymooProblem):
        def __init__(self):
            super().__init__(n_var=h * w, n_obj=problem.n_objectives, n_ieq_constr=problem.n_constraints,
                             xl=0, xu=1, vtype=bool)

        def _evaluate(self, x, out, *args, **kwargs):
            f, g = problem.split(problem.values(np.asarray(x, dtype=np.uint8)))
            out["F"] = f
            if problem.n_constraints:
                out["G"] = g

    return GridDesign()


def run_search(problem: DesignProblem, *, budget: int | None = None, seconds: float | None = None, seed: int = 0,
               pop_size: int = DEFAULT_POP, start: np.ndarray | None = None, screen=None, screen_factor: int = 8,
               algorithm: str = "auto", progress: bool = False) -> dict:
    """Search until ``budget`` grids were simulated (work, so the same seed gives the same
    designs under any load) or the optional cap of ``seconds`` passed (``time_capped`` in
    the result); every grid seen stays in ``problem``'s archive.
    ``progress``: a bar of the grids simulated, with generations.

    ``algorithm``: "ga" (one objective), "nsga2", or "auto" (GA for one objective, else NSGA-II).

    ``screen`` (a surrogate): each generation draws ``screen_factor`` times more
    offspring, the surrogate ranks them (feasibility first, then non-domination) and
    only the best ``pop_size`` go to the exact simulator.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.core.evaluator import Evaluator

    t0 = time.monotonic()
    if start is None:
        start = starting_grids(problem.shape, 2 * pop_size, seed)
    crossover, mutation = _operators(problem.shape)
    if algorithm == "auto":
        algorithm = "nsga2" if problem.n_objectives > 1 else "ga"
    kind = {"nsga2": NSGA2, "ga": GA}[algorithm]
    algorithm = kind(pop_size=pop_size, sampling=start.reshape(len(start), -1).astype(bool),
                     crossover=crossover, mutation=mutation, eliminate_duplicates=True)
    pproblem = pymoo_problem(problem)
    algorithm.setup(pproblem, termination=("n_gen", 10**9), seed=seed, verbose=False)
    evaluator, screened, capped = Evaluator(), 0, False
    if budget is None and seconds is None:
        raise ValueError("run_search needs a budget or a time limit")
    with progress_bar(total=budget, desc="design", unit="grid", enabled=progress) as bar:
        while algorithm.has_next() and (budget is None or problem.n_simulated < budget):
            if seconds is not None and time.monotonic() - t0 >= seconds:
                capped = True
                break
            initialized = algorithm.is_initialized
            infills = algorithm.ask()
            if screen is not None and initialized and infills is not None and len(infills):
                infills, n = _screened(algorithm, infills, problem, screen, screen_factor)
                screened += n
            evaluator.eval(pproblem, infills)
            algorithm.tell(infills=infills)
            _advance(bar, int(algorithm.n_iter or 0), problem.n_simulated)
    return {"algorithm": kind.__name__, "generations": int(algorithm.n_iter or 0), "budget": budget,
            "simulated": problem.n_simulated, "seconds": time.monotonic() - t0, "time_capped": capped,
            "seeds": len(start), "screened": screened, "screen": None if screen is None else screen.name}


def _advance(bar, generations: int, simulated: int) -> None:
    """Move the bar to the grids simulated so far (never past its total)."""
    bar.set_postfix(generations=generations, refresh=False)
    bar.update(max(0, (simulated if bar.total is None else min(simulated, bar.total)) - bar.n))


def _screened(algorithm, infills, problem: DesignProblem, screen, factor: int):
    """The ``len(infills)`` best of ``factor`` draws of offspring, ranked by the surrogate."""
    from pymoo.core.population import Population
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    from invtoolkit.design.problem import property_values, violation

    n = len(infills)
    pool = Population.merge(infills, *[algorithm.ask() for _ in range(factor - 1)])
    x = np.asarray(pool.get("X"), dtype=np.uint8)
    grids = x.reshape(len(x), *problem.shape)
    valid = grids.reshape(len(grids), -1).any(axis=1)
    values = np.full((len(grids), len(problem.entries)), np.nan)
    if valid.any():
        values[valid] = property_values(problem.entries, screen, grids[valid])
    f, g = problem.split(values)
    cv = violation(g)
    rank = np.zeros(len(f), dtype=np.int64)
    for r, front in enumerate(NonDominatedSorting().do(f)):
        rank[front] = r
    order = np.lexsort((rank, cv))  # feasibility first (by the surrogate), then the front
    return pool[order[:n]], len(pool)
