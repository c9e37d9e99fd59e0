"""Design specs (every error a one-line message naming the line and entry), the
constrained problem's F and G, and a short end-to-end design run."""

import json
import textwrap

import numpy as np
import pytest

from invtoolkit.design import DesignProblem, design, read_spec, write_results
from invtoolkit.design.problem import violation
from invtoolkit.design.search import rect_arrays
from invtoolkit.errors import InputError

GOOD = """\
normalization = "pore"
[[constraint]]
property = "step"
min = 0.10
max = 0.20
[[constraint]]
property = "uptake"
rh = 0.05
max = 0.1
[[objective]]
property = "capacity"
high = { rh = 0.25, branch = "adsorption" }
low = { rh = 0.05, branch = "desorption" }
goal = "max"
[[objective]]
property = "hysteresis"
goal = "min"
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_good_spec_round_trips(tmp_path):
    spec = read_spec(write(tmp_path, GOOD))
    assert [e.prop.name for e in spec.constraints] == ["step", "uptake"]
    assert [(e.min, e.max) for e in spec.constraints] == [(0.10, 0.20), (-np.inf, 0.1)]
    assert [e.goal for e in spec.objectives] == ["max", "min"]
    assert spec.to_dict()["objective"][0]["low"] == {"rh": 0.05, "branch": "desorption"}
    assert spec.needs_desorption


@pytest.mark.parametrize("old, new, message", [
    ('rh = 0.05\nmax', 'rhh = 0.05\nmax', "spec.toml:8: constraint 2: unknown key 'rhh' (uptake takes: rh, branch, min, max)"),
    ('property = "step"', 'property = "stepp"', "spec.toml:3: constraint 1: unknown property 'stepp'"),
    ('min = 0.10\n', 'min = 0.10\nrh = 0.1\n', "spec.toml:5: constraint 1: unknown key 'rh' (step takes: min, max)"),
    ('rh = 0.05\nmax', 'rh = 1.05\nmax', "spec.toml:8: constraint 2: rh must be in [0, 1], got 1.05"),
    ('rh = 0.05\nmax', 'rh = 0.05\nbranch = "up"\nmax', "spec.toml:9: constraint 2: branch must be 'adsorption' or"),
    ('goal = "min"', 'goal = "least"', "spec.toml:17: objective 2: goal must be 'min' or 'max', got 'least'"),
    ('min = 0.10', 'min = 0.30', "spec.toml:4: constraint 1: min 0.3 is above max 0.2"),
    ('max = 0.20\n', 'max = "high"\n', "spec.toml:5: constraint 1: max must be a number"),
    ('min = 0.10\nmax = 0.20\n', '', "spec.toml:2: constraint 1: give min and/or max for step"),
    ('normalization = "pore"', 'normalization = "volume"', "spec.toml:1: normalization must be 'pore' or 'site'"),
    ('normalization = "pore"', 'normalisation = "pore"', "spec.toml:1: unknown key 'normalisation'"),
    ('low = { rh = 0.05, branch = "desorption" }', 'low = { rh = 0.05, side = "desorption" }',
     "objective 1: capacity low: unknown key 'side' (takes: rh, branch)"),
    ('property = "hysteresis"\n', '', "spec.toml:15: objective 2: no property"),
])
def test_spec_errors_are_one_line_and_name_the_line(tmp_path, old, new, message):
    assert old in GOOD
    with pytest.raises(InputError) as info:
        read_spec(write(tmp_path, GOOD.replace(old, new, 1)))
    text = str(info.value)
    assert "\n" not in text
    assert message in text, text


def test_spec_without_objective_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="no \\[\\[objective\\]\\]"):
        read_spec(write(tmp_path, GOOD.split("[[objective]]")[0]))
    with pytest.raises(InputError, match="not valid TOML"):
        read_spec(write(tmp_path, "[[constraint]\nproperty = 'step'"))
    with pytest.raises(InputError, match="no such spec file"):
        read_spec(tmp_path / "missing.toml")


def test_curve_target_is_relative_to_the_spec(tmp_path):
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "t.npy", np.linspace(0, 1, 41))
    spec = read_spec(write(tmp_path, '[[objective]]\nproperty = "curve"\ntarget = "sub/t.npy"\ngoal = "min"\n'))
    assert spec.objectives[0].prop.target.values[-1] == 1.0


class FakeSimulator:
    """Curves set by hand: grid i's adsorption rises only at point k(i) (9-point loop)."""

    def __init__(self):
        from invtoolkit.core.pressure import PressureSchedule

        self.schedule = PressureSchedule(4)

    def simulate(self, grids):
        k = grids.reshape(len(grids), -1).sum(axis=1)  # the number of pore cells picks the curve
        ads = (np.arange(5)[None] >= k[:, None]).astype(float)
        return np.concatenate([ads, np.ones((len(grids), 4))], axis=1)


