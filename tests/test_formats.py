"""Measured isotherm formats: AIF in and out, pyGAPS JSON/CSV in, as inversion targets."""

import json

import numpy as np
import pytest
from gemmi import cif

from invtoolkit.errors import InputError
from invtoolkit.formats import isotherm_to_target, read_aif, read_isotherm, write_aif
from invtoolkit.pressure import PressureSchedule
from invtoolkit.targets import read_target

LOOP = PressureSchedule(40)
ADS = PressureSchedule(40, adsorption_only=True)
P0_KPA = 3.169  # saturation pressure of water at 298 K
UPTAKE = 12.5  # mmol/g at saturation


def loop_curve():
    """A smooth loop: condensation at 0.6 on adsorption, evaporation at 0.45 on desorption."""
    p, ads = LOOP.pressures, LOOP.branches == 0
    step = lambda c: 1 / (1 + np.exp(-(p - c) / 0.03))  # noqa: E731
    return np.where(ads, 0.2 * p + 0.8 * step(0.6), 0.2 * p + 0.8 * step(0.45)) / (0.2 + 0.8 * step(0.6)[40])


def aif_text(curve, *, p0_column=True, new_tags=False, units_pressure="kPa", with_des=True):
    """An AIF file as an instrument would write it: absolute pressure in kPa, uptake in mmol/g."""
    amount = "loading" if new_tags else "amount"
    lines = ["data_sample", "_audit_aif_version '2.0'", "_exptl_temperature 298.15",
             "_adsorptive_name 'Water'" if new_tags else "_exptl_adsorptive 'Water'",
             "_adsnt_material_name 'test MOF'", f"_units_pressure {units_pressure}",
             "_units_sorbed_amount mmol/g" if new_tags else "_units_loading 'mmol/g'"]
    ads = LOOP.branches == 0
    for prefix, mask in (("_adsorp_", ads), ("_desorp_", ~ads)):
        if prefix == "_desorp_" and not with_des:
            continue
        cols = ["pressure", "p0", amount] if p0_column else ["pressure", amount]
        lines += ["loop_", *[prefix + c for c in cols]]
        for p, a in zip(LOOP.pressures[mask], curve[mask]):
            row = [f"{p * P0_KPA:.9g}", f"{P0_KPA}", f"{a * UPTAKE:.9g}"] if p0_column else [f"{p:.9g}", f"{a * UPTAKE:.9g}"]
            lines.append(" ".join(row))
    return "\n".join(lines) + "\n"


def test_aif_absolute_pressure_and_uptake_become_the_model_target(tmp_path):
    curve = loop_curve()
    path = tmp_path / "measured.aif"
    path.write_text(aif_text(curve))
    target = read_target(path, scale=UPTAKE)
    assert target.is_loop and len(target.values) == 81
    assert np.allclose(target.values, curve, atol=1e-7)  # p / p0 and amount / uptake, point by point
    # --scale max: the largest uptake is the saturation uptake
    by_max = read_target(path, scale="max")
    assert np.allclose(by_max.values, curve / curve.max(), atol=1e-7)
    assert any("divided by" in note for note in by_max.notes)


def test_aif_newer_tag_spellings_and_relative_pressure(tmp_path):
    curve = loop_curve()
    path = tmp_path / "new.aif"
    path.write_text(aif_text(curve, p0_column=False, new_tags=True, units_pressure="relative", with_des=False))
    iso = read_aif(path)
    assert iso.metadata["adsorbate"] == "Water" and iso.metadata["units_loading"] == "mmol/g"
    assert iso.metadata["material"] == "test MOF" and iso.metadata["temperature"] == pytest.approx(298.15)
    target = read_target(path, scale=UPTAKE)
    assert not target.is_loop and np.allclose(target.values, curve[:41], atol=1e-7)


