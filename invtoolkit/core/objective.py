"""Objectives: simulated curves (and grids) -> scores, lower is better.

An objective says which pressure path the evaluator must simulate and how to
score the curves it gets back, so optimizers never need to know what is being
matched: a model isotherm (:class:`CurveMAE`), measured points with fitted
nuisance parameters, or design properties.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.pressure import PressurePath

NORMALIZATIONS = ("pore", "site")


def mae(curves: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean absolute error over the last axis: the one MAE.

    ``values`` broadcasts against ``curves``: one curve (P,) against many (N, P), row by
    row for equal shapes, or (M, 1, P) targets against (M, n, P) candidates."""
    curves = np.asarray(curves, dtype=np.float64)
    return np.abs(curves - np.asarray(values, dtype=np.float64)).mean(axis=-1)


def check_normalization(normalization: str) -> str:
    if normalization not in NORMALIZATIONS:
        raise InputError(f"unknown normalization '{normalization}' (pore or site)")
    return normalization


@dataclass
class Target:
    """A target isotherm on a pressure path (fractions in [0, 1])."""

    values: np.ndarray  # (P,)
    schedule: PressurePath
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
        check_normalization(self.normalization)

    @property
    def pressures(self) -> np.ndarray:
        return self.schedule.pressures

    @property
    def is_loop(self) -> bool:
        return not self.schedule.adsorption_only


class Objective(ABC):
    """Scores simulated curves; lower is better.

    ``path`` is what the evaluator must simulate (a prefix of the evaluator's
    schedule is enough); ``target`` is the model isotherm being matched when there
    is one (generators and porosity-guided seeding use it), else None.
    """

    name: str = "objective"
    path: PressurePath
    normalization: str = "pore"
    target: Target | None = None

    @abstractmethod
    def scores(self, curves: np.ndarray, grids: np.ndarray) -> np.ndarray:
        """(N,) scores of curves (N, len(path)) simulated for grids (N, *shape)."""

    def describe(self) -> dict:
        return {"name": self.name, "points": len(self.path), "normalization": self.normalization}


class PointErrors(ABC):
    """Capability of an objective whose score is the mean of errors at single points, so
    that a multi-objective search can split them (``nsga2``: below and above RH = 0.5)."""

    @property
    @abstractmethod
    def point_pressures(self) -> np.ndarray:
        """(M,) relative pressure of every scored point."""

    @abstractmethod
    def point_errors(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        """(N, M) errors at :attr:`point_pressures`; row means are the objective's scores."""


class CurveMAE(Objective, PointErrors):
    """Mean absolute error to a target isotherm on its own pressure path."""

    name = "curve"

    def __init__(self, target: Target):
        self.target = target
        self.path = target.schedule
        self.normalization = target.normalization

    def scores(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        return mae(curves, self.target.values)

    @property
    def point_pressures(self) -> np.ndarray:
        return self.path.pressures

    def point_errors(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        return np.abs(np.atleast_2d(curves) - self.target.values[None])
