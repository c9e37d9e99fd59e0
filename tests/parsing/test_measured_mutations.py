"""Real AIF exports changed the way real exports go wrong (issue 29): units, no uptake,
spikes, repeated rows, shuffled rows, truncation, NaN. Each gives a one-line refusal
(InputError, exit 2) or a read whose notes name the change; never another exception.

The files are the shared real measurements in tests/data/measured (MIT, see NOTICE.md).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invtoolkit.errors import InputError
from invtoolkit.parsing.targets import read_target

DATA = Path(__file__).parents[1] / "data" / "measured"
FILES = sorted(p.name for p in DATA.glob("*.aif") if not p.name.startswith("DMOF"))  # DMOF: supercritical
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SPIKE = 1e6


class Aif:
    """An AIF file as lines, with the row lines of its adsorption and desorption loops."""

    def __init__(self, name):
        self.lines = (DATA / name).read_text().splitlines()
        self.loops = {}  # branch name -> (line indices of the rows, index of the amount column)
        i = 0
        while i < len(self.lines):
            if self.lines[i].strip() == "loop_":
                tags, j = [], i + 1
                while j < len(self.lines) and self.lines[j].strip().startswith("_"):
                    tags.append(self.lines[j].strip())
                    j += 1
                rows = []
                while j < len(self.lines) and self.lines[j].strip() and not self.lines[j].strip().startswith(
                        ("_", "loop_", "data_")):
                    rows.append(j)
                    j += 1
                branch = {"_adsorp_": "adsorption", "_desorp_": "desorption"}.get(tags[0][:8])
                if branch:
                    amount = next(k for k, t in enumerate(tags) if t.split("_")[-1] in ("amount", "loading"))
                    self.loops[branch] = (rows, amount)
                i = j
            else:
                i += 1

    def row(self, branch, k):
        return self.lines[self.loops[branch][0][k]].split()

    def draw_row(self, data):
        """(branch, row index, amount column, the row's fields) of a row drawn by hypothesis."""
        branch = data.draw(st.sampled_from(sorted(self.loops)))
        rows, col = self.loops[branch]
        k = data.draw(st.integers(0, len(rows) - 1))
        return branch, k, col, self.row(branch, k)

    def set_row(self, branch, k, values):
        self.lines[self.loops[branch][0][k]] = " ".join(values)

    def write(self, path) -> Path:
        path.write_text("\n".join(self.lines) + "\n")
        return path

    def set_tag(self, tag, value):
        """Replace (value) or remove (None) a one-line tag."""
        found = [i for i, line in enumerate(self.lines) if line.split()[:1] == [tag]]
        for i in reversed(found):
            if value is None:
                del self.lines[i]
            else:
                self.lines[i] = f"{tag} '{value}'"


def outcome(path, **options):
    """The read MeasuredIsotherm, or the refusal's message (one line, asserted)."""
    try:
        return read_target(path, **options)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and message
        return message


def baseline(name):
    return read_target(DATA / name)


def kept(name, branch, k, tmp_path) -> bool:
    """Whether a row of a shared file is among the fitted points (the file without it has one fewer)."""
    aif = Aif(name)
    del aif.lines[aif.loops[branch][0][k]]
    without = outcome(aif.write(tmp_path / "without.aif"))
    return isinstance(without, str) or len(without.pressures) < len(baseline(name).pressures)


def named_rows(notes, branch) -> set[int]:
    """Row numbers of ``branch`` that the notes name ('adsorption rows 3, 5' or 'adsorption row 4')."""
    found = set()
    for note in notes:
        for listing in re.findall(rf"{branch} rows? (\d+(?:(?:, | to )\d+)*)", note):
            found.update(int(k) for k in re.split(r", | to ", listing))
    return found


def new_notes(m, name):
    old = set(baseline(name).notes)
    return [n for n in m.notes if n not in old]


# -- the shared files themselves ------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_clean_files_get_no_screening_notes(name):
    m = baseline(name)
    assert not [n for n in m.notes if "left out" in n or "repeat" in n or "order" in n or "restart" in n]


def test_loading_conversion_to_mmol_per_g():
    assert baseline("micromeritics_Sample_D.aif").loading_to_mmol_g == 1.0  # mmol/g
    stp = baseline("Ar_test_1.aif").loading_to_mmol_g  # ml(STP) g-1: 1 cm3 of gas at STP = 1/22.414 mmol
    assert stp == pytest.approx(1 / 22.414)
    assert baseline("DUT-23_NK_CU_BIPY__BTB__10-11_DMF-ETOH_CO2_84PKT_N2_N2__Raw_Analysis_Data_.aif") \
        .loading_to_mmol_g == pytest.approx(1 / 22.414)  # 'cc' per _units_mass 'g'
    assert baseline("micromeritics_Sample_A.aif").loading_to_mmol_g == pytest.approx(1 / 22.414)  # cm³/g STP
    assert baseline("NIST_10.1021Jp400480q.Isotherm2.aif").loading_to_mmol_g is None  # kmol/m3: per volume


@pytest.mark.parametrize("unit, factor", [("mg/g", 1 / 32.042), ("wt%", 10 / 32.042), ("g/g", 1000 / 32.042),
                                          ("mol/kg", 1.0), ("cm3(STP)/g", 1 / 22.414), ("mmol/cm3", None)])
def test_loading_units_by_hand(tmp_path, unit, factor):
    """Methanol (32.042 g/mol): a mass per mass divides by the molar mass; per volume has no factor."""
    aif = Aif("DUT-67_DUT67_1_Garching_MeOH_298K.aif")
    aif.set_tag("_units_loading", unit)
    m = read_target(aif.write(tmp_path / "x.aif"))
    assert m.unit == unit
    assert (m.loading_to_mmol_g is None) if factor is None else m.loading_to_mmol_g == pytest.approx(factor, rel=1e-3)


# -- units -----------------------------------------------------------------------------------------


@SETTINGS
@given(name=st.sampled_from(FILES), unit=st.sampled_from(["furlongs", "bananas/g", "%", "kPa", "mmol", "K/g", "1"]))
def test_unknown_loading_unit_is_refused_naming_it(tmp_path, name, unit):
    aif = Aif(name)
    aif.set_tag("_units_mass", None)
    aif.set_tag("_units_loading", unit)
    got = outcome(aif.write(tmp_path / "x.aif"))
    assert isinstance(got, str) and f"'{unit}'" in got and "loading unit" in got


@SETTINGS
@given(name=st.sampled_from(FILES))
def test_missing_loading_unit_is_refused_naming_the_option(tmp_path, name):
    aif = Aif(name)
    aif.set_tag("_units_loading", None)
    path = aif.write(tmp_path / "x.aif")
    got = outcome(path)
    assert isinstance(got, str) and "--loading-unit" in got
    m = read_target(path, loading_unit="mmol/g")  # the option supplies it
    assert m.unit == "mmol/g" and m.loading_to_mmol_g == 1.0


@SETTINGS
@given(name=st.sampled_from(FILES), tag=st.sampled_from(["_units_pressure", "_units_temperature"]),
       unit=st.sampled_from(["furlongs", "bananas", "mmol/g"]))
def test_unknown_pressure_or_temperature_unit_is_refused_naming_it(tmp_path, name, tag, unit):
    aif = Aif(name)
    if not any(line.split()[:1] == [tag] for line in aif.lines):
        aif.lines.insert(1, f"{tag} 'x'")
    aif.set_tag(tag, unit)
    got = outcome(aif.write(tmp_path / "x.aif"))
    assert isinstance(got, str) and f"'{unit}'" in got, got


def test_missing_pressure_unit_with_absolute_pressures_is_refused(tmp_path):
    aif = Aif("micromeritics_Sample_D.aif")  # kPa, up to ~100
    aif.set_tag("_units_pressure", None)
    got = outcome(aif.write(tmp_path / "x.aif"))
    assert isinstance(got, str) and "no pressure unit" in got


# -- amounts ---------------------------------------------------------------------------------------


@SETTINGS
@given(name=st.sampled_from(FILES), value=st.sampled_from(["0", "0.0", "-1.5", "7.25"]))
def test_no_uptake_is_refused(tmp_path, name, value):
    """Every amount zero, negative or the same: nothing to fit."""
    aif = Aif(name)
    for branch, (rows, col) in aif.loops.items():
        for k in range(len(rows)):
            values = aif.row(branch, k)
            values[col] = value
            aif.set_row(branch, k, values)
    got = outcome(aif.write(tmp_path / "x.aif"))
    assert isinstance(got, str) and "no uptake" in got


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data(), sign=st.sampled_from([1.0, -1.0]))
def test_a_spike_is_named_and_left_out(tmp_path, name, data, sign):
    aif = Aif(name)
    branch, k, col, values = aif.draw_row(data)
    original = float(values[col])
    values[col] = repr(sign * SPIKE * original)
    aif.set_row(branch, k, values)
    got = outcome(aif.write(tmp_path / "x.aif"))
    base = baseline(name)
    if isinstance(got, str):
        return  # a one-line refusal (e.g. the rest is too short)
    label = f"{branch} row {k + 1} "
    named = [n for n in new_notes(got, name) if "left out of the fit" in n]
    span, largest = np.ptp(base.amounts), np.abs(base.amounts).max()
    spiked = sign * SPIKE * original
    if kept(name, branch, k, tmp_path) and (spiked > 200 * max(span, largest) or spiked < min(base.amounts.min(), 0) - 2 * span):
        assert named and label in named[0] and len(got.amounts) == len(base.amounts) - 1
    for note in named:  # only the spiked point is ever named
        assert re.findall(r"(adsorption|desorption) row (\d+) \(", note) == [(branch, str(k + 1))]


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data())
def test_a_pressure_spike_is_named(tmp_path, name, data):
    """A pressure x 10^6: above p0 (dropped) or out of order (sorted); either way its row is named."""
    aif = Aif(name)
    branch, k, _, values = aif.draw_row(data)
    values[0] = repr(float(values[0]) * SPIKE)
    aif.set_row(branch, k, values)
    got = outcome(aif.write(tmp_path / "x.aif"))
    if not isinstance(got, str) and kept(name, branch, k, tmp_path):
        assert k + 1 in named_rows(got.notes, branch) or len(got.pressures) == len(baseline(name).pressures), got.notes


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data(), at_end=st.booleans())
def test_repeated_rows_are_named_and_one_copy_kept(tmp_path, name, data, at_end):
    aif = Aif(name)
    branch = data.draw(st.sampled_from(sorted(aif.loops)))
    rows, _ = aif.loops[branch]
    picked = sorted(data.draw(st.sets(st.integers(0, len(rows) - 1), min_size=1, max_size=min(5, len(rows)))))
    copies = [aif.lines[rows[k]] for k in picked]
    if at_end:
        for line in copies:
            aif.lines.insert(rows[-1] + 1, line)
    else:
        for k in reversed(picked):
            aif.lines.insert(rows[k] + 1, aif.lines[rows[k]])
    got = outcome(aif.write(tmp_path / "x.aif"))
    base = baseline(name)
    assert not isinstance(got, str), got
    if any(float(line.split()[-1]) in base.amounts for line in copies):  # a kept point was repeated
        assert any("repeat earlier rows" in n and branch in n for n in new_notes(got, name))
    assert np.array_equal(got.pressures, base.pressures) and np.array_equal(got.amounts, base.amounts)


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data())
def test_shuffled_rows_are_named(tmp_path, name, data):
    aif = Aif(name)
    branch = data.draw(st.sampled_from(sorted(aif.loops)))
    rows, _ = aif.loops[branch]
    lines = [aif.lines[i] for i in rows]
    order = data.draw(st.permutations(range(len(rows))))
    for i, j in zip(rows, order):
        aif.lines[i] = lines[j]
    got = outcome(aif.write(tmp_path / "x.aif"))
    if isinstance(got, str):
        return
    base = baseline(name)
    notes = new_notes(got, name)
    if list(order) != sorted(order) and len(got.pressures) == len(base.pressures):
        same = np.array_equal(np.sort(got.pressures), np.sort(base.pressures))
        named = ("pressure order", "restart", "fall from the highest")
        assert any(branch in n and any(w in n for w in named) for n in notes) or not same
    if any("sorted within the branch" in n for n in notes) and not any("restart" in n for n in notes):
        assert sorted(zip(got.pressures, got.amounts)) == sorted(zip(base.pressures, base.amounts))


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data())
def test_truncated_files_read_or_are_refused_in_one_line(tmp_path, name, data):
    text = (DATA / name).read_text()
    cut = data.draw(st.integers(0, len(text)))
    path = tmp_path / "x.aif"
    path.write_text(text[:cut])
    outcome(path)  # any other exception fails the test


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.data(), bad=st.sampled_from(["nan", "NaN", "?", "inf", "-"]))
def test_nan_is_refused_in_one_line(tmp_path, name, data, bad):
    aif = Aif(name)
    branch, k, col, values = aif.draw_row(data)
    values[data.draw(st.sampled_from([0, col]))] = bad
    aif.set_row(branch, k, values)
    got = outcome(aif.write(tmp_path / "x.aif"))
    assert isinstance(got, str) and f"point {k + 1}" in got


