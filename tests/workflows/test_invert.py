"""Targets from files, the `invtoolkit invert` command end to end, and the API example."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.cli import main
from invtoolkit.core.defaults import DEFAULT_CHAIN
from invtoolkit.errors import InputError
from invtoolkit.parsing.targets import read_target, readers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write_csv(path, rows, header=None):
    lines = ([header] if header else []) + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- targets ----------------------------------------------------------------------


def test_npy_adsorption_and_loop(tmp_path):
    ads = np.linspace(0, 1, 41) ** 2
    np.save(tmp_path / "a.npy", ads)
    t = read_target(tmp_path / "a.npy")
    assert not t.is_loop and len(t.values) == 41
    np.testing.assert_array_equal(t.values, ads)
    np.save(tmp_path / "l.npy", np.concatenate([ads, ads[-2::-1]]))
    assert read_target(tmp_path / "l.npy").is_loop


def test_csv_is_interpolated_linearly_onto_the_axis(tmp_path):
    # piecewise-linear data: interpolation must reproduce it exactly at the axis points
    p = np.array([0.0, 0.3, 0.5, 1.0])
    a = np.array([0.0, 0.1, 0.8, 0.9])
    t = read_target(write_csv(tmp_path / "t.csv", zip(p, a), header="pressure,amount"))
    axis = np.arange(41) / 40
    np.testing.assert_allclose(t.values, np.interp(axis, p, a))
    assert any("interpolated" in n for n in t.notes)


def test_csv_rise_then_fall_is_split_into_branches(tmp_path):
    up = [(0.0, 0.0), (0.5, 0.2), (1.0, 1.0)]
    down = [(0.75, 0.9), (0.5, 0.6), (0.25, 0.1), (0.0, 0.0)]
    t = read_target(write_csv(tmp_path / "loop.csv", up + down))
    assert t.is_loop and len(t.values) == 81
    assert t.values[40] == pytest.approx(1.0)  # RH = 1
    assert t.values[41] == pytest.approx(1.0 - 0.1 / 0.25 * 0.025)  # RH = 39/40 on desorption
    assert t.values[60] == pytest.approx(0.6)  # RH = 0.5 on desorption
    assert t.values[20] == pytest.approx(0.2)  # RH = 0.5 on adsorption


def test_csv_branch_column_and_missing_zero(tmp_path):
    rows = [(0.2, 0.1, "ads"), (0.6, 0.3, "ads"), (1.0, 0.9, "ads"),
            (0.9, 0.85, "des"), (0.5, 0.5, "des"), (0.1, 0.05, "des")]
    t = read_target(write_csv(tmp_path / "b.csv", rows))
    assert t.is_loop
    assert t.values[0] == 0 and t.values[-1] == 0  # the model's amount at RH = 0
    assert t.values[4] == pytest.approx(0.05 * 0.5 / 0.1 * 0.1 / 0.1 * 1.0, rel=1e-9) or t.values[4] == pytest.approx(0.05)
    assert any("RH = 0" in n for n in t.notes) and any("RH = 1" in n for n in t.notes)


@pytest.mark.parametrize("rows,message", [
    ([(0, 0), (0.5, float("nan")), (1, 1)], "NaN"),
    ([(0, 0), (-0.1, 0.2), (1, 1)], "negative"),
    ([(0, 0), (0.5, 0.2), (0.5, 0.3), (1, 1)], "increas"),
    ([(0, 0), (0.5, 1.5), (1, 1)], r"\[0, 1\]"),
    ([(0, 0), (1, 1)], "at least 3"),
    ([(0, 0), (0.4, 0.2), (0.8, 0.5)], "no extrapolation"),
])
def test_bad_csv_targets_name_the_file(tmp_path, rows, message):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError, match=message) as err:
        read_target(path)
    assert "bad.csv" in str(err.value) and "\n" not in str(err.value)


def test_bad_npy_length_and_unknown_suffix(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros(40))
    with pytest.raises(InputError, match="short.npy.*40 points"):
        read_target(tmp_path / "short.npy")
    (tmp_path / "t.xyz").write_text("x")
    with pytest.raises(InputError, match="unknown target format"):
        read_target(tmp_path / "t.xyz")
    assert {".npy", ".csv", ".aif", ".json"} <= set(readers())


# -- the invert command -------------------------------------------------------------


@pytest.fixture(scope="module")
def loop_target(tmp_path_factory):
    """Full-loop DFT isotherm of a known 6x6 grid on a 10-step axis."""
    truth = np.zeros((6, 6), np.uint8)
    truth[1:3] = 1
    sim = registry.create("simulator", "lattice-dft", steps=10)
    path = tmp_path_factory.mktemp("target") / "loop.npy"
    np.save(path, sim.simulate(truth[None])[0])
    return path, sim


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_invert_end_to_end(tmp_path, loop_target, capsys):
    path, sim = loop_target
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        ["invert", "--target", str(path), "--time-limit", "3", "--steps", "10", "--grid-size", "6", "--keep", "3",
         "--chain", "ga[pop_size=16] | steepest", "--no-progress", "-o", str(out)], capsys)
    assert code == 0, stderr
    for name in ("best.npy", "report.json", "isotherms.png", "grids.png"):
        assert (out / name).stat().st_size > 0
    best = np.load(out / "best.npy")
    report = json.loads((out / "report.json").read_text())
    assert best.shape[1:] == (6, 6) and 1 <= len(best) <= 3 and len(report["grids"]) == len(best)
    assert len({g.tobytes() for g in best}) == len(best)
    # the reported errors are the DFT's, recomputed independently here
    target = np.load(path)
    curves = sim.simulate(best)
    mae = np.abs(curves - target).mean(1)
    np.testing.assert_allclose([g["mae"] for g in report["grids"]], mae, atol=1e-6)
    np.testing.assert_allclose([g["mae_adsorption"] for g in report["grids"]], np.abs(curves - target)[:, :11].mean(1),
                               atol=1e-6)
    np.testing.assert_allclose([g["porosity"] for g in report["grids"]], best.mean((1, 2)))
    assert report["target"]["points"] == 21 and report["target"]["branches"] == "loop"
    assert [s["stage"] for s in report["stages"]] == ["ga[pop_size=16]", "steepest"]
    assert all(s["evaluations"] > 0 and s["evaluator"] == "lattice-dft" for s in report["stages"])
    assert sum(s["seconds"] for s in report["stages"]) < 3 + 1 and report["seed"] == 0
    assert mae[0] < 0.05  # an easy target: the search must get close
    assert f"{mae[0]:.5f}" in stdout


@pytest.mark.parametrize("args,message", [
    (["--time-limit", "0"], "time-limit"),
    (["--chain", "ga | nosuchstage"], "unknown stage 'nosuchstage'"),
    (["--chain", "ga[nosuchoption=1]"], "bad options"),
    (["--chain", "ga[evaluator=nosuch]"], "unknown evaluator"),
    (["--chain", "ga[time=-1]"], "time="),
])
def test_invert_bad_input_exits_2_with_one_line(tmp_path, loop_target, capsys, args, message):
    path, _ = loop_target
    code, _, stderr = run_cli(["invert", "--target", str(path), "--steps", "10", "-o", str(tmp_path / "o"), *args],
                              capsys)
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr


def test_invert_bad_target_file_exits_2(tmp_path, capsys):
    bad = write_csv(tmp_path / "bad.csv", [(0, 0), (0.5, float("nan")), (1, 1)])
    code, _, stderr = run_cli(["invert", "--target", str(bad), "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "bad.csv" in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_default_chain_is_built_from_registered_stages():
    from invtoolkit.search.chain import Chain

    roles = Chain.parse(DEFAULT_CHAIN).resolve_roles()
    assert roles[-1] == "optimizer" and set(roles) <= {"generator", "optimizer"}


def test_default_chain_on_a_grid_size_the_generator_was_not_trained_for(tmp_path, capsys):
    truth = np.zeros((8, 8), np.uint8)
    truth[1:4, 1:5] = 1
    curve = registry.create("simulator", "lattice-dft", adsorption_only=True).simulate(truth[None])[0]
    np.save(tmp_path / "t.npy", curve)
    code, _, stderr = run_cli(["invert", "--target", str(tmp_path / "t.npy"), "--grid-size", "8",
                               "--time-limit", "6", "--no-progress", "-o", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "skipped" in stderr
    assert np.load(tmp_path / "o" / "best.npy").shape[1:] == (8, 8)


def test_api_example_runs_and_recovers_porosity():
    proc = subprocess.run([sys.executable, str(EXAMPLES / "invert_api.py")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    first = [line for line in proc.stdout.splitlines() if line.startswith("grid 1:")][0]
    porosity = float(first.split("porosity ")[1].split(" ")[0])
    assert abs(porosity - 0.30) <= 0.02
