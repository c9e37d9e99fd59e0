"""Problem, Target, Population and the pressure schedule, against hand-computed values."""

import numpy as np
import pytest

from invtoolkit.errors import InputError
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import ADSORPTION, DESORPTION, PressureSchedule, schedule_for_points
from invtoolkit.core.problem import Problem, Target
from invtoolkit_plugins.lattice_dft import LatticeDFT


def test_default_schedule_is_81_points():
    s = PressureSchedule()
    assert len(s) == 81
    assert s.pressures[0] == 0 and s.pressures[40] == 1 and s.pressures[41] == pytest.approx(39 / 40)
    assert s.pressures[-1] == 0
    assert (s.branches == ADSORPTION).sum() == 41 and (s.branches == DESORPTION).sum() == 40
    assert len(schedule_for_points(41)) == 41 and len(schedule_for_points(81)) == 81
    with pytest.raises(ValueError):
        schedule_for_points(50)


def test_problem_mae_on_target_points_only():
    sim = LatticeDFT(steps=4)
    grid = np.ones((4, 4), np.uint8)
    curve = sim.simulate(grid)[0]
    target = Target(curve[:5], PressureSchedule(4, adsorption_only=True))
    problem = Problem(target, sim)
    assert problem.errors(grid)[0] == pytest.approx(0, abs=1e-6)
    shifted = Target(np.clip(curve[:5] + 0.1, 0, 1), target.schedule)
    expected = np.abs(np.clip(curve[:5] + 0.1, 0, 1) - curve[:5]).mean()
    assert Problem(shifted, sim).errors(grid)[0] == pytest.approx(expected, abs=1e-6)
    assert problem.n_evals == 1


def test_problem_refuses_mismatched_normalization_and_length():
    sim = LatticeDFT(steps=4, adsorption_only=True)
    with pytest.raises(InputError, match="normalises"):
        Problem(Target(np.zeros(5), PressureSchedule(4, True), normalization="site"), sim)
    with pytest.raises(InputError, match="points"):
        Problem(Target(np.zeros(9), PressureSchedule(4)), sim)


def test_all_wall_candidates_score_infinity():
    sim = LatticeDFT(steps=4, adsorption_only=True)
    problem = Problem(Target(np.zeros(5), sim.schedule), sim)
    grids = np.zeros((2, 4, 4), np.uint8)
    grids[1, 0, 0] = 1
    errors = problem.errors(grids)
    assert np.isinf(errors[0]) and np.isfinite(errors[1])


def test_population_sorting_and_unique():
    grids = np.zeros((3, 3, 3), np.uint8)
    grids[0, 0, 0] = grids[2, 0, 0] = 1
    pop = Population(grids, [0.3, 0.1, 0.2])
    assert list(pop.sorted().errors) == [0.1, 0.2, 0.3]
    assert len(pop.unique()) == 2
    assert pop.best_error == 0.1
    rnd = Population.random(50, (5, 5), np.random.default_rng(0))
    assert rnd.grids.reshape(50, -1).any(1).all()
