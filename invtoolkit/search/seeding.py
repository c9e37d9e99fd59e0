"""Starting grids and seed shapes: the one module a search starts from.

* Seed shapes: :func:`structured_grids` (slits of every width, squares of every size,
  rectangles, pairs, open cells: a systematic set of simple pores, distinct up to torus
  symmetry, in priority order) and :func:`rect_arrays` (periodic arrays of rectangular
  pores with walls 1-3 cells thick, single rectangles and slits: the shapes whose
  porosity and pore size a design by properties starts from).
* Starting grids: :func:`starting_grids` (the incoming population, the best structured
  seeds scored through the stage's evaluator, sampled grids) and :func:`seeded_grids`
  (every rectangular array followed by sampled grids: a design's first generation).

Random-start search rarely assembles a large contiguous pore (issue 17: an 8-wide slit
or a 10 x 10 square stayed out of reach after 20 s), yet a handful of simple shapes
covers them. The physics is nearest-neighbour, so a pore's isotherm depends on its
shape, not on where it sits, and two pores separated by walls at least one cell thick
fill independently: one placement per size (and per pair of sizes) covers every
translate and every wall thickness. The sampler (default ``mixed``: slits, blobs,
random cells...) is any registered sampler plugin; a site-normalised target implies a
porosity, and the sampled grids follow it.
"""

from __future__ import annotations

import itertools

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.population import Population
from invtoolkit.core.space import GridSpace, as_space

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


# -- seed shapes ----------------------------------------------------------------------

DENSE_SIZES = 4  # sizes 1..4 always appear in a coarse grid of sizes (narrow pores differ most)


def coarse_sizes(length: int, most: int = 12) -> list[int]:
    """Pore sizes 1 .. length-1: all of them when there are at most ``most``, else
    1..4 and an even spread up to length-1 (``most`` sizes in all)."""
    top = length - 1
    if top <= most:
        return list(range(1, top + 1))
    spread = np.rint(np.linspace(DENSE_SIZES + 1, top, most - DENSE_SIZES)).astype(int)
    return sorted(set(range(1, DENSE_SIZES + 1)) | set(int(s) for s in spread))


def box(shape, sides, starts=None) -> np.ndarray:
    """One periodic box pore of ``sides`` (one per axis) starting at ``starts`` (default 0)."""
    grid = np.ones(shape, bool)
    starts = (0,) * len(shape) if starts is None else starts
    for axis, (length, side, start) in enumerate(zip(shape, sides, starts)):
        profile = (np.arange(length) - start) % length < side
        grid &= profile.reshape([length if b == axis else 1 for b in range(len(shape))])
    return grid.astype(np.uint8)


def slits(shape) -> list[np.ndarray]:
    """Slits (slabs in 3-D) of every width 1 .. L-1 across every axis."""
    out = []
    for axis, length in enumerate(shape):
        for width in range(1, length):
            sides = list(shape)
            sides[axis] = width
            out.append(box(shape, sides))
    return out


def squares(shape) -> list[np.ndarray]:
    """Squares (cubes) of every size 1 .. min(L)-1."""
    return [box(shape, (side,) * len(shape)) for side in range(1, min(shape))]


def rectangles(shape, most: int = 12) -> list[np.ndarray]:
    """Boxes with sides on a coarse grid; in 3-D channels (one axis open, two coarse sides)."""
    if len(shape) == 2:
        return [box(shape, sides) for sides in itertools.product(*(coarse_sizes(n, most) for n in shape))]
    out = []
    for axis in range(len(shape)):
        across = [n for b, n in enumerate(shape) if b != axis]
        for pair in itertools.product(*(coarse_sizes(n, most) for n in across)):
            sides = list(pair)
            sides.insert(axis, shape[axis])
            out.append(box(shape, sides))
    return out


def _pair_sizes(length: int, most: int) -> list[tuple[int, int]]:
    """(a, b), a <= b, sizes from the (coarse) grid, with room for a wall on both sides."""
    sizes = coarse_sizes(length, most)
    return [(a, b) for a in sizes for b in sizes if a <= b and a + b + 2 <= length]


def pairs(shape, square: bool, most: int = 19) -> list[np.ndarray]:
    """Two parallel slits (square=False) or two squares/cubes along each axis, the second
    half-way along the wall that separates them."""
    out = []
    for axis, length in enumerate(shape):
        room = min((n for b, n in enumerate(shape) if b != axis), default=length)
        for a, b in _pair_sizes(length, most):
            if square and b > room - 1:
                continue
            gap = (length - a - b) // 2
            grid = np.zeros(shape, np.uint8)
            for size, start in ((a, 0), (b, a + gap)):
                sides = [size if square else n for n in shape]
                sides[axis] = size
                starts = [0] * len(shape)
                starts[axis] = start
                grid |= box(shape, sides, starts)
            out.append(grid)
    return out


def open_cells(shape) -> list[np.ndarray]:
    """The all-pore cell, and cells open but for one wall (slab) or one solid square
    (cube) of every size: the inverses of slits and squares."""
    return [np.ones(shape, np.uint8)] + [1 - g for g in slits(shape) + squares(shape)]


def structured_grids(shape) -> np.ndarray:
    """The structured seeds of a grid shape (N, *shape) uint8, distinct up to torus
    symmetry, in priority order: slits, squares, rectangles/channels, slit pairs,
    square pairs, open cells."""
    from invtoolkit.core.population import Population
    from invtoolkit.core.symmetry import canonical_keys

    shape = tuple(int(n) for n in shape)
    grids = slits(shape) + squares(shape) + rectangles(shape) + pairs(shape, False) + pairs(shape, True)
    grids += open_cells(shape)
    return Population(np.stack(grids)).unique(canonical_keys).grids


def rect_arrays(shape) -> np.ndarray:
    """Periodic arrays of a x b pores with walls t thick, single a x b pores, and slits (2-D)."""
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


def seeded_grids(space, n_sampled: int, rng: np.random.Generator, sampler: str | None = "mixed") -> np.ndarray:
    """Every rectangular array (:func:`rect_arrays`) followed by ``n_sampled`` sampled grids:
    pore sizes and porosities a search by properties starts from."""
    space = as_space(space)
    sampled = sampled_grids(n_sampled, space, rng, sampler=sampler)
    return np.concatenate([rect_arrays(space.shape), sampled]).astype(np.uint8)