def test_absolute_pressure_needs_a_saturation_pressure(tmp_path):
    path = tmp_path / "nop0.aif"
    path.write_text(aif_text(loop_curve(), p0_column=False))  # kPa values are p/p0 here: pretend p0 = 1 kPa
    with pytest.raises(InputError, match="p0"):
        read_target(path, scale="max")
    target = read_target(path, scale=UPTAKE, p0=1.0)
    assert np.allclose(target.values, loop_curve(), atol=1e-7)


def test_uptakes_outside_zero_one_are_refused_with_the_fix(tmp_path):
    path = tmp_path / "mmol.aif"
    path.write_text(aif_text(loop_curve()))
    with pytest.raises(InputError, match=r"--scale max") as info:
        read_target(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_adsorption_only_branch_option(tmp_path):
    path = tmp_path / "loop.aif"
    path.write_text(aif_text(loop_curve()))
    target = isotherm_to_target(read_aif(path), scale=UPTAKE, branch="adsorption")
    assert len(target.values) == 41 and np.allclose(target.values, loop_curve()[:41], atol=1e-7)


def test_write_aif_round_trip_and_gemmi_reads_it(tmp_path):
    curve = loop_curve()
    path = write_aif(tmp_path / "best.aif", LOOP.pressures, curve, LOOP.branches,
                     {"material": "best grid", "temperature": 298, "mae": 0.0042, "scale": UPTAKE,
                      "units_loading": "mmol/g"})
    block = cif.read_file(str(path)).sole_block()  # an independent reader of the file
    assert cif.as_string(block.find_value("_units_pressure")) == "relative"
    assert cif.as_string(block.find_value("_units_loading")) == "mmol/g"
    assert cif.as_string(block.find_value("_invtoolkit_mae")) == "0.0042"
    assert len(block.find_loop("_adsorp_pressure")) == 41 and len(block.find_loop("_desorp_amount")) == 40
    assert cif.as_number(block.find_loop("_adsorp_amount")[40]) == pytest.approx(curve[40] * UPTAKE)
    back = read_target(path, scale=UPTAKE)
    assert np.allclose(back.values, curve, atol=1e-7)


def test_write_aif_splits_branches_at_the_highest_pressure(tmp_path):
    path = write_aif(tmp_path / "x.aif", LOOP.pressures, loop_curve())
    iso = read_isotherm(path)
    assert (iso.branches == 0).sum() == 41 and (iso.branches == 1).sum() == 40


def pygaps_points(curve, absolute=True):
    points = []
    for p, a, b in zip(LOOP.pressures, curve, LOOP.branches):
        point = {"pressure": p * P0_KPA if absolute else p, "loading": a * UPTAKE}
        if absolute:
            point["saturation_pressure"] = P0_KPA
        if b == 1:
            point["branch"] = "des"
        points.append(point)
    return points


def test_pygaps_json_list_of_points_with_saturation_pressure(tmp_path):
    curve = loop_curve()
    doc = {"material": "MOF", "adsorbate": "water", "temperature": 298.15, "pressure_mode": "absolute",
           "pressure_unit": "kPa", "loading_unit": "mmol", "loading_basis": "molar", "material_unit": "g",
           "isotherm_data": pygaps_points(curve), "file_version": "2.0"}
    path = tmp_path / "iso.json"
    path.write_text(json.dumps(doc))
    iso = read_isotherm(path)
    assert iso.metadata["units_loading"] == "mmol/g" and iso.metadata["adsorbate"] == "water"
    target = read_target(path, scale=UPTAKE)
    assert target.is_loop and np.allclose(target.values, curve, atol=1e-9)


def test_pygaps_json_relative_dict_layouts(tmp_path):
    curve = loop_curve()
    points = pygaps_points(curve, absolute=False)
    by_index = {str(i): pt for i, pt in enumerate(points)}
    columns = {"pressure": [pt["pressure"] for pt in points], "loading": [pt["loading"] for pt in points],
               "branch": ["des" if "branch" in pt else "ads" for pt in points]}
    for name, data in (("index", by_index), ("columns", columns)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"pressure_mode": "relative", "isotherm_data": data}))
        assert np.allclose(read_target(path, scale=UPTAKE).values, curve, atol=1e-9), name


