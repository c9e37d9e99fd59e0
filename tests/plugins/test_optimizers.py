"""Search plugins (random, steepest, pso, ga, nsga2) on small realisable targets.

Targets are DFT isotherms of known 6x6 / 8x8 grids on a 10-step axis, so every
search has an exact answer (error 0) and each evaluation is cheap.
"""

import time

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Problem, Target
from invtoolkit.core.roles import Surrogate
from invtoolkit.search import TimeLimit

STEPS = 10
OPTIMIZERS = ["random", "steepest", "pso", "ga", "nsga2"]
# Fixed amounts of work (no deadline) so runs are reproducible.
BOUNDED = {
    "random": dict(max_evals=300),
    "steepest": dict(candidates=2, max_steps=3),
    "pso": dict(particles=16, iters=8),
    "ga": dict(pop_size=16, generations=8),
    "nsga2": dict(pop_size=16, generations=8),
}


def slit(shape, rows):
    g = np.zeros(shape, np.uint8)
    g[rows] = 1
    return g


@pytest.fixture(scope="module")
def dft():
    return registry.create("simulator", "lattice-dft", steps=STEPS, adsorption_only=True)


@pytest.fixture(scope="module")
def dft_loop():
    return registry.create("simulator", "lattice-dft", steps=STEPS)


def make_problem(sim, grid, loop=False):
    curve = sim.simulate(grid[None])[0]
    return Problem(Target(curve, PressureSchedule(STEPS, adsorption_only=not loop)), sim)


@pytest.fixture(scope="module")
def truth():
    g = slit((8, 8), slice(2, 4))
    g[6, 1] = g[6, 2] = 1  # a small extra pore: a two-step isotherm
    return g


@pytest.fixture(scope="module")
def start(truth):
    """A poor but valid starting population (random cells, far from the slit)."""
    return Population.random(8, truth.shape, np.random.default_rng(3), porosity=0.7)


