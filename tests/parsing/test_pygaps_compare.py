"""benchmarks/pygaps_compare.py helpers and the pyGAPS PointIsotherm converter (issue 32)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invtoolkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ROOT / "tests" / "data" / "measured"
PYGAPS_READS = ("examples_NK_DUT-6_LP_N2_114PKT.aif", "micromeritics_Sample_A.aif", "micromeritics_Sample_C.aif",
                "micromeritics_Sample_D.aif", "Ar_test_1.aif", "DUT-67_DUT67_1_Garching_EtOH_298K.aif")


def _bench():
    spec = importlib.util.spec_from_file_location("pygaps_compare", ROOT / "benchmarks" / "pygaps_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


# -- pure helpers ---------------------------------------------------------------------------


def test_psd_peak_hand_cases():
    assert bench.psd_peak([0.5, 1.0, 2.0], [0.1, 0.7, 0.2]) == 1.0
    assert bench.psd_peak([0.5, 1.0, 2.0], [np.nan, 0.1, 0.3]) == 2.0  # NaN is no peak
    assert bench.psd_peak([0.5, 1.0], [0.0, 0.0]) is None  # an empty distribution has no peak
    assert bench.psd_peak([0.5, 1.0], [1.0]) is None  # mismatched lengths
    assert bench.psd_peak([], []) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=1, max_size=30, unique=True), st.integers(0, 10**6),
       st.floats(0.1, 1e3))
def test_psd_peak_is_the_width_of_the_largest_value_whatever_order_and_scale(widths, seed, scale):
    rng = np.random.default_rng(seed)
    dist = rng.random(len(widths)) + 1e-3
    peak = bench.psd_peak(widths, dist)
    assert peak == widths[int(np.argmax(dist))]
    order = rng.permutation(len(widths))
    assert bench.psd_peak(np.array(widths)[order], dist[order] * scale) == peak


def test_fmt_and_ranges():
    assert bench.fmt(4930.76) == "4930"
    assert bench.fmt(0.012345) == "0.0123"
    assert bench.fmt(2.0116) == "2.01"
    assert bench.fmt(None) == "-" and bench.fmt(float("nan")) == "-"
    assert bench.fmt_range({"min": 0.88, "max": 1.66, "mean": 1.2}) == "0.88-1.66"
    assert bench.fmt_range({"min": 1.0, "max": 1.0}) == "1"
    assert bench.fmt_range(None) == "-" and bench.fmt_range({"min": None, "max": 2}) == "-"


def test_reason_is_one_short_line():
    text = bench.reason(ValueError("first line\nsecond line"))
    assert text == "ValueError: first line"
    assert len(bench.reason(RuntimeError("x" * 500), limit=50)) == 50
    assert bench.reason(KeyError()) == "KeyError"


def test_ours_from_a_report_with_the_physical_fields():
    report = {"fit": {"lattice_spacing_nm": 0.36, "pore_volume_cm3_g": 0.45, "surface_area_m2_g": 1200.0,
                      "pore_volume_interval_cm3_g": [0.41, 0.5], "relative_mae": 0.021},
              "ensemble": {"descriptors": {"dominant_width_nm": {"min": 0.9, "max": 1.7, "mean": 1.3}}}}
    ours = bench.ours_from_report(report)
    assert (ours["our_volume"], ours["our_surface"], ours["our_spacing"]) == (0.45, 1200.0, 0.36)
    assert ours["our_width"] == "0.9-1.7" and ours["our_rel_mae"] == 0.021
    assert ours["our_volume_text"] == "0.45 (0.41-0.5)"
    assert ours["our_could_not"] == []


def test_ours_from_a_report_without_them_says_what_is_missing():
    ours = bench.ours_from_report({"fit": {"relative_mae": 0.015, "pore_volume_cm3_g": None,
                                           "pore_volume_note": "no plateau reached"}})
    assert ours["our_volume"] is None and ours["our_width"] == "-"
    assert "pore_volume: no plateau reached" in ours["our_could_not"]
    assert "surface not in report" in ours["our_could_not"]
    assert "dominant_width_nm not in report" in ours["our_could_not"]
    # a joint report keeps its fits in a list
    assert bench.ours_from_report({"fits": [{"pore_volume_cm3_g": 0.5}]})["our_volume"] == 0.5


def test_markdown_table_has_one_row_per_file_and_escapes_pipes():
    rows = [{"file": "a.aif", "adsorbate": "N2", "pg_bet": 1234.5, "pg_could_not": ["DFT: x | y", "HK: z"],
             "our_width": "0.9-1.7", "our_rel_mae": 0.01234, "our_could_not": []},
            {"file": "b" * 80 + ".aif", "adsorbate": "Ar"}]
    lines = bench.markdown_table(rows).splitlines()
    assert len(lines) == 4
    assert all(line.count(" | ") == len(bench.COLUMNS) - 1 for line in (lines[0], lines[2]))
    assert "1230" in lines[2] and "DFT: x \\| y; HK: z" in lines[2] and "0.012" in lines[2]
    assert len(lines[3].split(" | ")[0]) <= 42  # long names are cut


def test_replace_between_markers_round_trip():
    page = f"# T\n\ntext\n{bench.MARK_BEGIN}\nold\n{bench.MARK_END}\nafter\n"
    new = bench.replace_between_markers(page, "| a |\n")
    assert "old" not in new and "| a |" in new and new.endswith("after\n") and new.startswith("# T")
    assert bench.replace_between_markers(new, "| a |") == new
    with pytest.raises(ValueError):
        bench.replace_between_markers("no markers", "x")


# -- with pyGAPS ------------------------------------------------------------------------------


def test_pygaps_row_records_a_reader_failure_with_its_reason():
    pytest.importorskip("pygaps")
    row = bench.pygaps_row(MEASURED / "NIST_10.1021Jp400480q.Isotherm2.aif", "Ar")
    assert row["pg_bet"] is None and row["pg_dft_peak"] is None
    assert len(row["pg_could_not"]) == 1 and row["pg_could_not"][0].startswith("read AIF: ")


@pytest.mark.parametrize("name", PYGAPS_READS)
def test_measured_from_pygaps_equals_our_own_aif_reader(name):
    pgp = pytest.importorskip("pygaps.parsing")
    from invtoolkit.parsing.measured import measured_from_raw
    from invtoolkit_plugins.readers.aif import parse_aif
    from invtoolkit.parsing.pygaps_object import measured_from_pygaps

    ours, theirs = parse_aif(MEASURED / name), measured_from_pygaps(pgp.isotherm_from_aif(str(MEASURED / name)))
    # the two parsers turn the same decimal text into floats that may differ in the last bit
    np.testing.assert_allclose(theirs.pressures, ours.pressures, rtol=1e-12)
    np.testing.assert_allclose(theirs.amounts, ours.amounts, rtol=1e-12)
    np.testing.assert_array_equal(theirs.branches, ours.branches)
    assert theirs.relative == ours.relative and (theirs.p0 is None) == (ours.p0 is None)
    if ours.p0 is not None:
        np.testing.assert_allclose(theirs.p0, ours.p0, rtol=1e-12)
    a, b = measured_from_raw(ours), measured_from_raw(theirs)
    assert a.fluid.name == b.fluid.name and a.T == pytest.approx(b.T, abs=1e-9)
    np.testing.assert_allclose(b.pressures, a.pressures, rtol=1e-12)
    np.testing.assert_allclose(b.amounts, a.amounts, rtol=1e-12)
    assert b.n_adsorption == a.n_adsorption


def test_measured_from_pygaps_on_a_hand_built_isotherm():
    pygaps = pytest.importorskip("pygaps")
    from invtoolkit.parsing.pygaps_object import measured_from_pygaps

    iso = pygaps.PointIsotherm(pressure=[10.0, 40.0, 90.0, 50.0], loading=[1.0, 2.0, 3.0, 2.5],
                               material="carbon", adsorbate="nitrogen", temperature=77.0,
                               pressure_mode="relative%", loading_basis="molar", loading_unit="mmol",
                               material_basis="mass", material_unit="g")
    raw = measured_from_pygaps(iso)
    np.testing.assert_allclose(raw.pressures, [0.1, 0.4, 0.9, 0.5])  # percent -> p/p0
    np.testing.assert_array_equal(raw.branches, [0, 0, 0, 1])  # pyGAPS' guess: down after the top
    assert raw.relative and raw.p0 is None
    assert raw.metadata["units_loading"] == "mmol/g" and raw.metadata["temperature"] == 77.0
    assert raw.metadata["adsorbate"] == "nitrogen" and raw.metadata["units_temperature"] == "K"


def test_measured_from_pygaps_refuses_what_is_not_a_point_isotherm():
    from invtoolkit.parsing.pygaps_object import measured_from_pygaps

    with pytest.raises(InputError, match="expected a pyGAPS PointIsotherm, got list"):
        measured_from_pygaps([1, 2, 3])


def test_find_field_prefers_the_exact_name():
    fit = {"pore_volume_cm3_g_gurvich": 0.5, "pore_volume_cm3_g": 0.4, "surface_m2_per_g": 900.0}
    assert bench.find_field(fit, "pore_volume_cm3_g", "pore_volume", "cm3") == ("pore_volume_cm3_g", 0.4)
    assert bench.find_field(fit, "surface_area_m2_g", "surface", "m2") == ("surface_m2_per_g", 900.0)
    assert bench.find_field(fit, "lattice_spacing_nm", "lattice_spacing") == (None, None)


def test_why_a_value_is_missing():
    fit = {"unit": "kmol/m3", "loading_to_mmol_g": None, "pore_volume_cm3_g": None, "pore_volume_note": None,
           "surface_area_m2_g": None}
    ours = bench.ours_from_report({"fit": fit})
    assert ours["our_could_not"][:2] == ["pore_volume: loading unit 'kmol/m3' is not per gram",
                                         "surface: needs the pore volume"]
