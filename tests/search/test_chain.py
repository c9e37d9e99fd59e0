"""Chain parsing and execution with small test plugins registered in the test."""

import time

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.search.chain import Chain, parse_stages
from invtoolkit.errors import InputError, PluginError
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressurePath, PressureSchedule
from invtoolkit.core.problem import Problem, Target
from invtoolkit.core.roles import Generator, Optimizer, Simulator

SHAPE = (4, 4)


class RowSimulator(Simulator):
    """Toy exact model: point k = fraction of pore cells in rows 0..k (4 points, steps=3)."""

    name = "row-sim"
    grid_shape = SHAPE

    def __init__(self, normalization="pore", steps=3, adsorption_only=True):
        self.schedule = PressureSchedule(3, adsorption_only=True)
        self.normalization = normalization
        self.calls = 0

    def simulate(self, grids, progress=False):
        self.calls += len(grids)
        g = np.asarray(grids, float)
        return np.cumsum(g.sum(2), axis=1) / g.sum((1, 2))[:, None]


class ExhaustiveFlip(Optimizer):
    """Test optimizer: one pass of best single-cell flips; remembers its options."""

    seen_options = []

    def __init__(self, passes=1):
        self.passes = int(passes)
        ExhaustiveFlip.seen_options.append({"passes": self.passes})

    def run(self, problem, population, *, rng, termination=None, progress=False):
        if len(population) == 0:
            population = Population.random(4, population.space, rng)
            population = Population(population.grids, problem.errors(population.grids))
        grids = population.grids.copy()
        for _ in range(self.passes):
            for k in range(len(grids)):
                flips = np.repeat(grids[k][None], grids[k].size, 0).reshape(grids[k].size, -1)
                flips[np.arange(grids[k].size), np.arange(grids[k].size)] ^= 1
                flips = flips.reshape(-1, *grids[k].shape)
                err = problem.errors(flips)
                if err.min() < problem.errors(grids[k])[0]:
                    grids[k] = flips[np.argmin(err)]
        return Population(grids, problem.errors(grids))


class FixedGenerator(Generator):
    grid_shape = SHAPE  # what it was "trained" for
    schedule = PressureSchedule(3, adsorption_only=True)

    def __init__(self, grid_value=1):
        self.grid_value = grid_value

    def generate(self, targets, n, seed=0):
        g = np.zeros((len(targets), n, *SHAPE), np.uint8)
        g[..., 0, :] = 1
        return g


class ToyPlugin:
    @hookimpl
    def register_simulators(self, register):
        register("row-sim", RowSimulator)

    @hookimpl
    def register_optimizers(self, register):
        register("flip", ExhaustiveFlip)

    @hookimpl
    def register_generators(self, register):
        register("fixed-gen", FixedGenerator)


@pytest.fixture
def toy():
    registry.register_plugin(ToyPlugin(), name="toy")
    ExhaustiveFlip.seen_options.clear()
    yield
    registry.unregister_plugin("toy")


def toy_target():
    truth = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]], np.uint8)
    sim = RowSimulator()
    return Target(sim.simulate(truth[None])[0], sim.schedule), truth


def test_parse_stage_options():
    specs = parse_stages(" a | b[k=3, x=0.5,flag=true, name=cnn] |c ")
    assert [s.name for s in specs] == ["a", "b", "c"]
    assert specs[1].options == {"k": 3, "x": 0.5, "flag": True, "name": "cnn"}


def test_stage_options_use_the_one_option_parser_and_round_trip():
    from invtoolkit.hooks.options import parse_options

    text = 'ga[weights=[0.2,0.8],m={"a":1},s=none,f=true,x=0.5,name=cnn] | steepest'
    specs = parse_stages(text)
    assert specs[0].options == {"weights": [0.2, 0.8], "m": {"a": 1}, "s": None, "f": True, "x": 0.5, "name": "cnn"}
    # a stage's options mean what the same items mean after --param
    items = ["weights=[0.2,0.8]", 'm={"a":1}', "s=none", "f=true", "x=0.5", "name=cnn"]
    assert specs[0].options == parse_options(items)
    assert parse_stages(" | ".join(str(s) for s in specs)) == specs


@pytest.mark.parametrize("bad", ["", "a | | b", "a[k=1", "a]", "a[k]", "a b", "a[=1]", "a[k=[1,2]", "a[k=1,,j=2]"])
def test_malformed_chains_are_refused(bad):
    with pytest.raises(InputError) as info:
        parse_stages(bad)
    assert "\n" not in str(info.value)  # one line for the CLI


def test_unknown_stage_names_the_available_ones(toy):
    with pytest.raises(PluginError, match="unknown stage 'nope'.*flip"):
        Chain.parse("flip | nope")


