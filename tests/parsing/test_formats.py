"""Isotherm formats: AIF in and out, pyGAPS JSON/CSV in (measured points in their units), plain tables."""

import json

import numpy as np
import pytest
from gemmi import cif

from invtoolkit.errors import InputError
from invtoolkit.parsing.formats import write_aif
from invtoolkit.parsing.fluids import resolve_fluid
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.parsing.targets import read_target
from invtoolkit_plugins.readers.aif import parse_aif

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


def expected(curve, mask=None):
    """(p/p0, amount in mmol/g) of the loop's points the readers keep (p/p0 > 0), in path order."""
    keep = LOOP.pressures > 0 if mask is None else (LOOP.pressures > 0) & mask
    return LOOP.pressures[keep], curve[keep] * UPTAKE


def test_aif_absolute_pressure_with_p0_column_in_file_units(tmp_path):
    curve = loop_curve()
    path = tmp_path / "measured.aif"
    path.write_text(aif_text(curve))
    m = read_target(path)
    p, a = expected(curve)
    assert np.allclose(m.pressures, p, atol=1e-8) and np.allclose(m.amounts, a, atol=1e-7)
    assert m.n_adsorption == 40 and m.unit == "mmol/g" and m.fluid.name == "water" and m.T == 298.15
    assert m.material == "test MOF" and m.p0_source == "p0 column of the file"


def test_aif_newer_tag_spellings_and_relative_pressure(tmp_path):
    curve = loop_curve()
    path = tmp_path / "new.aif"
    path.write_text(aif_text(curve, p0_column=False, new_tags=True, units_pressure="relative", with_des=False))
    raw = parse_aif(path)
    assert raw.relative and raw.metadata["adsorbate"] == "Water" and raw.metadata["units_loading"] == "mmol/g"
    m = read_target(path)
    p, a = expected(curve, LOOP.branches == 0)
    assert not m.has_desorption and np.allclose(m.pressures, p) and np.allclose(m.amounts, a, atol=1e-7)


def test_absolute_pressure_without_p0_uses_the_library_or_the_option(tmp_path):
    curve = loop_curve()
    path = tmp_path / "nop0.aif"
    path.write_text(aif_text(curve, p0_column=False))  # values are p/p0: pretend p0 = 1 kPa ...
    by_option = read_target(path, p0=1.0)
    p, a = expected(curve)
    assert np.allclose(by_option.pressures, p) and by_option.p0_source == "--p0 1 kPa"
    library = read_target(path)  # ... while the library gives water's p0 at 298.15 K (3.17 kPa)
    sat = resolve_fluid("water").saturation_pressure(298.15)[0]
    assert "IAPWS" in library.p0_source and sat == pytest.approx(3169.9, rel=1e-3)
    assert np.allclose(library.pressures, p * 1000 / sat)


def test_write_aif_round_trip_and_gemmi_reads_it(tmp_path):
    curve = loop_curve()
    path = write_aif(tmp_path / "best.aif", LOOP.pressures, curve * UPTAKE, LOOP.branches,
                     {"material": "best grid", "temperature": 298, "mae": 0.0042, "units_loading": "mmol/g",
                      "adsorbate": "water"})
    block = cif.read_file(str(path)).sole_block()  # an independent reader of the file
    assert cif.as_string(block.find_value("_units_pressure")) == "relative"
    assert cif.as_string(block.find_value("_units_loading")) == "mmol/g"
    assert cif.as_string(block.find_value("_invtoolkit_mae")) == "0.0042"
    assert len(block.find_loop("_adsorp_pressure")) == 41 and len(block.find_loop("_desorp_amount")) == 40
    assert cif.as_number(block.find_loop("_adsorp_amount")[40]) == pytest.approx(curve[40] * UPTAKE)
    back = read_target(path)
    p, a = expected(curve)
    assert np.allclose(back.pressures, p) and np.allclose(back.amounts, a, atol=1e-6)


def test_write_aif_splits_branches_at_the_highest_pressure(tmp_path):
    path = write_aif(tmp_path / "x.aif", LOOP.pressures, loop_curve())
    raw = parse_aif(path)
    assert (raw.branches == 0).sum() == 41 and (raw.branches == 1).sum() == 40


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
    m = read_target(path)
    assert m.unit == "mmol/g" and m.fluid.name == "water" and m.has_desorption
    p, a = expected(curve)
    assert np.allclose(m.pressures, p) and np.allclose(m.amounts, a, atol=1e-9)


