"""An inversion problem: a target isotherm, an evaluator, and the MAE objective."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.pressure import ADSORPTION, PressureSchedule
from invtoolkit.roles import Simulator


@dataclass
class Target:
    """A target isotherm on a simulator pressure schedule (adsorption prefix or full loop)."""

    values: np.ndarray  # (P,)
    schedule: PressureSchedule
    normalization: str = "pore"
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        if len(self.values) != len(self.schedule):
            raise InputError(f"target has {len(self.values)} points, schedule has {len(self.schedule)}")
        if not np.all(np.isfinite(self.values)):
            raise InputError("target contains NaN or infinite amounts")
        if self.values.min() < 0 or self.values.max() > 1:
            raise InputError("target amounts must lie in [0, 1]")
        if self.normalization not in ("pore", "site"):
            raise InputError(f"unknown normalization '{self.normalization}' (pore or site)")

    @property
    def pressures(self) -> np.ndarray:
        return self.schedule.pressures

    @property
    def is_loop(self) -> bool:
        return not self.schedule.adsorption_only


class Problem:
    """Target + evaluator. ``errors(grids)`` is the MAE over the target's points.

    Counts evaluations so stages can report their cost, and carries an optional
    overall deadline (``time.monotonic()``).
    """

    def __init__(self, target: Target, evaluator: Simulator, *, deadline: float | None = None):
        self.target = target
        self.evaluator = evaluator
        self.deadline = deadline
        self.n_evals = 0
        n_target = len(target.values)
        ev_sched = evaluator.schedule
        if ev_sched.steps != target.schedule.steps:
            raise InputError(
                f"target has {target.schedule.steps} pressure steps, evaluator '{evaluator.name}' has {ev_sched.steps}"
            )
        if n_target > len(ev_sched):
            raise InputError(f"evaluator '{evaluator.name}' gives {len(ev_sched)} points, target needs {n_target}")
        if getattr(evaluator, "normalization", "pore") != target.normalization:
            raise InputError(
                f"evaluator '{evaluator.name}' normalises by {evaluator.normalization}, target by {target.normalization}"
            )
        # The adsorption branch is the prefix of the loop, so the target's points are the first ones.
        self.index = np.arange(n_target)
        self.branches = target.schedule.branches

    @property
    def grid_shape(self) -> tuple[int, int]:
        return getattr(self.evaluator, "grid_shape", None) or (20, 20)

    def search_shape(self, population) -> tuple[int, int]:
        """Grid shape of a search: the population's (an empty (0,H,W) one too), else the evaluator's."""
        if population is not None and population.grids.ndim == 3:
            return tuple(population.grids.shape[1:])
        return tuple(self.grid_shape)

    def with_evaluator(self, evaluator: Simulator) -> "Problem":
        return Problem(self.target, evaluator, deadline=self.deadline)

    def curves(self, grids: np.ndarray) -> np.ndarray:
        grids = np.asarray(grids, dtype=np.uint8)
        if grids.ndim == 2:
            grids = grids[None]
        self.n_evals += len(grids)
        return np.asarray(self.evaluator.simulate(grids))[:, self.index]

    def errors_of_curves(self, curves: np.ndarray) -> np.ndarray:
        return np.abs(curves - self.target.values[None]).mean(axis=1)

    def errors(self, grids: np.ndarray) -> np.ndarray:
        """MAE of every grid against the target (N,). All-wall grids score +inf."""
        grids = np.asarray(grids, dtype=np.uint8)
        if grids.ndim == 2:
            grids = grids[None]
        valid = grids.reshape(len(grids), -1).any(axis=1)
        out = np.full(len(grids), np.inf)
        if valid.any():
            out[valid] = self.errors_of_curves(self.curves(grids[valid]))
        return out

    def branch_errors(self, grids: np.ndarray) -> np.ndarray:
        """(N,2) MAE on the adsorption and on the desorption points (NaN if absent)."""
        curves = self.curves(grids)
        diff = np.abs(curves - self.target.values[None])
        ads = self.branches == ADSORPTION
        out = np.full((len(curves), 2), np.nan)
        out[:, 0] = diff[:, ads].mean(1)
        if (~ads).any():
            out[:, 1] = diff[:, ~ads].mean(1)
        return out

    def time_left(self) -> float:
        if self.deadline is None:
            return float("inf")
        return self.deadline - time.monotonic()