def test_pygaps_json_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_target(bad)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"material": "x"}))
    with pytest.raises(InputError, match="isotherm_data"):
        read_target(empty)
    no_p0 = tmp_path / "nop0.json"
    no_p0.write_text(json.dumps({"pressure_mode": "absolute", "pressure_unit": "bar",
                                 "isotherm_data": [{"pressure": 0.1, "loading": 0.2}]}))
    with pytest.raises(InputError, match="saturation"):
        read_target(no_p0)


def test_pygaps_csv_and_plain_csv_share_the_suffix(tmp_path):
    curve = loop_curve()
    lines = ["material,MOF", "adsorbate,water", "temperature,298.15", "pressure_mode,relative",
             "loading_unit,mmol", "material_unit,g", "file_version,2.0", "data:[pressure,loading,branch data]",
             "pressure,loading,branch"]
    lines += [f"{float(p)!r},{float(a) * UPTAKE!r},{'des' if b else 'ads'}" for p, a, b in zip(LOOP.pressures, curve, LOOP.branches)]
    pygaps_csv = tmp_path / "pygaps.csv"
    pygaps_csv.write_text("\n".join(lines) + "\n")
    assert np.allclose(read_target(pygaps_csv, scale=UPTAKE).values, curve, atol=1e-9)
    # A plain pressure,amount table still goes to the plain reader (fractions, no scale needed) ...
    plain = tmp_path / "plain.csv"
    plain.write_text("pressure,amount\n" + "\n".join(f"{float(p)!r},{float(a)!r}" for p, a in zip(ADS.pressures, curve[:41])))
    assert np.allclose(read_target(plain).values, curve[:41], atol=1e-12)
    # ... and takes a scale for uptakes.
    plain.write_text("pressure,amount\n" + "\n".join(f"{float(p)!r},{float(a) * 3!r}" for p, a in zip(ADS.pressures, curve[:41])))
    assert np.allclose(read_target(plain, scale=3).values, curve[:41], atol=1e-12)


def test_options_that_do_not_apply_are_refused(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, loop_curve()[:41])
    with pytest.raises(InputError, match="scale"):
        read_target(path, scale="max")


def test_relative_pressure_above_one_is_refused(tmp_path):
    path = tmp_path / "super.aif"
    text = aif_text(loop_curve()).replace(f" {P0_KPA} ", " 1.0 ")  # p0 = 1 kPa: p/p0 up to 3.2
    path.write_text(text)
    with pytest.raises(InputError, match="> 1"):
        read_target(path, scale="max")


def test_invert_takes_an_aif_target_and_writes_an_aif_result(tmp_path):
    from invtoolkit.cli import main

    source = tmp_path / "measured.aif"
    source.write_text(aif_text(loop_curve()))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["invert", "--target", str(source), "--scale", str(UPTAKE), "--chain", "random", "--time-limit", "2",
              "--no-progress", "-o", str(out)])
    assert exit_info.value.code == 0
    block = cif.read_file(str(out / "best.aif")).sole_block()
    assert cif.as_string(block.find_value("_units_loading")) == "mmol/g"  # back in the file's units
    result = read_target(out / "best.aif", scale=UPTAKE)  # the simulated loop of the best grid
    best = np.load(out / "best.npy")[0]
    from invtoolkit import plugins

    exact = plugins.create("simulator", "lattice-dft").simulate(best[None])[0]
    assert np.allclose(result.values, exact, atol=1e-6)
    mae = float(cif.as_string(block.find_value("_invtoolkit_mae")))
    assert mae == pytest.approx(np.abs(exact - loop_curve()).mean(), abs=1e-5)
