"""Generator plugin 'bank': the shipped bank finds its own grids back from their DFT
isotherms, returns distinct grids, refuses malformed targets and broken files in one
line, and feeds a search chain."""

import shutil

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Target
from invtoolkit.core.symmetry import canonical_keys
from invtoolkit_plugins.bank import DEFAULT_BANK, BankGenerator
from invtoolkit_plugins.bank.store import decode_curves, encode_curves, unpack_grids

STEPS = 40


@pytest.fixture(scope="module")
def bank():
    return BankGenerator()


def _key(grid):
    return canonical_keys(np.asarray(grid, np.uint8)[None])[0].tobytes()


def test_shipped_bank_records_the_physics_it_was_labelled_with(bank):
    params = bank.config["simulator_params"]
    assert (params["T"], params["TC"], params["y"], params["steps"], params["normalization"]) == \
        (298.0, 647.0, 1.5, 40, "pore")
    assert bank.config["pressures"] == pytest.approx(list(PressureSchedule(STEPS).pressures))
    assert bank.grid_shape == (20, 20) and len(bank.curves) == bank.config["n"]


def test_curve_codes_round_trip_within_quantisation_including_hysteresis_and_falls():
    rng = np.random.default_rng(3)
    curves = rng.random((5, 2 * STEPS + 1))  # not monotone: differences wrap mod 2**16
    curves[0] = 0.0
    curves[1] = 1.0
    back = decode_curves(encode_curves(curves, STEPS), STEPS)
    assert np.abs(back - curves).max() <= 0.5 / 65535 + 1e-12


@pytest.mark.parametrize("index", [7, 20000, 51234])
def test_a_stored_grid_is_found_back_from_its_simulated_isotherm(bank, index):
    grid = unpack_grids(bank.packed[index:index + 1], bank.grid_shape)[0]
    dft = registry.create("simulator", "lattice-dft", steps=STEPS)
    curve = dft.simulate(grid[None])[0]
    found = bank.generate(curve[None], 4, seed=1)[0]
    assert _key(found[0]) == _key(grid)  # the same grid up to a torus symmetry
    assert np.abs(dft.simulate(found[:1])[0] - curve).mean() < 1e-6
    assert np.abs(bank.curves[index] - curve).max() < 2e-5  # quantisation + float32 labelling


def test_full_loop_and_adsorption_prefix_rank_by_the_points_given(bank):
    target = bank.curves[123].copy()
    target[STEPS + 1:] = 0.0  # a desorption branch no stored grid has: only the prefix query finds 123
    ads = bank.generate(target[None, : STEPS + 1], 1, seed=0)[0]
    assert _key(ads[0]) == _key(unpack_grids(bank.packed[123:124], bank.grid_shape)[0])
    loop = BankGenerator(symmetry=False).generate(target[None], 3, seed=0)[0]
    errors = np.abs(bank.curves - target).mean(1)
    best = np.argsort(errors, kind="stable")[:3]
    assert np.array_equal(loop, unpack_grids(bank.packed[best], bank.grid_shape))


def test_n_grids_are_distinct_and_seeded(bank):
    target = bank.curves[999, : STEPS + 1]
    grids = bank.generate(np.stack([target, target * 0.5]), 32, seed=5)
    assert grids.shape == (2, 32, 20, 20) and grids.dtype == np.uint8
    for per_target in grids:
        assert len({_key(g) for g in per_target}) == 32
    assert np.array_equal(grids, bank.generate(np.stack([target, target * 0.5]), 32, seed=5))


@pytest.mark.parametrize("points", [40, 42, 80, 82])
def test_a_wrong_length_target_is_a_one_line_input_error(bank, points):
    with pytest.raises(InputError) as err:
        bank.generate(np.zeros((1, points)), 4)
    assert "\n" not in str(err.value) and str(points) in str(err.value)


def test_a_missing_or_corrupt_bank_is_a_one_line_input_error_naming_the_file(tmp_path):
    bad = tmp_path / "bank"
    shutil.copytree(DEFAULT_BANK, bad)
    data = (bad / "bank.npz").read_bytes()
    (bad / "bank.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        BankGenerator(bad)
    assert "bank.npz" in str(err.value) and "\n" not in str(err.value)
    (bad / "config.json").unlink()
    with pytest.raises(InputError, match="config.json"):
        BankGenerator(bad)


def test_the_chain_bank_then_steepest_runs_on_a_target(bank):
    from invtoolkit.search.chain import Chain

    grid = unpack_grids(bank.packed[4321:4322], bank.grid_shape)[0].copy()
    grid[0, 0] ^= 1  # a neighbour of a stored grid, probably not stored itself
    schedule = PressureSchedule(STEPS, adsorption_only=True)
    curve = registry.create("simulator", "lattice-dft", steps=STEPS, adsorption_only=True).simulate(grid[None])[0]
    result = Chain.parse("bank[n=8] | steepest").run(Target(curve, schedule, "pore"), time_limit=3, seed=0,
                                                      population=Population.empty((20, 20)), keep=1)
    first = bank.generate(curve[None], 1)[0]
    first_mae = np.abs(registry.create("simulator", "lattice-dft", steps=STEPS, adsorption_only=True)
                       .simulate(first)[0] - curve).mean()
    assert [s.stage.split("[")[0] for s in result.stages][:2] == ["bank", "steepest"]
    assert result.population.errors[0] <= first_mae + 1e-9  # search only improves on the best seed
