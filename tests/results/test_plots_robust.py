"""Issue 33: every figure writer and report builder takes degenerate input -- one grid,
identical grids, a single pore width, all-equal curves, NaN descriptors, empty lists --
and writes its file instead of raising (hypothesis over random ensembles)."""

import json
import math
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from invtoolkit.results import report as rep
from invtoolkit.search.chain import ChainResult, StageReport
from invtoolkit.results.ensemble import build_ensemble, ensemble_result, psd_spread, summary_text
from invtoolkit.results.ensemble_plots import plot_clusters, plot_width_distribution, width_spread
from invtoolkit.core.objective import Target
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ROOT / "examples/data/measured/DUT-67_DUT67_1_Garching_MeOH_298K.aif"
PNG = b"\x89PNG"
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STEPS = 4  # a 9-point loop keeps every example fast


def written(path: Path) -> bool:
    return path.stat().st_size > 0 and path.read_bytes()[:4] == PNG


@st.composite
def grids_of(draw, n: int):
    """``n`` grids of one random space: random, identical, one pore cell or all pore."""
    rank = draw(st.sampled_from([2, 2, 3]))
    shape = (draw(st.integers(3, 6)),) * 2 if rank == 2 else (3, 3, draw(st.integers(3, 4)))
    kind = draw(st.sampled_from(["random", "identical", "single cell", "all pore"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    grids = (rng.random((n, *shape)) < rng.uniform(0.2, 0.9)).astype(np.uint8)
    if kind == "identical":
        grids[:] = grids[:1]
    elif kind == "single cell":
        grids[:] = 0
    elif kind == "all pore":
        grids[:] = 1
    grids.reshape(n, -1)[:, 0] = 1  # every grid has a pore cell
    return grids


@st.composite
def chain_results(draw):
    """A verified chain result: grids, errors (equal or not), curves (constant or not)."""
    n = draw(st.integers(1, 6))
    grids = draw(grids_of(n))
    schedule = PressureSchedule(STEPS, adsorption_only=draw(st.booleans()))
    full = PressureSchedule(STEPS)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if draw(st.booleans()):  # all-equal curves
        curves = np.full((n, len(full)), draw(st.floats(0, 1)))
    else:
        curves = np.sort(rng.random((n, len(full))), axis=1)
    errors = np.full(n, draw(st.floats(0, 0.1))) if draw(st.booleans()) else np.sort(rng.random(n) * 0.01)
    target = Target(curves[0, :len(schedule)].copy(), schedule, draw(st.sampled_from(["pore", "site"])))
    stages = [StageReport("ga", "lattice-dft", 10, 0.1, float(errors[0]), n),
              StageReport("bank", "lattice-dft", 0, 0.0, math.nan, 0, note="skipped")]
    return ChainResult(Population(grids, errors), curves, stages, target, seconds=0.2)


@FEW
@given(result=chain_results(), keep=st.integers(1, 8), tolerance=st.sampled_from([0.0, 0.002, 1.0]))
def test_model_outputs_from_random_ensembles(result, keep, tolerance):
    """What an inversion of a model target writes: report.json and the four figures."""
    ordered, ens, summary = ensemble_result(result, tolerance, keep)
    report = rep.build_report(ordered, target_file="t.npy", chain="ga", seed=0, time_limit=1,
                              extra={"ensemble": summary})
    json.dumps(report, allow_nan=False)  # what report.json gets: no NaN, no inf
    assert len(report["grids"]) == len(ordered.population) == min(keep, ens.n_families)
    assert rep.summary_lines(report) and summary_text(summary)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rep.plot_isotherms(out / "isotherms.png", ordered)
        rep.plot_grids(out / "grids.png", ordered)
        plot_width_distribution(out / "psd.png", summary, report["grids"][0]["descriptors"])
        plot_clusters(out / "clusters.png", ordered, summary)
        assert all(written(out / f) for f in ("isotherms.png", "grids.png", "psd.png", "clusters.png"))


@FEW
@given(grids=st.integers(1, 6).flatmap(grids_of))
def test_width_spread_is_ordered_for_every_ensemble(grids):
    """min <= mean <= max per width, exactly: the error bars are never negative."""
    ens = build_ensemble(grids, np.zeros(len(grids)), rank=grids.ndim - 1)
    raw = np.array(psd_spread(ens.descriptors)).reshape(-1, 4)
    spread = width_spread({"psd": psd_spread(ens.descriptors)})
    widths, lo, mean, hi = spread.T
    np.testing.assert_array_equal(widths, raw[:, 0])
    assert np.all(lo <= mean) and np.all(mean <= hi) and np.all(mean - lo >= 0) and np.all(hi - mean >= 0)
    np.testing.assert_allclose(mean, raw[:, 2], atol=1e-12)  # only rounding is corrected


def test_equal_shares_whose_mean_rounds_above_them():
    """The case of issue 33: three members share 0.1 of their cells at width 1; the mean
    of three 0.1s is 0.10000000000000002 > 0.1, which made the error bar negative."""
    members = [{"psd": [[1, 0.1], [2, 0.9]], "max_width": 2}] * 3
    raw = psd_spread(members)
    assert np.mean([0.1] * 3) > 0.1  # the rounding this guards against ...
    assert raw[0][1] <= raw[0][2] <= raw[0][3]  # ... clipped at its source, psd_spread
    assert width_spread({"psd": raw}).tolist() == [[1, 0.1, 0.1, 0.1], [2, 0.9, 0.9, 0.9]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "psd.png"
        plot_width_distribution(path, {"psd": raw, "count": 3, "tolerance": 0.002}, members[0])
        assert written(path)


finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none())


@FEW
@given(rows=st.lists(st.tuples(st.integers(-1, 25).map(float) | st.just(math.nan), finite_or_not, finite_or_not,
                               finite_or_not), max_size=5),
       best=st.lists(st.tuples(st.integers(1, 20), st.floats(0, 1) | st.just(math.nan)), max_size=4))
def test_width_plot_of_any_summary(rows, best):
    """NaN, None, inf and swapped min/max in psd.png's input: drawn, ordered, finite."""
    psd = [[w, *(math.nan if v is None else v for v in vals)] for w, *vals in rows]
    summary = {"psd": psd, "count": math.nan, "tolerance": None}
    spread = width_spread(summary)
    assert np.isfinite(spread).all() and np.all(spread[:, 1] <= spread[:, 2]) and np.all(spread[:, 2] <= spread[:, 3])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "psd.png"
        plot_width_distribution(path, summary, {"psd": [list(b) for b in best]})
        assert written(path)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=chain_results())
def test_clusters_of_an_empty_or_nan_summary(result):
    nan_range = {"min": math.nan, "max": math.nan, "mean": math.nan}
    summaries = [
        {"clusters": [], "psd": [], "descriptors": {}},
        {"clusters": [{"size": 1, "best_row": 0, "error": math.nan,
                       "descriptors": {"porosity": nan_range, "dominant_width": nan_range}}]},
        {"clusters": [{"size": 2, "best_row": None, "error": None, "descriptors": {}}]},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for k, summary in enumerate(summaries):
            plot_clusters(Path(tmp) / f"c{k}.png", result, summary)
            plot_width_distribution(Path(tmp) / f"p{k}.png", summary, {})
            assert written(Path(tmp) / f"c{k}.png") and written(Path(tmp) / f"p{k}.png")


cell = st.one_of(st.just(""), st.none(), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=3))  # one-line cells


@FEW
@given(rows=st.lists(st.fixed_dictionaries({"status": st.sampled_from(["ok", "failed", "missing"]), "error": cell,
                                            "relative_mae": cell}), max_size=6))
def test_batch_summary_of_any_rows(rows):
    from invtoolkit.workflows.batch_summary import COLUMNS, SUMMARY_FILES, counts_line, write_summary

    full = [{**dict.fromkeys(COLUMNS, ""), **r, "target": f"t{i}"} for i, r in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_summary(Path(tmp), full)
        assert [p.name for p in paths] == list(SUMMARY_FILES) and written(paths[2])
        assert (Path(tmp) / "summary.md").read_text().count("\n") == len(rows) + 2  # header, rule, rows
    assert counts_line(full).startswith(f"{len(rows)} targets")


@pytest.fixture(scope="module")
def spec():
    from invtoolkit.design import read_spec

    return read_spec(ROOT / "examples/specs/issue_example.toml", schedule=PressureSchedule(STEPS))


@FEW
@given(n_best=st.integers(0, 4), n_front=st.integers(0, 4), seed=st.integers(0, 2**16), nan=st.booleans(),
       curves=st.booleans())
def test_design_outputs_of_any_result(spec, n_best, n_front, seed, nan, curves):
    """write_results: report.json and the three design figures, with no, infeasible or NaN designs."""
    from invtoolkit.design.results import DesignResult, Designs, write_results

    rng = np.random.default_rng(seed)
    k = len(spec.constraints) + len(spec.objectives)

    def designs(n):
        values = rng.random((n, k))
        if nan and n:
            values[0, -1] = math.nan
        grids = (rng.random((n, 6, 6)) < 0.5).astype(np.uint8)
        return Designs(grids, values, -values[:, len(spec.constraints):], rng.normal(size=n))

    best = designs(n_best)
    full = PressureSchedule(STEPS)
    result = DesignResult(spec, best, designs(n_front), search={"algorithm": "GA"},
                          curves=np.sort(rng.random((n_best, len(full))), 1) if curves and n_best else None,
                          pressures=full.pressures)
    with tempfile.TemporaryDirectory() as tmp:
        names = write_results(tmp, result)
        assert all(written(Path(tmp) / n) for n in names if n.endswith(".png"))
        assert len(json.loads((Path(tmp) / "report.json").read_text())["best"]) == n_best


@FEW
@given(n=st.integers(0, 3), seed=st.integers(0, 2**16), errors=st.sampled_from(["none", "nan", "short"]))
def test_3d_grid_views_of_any_batch(n, seed, errors):
    from invtoolkit.results.plots3d import plot_grids_3d

    grids = (np.random.default_rng(seed).random((n, 3, 4, 5)) < 0.5).astype(np.uint8)
    errs = {"none": None, "nan": np.full(n, math.nan), "short": np.zeros(max(n - 1, 0))}[errors]
    with tempfile.TemporaryDirectory() as tmp:
        plot_grids_3d(Path(tmp) / "g.png", grids, errs)
        assert written(Path(tmp) / "g.png")


@pytest.fixture(scope="module")
def material_fit():
    """A real measured fit on a tiny budget (the figures' input is then varied)."""
    from invtoolkit.fitting import fit_isotherms

    return fit_isotherms(MEASURED, budget=500, seed=0, keep=8)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keep=st.sampled_from([1, 8]), capacity=st.sampled_from([None, 0.0, math.nan, 1e-9]), constant=st.booleans(),
       log=st.booleans())
def test_measured_fit_outputs_for_degenerate_answers(material_fit, keep, capacity, constant, log):
    """The measured path's figures and report.json for one grid, equal curves, a zero or NaN capacity."""
    from dataclasses import replace

    from invtoolkit.fitting.answer import make_answer
    from invtoolkit.fitting.figures import draw_file, plot_material
    from invtoolkit.fitting.report import build_material_report, fit_summary_lines

    answer = make_answer(material_fit.fit, material_fit.scales, keep)
    if constant:
        answer = replace(answer, curves=np.full_like(answer.curves, 0.5))
    if capacity is not None:
        answer = replace(answer, capacities=np.full_like(answer.capacities, capacity),
                         files=[replace(f, capacity=capacity) for f in answer.files])
    report = build_material_report(answer, target_files=[MEASURED.name], chain="ga", seed=0, time_limit=None,
                                   note=None)
    json.dumps(report, allow_nan=False)
    if capacity is None or math.isfinite(capacity):  # (a NaN capacity: the terminal lines are not this issue's)
        assert fit_summary_lines(report)
    shown = SimpleNamespace(population=answer.population)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        plot_material(out / "isotherms.png", answer, log_pressure=log)
        rep.plot_grids(out / "grids.png", shown)
        plot_width_distribution(out / "psd.png", answer.summary, report["grids"][0]["descriptors"])
        plot_clusters(out / "clusters.png", shown, answer.summary, draw_isotherms=lambda ax, rows, labels:
                      draw_file(ax, answer, 0, rows, labels, log_pressure=log))
        assert all(written(out / f) for f in ("isotherms.png", "grids.png", "psd.png", "clusters.png"))

