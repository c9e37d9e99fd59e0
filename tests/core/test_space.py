"""GridSpace: parsing, validation, random grids, flips, the torus point group; a rank-3
space accepted by Population, Problem and the random sampler."""

import itertools

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.objective import Target
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Problem
from invtoolkit.core.roles import Simulator
from invtoolkit.core.space import GridSpace
from invtoolkit.core import symmetry as S


def test_parse_and_str_round_trip():
    assert GridSpace.parse("20").shape == (20, 20)
    assert GridSpace.parse("20x24").shape == (20, 24)
    assert GridSpace.parse("16x16x16").shape == (16, 16, 16)
    assert str(GridSpace.parse("5x6x7")) == "5x6x7" and GridSpace.parse(str(GridSpace((8, 9)))) == GridSpace((8, 9))
    for bad in ("", "a", "2x20", "3x3x3x3", "20x"):
        with pytest.raises(InputError):
            GridSpace.parse(bad)


def test_rank_neighbours_and_group_size():
    assert (GridSpace((20, 20)).c, GridSpace((4, 4, 4)).c) == (4, 6)
    assert GridSpace((20, 20)).symmetry == 8 and GridSpace((4, 6)).symmetry == 4
    assert GridSpace((4, 4, 4)).symmetry == 48 and GridSpace((4, 4, 5)).symmetry == 16  # 2 permutations x 8 flips
    assert GridSpace((4, 4, 4)).batch_ndim == 4


def test_validate_refuses_wrong_grids_in_one_line():
    space = GridSpace((3, 4))
    good = np.zeros((2, 3, 4), np.uint8)
    good[:, 0, 0] = 1
    assert space.validate(good).shape == (2, 3, 4) and space.validate(good[0]).shape == (1, 3, 4)
    for bad, why in ((np.zeros((2, 4, 3)), "shape"), (good * 2, "0 .wall"), (np.zeros((1, 3, 4)), "pore")):
        with pytest.raises(InputError, match=why) as err:
            space.validate(bad)
        assert "\n" not in str(err.value)


def test_flips_differ_in_exactly_one_cell():
    space = GridSpace((3, 3, 4))
    grid = space.random(1, np.random.default_rng(0))[0]
    flips = space.neighbours(grid)
    assert flips.shape == (36, 3, 3, 4)
    diff = (flips != grid[None]).reshape(36, -1)
    assert np.array_equal(diff, np.eye(36, dtype=bool))  # neighbour k flips cell k
    assert np.array_equal(space.flip(grid, 7), flips[7])


def test_random_grids_are_seeded_binary_with_a_pore():
    space = GridSpace((3, 3, 3))
    a = space.random(500, np.random.default_rng(1), porosity=0.01)
    b = space.random(500, np.random.default_rng(1), porosity=0.01)
    assert np.array_equal(a, b) and a.shape == (500, 3, 3, 3)
    assert a.reshape(500, -1).any(1).all()  # 27 cells at 1 % porosity: most draws had to be mended


def test_3d_canonical_form_is_the_brute_force_minimum():
    grid = (np.random.default_rng(2).random((3, 3, 3)) < 0.4).astype(np.uint8)
    images = [np.roll(S.point_transform_3d(grid, d), s, (0, 1, 2)).reshape(-1).tobytes()
              for d in range(48) for s in itertools.product(range(3), repeat=3)]
    assert S.canonical(grid[None])[0].reshape(-1).tobytes() == min(images)
    # an independent symmetry: transpose of axes 0 and 2, then a flip and a roll
    other = np.roll(np.flip(grid.transpose(2, 1, 0), 1), (1, 2, 0), (0, 1, 2))
    assert S.distinct_up_to_symmetry(np.stack([grid, other])) == 1


class CubeSim(Simulator):
    """Toy 3-D simulator: the filled fraction at point k is min(1, porosity * (k + 1))."""

    name = "cube-sim"
    grid_shape = (4, 4, 4)

    def __init__(self):
        self.schedule = PressureSchedule(3, adsorption_only=True)

    def simulate(self, grids, progress=False):
        grids = np.asarray(grids)
        assert grids.ndim == 4
        porosity = grids.reshape(len(grids), -1).mean(1)
        return np.minimum(1.0, porosity[:, None] * np.arange(1, 5)[None])


def test_rank_3_space_in_population_problem_and_random_sampler():
    space = GridSpace.parse("4x4x4")
    grids = registry.create("sampler", "random").sample(6, space, np.random.default_rng(0))
    assert grids.shape == (6, 4, 4, 4) and grids.reshape(6, -1).any(1).all()
    sim = CubeSim()
    assert sim.space == space
    target = Target(sim.simulate(grids[:1])[0], sim.schedule)
    problem = Problem(target, sim, space=space)
    pop = Population(grids, problem.errors(grids))
    assert pop.space == space and pop.errors[0] == 0.0
    assert problem.errors(grids[0]).shape == (1,)  # one 3-D grid is a batch of one
    assert Population.empty(space).grids.shape == (0, 4, 4, 4)
    slabs = registry.create("sampler", "slit").sample(2, space, np.random.default_rng(0))  # 3-D samplers (H10)
    assert slabs.shape == (2, 4, 4, 4) and slabs.reshape(2, -1).any(1).all()


@pytest.mark.parametrize("name,options", [("random", {"max_evals": 64}), ("steepest", {"candidates": 1, "max_steps": 2}),
                                          ("pso", {"particles": 4, "iters": 3}), ("ga", {"pop_size": 8, "generations": 3})])
def test_builtin_optimizers_search_a_rank_3_space(name, options):
    sim = CubeSim()
    truth = np.zeros((4, 4, 4), np.uint8)
    truth[:, :, :1] = 1  # porosity 1/4: filled fractions 0.25, 0.5, 0.75, 1
    target = Target(sim.simulate(truth[None])[0], sim.schedule)
    problem = Problem(target, sim, space=GridSpace((4, 4, 4)))
    start = Population.random(4, problem.space, np.random.default_rng(0), porosity=0.8)
    start = Population(start.grids, problem.errors(start.grids))
    out = registry.create("optimizer", name, **options).run(problem, start, rng=np.random.default_rng(1))
    assert out.grids.shape[1:] == (4, 4, 4) and out.best_error < start.best_error
    np.testing.assert_allclose(problem.errors(out.grids), out.errors)


def test_random_3d_transforms_stay_in_the_orbit():
    grids = GridSpace((3, 4, 4)).random(20, np.random.default_rng(4))
    moved = S.random_transform(grids, np.random.default_rng(5))
    assert moved.shape == grids.shape and not np.array_equal(moved, grids)
    assert np.array_equal(S.canonical_keys(moved), S.canonical_keys(grids))
    assert (moved.reshape(20, -1).sum(1) == grids.reshape(20, -1).sum(1)).all()