def test_pasted_runs_keep_the_longest(tmp_path):
    """A second, shorter run pasted after the adsorption loop: named, the first run kept."""
    name = "micromeritics_Sample_D.aif"
    aif = Aif(name)
    rows, col = aif.loops["adsorption"]
    second = []
    for k in range(0, 20, 2):  # every other one of the first 20 rows, amounts 3 % higher
        values = aif.row("adsorption", k)
        values[col] = repr(float(values[col]) * 1.03)
        second.append(" ".join(values))
    for line in reversed(second):
        aif.lines.insert(rows[-1] + 1, line)
    got = read_target(aif.write(tmp_path / "x.aif"))
    note = next(n for n in got.notes if "restart" in n)
    assert f"adsorption rows {len(rows) + 1}, " in note and "kept adsorption rows 1 to " in note
    base = baseline(name)
    assert np.array_equal(got.amounts, base.amounts)


def test_a_loop_in_one_loop_is_split_at_its_top(tmp_path):
    """The desorption rows pasted under the adsorption rows (no _desorp_ loop): split at the top, named."""
    name = "DUT-67_DUT67_1_Garching_MeOH_298K.aif"
    aif = Aif(name)
    first_des = aif.loops["desorption"][0][0]
    last_ads = aif.loops["adsorption"][0][-1]
    del aif.lines[last_ads + 1: first_des]  # the blank line, loop_ and the _desorp_ tags
    got = read_target(aif.write(tmp_path / "x.aif"))
    base = baseline(name)
    assert any("fall from the highest pressure" in n for n in got.notes), got.notes
    assert got.n_adsorption == base.n_adsorption and np.array_equal(got.amounts, base.amounts)


