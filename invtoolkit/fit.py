"""Fitting the lattice model to a measured isotherm: capacity, wall affinity y, structure.

A measured uptake is ``capacity x filled fraction`` (DESIGN.md §1). For one simulated
curve f (at the measured pressures) and measured amounts a, the capacity that
minimises the MAE ``mean_i |a_i - c f_i|`` has a closed form: since
``|a_i - c f_i| = f_i |a_i / f_i - c|`` (f_i > 0), it is the median of the ratios
``a_i / f_i`` weighted by ``f_i`` (:func:`fit_capacity`), so it costs nothing per
candidate. The search minimises that MAE divided by the largest measured amount (a
constant, so the search sees exactly the MAE at its best capacity, on a stable
scale); the report's ``relative_mae`` is the MAE divided by the fitted capacity.

y is fitted jointly with the structure (:func:`fit_measured`): a coarse scan of short
searches at several y, then the rest of the time on a full search at the best y
(seeded with the scan's grids there). T and TC come from the data, not fitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from invtoolkit.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.measured import MeasuredIsotherm
from invtoolkit.objective import Objective, PointErrors

Y_RANGE = (0.5, 3.5)  # wall/fluid interaction ratio scanned by default (1.5 is water's default)
SCAN_POINTS = 6  # y values of the coarse scan
SCAN_SHARE = 0.4  # fraction of the time limit spent on the scan


def fit_capacity(curves: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Per curve (N, P) the capacity c >= 0 minimising sum |amounts - c * curve| (N,).

    The weighted median of amounts / curve with weights curve (points with
    curve = 0 do not depend on c). All-zero curves get capacity 0.
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    amounts = np.asarray(amounts, dtype=np.float64)
    weights = np.clip(curves, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(weights > 0, amounts[None] / weights, np.inf)
    order = np.argsort(ratios, axis=1, kind="stable")
    r_sorted = np.take_along_axis(ratios, order, axis=1)
    w_sorted = np.take_along_axis(weights, order, axis=1)
    cumulative = np.cumsum(w_sorted, axis=1)
    total = cumulative[:, -1]
    # first index where the cumulative weight reaches half the total: a minimiser
    half = np.argmax(cumulative >= 0.5 * total[:, None], axis=1)
    capacity = r_sorted[np.arange(len(curves)), half]
    return np.where(total > 0, np.clip(capacity, 0.0, None), 0.0)


def capacity_mae(curves: np.ndarray, amounts: np.ndarray, capacity) -> np.ndarray:
    """MAE (in the amounts' unit) of ``capacity x curve`` against ``amounts`` (N,)."""
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    capacity = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (len(curves),))
    return np.abs(capacity[:, None] * curves - np.asarray(amounts, float)[None]).mean(axis=1)


