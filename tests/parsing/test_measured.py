"""Measured isotherms as instruments write them: units, p0, fluids, noise, refusals, the fit."""

import json
from pathlib import Path

import numpy as np
import pytest

from invtoolkit.errors import InputError
from invtoolkit.fitting import MeasuredObjective, capacity_mae, fit_capacity
from invtoolkit.parsing.fluids import resolve_fluid
from invtoolkit.parsing.measured import MeasuredIsotherm
from invtoolkit.core.pressure import PressurePath, PressureSchedule
from invtoolkit.parsing.targets import read_target

DATA = Path(__file__).parents[1] / "data" / "measured"
MMHG, TORR = 133.322387415, 101325 / 760


def read(name, **options) -> MeasuredIsotherm:
    return read_target(DATA / name, **options)


def first_loop_rows(name, n=1):
    """The first n data rows (floats) of the adsorption loop, read by hand."""
    lines = (DATA / name).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "_adsorp_pressure")
    rows = [line.split() for line in lines[start:] if line.strip() and line.strip()[0] in "0123456789.-"]
    return [[float(v) for v in row] for row in rows[:n]]


# -- the quirks of the shared files --------------------------------------------------------


def test_pascal_mmol_per_g_and_a_branch_ending_below_one():
    m = read("examples_NK_DUT-6_LP_N2_114PKT.aif")
    p, p0, a = first_loop_rows("examples_NK_DUT-6_LP_N2_114PKT.aif")[0]
    assert m.pressures[0] == pytest.approx(p / p0) and m.amounts[0] == pytest.approx(a)
    assert m.unit == "mmol/g" and m.fluid.name == "nitrogen" and m.T == pytest.approx(77.3)
    assert m.pressures[: m.n_adsorption].max() < 0.99  # kept as measured: no extrapolation to 1 needed


def test_mmhg_and_cm3_stp():
    m = read("micromeritics_Sample_A.aif")
    assert m.unit == "cm³/g STP" and m.p0_source == "p0 column of the file"
    assert 0 < m.pressures.min() and m.pressures.max() <= 1


def test_relative_pressure_without_p0_column_is_read_as_such():
    m = read("micromeritics_Sample_C.aif")
    p, a = first_loop_rows("micromeritics_Sample_C.aif")[0]
    assert m.p0_source == "relative pressures in the file" and m.pressures[0] == pytest.approx(p)


def test_temperature_in_celsius_and_kpa():
    m = read("micromeritics_Sample_D.aif")
    assert m.T == pytest.approx(-195.78 + 273.15) and m.unit == "mmol/g"


def test_argon_ml_stp():
    m = read("Ar_test_1.aif")
    assert m.fluid.name == "argon" and m.fluid.TC == pytest.approx(150.7, abs=0.1) and m.unit == "ml(STP) g-1"


def test_torr_cc_and_a_spelled_out_name():
    m = read("DUT-23_NK_CU_BIPY__BTB__10-11_DMF-ETOH_CO2_84PKT_N2_N2__Raw_Analysis_Data_.aif")
    assert m.fluid.name == "nitrogen" and m.unit == "cc" and m.T == pytest.approx(77.35)


@pytest.mark.parametrize("name, fluid, tc", [
    ("DUT-67_DUT67_1_Garching_MeOH_298K.aif", "methanol", 512.6),
    ("DUT-67_DUT67_1_Garching_EtOH_298K.aif", "ethanol", 514.0),
    ("DUT-49_DUT-49_nbutane_273K_viele_Punkte.aif", "n-butane", 425.1),
])
def test_abbreviations_and_formulas_resolve_to_the_fluid(name, fluid, tc):
    m = read(name)
    assert m.fluid.name == fluid and m.fluid.TC == pytest.approx(tc, abs=1.5)  # literature Tc