def test_problem_objectives_are_minimised_and_violation_is_distance_outside_bounds(tmp_path):
    from invtoolkit.core.pressure import PressureSchedule

    text = '[[constraint]]\nproperty = "step"\nmin = 0.5\nmax = 0.75\n[[objective]]\nproperty = "porosity"\ngoal = "max"\n'
    spec = read_spec(write(tmp_path, text), schedule=PressureSchedule(4))
    problem = DesignProblem(spec, FakeSimulator(), shape=(2, 2))
    grids = np.zeros((4, 2, 2), np.uint8)
    for i, k in enumerate((1, 2, 3, 4)):
        grids[i].flat[:k] = 1
    f, g = problem.split(problem.values(grids))
    # step = RH of point k: .25 .5 .75 1 -> outside [.5, .75] by .25 0 0 .25
    assert np.allclose(g[:, 0], [0.25, -0.0, 0.0, 0.25])
    assert np.allclose(violation(g), [0.25, 0, 0, 0.25])
    assert np.allclose(f[:, 0], [-0.25, -0.5, -0.75, -1.0])  # porosity maximised -> negated
    problem.values(grids)  # seen before: not simulated again
    assert problem.n_simulated == 4


def test_rect_arrays_cover_slits_and_pore_sizes():
    seeds = rect_arrays((20, 20))
    assert len(seeds) == len(np.unique(seeds, axis=0)) > 100
    assert seeds.reshape(len(seeds), -1).any(axis=1).all()
    slit3 = np.zeros((20, 20), np.uint8)
    slit3[:3] = 1
    assert any(np.array_equal(s, slit3) for s in seeds)


def test_short_design_run_is_verified_sorted_and_non_dominated(tmp_path):
    spec = read_spec(write(tmp_path, GOOD))
    result = design(spec, time_limit=6, seed=1, keep=6, shape=(12, 12), pop_size=24)
    best = result.best
    assert len(best) == 6 and best.grids.shape[1:] == (12, 12)
    # feasible designs come first, then the first objective (negated capacity) rises
    assert np.all(np.diff(best.violation > 0) >= 0)
    ok = best.feasible
    assert np.all(np.diff(best.f[ok, 0]) >= -1e-12)
    # verification: the values are those of the exact simulator in float64
    from invtoolkit.hooks import registry
    from invtoolkit.design.problem import property_values

    exact = registry.create("simulator", "lattice-dft", precision="float64")
    assert np.allclose(property_values(spec.constraints + spec.objectives, exact, best.grids), best.values)
    front = result.pareto.f
    for i in range(len(front)):  # nobody on the front dominates anybody else on it
        dominated = np.all(front <= front[i], axis=1) & np.any(front < front[i], axis=1)
        assert not dominated.any()
    names = write_results(tmp_path / "out", result)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["spec"]["constraint"][0] == {"property": "step", "min": 0.1, "max": 0.2}
    assert len(report["best"]) == 6 and report["best"][0]["feasible"] == bool(best.feasible[0])
    assert np.array_equal(np.load(tmp_path / "out" / "best.npy"), best.grids)
    assert all((tmp_path / "out" / n).stat().st_size > 0 for n in names)


