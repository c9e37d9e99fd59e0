"""Structured seeds: the set covers every slit width and square size, and a seeded
search finds a wide slit within a small evaluation budget where an unseeded one does not."""

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Problem, Target
from invtoolkit.search import MaxEvaluations
from invtoolkit.search.seeding import scored_seeds, starting_grids
from invtoolkit.search.seeding import coarse_sizes, structured_grids
from invtoolkit.search.evaluator import Evaluator
from invtoolkit.core.symmetry import canonical_keys

STEPS = 10
SMALL = (12, 12)  # the search tests' grid: cheap evaluations


def _keys(grids):
    return {k.tobytes() for k in canonical_keys(np.asarray(grids, np.uint8))}


def _slit(shape, width, axis=0):
    g = np.zeros(shape, np.uint8)
    g[(slice(None),) * axis + (slice(0, width),)] = 1
    return g


@pytest.mark.parametrize("shape", [(20, 20), (8, 12)])
def test_seeds_hold_a_slit_of_every_width_across_both_axes(shape):
    seeds = _keys(structured_grids(shape))
    for axis in (0, 1):
        for width in range(1, shape[axis]):
            # shifted by a few cells: the seed set is complete up to translation
            g = np.roll(_slit(shape, width, axis), 3, axis=axis)
            assert canonical_keys(g[None])[0].tobytes() in seeds, (axis, width)


def test_seeds_hold_a_square_of_every_size_and_are_distinct():
    shape = (20, 20)
    grids = structured_grids(shape)
    seeds = _keys(grids)
    assert len(seeds) == len(grids)  # distinct up to torus symmetry
    for side in range(1, 20):
        g = np.zeros(shape, np.uint8)
        g[:side, :side] = 1
        g = np.roll(g, (5, 2), axis=(0, 1))
        assert canonical_keys(g[None])[0].tobytes() in seeds, side
    assert grids.reshape(len(grids), -1).any(1).all()  # no all-wall grid


def test_seeds_hold_pairs_and_rank_3_slabs():
    shape = (20, 20)
    pair = np.zeros(shape, np.uint8)
    pair[4:7] = 1
    pair[12:19] = 1  # slits 3 and 7 wide, walls of 5 on both sides (seeds balance the walls)
    assert canonical_keys(pair[None])[0].tobytes() in _keys(structured_grids(shape))
    cube = structured_grids((5, 5, 5))
    slab = np.zeros((5, 5, 5), np.uint8)
    slab[:, :, 1:3] = 1
    assert canonical_keys(slab[None])[0].tobytes() in _keys(cube)


def test_coarse_sizes_keep_the_small_ones_and_the_largest():
    assert coarse_sizes(8) == list(range(1, 8))
    sizes = coarse_sizes(64, most=12)
    assert sizes[:4] == [1, 2, 3, 4] and sizes[-1] == 63 and len(sizes) == 12


@pytest.fixture(scope="module")
def wide_slit_problem():
    dft = registry.create("simulator", "lattice-dft", steps=STEPS, adsorption_only=True)
    truth = np.roll(_slit(SMALL, 7), 3, axis=0)  # a slit 7 of 12 cells wide
    curve = dft.simulate(truth[None])[0]
    return Problem(Target(curve, PressureSchedule(STEPS, adsorption_only=True)), dft, space=SMALL)


BUDGET = 400


def _ga(problem, structured: bool, budget: int):
    ga = registry.create("optimizer", "ga", pop_size=16, structured=structured)
    return ga.run(problem, Population.empty(SMALL), rng=np.random.default_rng(7),
                  termination=MaxEvaluations(budget))


def test_seeded_ga_matches_a_wide_slit_where_the_unseeded_one_does_not(wide_slit_problem):
    seeded = _ga(wide_slit_problem, True, BUDGET)
    plain = _ga(wide_slit_problem, False, BUDGET)
    assert seeded.best_error < 0.005
    assert plain.best_error > 0.005
    again = _ga(wide_slit_problem, True, BUDGET)  # fixed seed: deterministic
    np.testing.assert_array_equal(again.grids[0], seeded.grids[0])
    assert again.best_error == seeded.best_error


def test_seeds_are_counted_and_left_out_of_a_budget_too_small_for_them(wide_slit_problem):
    n_seeds = len(structured_grids(SMALL))
    with Evaluator(wide_slit_problem, MaxEvaluations(4 * n_seeds)) as ev:
        seeds = scored_seeds(ev, wide_slit_problem.space)
        assert len(seeds) == n_seeds and ev.evaluations == n_seeds
        assert np.all(np.diff(seeds.errors) >= 0)
    with Evaluator(wide_slit_problem, MaxEvaluations(n_seeds)) as ev:  # would eat the whole budget
        assert len(scored_seeds(ev, wide_slit_problem.space)) == 0 and ev.evaluations == 0


def test_starting_grids_keep_the_incoming_best_and_a_few_seeds(wide_slit_problem):
    problem = wide_slit_problem
    incoming = Population.random(4, SMALL, np.random.default_rng(1), porosity=0.5)
    incoming = Population(incoming.grids, problem.errors(incoming.grids))
    with Evaluator(problem, MaxEvaluations(10_000)) as ev:
        start = starting_grids(problem, incoming, 16, np.random.default_rng(2), evaluator=ev)
        errors = ev.errors(start)
    assert start.shape == (16, *SMALL)
    assert min(errors) < 1e-6  # the exact slit is among the seeds and joins the start
    starts = {g.tobytes() for g in start}
    assert all(g.tobytes() in starts for g in incoming.grids)  # 4 incoming + 2 seeds + 10 sampled
    plain = starting_grids(problem, incoming, 16, np.random.default_rng(2))  # without an evaluator: no seeds
    np.testing.assert_array_equal(plain[:4], incoming.sorted().grids)
    assert problem.errors(plain).min() > 0.005