def test_chain_runs_stages_in_order_and_verifies_with_the_simulator(toy):
    target, truth = toy_target()
    simulator = RowSimulator()
    chain = Chain.parse("fixed-gen[n=3] | flip[passes=2,evaluator=row-sim] | flip")
    result = chain.run(target, seed=1, simulator=simulator)
    assert [r.stage.split("[")[0] for r in result.stages] == ["fixed-gen", "flip", "flip"]
    assert ExhaustiveFlip.seen_options == [{"passes": 2}, {"passes": 1}]
    # the reported error is the simulator's, recomputed on the final grids
    recomputed = Problem(target, RowSimulator()).errors(result.population.grids)
    assert np.allclose(result.population.errors, recomputed)
    assert simulator.calls >= len(result.population)
    assert result.best_error <= result.stages[0].best_error
    assert result.stages[1].evaluations > 0


def test_generator_stage_scores_its_grids(toy):
    target, _ = toy_target()
    result = Chain.parse("fixed-gen[n=2]").run(target, simulator=RowSimulator())
    g = np.zeros(SHAPE, np.uint8)
    g[0] = 1
    assert np.array_equal(result.population.grids[0], g)
    assert result.best_error == pytest.approx(np.abs(np.array([1, 1, 1, 1]) - target.values).mean())


def test_generator_stage_for_another_grid_size_proposes_nothing(toy):
    # The generator makes 4x4 grids; a 4x5 search must not receive them (one would
    # otherwise get grids of the wrong size back): the stage is skipped, with a note.
    truth = np.zeros((4, 5), np.uint8)
    truth[0, :2] = truth[2, 3] = 1
    sim = RowSimulator()
    target = Target(sim.simulate(truth[None])[0], sim.schedule)
    start = Population(truth[None], np.array([0.0]))
    result = Chain.parse("fixed-gen[n=3]").run(target, seed=0, simulator=sim, population=start)
    assert result.stages[0].evaluations == len(start)  # only the incoming grid, rescored
    assert "4x4" in result.stages[0].note
    assert result.population.grids.shape == (1, 4, 5)


@pytest.mark.parametrize("target_schedule,normalization,why", [
    (PressurePath([0.0, 0.1, 0.5, 1.0]), "pore", "PressurePath"),   # same length, other pressures
    (PressureSchedule(3, adsorption_only=True), "site", "site-normalised"),
])
def test_generator_stage_for_another_path_or_normalization_proposes_nothing(toy, target_schedule,
                                                                            normalization, why):
    # Same length is not enough: a generator trained on 4 points at RH 0, 1/3, 2/3, 1
    # (pore-normalised) must not read other pressures or site-normalised amounts.
    sim = RowSimulator(normalization=normalization)
    sim.schedule = target_schedule
    values = np.linspace(0.1, 0.9, len(target_schedule))
    target = Target(values, target_schedule, normalization)
    gen = FixedGenerator()
    assert not gen.schedule.starts(target_schedule) or gen.normalization != normalization
    truth = np.zeros(SHAPE, np.uint8)
    truth[1] = 1
    start = Population(truth[None], np.array([0.0]))
    result = Chain.parse("fixed-gen[n=3]").run(target, seed=0, simulator=sim, population=start)
    assert why in result.stages[0].note
    assert len(result.population) == 1  # only the incoming grid


def test_same_seed_same_result(toy):
    target, _ = toy_target()
    a = Chain.parse("flip").run(target, seed=7, simulator=RowSimulator())
    b = Chain.parse("flip").run(target, seed=7, simulator=RowSimulator())
    assert np.array_equal(a.population.grids, b.population.grids)


def test_time_limit_must_be_positive(toy):
    target, _ = toy_target()
    with pytest.raises(InputError, match="time limit"):
        Chain.parse("flip").run(target, time_limit=0, simulator=RowSimulator())


def test_target_validation():
    sched = PressureSchedule(3, adsorption_only=True)
    with pytest.raises(InputError, match="NaN"):
        Target([0, np.nan, 0.5, 1], sched)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        Target([0, 0.5, 1.2, 1], sched)
    with pytest.raises(InputError, match="points"):
        Target([0, 1], sched)


def test_one_off_start_up_is_not_taken_from_the_time_limit(toy):
    # A simulator whose first call is slow (like numba compiling on a cold cache): the
    # chain warms it up before the clock starts, so the stages still get their time.
    class SlowFirstCall(RowSimulator):
        def __init__(self):
            super().__init__()
            self.warm = False

        def simulate(self, grids, progress=False):
            if not self.warm:
                time.sleep(1.0)
                self.warm = True
            return super().simulate(grids, progress)

    target, _ = toy_target()
    result = Chain.parse("flip").run(target, time_limit=0.8, seed=0, simulator=SlowFirstCall())
    assert result.startup_seconds >= 1.0
    assert result.seconds < 1.0
    assert result.stages[0].evaluations > 0