def test_an_isolated_dropout_is_named_but_a_real_step_is_not(tmp_path):
    """One point at zero inside the plateau is an excursion; a sharp rise spread over points is not."""
    name = "DUT-49_DUT-49_nbutane_273K_viele_Punkte.aif"
    aif = Aif(name)
    values = aif.row("adsorption", 75)  # 526 ml(STP)/g at p/p0 0.75, the isotherm spans 0 to 609
    values[aif.loops["adsorption"][1]] = "0"
    aif.set_row("adsorption", 75, values)
    got = read_target(aif.write(tmp_path / "x.aif"))
    assert any("isolated excursion" in n and "adsorption row 76 (" in n for n in got.notes)
    assert not [n for n in baseline(name).notes if "left out" in n]  # its steep steps are kept


def test_a_negative_adsorption_step_over_several_points_is_kept(tmp_path):
    """DUT-49-like negative gas adsorption: six adsorption points drop to 40 % (then the rise resumes)."""
    name = "DUT-49_DUT-49_nbutane_273K_viele_Punkte.aif"
    aif = Aif(name)
    col = aif.loops["adsorption"][1]
    for k in range(61, 67):  # p/p0 0.52-0.60, 228 to 302 ml(STP)/g -> 91 to 121, then 372 at 0.63
        values = aif.row("adsorption", k)
        values[col] = repr(0.4 * float(values[col]))
        aif.set_row("adsorption", k, values)
    got = read_target(aif.write(tmp_path / "x.aif"))
    assert not [n for n in got.notes if "left out" in n] and len(got.amounts) == len(baseline(name).amounts)