def scored(problem, pop):
    return Population(pop.grids, problem.errors(pop.grids))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_improves_on_its_start_and_reports_true_errors(name, dft, truth, start):
    problem = make_problem(dft, truth)
    pop = scored(problem, start)
    out = registry.create("optimizer", name, **BOUNDED[name]).run(problem, pop, rng=np.random.default_rng(0))
    assert out.scored and len(out) >= 1
    assert out.best_error < pop.best_error
    assert np.all(np.diff(out.errors) >= 0)  # best first
    check = make_problem(dft, truth)
    np.testing.assert_allclose(check.errors(out.grids[:4]), out.errors[:4], atol=1e-6)  # float32 solver: batch-dependent rounding


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_same_seed_same_result(name, dft, truth, start):
    runs = []
    for _ in range(2):
        problem = make_problem(dft, truth)
        opt = registry.create("optimizer", name, **BOUNDED[name])
        runs.append(opt.run(problem, scored(problem, start), rng=np.random.default_rng(7)))
    np.testing.assert_array_equal(runs[0].grids, runs[1].grids)
    np.testing.assert_array_equal(runs[0].errors, runs[1].errors)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_deadline_is_respected_and_empty_start_works(name, dft, truth):
    problem = make_problem(dft, truth)
    problem.evaluator.simulate(Population.random(64, truth.shape, np.random.default_rng(0)).grids)  # warm up
    t0 = time.monotonic()
    out = registry.create("optimizer", name).run(
        problem, Population.empty(truth.shape), rng=np.random.default_rng(1),
        termination=TimeLimit(deadline=t0 + 0.6)
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 0.6 + 0.4  # at most about one batch past the deadline
    assert out.grids.shape[1:] == truth.shape and len(out) >= 1


def test_steepest_recovers_a_grid_one_flip_away(dft, truth):
    problem = make_problem(dft, truth)
    near = truth.copy()
    near[0, 0] ^= 1
    pop = scored(problem, Population(near[None]))
    assert pop.best_error > 1e-4
    out = registry.create("optimizer", "steepest", candidates=1).run(problem, pop, rng=np.random.default_rng(0))
    assert out.best_error <= 1e-9
    np.testing.assert_array_equal(out.grids[0], truth)


def test_steepest_stops_at_a_local_minimum(dft, truth, start):
    problem = make_problem(dft, truth)
    opt = registry.create("optimizer", "steepest", candidates=1)
    out = opt.run(problem, scored(problem, start), rng=np.random.default_rng(0))
    assert opt.local_minima == [True]
    best = out.grids[0]
    flips = np.repeat(best[None], best.size, 0).reshape(best.size, -1)
    flips[np.arange(best.size), np.arange(best.size)] ^= 1
    assert make_problem(dft, truth).errors(flips.reshape(-1, *best.shape)).min() >= out.best_error - 1e-6


def test_ga_then_steepest_beats_random_search_at_equal_evaluations(dft):
    truth = slit((8, 8), slice(1, 4))
    problem = make_problem(dft, truth)
    rng = np.random.default_rng(0)
    pop = registry.create("optimizer", "ga", pop_size=24, generations=10, sampler="cells").run(
        problem, Population.empty(truth.shape), rng=rng
    )
    pop = registry.create("optimizer", "steepest", candidates=1, max_steps=4).run(problem, pop, rng=rng)
    used = problem.n_evals
    baseline = make_problem(dft, truth)
    rand = registry.create("optimizer", "random", max_evals=used).run(
        baseline, Population.empty(truth.shape), rng=np.random.default_rng(0)
    )
    assert baseline.n_evals <= used
    assert pop.best_error < 0.5 * rand.best_error


def test_nsga2_branch_objectives_sorted_by_total_error(dft_loop):
    truth = slit((6, 6), slice(1, 3))
    problem = make_problem(dft_loop, truth, loop=True)
    opt = registry.create("optimizer", "nsga2", objectives="branches", pop_size=12, generations=4)
    out = opt.run(problem, Population.empty(truth.shape), rng=np.random.default_rng(0))
    assert np.all(np.diff(out.errors) >= 0)
    np.testing.assert_allclose(make_problem(dft_loop, truth, loop=True).errors(out.grids[:3]), out.errors[:3], atol=1e-6)


def test_nsga2_objective_checks(dft, truth):
    problem = make_problem(dft, truth)  # adsorption only, pore normalisation
    with pytest.raises(InputError, match="full-loop"):
        registry.create("optimizer", "nsga2", objectives="branches").run(
            problem, Population.empty(truth.shape), rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="porosity"):
        registry.create("optimizer", "nsga2", objectives="porosity").run(
            problem, Population.empty(truth.shape), rng=np.random.default_rng(0))
    out = registry.create("optimizer", "nsga2", objectives="porosity", porosity=0.3, pop_size=12,
                         generations=3).run(problem, Population.empty(truth.shape), rng=np.random.default_rng(0))
    assert len(out) >= 1


def test_nsga2_halves_on_measured_points(truth):
    """No model isotherm: measured points (capacity 3 x the truth's DFT uptake) split at RH 0.5."""
    from invtoolkit.fitting import MeasuredObjective, measured_simulator
    from invtoolkit.parsing.fluids import resolve_fluid
    from invtoolkit.parsing.measured import MeasuredIsotherm

    pressures = np.array([0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.95])
    sim = measured_simulator(MeasuredIsotherm(pressures, np.ones(7), 7, 298.0, resolve_fluid("water"), "mmol/g",
                                              "test"), y=1.5)
    amounts = 3.0 * sim.simulate(truth[None])[0, 1:]
    objective = MeasuredObjective(MeasuredIsotherm(pressures, amounts, 7, 298.0, resolve_fluid("water"),
                                                   "mmol/g", "test"))
    problem = Problem(objective, sim)
    assert problem.target is None
    # the per-point errors: zero for the truth, and their mean is the objective's score
    other = slit(truth.shape, slice(0, 5))
    curves = sim.simulate(np.stack([truth, other]))
    errors = objective.point_errors(curves)
    assert errors.shape == (2, 7) and errors[0].max() < 1e-6
    np.testing.assert_allclose(errors.mean(1), objective.scores(curves), rtol=1e-12)
    opt = registry.create("optimizer", "nsga2", pop_size=12, generations=4)  # auto: halves
    out = opt.run(problem, Population.empty(truth.shape), rng=np.random.default_rng(0))
    assert np.all(np.diff(out.errors) >= 0)
    np.testing.assert_allclose(problem.errors(out.grids[:3]), out.errors[:3], atol=1e-9)
    one_sided = MeasuredObjective(MeasuredIsotherm(pressures[:3], amounts[:3], 3, 298.0, resolve_fluid("water"),
                                                   "mmol/g", "test"))
    with pytest.raises(InputError, match="both sides"):
        opt.run(Problem(one_sided, measured_simulator(one_sided.measured, y=1.5)), Population.empty(truth.shape),
                rng=np.random.default_rng(0))


@pytest.mark.parametrize("name,options", [("pso", {"p": 3}), ("ga", {"pop_size": 2}), ("steepest", {"rank_by": "x"}),
                                          ("random", {"low": 0.9, "high": 0.1}), ("ga", {"crossover": "x"})])
def test_bad_options_are_input_errors(name, options):
    with pytest.raises(InputError):
        registry.create("optimizer", name, **options)


# -- surrogate-ranked steepest descent ------------------------------------------------


class TinySurrogate(Surrogate):
    """Differentiable toy model: filling at point k = sigmoid(8 * (porosity - 1 + RH_k))."""

    name = "tiny"
    grid_shape = None

    def __init__(self, normalization="pore", steps=STEPS, adsorption_only=True):
        self.schedule = PressureSchedule(steps, adsorption_only)
        self.normalization = normalization

    def forward_torch(self, x):
        import torch

        rh = torch.as_tensor(self.schedule.pressures, dtype=x.dtype)
        return torch.sigmoid(8 * (x.mean((1, 2))[:, None] - 1 + rh[None]))

    def simulate(self, grids, progress=False):
        import torch

        with torch.no_grad():
            return self.forward_torch(torch.as_tensor(np.asarray(grids), dtype=torch.float32)).double().numpy()

    def save(self, path):
        pass


class TinyPlugin:
    @hookimpl
    def register_surrogates(self, register):
        register("tiny", TinySurrogate, "test surrogate")


@pytest.fixture
def tiny():
    registry.register_plugin(TinyPlugin(), "tiny-test")
    yield
    registry.unregister_plugin("tiny-test")


@pytest.mark.parametrize("rank_by", ["gradient", "error"])
def test_ranked_steepest_sends_only_top_flips_then_falls_back(tiny, dft, truth, start, rank_by):
    problem = make_problem(dft, truth)
    pop = scored(problem, start[:1])
    n0 = problem.n_evals
    opt = registry.create("optimizer", "steepest", candidates=1, rank="tiny", rank_by=rank_by, top=5,
                         fallback=False, max_steps=3)
    out = opt.run(problem, pop, rng=np.random.default_rng(0))
    assert problem.n_evals - n0 <= 5 * 4  # only the ranked flips reach the DFT
    assert out.best_error <= pop.best_error
    # with the fallback the end point is a true local minimum of the DFT
    opt = registry.create("optimizer", "steepest", candidates=1, rank="tiny", rank_by=rank_by, top=5)
    out = opt.run(make_problem(dft, truth), pop, rng=np.random.default_rng(0))
    assert opt.local_minima == [True]


def test_gradient_ranking_prefers_flips_that_help_the_surrogate(tiny, dft):
    """Target porosity > current: the tiny model says opening a wall cell helps."""
    from invtoolkit_plugins.optimizers.steepest import FlipRanker

    grid = slit((6, 6), slice(0, 2))
    target_grid = slit((6, 6), slice(0, 4))
    model = TinySurrogate()
    problem = Problem(Target(model.simulate(target_grid[None])[0], PressureSchedule(STEPS, True)), dft)
    best = FlipRanker("tiny", problem, "gradient").best_flips(grid, 6)
    assert np.all(grid.reshape(-1)[best] == 0)
