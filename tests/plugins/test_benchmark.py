"""The inversion benchmark: targets, traces, statistics, resumable cells, outputs."""

import json

import numpy as np
import pytest

from invtoolkit_plugins.benchmarking import inversion as bm
from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.pressure import PressureSchedule

CHAINS = ["random", "ga | steepest"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    config = bm.BenchmarkConfig(targets=2, time_limit=1.0, seed=1, textbook=True, grid_size=(10, 10))
    summary = bm.run_benchmark(config, CHAINS + ["no-such-optimizer"], out, progress=False)
    return config, out, summary


def test_outputs_are_written(small_run):
    _, out, summary = small_run
    for name in ("benchmark.json", "benchmark.md", "cells.json", "targets.npz", "error_vs_time.png",
                 "success_rates.png", "textbook.png"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "benchmark.json").read_text())["targets"]["sampled"] == 2
    md = (out / "benchmark.md").read_text()
    assert md.count("| `random` |") == 2  # main table and textbook table
    assert "no-such-optimizer" in md and "unknown stage" in md  # reported, not run


def test_recorded_errors_are_the_true_dft_errors(small_run):
    config, out, summary = small_run
    cells = json.loads((out / "cells.json").read_text())["cells"]
    saved = np.load(out / "targets.npz")
    targets = dict(zip(saved["ids"], saved["values"]))
    sim = registry.create("simulator", "lattice-dft", adsorption_only=True)
    assert len(cells) == len(CHAINS) * 5  # 2 sampled + 3 textbook targets
    for cell in cells.values():
        grid = np.array([[int(c) for c in row] for row in cell["best_grid"]], np.uint8)
        curve = sim.simulate(grid[None])[0]
        assert cell["mae"] == pytest.approx(np.abs(curve - targets[cell["target"]]).mean(), abs=1e-6)
        # the trace is the best error so far: decreasing, ending at (or below) the verified best
        errors = [e for _, e in cell["trace"]]
        assert errors == sorted(errors, reverse=True)
        assert errors[-1] <= cell["mae"] + 1e-9
        assert cell["dft_calls"] >= 1


def test_summary_statistics_match_the_cells(small_run):
    config, out, summary = small_run
    cells = json.loads((out / "cells.json").read_text())["cells"]
    for entry in summary["chains"]:
        if entry["chain"] == "no-such-optimizer":
            assert entry["error"] and "n" not in entry
            continue
        maes = [c["mae"] for c in cells.values() if c["chain"] == entry["chain"] and c["kind"] == "sampled"]
        assert entry["n"] == 2
        assert entry["median_mae"] == pytest.approx(np.median(maes))
        for t in bm.THRESHOLDS:
            assert entry["success"][f"{t:g}"] == pytest.approx(np.mean(np.array(maes) <= t))
        assert set(entry["textbook"]) == {"type-I", "type-IV", "type-V"}


def test_finished_cells_are_not_run_again(small_run, monkeypatch):
    config, out, summary = small_run

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached cell was run again")

    monkeypatch.setattr(bm, "run_cell", must_not_run)
    again = bm.run_benchmark(config, CHAINS, out, progress=False)
    assert [c["median_mae"] for c in again["chains"]] == [c["median_mae"] for c in summary["chains"][:2]]


def test_other_settings_in_the_same_directory_are_refused(small_run):
    config, out, _ = small_run
    other = bm.BenchmarkConfig(targets=2, time_limit=2.0, seed=1, textbook=True, grid_size=(10, 10))
    with pytest.raises(InputError, match="other settings"):
        bm.run_benchmark(other, CHAINS, out, progress=False)


def test_targets_are_fixed_by_the_seed_and_cover_every_sampler():
    config = bm.BenchmarkConfig(targets=6, seed=3, grid_size=(8, 8))
    grids_a, sources = bm.sample_grids(config)
    grids_b, _ = bm.sample_grids(config)
    assert np.array_equal(grids_a, grids_b)
    names = registry.registry().names("sampler")
    assert set(sources) == set(names[:6]) if names else {"uniform"}
    longer, _ = bm.sample_grids(bm.BenchmarkConfig(targets=8, seed=3, grid_size=(8, 8)))
    assert np.array_equal(longer[:6], grids_a)  # more targets only add targets
    assert all(g.any() for g in grids_a)