# -- end to end: exit codes -------------------------------------------------------------------------


def invert(path, out):
    command = [str(Path(sys.executable).parent / "invtoolkit"), "invert", "--target", str(path), "-o", str(out),
               "--time-limit", "2", "--budget", "200", "--no-progress"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("mutation", ["furlongs", "no unit", "zeros"])
def test_cli_refuses_with_exit_2_and_one_line(tmp_path, capsys, mutation):
    """In process through the CLI's entry point (the spike test below runs a real process)."""
    from invtoolkit.cli import main

    aif = Aif("DUT-67_DUT67_1_Garching_MeOH_298K.aif")
    if mutation == "zeros":
        for branch, (rows, col) in aif.loops.items():
            for k in range(len(rows)):
                values = aif.row(branch, k)
                values[col] = "0"
                aif.set_row(branch, k, values)
    else:
        aif.set_tag("_units_loading", "furlongs" if mutation == "furlongs" else None)
    with pytest.raises(SystemExit) as info:
        main(["invert", "--target", str(aif.write(tmp_path / "x.aif")), "-o", str(tmp_path / "out"),
              "--time-limit", "2", "--budget", "200", "--no-progress"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert {"furlongs": "'furlongs'", "no unit": "--loading-unit", "zeros": "no uptake"}[mutation] in err


def test_cli_spike_is_named_in_the_report(tmp_path):
    aif = Aif("DUT-67_DUT67_1_Garching_MeOH_298K.aif")
    rows, col = aif.loops["adsorption"]
    values = aif.row("adsorption", 8)
    values[col] = repr(float(values[col]) * SPIKE)
    aif.set_row("adsorption", 8, values)
    run = invert(aif.write(tmp_path / "x.aif"), tmp_path / "out")
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "adsorption row 9 (" in json.dumps(report)