def test_cli_bad_spec_exits_2_with_one_line(tmp_path, capsys):
    from invtoolkit.cli import main

    path = write(tmp_path, GOOD.replace('rh = 0.05\nmax', 'rhh = 0.05\nmax', 1))
    with pytest.raises(SystemExit) as info:
        main(["design", "--spec", str(path), "-o", str(tmp_path / "out")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "constraint 2: unknown key 'rhh'" in err and "\n" not in err


def test_design_api_example_runs(tmp_path, capsys):
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "design_api.py"
    result = runpy.run_path(str(example))["main"](str(tmp_path / "out"), time_limit=4, shape=(12, 12))
    assert (tmp_path / "out" / "pareto.npy").exists()
    assert "grids simulated by NSGA2" in capsys.readouterr().out
    assert len(result.best) and result.best.grids.shape[1:] == (12, 12)


def test_screen_sends_only_the_best_ranked_offspring_to_the_exact_simulator(tmp_path):
    from invtoolkit.hooks import registry
    from invtoolkit.design.search import run_search

    spec = read_spec(write(tmp_path, GOOD))
    dft = registry.create("simulator", "lattice-dft")
    problem = DesignProblem(spec, dft, shape=(10, 10))
    start = np.zeros((8, 10, 10), np.uint8)
    for i in range(8):
        start[i, : i + 1] = 1  # slits 1..8 wide
    dft.simulate(start)  # warm the solver up, so the time goes to the search
    stats = run_search(problem, seconds=5, seed=0, pop_size=8, start=start, screen=dft, screen_factor=4)
    assert stats["screened"] >= 4 * 8  # at least one screened generation of 4 x 8 offspring
    # only a quarter of what was screened was simulated (plus the 8 starting grids)
    assert problem.n_simulated <= 8 + stats["screened"] // 4


def test_screen_is_skipped_for_grid_shapes_the_surrogate_was_not_trained_for():
    from invtoolkit.design import _screen

    assert _screen(None, "pore", (20, 20)) is None
    assert _screen("cnn", "pore", (12, 12)) is None
    assert _screen("cnn", "pore", (20, 20)).grid_shape == (20, 20)


def test_design_chain_parsing():
    from invtoolkit.commands.design_cmd import design_command
    from invtoolkit.design import DEFAULT_CHAIN, parse_chain

    assert parse_chain("cnn | auto") == ("cnn", "auto")
    assert parse_chain(" nsga2 ") == (None, "nsga2")
    assert parse_chain(DEFAULT_CHAIN) == ("cnn", "auto")
    assert next(p.default for p in design_command.params if p.name == "chain_text") == DEFAULT_CHAIN
    for bad, message in (("cnn", "expected \\[SURROGATE \\|\\] ALGORITHM"), ("foo | ga", "unknown surrogate 'foo'"),
                         ("cnn | ga | nsga2", "expected")):
        with pytest.raises(InputError, match=message):
            parse_chain(bad)


def test_ga_refuses_several_objectives(tmp_path):
    with pytest.raises(InputError, match="'ga' takes one objective, the spec has 2"):
        design(read_spec(write(tmp_path, GOOD)), time_limit=1, algorithm="ga")


def test_cli_design_writes_every_output(tmp_path, capsys):
    from invtoolkit.cli import main

    spec = write(tmp_path, GOOD.split("[[objective]]\nproperty = \"hysteresis\"")[0])  # one objective: a GA
    with pytest.raises(SystemExit) as info:
        main(["design", "--spec", str(spec), "-o", str(tmp_path / "out"), "--time-limit", "4",
              "--chain", "auto", "--keep", "3", "--pop-size", "16"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("GA: ") and "best designs feasible (verified)" in out
    for name in ("best.npy", "pareto.npy", "report.json", "isotherms.png", "grids.png", "pareto.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert np.load(tmp_path / "out" / "best.npy").shape == (3, 20, 20)