def test_more_desorption_than_adsorption_points_keeps_both_branches():
    m = read("DUT-67_DUT67_1_Garching_EtOH_298K.aif")
    assert len(m.pressures) - m.n_adsorption > m.n_adsorption
    path = m.path
    assert np.all(np.diff(path.pressures[: m.n_adsorption]) >= 0) and np.all(np.diff(path.pressures[m.n_adsorption:]) <= 0)


def test_adsorption_only_small_range():
    m = read("bel_Sample_E.aif")
    assert not m.has_desorption and m.pressures.max() < 0.1 and m.fluid.name == "propane"


def test_bar_no_p0_no_temperature_unit_kmol_per_m3():
    m = read("NIST_10.1021Jp400480q.Isotherm2.aif")
    assert m.unit == "kmol/m3" and m.T == 87.0 and "chemicals" in m.p0_source
    # p0 of argon at 87 K is ~0.98 bar (normal boiling point 87.3 K at 1.013 bar)
    assert m.p0 == pytest.approx(0.98e5, rel=0.02)
    assert m.pressures[0] == pytest.approx(0.00374842e5 / m.p0)
    assert any("no unit" in n for n in m.notes) and any("above p/p0 = 1" in n for n in m.notes)
    assert len(m.pressures) == 18  # the point at 0.988 bar > p0 is dropped


def test_supercritical_ethylene_is_refused_with_the_reason():
    with pytest.raises(InputError, match=r"T = 298 K is above the critical temperature of ethylene, 282 K: "
                                         r"no condensation, p/p0 undefined"):
        read("DMOF_ASch082B_Zndmbdcdabco_C2H4_Exp191004a_weight_correction.aif")


# -- fluids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, tc", [("N2", 126.2), ("Nitrogen", 126.2), ("Ar", 150.7), ("H2O", 647.1),
                                      ("water", 647.1), ("C2H5OH", 514.0), ("nC6", 507.6), ("DCM", 510.0),
                                      ("CO2", 304.1), ("CH4", 190.6), ("C2H6", 305.3), ("acetone", 508.1)])
def test_names_formulas_and_abbreviations_give_the_critical_temperature(name, tc):
    assert resolve_fluid(name).TC == pytest.approx(tc, abs=3.0)


def test_saturation_pressures_match_boiling_points():
    assert resolve_fluid("water").saturation_pressure(298.15)[0] == pytest.approx(3169.9, rel=0.002)
    assert resolve_fluid("N2").saturation_pressure(77.355)[0] == pytest.approx(101325, rel=0.01)
    assert resolve_fluid("Ar").saturation_pressure(87.3)[0] == pytest.approx(101325, rel=0.01)


@pytest.mark.parametrize("label", ["N2 (nitrogen)", "nitrogen gas", "Nitrogen [N2]"])
def test_decorated_names_resolve(label):
    assert resolve_fluid(label).TC == pytest.approx(126.2, abs=0.1)


def test_unknown_adsorbate_needs_tc_and_tc_overrides():
    with pytest.raises(InputError, match="unknown adsorbate 'unobtainium': give its critical temperature with --tc"):
        resolve_fluid("unobtainium")
    assert resolve_fluid("unobtainium", tc=400).TC == 400
    assert resolve_fluid("N2", tc=130).TC == 130


# -- noise and bad input ----------------------------------------------------------------------


