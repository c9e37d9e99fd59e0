"""A constrained problem (pymoo's convention: F to minimise, G <= 0 feasible) on the search
toolkit: the Evaluator's columns, and the ga / nsga2 optimizer plugins searching it the
way `invtoolkit design` does (block crossover, every incoming grid in the first generation)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invtoolkit.core.population import Population
from invtoolkit.core.space import GridSpace
from invtoolkit.core.termination import MaxEvaluations
from invtoolkit.hooks import registry
from invtoolkit.search.evaluator import INFEASIBLE, Evaluator, constrained, constrained_columns


class PorosityBand:
    """Maximise the porosity subject to porosity <= cap: the optimum is exactly the cap.
    ``estimate`` (a screen) is the truth itself, so screening keeps the best offspring."""

    target = None
    n_obj, n_ieq_constr = 1, 1

    def __init__(self, shape=(6, 6), cap=0.5, screen=True):
        self.space, self.cap, self.screen, self.calls = GridSpace(shape), cap, screen, 0

    def evaluate(self, grids):
        self.calls += 1
        porosity = grids.reshape(len(grids), -1).mean(1)
        return -porosity[:, None], (porosity - self.cap)[:, None]

    def estimate(self, grids):
        porosity = grids.reshape(len(grids), -1).mean(1)
        return -porosity[:, None], (porosity - self.cap)[:, None]


def test_columns_put_feasible_grids_first_by_objective_then_infeasible_by_violation():
    f = np.array([[-0.4], [-0.9], [-0.2], [-0.6]])
    g = np.array([[-0.1], [0.3], [0.0], [0.05]])
    cols = constrained_columns(f, g)
    assert np.allclose(cols[:, 1:2], f) and np.allclose(cols[:, 2:], g)
    assert np.allclose(cols[:, 0], [-0.4, INFEASIBLE + 0.3, -0.2, INFEASIBLE + 0.05])
    assert list(np.argsort(cols[:, 0])) == [0, 2, 3, 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=12))
def test_column_zero_is_the_lexicographic_feasibility_first_order(rows):
    f = np.array([[r[0]] for r in rows])
    g = np.array([[r[1], r[2]] for r in rows])
    key = constrained_columns(f, g)[:, 0]
    cv = np.maximum(g, 0).sum(1)
    for i in range(len(rows)):
        for j in range(len(rows)):
            if cv[i] == 0 and cv[j] > 0:
                assert key[i] < key[j]
            if cv[i] == 0 and cv[j] == 0:
                assert (key[i] < key[j]) == (f[i, 0] < f[j, 0])
            if cv[i] > 0 and cv[j] > 0 and cv[i] < cv[j]:
                assert key[i] <= key[j]  # (violations below ~1e-7 tie: 1e9 + cv in float64)


def test_evaluator_scores_a_constrained_problem_in_columns_and_all_wall_grids_are_invalid():
    problem = PorosityBand()
    assert constrained(problem)
    grids = np.zeros((3, 6, 6), np.uint8)
    grids[1, :2] = 1  # porosity 1/3: feasible
    grids[2, :4] = 1  # porosity 2/3: infeasible by 1/6
    with Evaluator(problem, MaxEvaluations(10)) as ev:
        cols = ev.evaluate(grids)
        assert ev.n_obj == 3 and ev.evaluations == 2  # the all-wall grid is not counted
        assert np.isinf(cols[0]).all()
        assert np.allclose(cols[1], [-1 / 3, -1 / 3, 1 / 3 - 0.5])
        assert np.isclose(cols[2, 0], INFEASIBLE + 1 / 6)
        assert ev.can_estimate and np.allclose(ev.estimate(grids[1:]), cols[1:])
        ev.evaluate(grids)  # cached: the problem is not asked again
        assert problem.calls == 1 and ev.evaluations == 2


@pytest.mark.parametrize("name", ["ga", "nsga2"])
def test_pymoo_plugins_find_the_constrained_optimum_within_the_budget(name):
    problem = PorosityBand(cap=0.5)
    start = Population(np.random.default_rng(0).integers(0, 2, (40, 6, 6)).astype(np.uint8))
    opt = registry.create("optimizer", name, pop_size=12, crossover="block", structured=False, initial=40,
                          screen_factor=4)
    pop = opt.run(problem, start, rng=np.random.default_rng(1), termination=MaxEvaluations(1500))
    best = pop.grids[0].mean()
    assert best == pytest.approx(0.5)  # feasible (<= cap) and as porous as allowed
    assert opt.iterations >= 2 and opt.screened >= 4 * 12


def test_the_same_seed_gives_the_same_search():
    def run():
        problem = PorosityBand(cap=0.4, screen=None)
        start = Population(np.random.default_rng(3).integers(0, 2, (20, 6, 6)).astype(np.uint8))
        opt = registry.create("optimizer", "ga", pop_size=8, crossover="block", structured=False, initial=20)
        return opt.run(problem, start, rng=np.random.default_rng(5), termination=MaxEvaluations(300)).grids

    assert np.array_equal(run(), run())