def test_pygaps_json_relative_dict_layouts(tmp_path):
    curve = loop_curve()
    points = pygaps_points(curve, absolute=False)
    by_index = {str(i): pt for i, pt in enumerate(points)}
    columns = {"pressure": [pt["pressure"] for pt in points], "loading": [pt["loading"] for pt in points],
               "branch": ["des" if "branch" in pt else "ads" for pt in points]}
    for name, data in (("index", by_index), ("columns", columns)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"pressure_mode": "relative", "isotherm_data": data, "adsorbate": "water",
                                    "temperature": 298.15}))
        m = read_target(path)
        assert np.allclose(m.pressures, expected(curve)[0]) and np.allclose(m.amounts, expected(curve)[1]), name


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
    no_p0.write_text(json.dumps({"pressure_mode": "absolute", "pressure_unit": "bar", "adsorbate": "unobtainium",
                                 "temperature": 300, "isotherm_data": [{"pressure": 0.1, "loading": 0.2}]}))
    with pytest.raises(InputError, match="unknown adsorbate"):
        read_target(no_p0)


def test_pygaps_csv_and_plain_csv_share_the_suffix(tmp_path):
    curve = loop_curve()
    lines = ["material,MOF", "adsorbate,water", "temperature,298.15", "pressure_mode,relative",
             "loading_unit,mmol", "material_unit,g", "file_version,2.0", "data:[pressure,loading,branch data]",
             "pressure,loading,branch"]
    lines += [f"{float(p)!r},{float(a) * UPTAKE!r},{'des' if b else 'ads'}" for p, a, b in zip(LOOP.pressures, curve, LOOP.branches)]
    pygaps_csv = tmp_path / "pygaps.csv"
    pygaps_csv.write_text("\n".join(lines) + "\n")
    m = read_target(pygaps_csv)
    assert np.allclose(m.amounts, expected(curve)[1], atol=1e-9) and m.unit == "mmol/g"
    # A plain pressure,amount table still goes to the plain reader (fractions, no scale needed) ...
    plain = tmp_path / "plain.csv"
    plain.write_text("pressure,amount\n" + "\n".join(f"{float(p)!r},{float(a)!r}" for p, a in zip(ADS.pressures, curve[:41])))
    assert np.allclose(read_target(plain).values, curve[:41], atol=1e-12)
    with pytest.raises(InputError, match="apply to measured files"):  # ... where --tc / --p0 have no meaning
        read_target(plain, p0=3.0)


def test_options_that_do_not_apply_are_refused(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, loop_curve()[:41])
    with pytest.raises(InputError, match="tc"):
        read_target(path, tc=300.0)


def test_points_above_saturation_are_dropped_and_noted(tmp_path):
    path = tmp_path / "super.aif"
    text = aif_text(loop_curve()).replace(f" {P0_KPA} ", " 1.0 ")  # p0 = 1 kPa: p/p0 up to 3.2
    path.write_text(text)
    m = read_target(path)
    assert m.pressures.max() <= 1 and any("above p/p0 = 1" in n for n in m.notes)


def test_invert_takes_an_aif_target_and_writes_an_aif_result(tmp_path):
    from invtoolkit.cli import main
    from invtoolkit.core.pressure import PressurePath
    from invtoolkit_plugins.lattice_dft import LatticeDFT

    source = tmp_path / "measured.aif"
    source.write_text(aif_text(loop_curve()))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["invert", "--target", str(source), "--chain", "random", "--time-limit", "2", "--y", "1.5",
              "--capacity", str(UPTAKE), "--grid-size", "10", "--no-progress", "-o", str(out)])
    assert exit_info.value.code == 0
    block = cif.read_file(str(out / "best.aif")).sole_block()
    assert cif.as_string(block.find_value("_units_loading")) == "mmol/g"  # back in the file's units
    written = read_target(out / "best.aif")
    m = read_target(source)
    best = np.load(out / "best.npy")[0]
    dft = LatticeDFT(T=298.15, TC=m.fluid.TC, y=1.5, path=PressurePath(np.r_[0.0, m.pressures], m.n_adsorption + 1))
    exact = UPTAKE * dft.simulate(best[None])[0, 1:]
    assert np.allclose(written.pressures, m.pressures) and np.allclose(written.amounts, exact, atol=1e-5)
    mae = float(cif.as_string(block.find_value("_invtoolkit_mae")))
    assert mae == pytest.approx(np.abs(exact - m.amounts).mean(), rel=1e-4)