def aif(tmp_path, ads, des=(), *, adsorptive="N2", temperature="77.3", units_t="K", units_p="kPa", name="x.aif"):
    lines = ["data_test", f"_exptl_adsorptive '{adsorptive}'", f"_exptl_temperature {temperature}",
             f"_units_temperature '{units_t}'", f"_units_pressure '{units_p}'", "_units_loading 'mmol/g'",
             "loop_", "_adsorp_pressure", "_adsorp_p0", "_adsorp_amount", *[f"{p} 100.0 {a}" for p, a in ads]]
    if des:
        lines += ["loop_", "_desorp_pressure", "_desorp_p0", "_desorp_amount", *[f"{p} 100.0 {a}" for p, a in des]]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_noise_is_handled_and_noted(tmp_path):
    ads = [(-0.01, -0.02), (10, 1.0), (30, 2.0), (20, 1.5), (20, 1.6), (50, 3.0), (100.5, 3.1)]
    des = [(99, 3.05), (40, 2.5), (45, 2.6)]
    m = read_target(aif(tmp_path, ads, des))
    assert m.n_adsorption == 6  # 5 kept + the desorption point above the top moved over
    assert list(m.pressures[:6]) == [0.1, 0.2, 0.2, 0.3, 0.5, 0.99]  # sorted, repeated kept
    assert list(m.pressures[6:]) == [0.45, 0.40]
    text = " ".join(m.notes)
    assert "dropped 1 point(s) at p/p0 <= 0 and 1 point(s) above p/p0 = 1" in text and "sorted within the branch" in text
    assert "moved to the adsorption branch" in text


def test_negative_amounts_are_kept(tmp_path):
    m = read_target(aif(tmp_path, [(1, -0.01), (10, 1.0), (50, 2.0)]))
    assert m.amounts[0] == -0.01 and any("negative" in n for n in m.notes)


@pytest.mark.parametrize("ads, adsorptive, message", [
    ([(10, 1.0), (20, "nan"), (30, 2.0)], "N2", "not a number"),
    ([(10, 1.0), (20, 2.0)], "N2", "2 adsorption point"),
    ([(10, 1.0), (20, 2.0), (30, 3.0)], "unobtainium", "unknown adsorbate 'unobtainium'"),
])
def test_bad_files_are_one_line_errors(tmp_path, ads, adsorptive, message):
    with pytest.raises(InputError, match=message) as info:
        read_target(aif(tmp_path, ads, adsorptive=adsorptive))
    assert "\n" not in str(info.value)


def test_cli_refusals_exit_2_in_one_line(tmp_path, capsys):
    from invtoolkit.cli import main

    for target in (DATA / "DMOF_ASch082B_Zndmbdcdabco_C2H4_Exp191004a_weight_correction.aif", tmp_path / "none.aif"):
        with pytest.raises(SystemExit) as info:
            main(["invert", "--target", str(target), "-o", str(tmp_path / "out")])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err


# -- the capacity and the simulator at measured pressures --------------------------------------


def test_capacity_closed_form_equals_brute_force(rng):
    curves = rng.random((20, 15))
    curves[3] = 0.0  # nothing filled: capacity 0
    amounts = 7.0 * rng.random(15) - 0.3
    caps = fit_capacity(curves, amounts)
    grid = np.linspace(0, 20, 200001)
    for i, curve in enumerate(curves):
        brute = np.abs(grid[:, None] * curve[None] - amounts[None]).mean(1)
        assert capacity_mae(curve, amounts, caps[i])[0] <= brute.min() + 1e-9
    assert caps[3] == 0.0


def test_simulator_runs_exactly_at_measured_pressures():
    from invtoolkit.hooks.registry import create

    g = np.zeros((1, 12, 12), np.uint8)
    g[0, 2:10, 3:8] = 1
    uniform = create("simulator", "lattice-dft", steps=8, normalization="pore")
    full = uniform.simulate(g)[0]  # 0, 1/8, ..., 1, 7/8, ..., 0
    # rising-then-falling subset of the same pressures, turning at 6/8 instead of 1
    path = PressurePath([0.0, 0.125, 0.5, 0.75, 0.5, 0.25], n_adsorption=4)
    measured = create("simulator", "lattice-dft", path=path, normalization="pore").simulate(g)[0]
    assert np.allclose(measured[:4], full[[0, 1, 4, 6]], atol=2e-5)  # path independence on adsorption
    turned = create("simulator", "lattice-dft", path=PressureSchedule(8)).with_options(path=path).simulate(g)[0]
    assert np.allclose(turned, measured, atol=1e-6)


