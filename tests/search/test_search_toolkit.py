"""The public search toolkit: termination, the evaluator (cache, count, budget, archive
distinct up to symmetry) and a new optimizer of < 40 lines written on it, registered
and run in a chain with a deadline."""

import inspect
import time

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.search.chain import Chain
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.core.objective import Target
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Problem
from invtoolkit.core.roles import Simulator
from invtoolkit.search import Evaluator, MaxEvaluations, TimeLimit, any_of
from invtoolkit.search import Algorithm, starting_grids


class ColumnSim(Simulator):
    """Toy exact model on 5x5 grids: point k = pore fraction of columns 0..k (5 points)."""

    name = "column-sim"

    def __init__(self, normalization="pore", steps=4, adsorption_only=True):
        self.schedule = PressureSchedule(4, adsorption_only=True)
        self.calls = 0

    def simulate(self, grids, progress=False):
        g = np.asarray(grids, float)
        self.calls += len(g)
        return np.cumsum(g.sum(1), axis=1) / np.maximum(g.sum((1, 2)), 1)[:, None]


def toy_problem():
    truth = np.zeros((5, 5), np.uint8)
    truth[:, 1] = truth[2, 3] = 1
    sim = ColumnSim()
    target = Target(sim.simulate(truth[None])[0], sim.schedule)
    sim.calls = 0
    return Problem(target, sim), truth


def test_termination_combines_the_tightest_limits():
    both = any_of(TimeLimit(100.0), MaxEvaluations(10), None)
    assert both.has_time_limit and both.has_budget
    assert both.evaluations_left(4) == 6 and not both.done(9) and both.done(10)
    assert 99 < both.time_left() <= 100
    assert TimeLimit(deadline=time.monotonic() - 1).done()
    assert not any_of().has_time_limit and not any_of().done(10**9)


def test_evaluator_caches_counts_and_keeps_symmetry_distinct_best():
    problem, truth = toy_problem()
    ev = Evaluator(problem, MaxEvaluations(3), archive=4)
    shifted = np.roll(truth, 2, axis=0)  # the same structure up to a translation, the same curve
    scores = ev.errors(np.stack([truth, shifted, truth, np.zeros_like(truth)]))
    assert scores[0] == scores[1] == scores[2] == 0.0 and scores[3] == np.inf  # all-wall: inf, not simulated
    assert ev.evaluations == 2 and problem.evaluator.calls == 2  # repeat cached, wall grid free
    assert ev.archive.errors.tolist() == [0.0, np.inf]  # truth and its translation are one class
    assert ev.fits(1) and not ev.fits(2)  # a budget of 3: one evaluation left
    ev.errors(np.roll(truth, 1, axis=1)[None])
    assert ev.expired()
    ev.close()


class FlipWalk(Algorithm):
    """Greedy random walk: each step flips one random cell of each of ``walkers`` grids
    and keeps the flips that do not make a grid worse."""

    name = "flip-walk"

    def __init__(self, walkers: int = 4):
        self.walkers = int(walkers)

    def start(self, evaluator, population, rng):
        self.grids = starting_grids(evaluator.problem, population, self.walkers, rng, sampler="cells")
        self.errors = evaluator.errors(self.grids)

    def propose(self, evaluator, rng):
        cells = rng.integers(0, self.space.cells, len(self.grids))
        return np.stack([self.space.flip(g, c) for g, c in zip(self.grids, cells)])

    def tell(self, evaluator, grids, scores, rng):
        better = scores[:, 0] <= self.errors
        self.grids[better], self.errors[better] = grids[better], scores[better, 0]


class WalkPlugin:
    @hookimpl
    def register_optimizers(self, register):
        register("flip-walk", FlipWalk, "test optimizer on the public toolkit")

    @hookimpl
    def register_simulators(self, register):
        register("column-sim", ColumnSim)


@pytest.fixture
def walk():
    registry.register_plugin(WalkPlugin(), name="walk-test")
    yield
    registry.unregister_plugin("walk-test")


def test_a_short_optimizer_on_the_toolkit_runs_in_a_chain_with_a_deadline(walk):
    assert len(inspect.getsource(FlipWalk).splitlines()) < 40
    problem, truth = toy_problem()
    t0 = time.monotonic()
    result = Chain.parse("flip-walk[walkers=6]").run(problem.target, time_limit=0.5, seed=0, simulator=ColumnSim(),
                                                      population=Population.empty((5, 5)))
    elapsed = time.monotonic() - t0
    assert elapsed < 0.5 + 0.3  # the termination stopped it
    stage = result.stages[0]
    assert stage.evaluations > 60  # it stepped for the stage's time, not just scored its start
    assert result.verified_by == "column-sim"
    start = Population.random(6, (5, 5), np.random.default_rng(0))
    assert result.best_error < problem.errors(start.grids).min()  # it improved on random grids
    np.testing.assert_allclose(toy_problem()[0].errors(result.population.grids), result.population.errors)
