"""Design properties: one number per simulated isotherm, vectorised over candidates.

A :class:`Property` is an :class:`~invtoolkit.core.objective.Objective` whose score is
the property's value (lower is better when used alone; a design spec says whether
to minimise, maximise or bound it). It reads curves (N, P) simulated on a pressure
path with an adsorption branch and, for loop properties, a desorption branch
(the uniform schedule by default), and returns (N,) values.

Branches as functions of RH: the adsorption branch is the first ``n_adsorption``
points; the desorption branch starts at the top of adsorption (the last adsorption
point) and follows the falling points, read back in rising order. Values between
points are linear interpolations. Concrete properties are plugins
(``register_objectives``); the built-ins live in ``invtoolkit_plugins.properties``.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.objective import Objective, check_normalization
from invtoolkit.core.pressure import PressurePath, PressureSchedule

BRANCHES = ("adsorption", "desorption")


class Property(Objective):
    """One value per candidate from its simulated isotherm (and grid).

    Subclasses set ``name``, ``option_names`` (the options a spec may give, checked
    in ``__init__``) and ``needs_desorption``, and implement :meth:`values`.
    """

    name = "property"
    option_names: tuple[str, ...] = ()
    needs_desorption: bool = False

    def __init__(self, *, schedule: PressurePath | None = None, normalization: str = "pore"):
        self.path = schedule if schedule is not None else PressureSchedule()
        self.normalization = check_normalization(normalization)
        if self.needs_desorption and self.path.adsorption_only:
            raise InputError(f"property '{self.name}' needs the desorption branch; the path has none")

    @abstractmethod
    def values(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        """(N,) property values of curves (N, len(path)) simulated for grids (N, *shape)."""

    def scores(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(self.values(curves, grids), dtype=np.float64)

    def settings(self) -> dict:
        """The options this property was built with (for reports)."""
        return {}

    def describe(self) -> dict:
        return {**super().describe(), **self.settings()}


# -- helpers every property uses --------------------------------------------------


def check_rh(value, what: str = "rh") -> float:
    """A relative pressure option: a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{what} must be a number in [0, 1], got {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{what} must be in [0, 1], got {value:g}")
    return value


def check_branch(value, what: str = "branch") -> str:
    if value not in BRANCHES:
        raise InputError(f"{what} must be 'adsorption' or 'desorption', got {value!r}")
    return value


def branch(curves: np.ndarray, path: PressurePath, which: str) -> tuple[np.ndarray, np.ndarray]:
    """(rh (M,), amounts (N, M)) of one branch, in rising RH order."""
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    if curves.shape[1] != len(path):
        raise InputError(f"curves have {curves.shape[1]} points, the pressure path has {len(path)}")
    n_ads, p = path.n_adsorption, path.pressures
    if which == "adsorption":
        return p[:n_ads], curves[:, :n_ads]
    if path.adsorption_only:
        raise InputError("the desorption branch was asked for, but the path is adsorption only")
    # The desorption branch starts where adsorption stopped: its top point is shared.
    return p[n_ads - 1:][::-1], curves[:, n_ads - 1:][:, ::-1]


def interp_rows(x: np.ndarray, y: np.ndarray, at: float) -> np.ndarray:
    """Linear interpolation of every row of y (N, M) on the rising axis x (M,) at one point.

    Outside the axis the end values hold (as np.interp does).
    """
    if at <= x[0]:
        return y[:, 0].copy()
    if at >= x[-1]:
        return y[:, -1].copy()
    j = int(np.searchsorted(x, at, side="right"))  # x[j-1] <= at < x[j]
    span = x[j] - x[j - 1]
    w = 0.0 if span <= 0 else (at - x[j - 1]) / span
    return (1.0 - w) * y[:, j - 1] + w * y[:, j]


def uptake_at(curves: np.ndarray, path: PressurePath, rh: float, which: str) -> np.ndarray:
    """(N,) amount at relative pressure ``rh`` on branch ``which``."""
    x, y = branch(curves, path, which)
    return interp_rows(x, y, rh)