def test_objective_scores_are_the_mae_at_the_best_capacity_over_max_amount():
    m = MeasuredIsotherm(np.array([0.1, 0.5, 0.9]), np.array([1.0, 4.0, 8.0]), 3, 298.0, resolve_fluid("water"),
                         "mmol/g", "test")
    obj = MeasuredObjective(m)
    assert obj.path.pressures[0] == 0.0 and len(obj.path) == 4
    curves = np.array([[0.0, 0.125, 0.5, 1.0]])  # exactly amounts / 8
    assert obj.scores(curves)[0] == pytest.approx(0.0)
    assert obj.fit(curves)[0][0] == pytest.approx(8.0)
    fixed = MeasuredObjective(m, capacity=4.0)
    assert fixed.scores(curves)[0] == pytest.approx(np.abs(4 * curves[0, 1:] - m.amounts).mean() / 8.0)


def test_report_relative_mae_equals_an_independent_recomputation(tmp_path):
    from invtoolkit.cli import main
    from invtoolkit_plugins.lattice_dft import LatticeDFT

    out = tmp_path / "out"
    source = DATA / "DUT-67_DUT67_1_Garching_MeOH_298K.aif"
    with pytest.raises(SystemExit) as info:
        main(["invert", "--target", str(source), "--time-limit", "4", "--grid-size", "10", "--no-progress",
              "--y-range", "1.0", "2.0", "-o", str(out)])
    assert info.value.code in (0, None)
    report = json.loads((out / "report.json").read_text())
    fit = report["fit"]
    assert fit["adsorbate"] == "methanol" and fit["unit"] == "ml(STP) g-1" and 1.0 <= fit["y"] <= 2.0
    # independently: the AIF by hand, the simulator at exactly those pressures, the report's parameters
    lines = source.read_text().splitlines()
    rows = [[float(v) for v in line.split()] for line in lines if line[:1].isdigit()]
    n_ads = 16  # the file's adsorption loop
    p = np.array([r[0] / r[1] for r in rows])
    a = np.array([r[2] for r in rows])
    dft = LatticeDFT(T=fit["T"], TC=fit["TC"], y=fit["y"], path=PressurePath(np.r_[0.0, p], n_ads + 1))
    best = np.load(out / "best.npy")[0]
    curve = dft.simulate(best[None])[0, 1:]
    mae = np.abs(fit["capacity"] * curve - a).mean()
    assert fit["mae"] == pytest.approx(mae, rel=1e-4)
    assert fit["relative_mae"] == pytest.approx(mae / fit["capacity"], rel=1e-4)
    assert report["grids"][0]["relative_mae"] == pytest.approx(fit["relative_mae"])
    written = read_target(out / "best.aif", tc=fit["TC"])  # the fitted model in the file's units
    assert np.allclose(written.amounts, fit["capacity"] * curve, rtol=1e-5, atol=1e-4)
    assert (out / "isotherms.png").stat().st_size > 0
    # the ensemble, as for model targets: every member within the tolerance of the best,
    # scored independently (best capacity by brute force, MAE over the largest amount)
    ens = report["ensemble"]
    members = np.load(out / "ensemble.npy")
    assert len(members) == ens["count"] >= 1 and (out / "clusters.png").stat().st_size > 0
    assert "porosity" in report["grids"][0]["descriptors"]
    # issue 34: the ensemble covers the y interval, so a member is allowed at some y in it
    caps = np.linspace(0.5, 1.5, 2001)[:, None] * fit["capacity"]
    ys = np.arange(fit["y_interval"][0], fit["y_interval"][1] + 1e-9, 0.1)
    for grid in members[:8]:
        scores = []
        for y in ys:
            c = LatticeDFT(T=fit["T"], TC=fit["TC"], y=y, path=dft.schedule).simulate(grid[None])[0, 1:]
            scores.append(np.abs(caps * c[None] - a[None]).mean(1).min() / a.max())
        assert min(scores) <= ens["best_error"] + ens["tolerance"] + 1e-4
