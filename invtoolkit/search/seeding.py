"""Starting grids: the incoming population, the best structured seeds, sampled grids.

Structured seeds (:mod:`invtoolkit.search.structures`: slits of every width, squares
of every size, rectangles, pairs) are scored once through the stage's evaluator when
the caller passes it, and the best of them join the start: random starts rarely
assemble a large contiguous pore. The sampler (default ``mixed``: slits, blobs,
random cells...) is any registered sampler plugin; a site-normalised target implies a
porosity, and the sampled grids follow it.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.population import Population
from invtoolkit.core.space import GridSpace, as_space
from invtoolkit.search.structures import structured_grids

SEED_SHARE = 0.125  # at most this share of a start are structured seeds (the rest: incoming, sampled keep the diversity)
# Only seeds this close (objective, an MAE) join a start: a merely-better-than-the-rest
# seed far from the target drags the search into its own basin (measured: a smooth-field
# target ended at MAE 0.026 from a 0.032 seed, 0.010 without seeds).
SEED_CLOSE = 0.01
SEED_BUDGET_SHARE = 0.5  # seeds are scored only if they take at most this share of the evaluations left
SEED_TIME_SHARE = 0.25  # ... and only while they take at most this share of the stage's time
SEED_CHUNKS = (16, 64)  # the first chunk measures the rate, the next ones are this large


def search_space(problem, population: Population | None = None) -> GridSpace:
    """The grid space of a search: the population's (an empty one carries its shape too),
    else the problem's."""
    if population is not None:
        return population.space
    if problem.space is not None:
        return problem.space
    raise InputError("the search has no grid space: give the problem a space or a population")


def porosity_guess(target) -> float | None:
    """Least pore fraction a site-normalised target implies (None for pore normalisation).

    Per lattice site, the amount at RH = 1 is the pore fraction times the filling.
    Narrow pores are full there, so for most grids this is the porosity itself;
    large pores can stay empty up to RH = 1 on adsorption, so it is a lower bound.
    """
    if target is None or target.normalization != "site":
        return None
    top = target.schedule.steps  # index of RH = 1 on the adsorption branch
    return float(np.clip(target.values[top], 0.0, 1.0))


def _porosities(n: int, rng, porosity):
    """Half near the guess, half anywhere above it (the guess is a lower bound)."""
    near = np.clip(rng.normal(porosity, 0.03, size=n), 0.01, 0.99)
    above = rng.uniform(min(porosity, 0.95), 0.95, size=n)
    return np.where(np.arange(n) % 2 == 0, near, above)


def random_grids(n: int, space, rng: np.random.Generator, porosity=None, spread=(0.1, 0.9)) -> np.ndarray:
    """``n`` random grids; porosity uniform in ``spread``, or from a porosity guess."""
    space = as_space(space)
    if n <= 0:
        return space.empty()
    per_grid = (n,) + (1,) * space.rank
    if porosity is None:
        p = rng.uniform(spread[0], spread[1], size=per_grid)
    else:
        p = _porosities(n, rng, porosity).reshape(per_grid)
    return space.random(n, rng, porosity=p)


def sampled_grids(n: int, space, rng: np.random.Generator, porosity=None, sampler: str | None = "mixed") -> np.ndarray:
    """``n`` grids from a registered sampler (structured pores: slits, blobs, ...), those
    closest to ``porosity`` out of 8n when it is given; random cells without the sampler."""
    space = as_space(space)
    if n <= 0:
        return space.empty()
    if sampler in (None, "cells"):
        return random_grids(n, space, rng, porosity=porosity)
    if sampler not in registry.registry().names("sampler"):
        if sampler == "mixed":  # the default, without the samplers plugin (it makes 2-D and 3-D grids)
            return random_grids(n, space, rng, porosity=porosity)
        known = ", ".join(registry.registry().names("sampler"))
        raise InputError(f"unknown sampler '{sampler}' (available: cells, {known})")
    draw = registry.create("sampler", sampler)
    if porosity is None:
        return draw.sample(n, space, rng)
    pool = draw.sample(8 * n, space, rng)
    have = pool.reshape(len(pool), -1).mean(1)
    chosen = []
    for want in _porosities(n, rng, porosity):  # the pool grid closest to each wanted porosity
        gap = np.abs(have - want)
        gap[chosen] = np.inf
        chosen.append(int(np.argmin(gap)))
    return pool[np.array(chosen)]


def _chunks(n: int):
    """Slices of the seeds: a small first one (it measures the evaluation rate), then larger."""
    at, size = 0, SEED_CHUNKS[0]
    while at < n:
        yield slice(at, at + size)
        at, size = at + size, SEED_CHUNKS[1]


def scored_seeds(evaluator, space) -> Population:
    """The structured seeds of ``space`` scored through ``evaluator`` (counted, cached,
    archived), best first: a prefix of them (in priority order) while they take at most
    ``SEED_TIME_SHARE`` of the time left, none when they would take more than
    ``SEED_BUDGET_SHARE`` of an evaluation budget."""
    grids = structured_grids(space.shape)
    if len(grids) > SEED_BUDGET_SHARE * evaluator.budget_left():
        return Population.empty(space)
    allowed = SEED_TIME_SHARE * evaluator.time_left()
    spent0, evals0 = evaluator.seconds, evaluator.evaluations
    done = Population.empty(space)
    for part in _chunks(len(grids)):
        chunk = grids[part]
        spent, evals = evaluator.seconds - spent0, evaluator.evaluations - evals0
        if evals and spent + len(chunk) * spent / evals > allowed:
            break
        done = done.concat(Population(chunk, evaluator.errors(chunk)))
    return done.sorted()


def starting_grids(problem, population: Population, n: int, rng: np.random.Generator,
                   sampler: str | None = "mixed", evaluator=None) -> np.ndarray:
    """The ``n`` best incoming grids (distinct), with the best structured seeds when the
    stage's ``evaluator`` is given to score them (at most an eighth of ``n``, so the
    sampled grids keep the diversity, and only those within ``SEED_CLOSE``), topped up
    with sampled ones."""
    space = search_space(problem, population)
    incoming = population.sorted().unique()
    if evaluator is not None and n > 0:
        seeds = scored_seeds(evaluator, space)
        seeds = seeds[seeds.errors <= SEED_CLOSE][: max(1, int(n * SEED_SHARE))]
        if incoming.scored:
            incoming = incoming.concat(seeds).sorted().unique()
        else:
            incoming = seeds.concat(incoming[: n - len(seeds)]).unique()
    chosen = incoming.grids[:n]
    extra = sampled_grids(n - len(chosen), space, rng, porosity=porosity_guess(problem.target), sampler=sampler)
    return np.concatenate([chosen, extra]) if len(extra) else chosen
