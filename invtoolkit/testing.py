"""Conformance kit: the checks every plugin of a role must pass, for any plugin author.

Call them from a plugin's own tests (``tests/hooks/test_conformance.py`` runs them over every
registered plugin of this distribution)::

    from invtoolkit.testing import check_simulator, check_optimizer, check_reader, check_sampler

    def test_my_simulator_conforms():
        check_simulator(MySimulator())

Each check raises ``AssertionError`` naming the plugin and the broken rule, and is
small enough to run in a test suite (a handful of grids, a tiny toy problem).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (InputError, MaxEvaluations, MeasuredIsotherm, Optimizer, Population, PressureSchedule,
                               Problem, Sampler, Simulator, Target, as_space)

TOY_SPACE = (8, 8)


def _name(obj) -> str:
    return getattr(obj, "name", None) or type(obj).__name__


def _grids_for(sim: Simulator, n: int, seed: int) -> np.ndarray:
    space = sim.space or as_space((20, 20))
    grids = space.random(n, np.random.default_rng(seed))
    grids.reshape(n, -1)[:, 0] = 1  # at least one pore cell each
    return grids


def check_simulator(sim: Simulator, *, n: int = 3, seed: int = 0, grids: np.ndarray | None = None) -> np.ndarray:
    """A simulator (or surrogate) maps uint8 grids (N, *shape) to finite float (N, P) on
    its pressures, the same answer twice, row by row (a grid's curve does not depend on
    the others in the batch). Returns the curves."""
    who = _name(sim)
    assert isinstance(sim, Simulator), f"{who}: not a Simulator (invtoolkit.plugin.Simulator)"
    pressures = np.asarray(sim.pressures, dtype=float)
    assert pressures.ndim == 1 and len(pressures) >= 2, f"{who}: pressures must be a 1-D axis, got {pressures.shape}"
    assert np.all((pressures >= 0) & (pressures <= 1)), f"{who}: relative pressures outside [0, 1]"
    assert sim.normalization in ("pore", "site"), f"{who}: normalization '{sim.normalization}'"
    grids = _grids_for(sim, n, seed) if grids is None else np.asarray(grids, np.uint8)
    curves = np.asarray(sim.simulate(grids))
    assert curves.shape == (len(grids), len(pressures)), \
        f"{who}: simulate gave {curves.shape} for {len(grids)} grids and {len(pressures)} pressures"
    assert np.issubdtype(curves.dtype, np.floating) and np.all(np.isfinite(curves)), f"{who}: non-finite curves"
    again = np.asarray(sim.simulate(grids[::-1]))[::-1]
    assert np.allclose(curves, again, atol=1e-5), f"{who}: a grid's curve depends on the batch or on the call"
    return curves


class ToySimulator(Simulator):
    """Fast, exact stand-in for optimizer checks: the curve is porosity x relative pressure."""

    name = "toy-porosity"
    grid_shape = TOY_SPACE

    def __init__(self, steps: int = 10):
        self.schedule = PressureSchedule(steps)

    def simulate(self, grids, *, progress=False):
        porosity = np.asarray(grids, np.float64).reshape(len(grids), -1).mean(axis=1)
        return porosity[:, None] * self.pressures[None, :]


def toy_problem(seed: int = 0) -> tuple[Problem, np.ndarray]:
    """A problem on an 8x8 space whose answer (one grid of porosity 0.5) is known."""
    sim = ToySimulator()
    truth = np.zeros(TOY_SPACE, np.uint8)
    truth[:, : TOY_SPACE[1] // 2] = 1
    target = Target(sim.simulate(truth[None])[0], sim.schedule)
    return Problem(target, sim), truth


def check_optimizer(optimizer: Optimizer, *, budget: int = 300, seed: int = 0) -> Population:
    """An optimizer returns a scored population of the problem's space whose errors are
    the problem's own errors of its grids, no worse than the start's best, and stops
    within its evaluation budget (one batch of slack). Returns the population."""
    who = _name(optimizer)
    assert isinstance(optimizer, Optimizer), f"{who}: not an Optimizer (invtoolkit.plugin.Optimizer)"
    problem, _ = toy_problem(seed)
    start = Population.random(8, problem.space, np.random.default_rng(seed))
    start = Population(start.grids, problem.errors(start.grids))
    problem.n_evals = 0
    result = optimizer.run(problem, start, rng=np.random.default_rng(seed), termination=MaxEvaluations(budget))
    assert isinstance(result, Population) and len(result) >= 1, f"{who}: run must return a non-empty Population"
    assert result.grids.shape[1:] == TOY_SPACE, f"{who}: grids of shape {result.grids.shape[1:]}, not {TOY_SPACE}"
    assert set(np.unique(result.grids)) <= {0, 1}, f"{who}: grids must be 0/1"
    assert result.scored, f"{who}: the returned population must be scored"
    spent = problem.n_evals
    assert np.allclose(result.errors, problem.errors(result.grids)), f"{who}: errors are not the problem's errors"
    assert result.best_error <= start.best_error + 1e-12, f"{who}: worse than its starting population"
    assert spent <= 2 * budget + 64, f"{who}: {spent} evaluations for a budget of {budget}"
    return result


def check_sampler(sampler: Sampler, *, n: int = 4, space=(12, 12), seed: int = 0) -> np.ndarray:
    """A sampler draws uint8 0/1 grids (n, *shape), each with a pore cell, the same for
    the same seed. Returns the grids."""
    who = _name(sampler)
    assert isinstance(sampler, Sampler), f"{who}: not a Sampler (invtoolkit.plugin.Sampler)"
    grids = np.asarray(sampler.sample(n, as_space(space), np.random.default_rng(seed)))
    assert grids.shape == (n, *as_space(space).shape), f"{who}: sample gave {grids.shape}"
    assert grids.dtype == np.uint8 and set(np.unique(grids)) <= {0, 1}, f"{who}: grids must be uint8 0/1"
    assert grids.reshape(n, -1).any(axis=1).all(), f"{who}: a grid without a pore cell"
    again = np.asarray(sampler.sample(n, as_space(space), np.random.default_rng(seed)))
    assert np.array_equal(grids, again), f"{who}: the same seed gave other grids"
    return grids


def check_reader(reader, path, *, steps: int = 40, normalization: str = "pore"):
    """A target reader turns ``path`` into a model Target (finite values on its schedule)
    or a MeasuredIsotherm, and refuses a garbage file of the same suffix with an
    InputError (one line, exit code 2), never another exception. (A missing file or a
    directory never reaches a reader: ``read_target`` refuses it first.)"""
    path = Path(path)
    result = reader(path, steps=steps, normalization=normalization)
    assert isinstance(result, (Target, MeasuredIsotherm)), \
        f"reader of {path.suffix}: returned {type(result).__name__}, not a Target or MeasuredIsotherm"
    if isinstance(result, Target):
        assert np.all(np.isfinite(result.values)) and len(result.values) == len(result.pressures), \
            f"reader of {path.suffix}: target values do not match its pressures"
    with tempfile.TemporaryDirectory() as tmp:
        bad = _garbage(Path(tmp), path.suffix)
        try:
            reader(bad, steps=steps, normalization=normalization)
        except InputError:
            return result
        raise AssertionError(f"reader of {path.suffix}: {bad.name} was not refused with an InputError")
    return result


def _garbage(folder: Path, suffix: str) -> Path:
    bad = folder / f"garbage{suffix}"
    bad.write_bytes(b"\x00\x01 not an isotherm \xff\n1,2,3\n")
    return bad
