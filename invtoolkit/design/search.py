"""Constrained search for a design spec on the search toolkit: the optimizer plugins
``ga`` (one objective) or ``nsga2`` (several), obtained through the registry.

Constraint handling is pymoo's, inside those plugins: feasibility first (less total
violation wins), then the objectives (fitness for GA, non-domination and crowding for
NSGA-II). Variables are the grid's cells (binary); offspring come from the plugins'
periodic block crossover (``crossover=block``: a box of one parent pasted into the
other, which keeps pores whole) and a one-to-three cell flip. The first generation is
:func:`invtoolkit.search.seeding.seeded_grids`: periodic arrays of rectangular pores
and slits of every size (the pore sizes that set where the step sits), then the
default sampler's grids. The budget counts exact simulations (work: the same seed gives
the same designs under any load); a time limit is a cap.
"""

from __future__ import annotations

import time

import numpy as np

from invtoolkit.core.population import Population
from invtoolkit.core.termination import MaxEvaluations, TimeLimit, any_of
from invtoolkit.design.problem import DesignProblem
from invtoolkit.hooks import registry
from invtoolkit.search.seeding import rect_arrays, seeded_grids

__all__ = ["DEFAULT_POP", "DEFAULT_SAMPLER", "optimizer_name", "rect_arrays", "run_search"]

DEFAULT_POP = 100
DEFAULT_SAMPLER = "mixed"


def optimizer_name(algorithm: str, problem: DesignProblem) -> str:
    """The optimizer plugin for "auto": GA for one objective, else NSGA-II."""
    if algorithm == "auto":
        return "nsga2" if problem.n_objectives > 1 else "ga"
    return algorithm


def run_search(problem: DesignProblem, *, budget: int | None = None, seconds: float | None = None, seed: int = 0,
               pop_size: int = DEFAULT_POP, start: np.ndarray | None = None, screen=None, screen_factor: int = 8,
               algorithm: str = "auto", progress: bool = False) -> dict:
    """Search until ``budget`` grids were simulated or the optional cap of ``seconds``
    passed (``time_capped`` in the result); every grid seen stays in ``problem``'s archive.

    ``algorithm``: "ga", "nsga2", or "auto". ``screen`` (a surrogate): each generation draws
    ``screen_factor`` times more offspring, the surrogate ranks them (feasibility first, then
    non-domination) and only the best ``pop_size`` go to the exact simulator.
    """
    if budget is None and seconds is None:
        raise ValueError("run_search needs a budget or a time limit")
    t0 = time.monotonic()
    rng = np.random.default_rng(seed)
    if start is None:
        start = seeded_grids(problem.space, 2 * pop_size, rng, sampler=DEFAULT_SAMPLER)
    name = optimizer_name(algorithm, problem)
    optimizer = registry.create("optimizer", name, pop_size=pop_size, crossover="block", structured=False,
                                initial=max(len(start), pop_size), screen_factor=screen_factor)
    problem.screen = screen
    clock = None if seconds is None else TimeLimit(seconds)
    termination = any_of(None if budget is None else MaxEvaluations(budget), clock)
    optimizer.run(problem, Population(start), rng=rng, termination=termination, progress=progress)
    return {"algorithm": name.upper(), "generations": int(optimizer.iterations), "budget": budget,
            "simulated": problem.n_simulated, "seconds": time.monotonic() - t0,
            "time_capped": bool(clock is not None and clock.hit), "seeds": len(start),
            "screened": int(getattr(optimizer, "screened", 0)), "screen": None if screen is None else screen.name}
