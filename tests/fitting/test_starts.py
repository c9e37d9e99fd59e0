"""Screened starts (invtoolkit.fitting.starts): the surrogate's picks fit the data better by the
exact DFT than the grids they were picked from; outside its trained box it steps aside; the
fit that uses it stays reproducible and counts its predictions apart from its budget."""

from dataclasses import replace

import numpy as np
import pytest

from invtoolkit.core.space import GridSpace
from invtoolkit.errors import InputError, InvToolkitError
from invtoolkit.fitting import FitSettings, MaterialObjective, fit_material
from invtoolkit.fitting.objective import measured_simulator
from invtoolkit.fitting.starts import Screen
from invtoolkit.parsing.fluids import resolve_fluid
from invtoolkit.parsing.measured import MeasuredIsotherm
from invtoolkit.search.chain import Chain
from invtoolkit.search.seeding import sampled_grids

SPACE = GridSpace((20, 20))  # the shipped cnn-cond model's grid


def truth() -> np.ndarray:
    g = np.zeros(SPACE.shape, np.uint8)
    g[:, 3:7] = 1  # a slit 4 cells wide
    g[12:17, 10:15] = 1  # and a 5 x 5 pore
    return g


def methanol_file(y: float = 1.5) -> MeasuredIsotherm:
    """Methanol at 298 K (T/TC 0.58, inside the trained box): capacity 8 x the truth's DFT loop."""
    p = np.concatenate([np.linspace(0.02, 0.95, 16), np.linspace(0.9, 0.05, 8)])
    m = MeasuredIsotherm(p, np.ones(len(p)), 16, 298.0, resolve_fluid("methanol"), "mmol/g", "synthetic")
    return replace(m, amounts=8.0 * measured_simulator(m, y).simulate(truth()[None])[0, 1:])


def exact_scores(objective, grids, y=1.5):
    return objective.scores(objective.simulator([y]).simulate(grids), grids)


def test_the_screened_grids_fit_better_by_the_exact_dft_than_the_grids_they_came_from():
    objective = MaterialObjective([methanol_file()])
    screen = Screen("cnn-cond", candidates=400, keep=32)
    picked = screen.starts(objective, [1.5], SPACE, seed=4).grids
    pool = sampled_grids(400, SPACE, np.random.default_rng(4))  # what the screen sampled
    assert len(picked) == 32 and screen.evaluations <= 400
    ours, theirs = exact_scores(objective, picked), exact_scores(objective, pool)
    assert np.median(ours) < 0.6 * np.median(theirs)
    assert ours.min() <= np.quantile(theirs, 0.05)


def test_the_same_seed_screens_the_same_grids_and_another_seed_others():
    objective = MaterialObjective([methanol_file()])
    a = Screen("cnn-cond", candidates=200).starts(objective, [2.0], SPACE, seed=1).grids
    b = Screen("cnn-cond", candidates=200).starts(objective, [2.0], SPACE, seed=1).grids
    c = Screen("cnn-cond", candidates=200).starts(objective, [2.0], SPACE, seed=2).grids
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_an_unknown_surrogate_or_no_candidates_is_an_error_at_once_not_a_silent_skip():
    with pytest.raises(InvToolkitError, match="unknown surrogate 'nope'"):
        Screen("nope")
    with pytest.raises(InputError, match="--screen-candidates must be >= 1, got 0"):
        Screen("cnn-cond", candidates=0)


@pytest.mark.parametrize("y, space, reason", [(5.0, SPACE, "y = 5 is outside the trained range"),
                                              (1.5, GridSpace((12, 12)), "trained on 20x20 grids")])
def test_outside_the_trained_box_the_screen_steps_aside_and_says_why(y, space, reason):
    screen = Screen("cnn-cond", candidates=50)
    assert screen.starts(MaterialObjective([methanol_file()]), [y], space, seed=0) is None
    assert screen.evaluations == 0 and any(reason in s for s in screen.skipped)


def test_a_screened_fit_is_reproducible_and_counts_predictions_apart_from_its_budget():
    files = [methanol_file()]

    def fit():
        settings = FitSettings(budget=1500, seed=3, y_range=(1.0, 2.0), screen=Screen("cnn-cond", candidates=100))
        return fit_material(files, Chain.parse("ga | steepest"), settings, space=SPACE)

    a, b = fit(), fit()
    assert a.screen["surrogate_evaluations"] == b.screen["surrogate_evaluations"] > 0
    assert a.screen["surrogate_evaluations"] <= 3 * 100  # one screen per scan value: 1.0, 1.5, 2.0
    assert np.array_equal(a.table.grids[a.solutions.grid_rows[0]], b.table.grids[b.solutions.grid_rows[0]])
    assert a.solutions.ys == b.solutions.ys and a.solutions.best == b.solutions.best
