"""Design properties against hand-computed curves on a 4-step loop (9 points)."""

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.pressure import PressureSchedule

LOOP = PressureSchedule(4)  # RH 0, .25, .5, .75, 1, then .75, .5, .25, 0
ADS = PressureSchedule(4, adsorption_only=True)
# adsorption 0 .1 .2 .8 1 ; desorption (at .75 .5 .25 0) .9 .5 .2 0
CURVE_A = [0.0, 0.1, 0.2, 0.8, 1.0, 0.9, 0.5, 0.2, 0.0]
# no loop, a single rise from .25 to .5
CURVE_B = [0.0, 0.0, 0.7, 0.8, 0.9, 0.8, 0.7, 0.0, 0.0]
CURVES = np.array([CURVE_A, CURVE_B])


def make(name, schedule=LOOP, **options):
    return registry.create("objective", name, schedule=schedule, normalization="pore", **options)


def test_builtins_are_registered_as_objectives():
    names = set(registry.registry().names("objective"))
    assert {"step", "hysteresis", "uptake", "capacity", "porosity", "curve"} <= names


def test_step_is_rh_at_top_of_steepest_adsorption_rise():
    # A: rises .1 .1 .6 .2 -> steepest into point 3 (RH .75); B: .0 .7 .1 .1 -> point 2 (RH .5)
    assert make("step").values(CURVES).tolist() == [0.75, 0.5]
    # ties: the first steepest rise counts; adsorption-only paths work too
    flat = np.array([[0.0, 0.5, 1.0, 1.0, 1.0]])
    assert make("step", ADS).values(flat).tolist() == [0.25]


def test_hysteresis_is_largest_gap_at_one_rh():
    # A: des - ads at RH 0 .25 .5 .75 1 = 0 .1 .3 .1 0 ; B: 0 0 0 0 0
    assert np.allclose(make("hysteresis").values(CURVES), [0.3, 0.0])


def test_hysteresis_needs_desorption():
    with pytest.raises(InputError, match="desorption"):
        make("hysteresis", ADS)


def test_uptake_on_points_and_between_them():
    assert np.allclose(make("uptake", rh=0.5).values(CURVES), [0.2, 0.7])
    assert np.allclose(make("uptake", rh=0.6).values(CURVES), [0.2 + 0.4 * 0.6, 0.7 + 0.4 * 0.1])
    assert np.allclose(make("uptake", rh=0.5, branch="desorption").values(CURVES), [0.5, 0.7])
    assert np.allclose(make("uptake", rh=0.625, branch="desorption").values(CURVES), [0.7, 0.75])
    # RH 1: the top is shared by both branches
    assert np.allclose(make("uptake", rh=1.0, branch="desorption").values(CURVES), [1.0, 0.9])


def test_capacity_is_high_minus_low():
    cap = make("capacity", high={"rh": 0.75}, low={"rh": 0.25, "branch": "desorption"})
    assert np.allclose(cap.values(CURVES), [0.8 - 0.2, 0.8 - 0.0])
    same = make("capacity", high={"rh": 0.4}, low={"rh": 0.4})
    assert np.allclose(same.values(CURVES), 0.0)


def test_porosity_is_pore_fraction():
    grids = np.zeros((2, 4, 5), np.uint8)
    grids[0, :2] = 1
    grids[1, 0, 0] = 1
    assert np.allclose(make("porosity").values(CURVES, grids), [0.5, 0.05])


def test_curve_is_mae_to_a_target_file(tmp_path):
    target = tmp_path / "t.npy"
    np.save(target, np.array([0.0, 0.1, 0.2, 0.8, 1.0]))  # = A's adsorption branch
    curve = make("curve", target=str(target))
    # B's adsorption branch 0 0 .7 .8 .9: |diff| = 0 .1 .5 0 .1 -> .14
    assert np.allclose(curve.values(CURVES), [0.0, 0.14])


@pytest.mark.parametrize("name, options, message", [
    ("uptake", {"rh": 1.5}, r"rh must be in \[0, 1\], got 1.5"),
    ("uptake", {"rh": "x"}, "rh must be a number"),
    ("uptake", {}, "uptake needs rh"),
    ("uptake", {"rh": 0.2, "branch": "up"}, "branch must be 'adsorption' or 'desorption'"),
    ("capacity", {"high": {"rh": 0.2}}, "capacity needs high and low"),
    ("capacity", {"high": {"rh": 0.2, "rhh": 1}, "low": {"rh": 0.1}}, "unknown key 'rhh'"),
    ("capacity", {"high": {"rh": -0.1}, "low": {"rh": 0.1}}, r"high.rh must be in \[0, 1\]"),
    ("capacity", {"high": 0.3, "low": {"rh": 0.1}}, "must be a table"),
    ("curve", {}, "curve needs target"),
])
def test_bad_options_are_one_line_input_errors(name, options, message):
    with pytest.raises(InputError, match=message) as info:
        make(name, **options)
    assert "\n" not in str(info.value)


def test_desorption_uptake_on_adsorption_only_path_is_refused():
    with pytest.raises(InputError, match="desorption"):
        make("uptake", ADS, rh=0.5, branch="desorption")