class MeasuredObjective(Objective, PointErrors):
    """Measured points with the capacity fitted per candidate (or fixed).

    The evaluator simulates ``measured.simulation_path`` (RH = 0, then the measured
    pressures); scores are MAE / max |amount| at each curve's best capacity.
    """

    name = "measured"

    def __init__(self, measured: MeasuredIsotherm, capacity: float | None = None):
        if capacity is not None and not capacity > 0:
            raise InputError(f"--capacity must be positive, got {capacity:g}")
        self.measured = measured
        self.path = measured.simulation_path
        self.normalization = measured.normalization
        self.target = None  # no model isotherm on the simulator axis: generators do not apply
        self.amounts = np.asarray(measured.amounts, dtype=np.float64)
        self.fixed_capacity = capacity
        self.scale = float(np.abs(self.amounts).max()) or 1.0

    def fit(self, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(capacities, MAEs in the file's unit) of curves on ``self.path``."""
        points = np.atleast_2d(curves)[:, 1:]  # column 0 is the RH = 0 start
        if self.fixed_capacity is not None:
            capacity = np.full(len(points), float(self.fixed_capacity))
        else:
            capacity = fit_capacity(points, self.amounts)
        return capacity, capacity_mae(points, self.amounts, capacity)

    def scores(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        return self.fit(curves)[1] / self.scale

    @property
    def point_pressures(self) -> np.ndarray:
        return self.measured.pressures  # the path's RH = 0 start is not a measured point

    def point_errors(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        capacity = self.fit(curves)[0]
        return np.abs(capacity[:, None] * np.atleast_2d(curves)[:, 1:] - self.amounts[None]) / self.scale

    def describe(self) -> dict:
        return {"name": self.name, "points": len(self.amounts), "normalization": self.normalization,
                "score": "MAE at the best capacity / max measured amount"}


@dataclass
class MeasuredFit:
    """The fitted parameters of the best grid (report.json's ``fit``)."""

    measured: MeasuredIsotherm
    y: float
    capacity: float
    mae: float
    y_scan: list = field(default_factory=list)  # [{"y", "score", "evaluations"}] of the coarse scan
    y_source: str = "fitted"

    @property
    def relative_mae(self) -> float:
        return self.mae / self.capacity if self.capacity > 0 else float("inf")

    def as_dict(self) -> dict:
        m = self.measured
        return {"T": m.T, "TC": m.fluid.TC, "y": self.y, "y_source": self.y_source, "capacity": self.capacity,
                "unit": m.unit, "mae": self.mae, "relative_mae": self.relative_mae, "points": int(len(m.amounts)),
                "points_adsorption": int(m.n_adsorption), "adsorbate": m.fluid.name, "p0_source": m.p0_source,
                "normalization": m.normalization, "y_scan": self.y_scan}


def measured_simulator(measured: MeasuredIsotherm, y: float, name: str = DEFAULT_SIMULATOR):
    """The exact simulator at the measured pressures, with the file's T and TC and this y."""
    from invtoolkit.registry import create

    return create("simulator", name, T=measured.T, TC=measured.fluid.TC, y=float(y),
                  normalization=measured.normalization, path=measured.simulation_path)


def scan_values(y_range: tuple[float, float], n: int = SCAN_POINTS) -> np.ndarray:
    lo, hi = float(y_range[0]), float(y_range[1])
    if not (0 <= lo <= hi):
        raise InputError(f"--y-range must be two numbers 0 <= LOW <= HIGH, got {lo:g} {hi:g}")
    return np.array([lo]) if hi == lo else np.linspace(lo, hi, n)


def polish_y(result, objective: MeasuredObjective, measured: MeasuredIsotherm, y: float, y_range,
             offsets=np.linspace(-0.3, 0.3, 7)) -> float:
    """The verified grids re-scored at y + offsets (within ``y_range``); keep the best y.

    A few DFT calls of the final grids only: the scan's y grid is coarse, and the
    structure found at one y often fits a little better at a neighbouring one.
    ``result`` is updated in place (population order, errors and curves at that y).
    """
    grids = result.population.grids
    best = (float(result.population.errors[0]), y, result.curves)
    for offset in offsets:
        value = float(np.clip(y + offset, y_range[0], y_range[1]))
        if offset == 0 or value == y:
            continue
        curves = np.asarray(measured_simulator(measured, value).simulate(grids))
        scores = objective.scores(curves)
        if scores.min() < best[0]:
            best = (float(scores.min()), value, curves)
    if best[1] != y:
        curves = best[2]
        scores = objective.scores(curves)
        order = np.argsort(scores, kind="stable")
        result.population = type(result.population)(grids[order], scores[order])
        result.curves = curves[order]
    return best[1]


def fit_measured(measured: MeasuredIsotherm, chain, *, time_limit: float, seed: int = 0, y: float | None = None,
                 y_range=Y_RANGE, capacity: float | None = None, keep: int = 8, population=None,
                 progress: bool = False, log=None):
    """Search structure (and y unless given) for ``measured``; returns (ChainResult, MeasuredFit).

    ``chain`` (a :class:`~invtoolkit.chain.Chain`) runs once per scanned y on a
    short budget, then on the rest of ``time_limit`` at the best y.
    """
    objective = MeasuredObjective(measured, capacity)
    start = time.monotonic()
    scan, seeds = [], population
    if y is None:
        ys = scan_values(y_range)
        share = time_limit * SCAN_SHARE / len(ys) if len(ys) > 1 else 0.0
        for value in (ys if len(ys) > 1 else []):
            result = chain.run(objective, time_limit=share, seed=seed, simulator=measured_simulator(measured, value),
                               keep=keep, population=population, progress=progress)
            scan.append({"y": float(value), "score": float(result.best_error), "population": result.population})
            if log is not None:
                log(f"y = {value:.3g}: relative-scale MAE {result.best_error:.5f} ({share:.1f} s)")
        best = min(scan, key=lambda s: s["score"]) if scan else {"y": float(ys[0]), "population": population}
        y_value, seeds, y_source = best["y"], best["population"], "fitted"
    else:
        y_value, y_source = float(y), "given"
    left = max(time_limit - (time.monotonic() - start), 0.1 * time_limit)
    result = chain.run(objective, time_limit=left, seed=seed + 1, simulator=measured_simulator(measured, y_value),
                       keep=keep, population=seeds, progress=progress)
    if not len(result.population):
        raise InputError("no grid was evaluated within the time limit; raise --time-limit")
    if y is None:
        y_value = polish_y(result, objective, measured, y_value, y_range)
    caps, maes = objective.fit(result.curves)
    fit = MeasuredFit(measured, y_value, float(caps[0]), float(maes[0]),
                      [{"y": s["y"], "score": s["score"]} for s in scan], y_source)
    result.capacities = caps  # per verified grid, for the report and the plots
    result.seconds = time.monotonic() - start  # the scan counts against the limit too
    return result, fit