def test_textbook_shapes():
    loop = PressureSchedule(40)
    shapes = bm.textbook_isotherms(loop)
    ads = loop.branches == 0
    p = loop.pressures
    for name, v in shapes.items():
        assert v.min() >= 0 and v.max() <= 1
        assert v[0] == pytest.approx(0, abs=1e-9) and v[40] == pytest.approx(1, abs=1e-9), name
        assert np.all(np.diff(v[ads]) >= -1e-12), name  # uptake rises with pressure
    # type I is reversible; type IV and V close a hysteresis loop (desorption above adsorption)
    rev = lambda v: v[ads][:-1][::-1]  # noqa: E731 - adsorption at the desorption pressures
    assert np.allclose(shapes["type-I"][~ads], rev(shapes["type-I"]))
    for name in ("type-IV", "type-V"):
        gap = shapes[name][~ads] - rev(shapes[name])
        assert gap.min() >= -1e-12 and gap.max() > 0.3, name
    # type I fills at low pressure, type V barely adsorbs there
    at = lambda x: int(np.argmin(np.abs(p[ads] - x)))  # noqa: E731
    assert shapes["type-I"][at(0.1)] > 0.7 and shapes["type-V"][at(0.1)] < 0.05


def test_error_clock_traces_the_best_so_far():
    clock = bm.ErrorClock(np.array([0.0, 0.5, 1.0]))
    clock.record(np.array([[0.0, 0.2, 1.0], [0.0, 0.5, 0.7]]))  # errors 0.1, 0.1
    clock.record(np.array([[0.0, 0.9, 1.0]]))  # worse: no new trace point
    clock.record(np.array([[0.0, 0.5, 0.985, 0.3]]))  # extra (desorption) points are ignored: 0.005
    assert clock.calls == 4
    assert [round(e, 6) for _, e in clock.trace] == [0.1, 0.005]
    assert clock.time_to(0.01) == clock.trace[1][0] and clock.time_to(0.001) is None


def test_cli_writes_the_docs_page(tmp_path):
    from invtoolkit.cli import main

    page = tmp_path / "docs" / "benchmarks.md"
    page.parent.mkdir()
    with pytest.raises(SystemExit) as info:
        main(["benchmark", "inversion", "--targets", "1", "--time-limit", "0.5", "--chains", "random",
              "--grid-size", "8", "--no-progress", "-o", str(tmp_path / "out"), "--docs", str(page)])
    assert info.value.code == 0
    text = page.read_text()
    assert "invtoolkit benchmark inversion" in text.split("```")[1]  # the regenerating command, at the top
    assert "| `random` |" in text
    assert (page.parent / "img" / "benchmark_success_rates.png").exists()


def test_bad_settings_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="time-limit"):
        bm.run_benchmark(bm.BenchmarkConfig(time_limit=0), ["random"], tmp_path)
    with pytest.raises(InputError, match="no targets"):
        bm.run_benchmark(bm.BenchmarkConfig(targets=0), ["random"], tmp_path)


def test_porosity_of_found_grids_is_compared_with_the_truth():
    from invtoolkit_plugins.benchmarking.inversion import _porosity_stats

    truth = np.zeros((4, 4), np.uint8)
    truth[:2] = 1  # porosity 0.5
    same = ["1111", "1111", "0000", "0000"]  # 0.5: exact
    near = ["1111", "1110", "0000", "0000"]  # 0.4375: off by 0.0625
    stats = _porosity_stats([{"best_grid": same}, {"best_grid": near}, {"best_grid": None}], [truth] * 3)
    assert stats["porosity"]["within"] == pytest.approx(1 / 3)
    assert stats["porosity"]["median_abs_error"] == pytest.approx(0.0625)
