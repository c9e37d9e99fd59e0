"""The constrained design problem: grids -> property values, objectives F and constraints G.

pymoo's convention, which the search toolkit's :class:`~invtoolkit.search.evaluator.Evaluator`
and the optimizer plugins read (``n_obj``, ``n_ieq_constr``, ``evaluate(grids) -> (F, G)``):
every objective column of F is minimised (a "max" goal is negated) and a design is
feasible when every column of G is <= 0. One G column per constraint:
``max(min - value, value - max)``, the distance outside its bounds. Every simulated grid
is archived once (keyed by its bytes), so the search never simulates a grid twice and
the results can be drawn from everything seen. ``screen`` (a surrogate, optional) gives
the cheap ``estimate`` an optimizer may pre-rank offspring with; ``scores`` orders
grids feasibility first for the chain's verify.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.core.defaults import DEFAULT_GRID_SHAPE
from invtoolkit.core.space import GridSpace
from invtoolkit.design.spec import DesignSpec
from invtoolkit.search.evaluator import constrained_columns

INFEASIBLE = 1e6  # stands for the violation and objectives of an all-wall grid


class DesignProblem:
    """A spec evaluated by one simulator (the exact one unless told otherwise)."""

    target = None  # no model isotherm: nothing to generate for, no porosity to guess

    def __init__(self, spec: DesignSpec, simulator, shape=DEFAULT_GRID_SHAPE, screen=None):
        self.spec = spec
        self.simulator = simulator
        self.screen = screen
        self.shape = tuple(shape)
        self.entries = spec.constraints + spec.objectives
        self.signs = np.array([1.0 if e.goal == "min" else -1.0 for e in spec.objectives])
        self.low = np.array([e.min for e in spec.constraints], dtype=np.float64)
        self.high = np.array([e.max for e in spec.constraints], dtype=np.float64)
        self._index: dict[bytes, int] = {}
        self._grids: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self.n_simulated = 0

    @property
    def n_constraints(self) -> int:
        return len(self.spec.constraints)

    @property
    def n_objectives(self) -> int:
        return len(self.spec.objectives)

    # pymoo's names, read by the search toolkit
    n_obj = n_objectives
    n_ieq_constr = n_constraints

    @property
    def space(self) -> GridSpace:
        return GridSpace(self.shape)

    @property
    def evaluator(self):
        return self.simulator

    @property
    def path(self):
        return self.simulator.schedule

    def evaluate(self, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F, G) of grids, simulated once each (archived)."""
        return self.split(self.values(grids))

    def estimate(self, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(F, G) by the screen surrogate (not archived, not counted); None without one."""
        if self.screen is None:
            return None
        values = np.full((len(grids), len(self.entries)), np.nan)
        valid = grids.reshape(len(grids), -1).any(axis=1)
        if valid.any():
            values[valid] = property_values(self.entries, self.screen, grids[valid])
        return self.split(values)

    def scores(self, curves: np.ndarray, grids: np.ndarray) -> np.ndarray:
        """Order of grids by their curves: feasible first by the first objective, then by violation."""
        return constrained_columns(*self.split(values_of(self.entries, curves, grids)))[:, 0]

    def values(self, grids: np.ndarray) -> np.ndarray:
        """(N, constraints + objectives) property values; simulates only unseen grids."""
        grids = np.ascontiguousarray(grids, dtype=np.uint8).reshape(-1, *self.shape)
        keys = [g.tobytes() for g in grids]
        new = {}
        for i, k in enumerate(keys):
            if k not in self._index and k not in new:
                new[k] = i
        if new:
            rows = np.fromiter(new.values(), dtype=np.int64)
            self._archive(grids[rows], [keys[i] for i in rows])
        return np.stack([self._values[self._index[k]] for k in keys]) if keys else np.zeros((0, len(self.entries)))

    def _archive(self, grids: np.ndarray, keys: list[bytes]) -> None:
        values = np.full((len(grids), len(self.entries)), np.nan)
        valid = grids.reshape(len(grids), -1).any(axis=1)
        if valid.any():
            values[valid] = property_values(self.entries, self.simulator, grids[valid])
            self.n_simulated += int(valid.sum())
        for g, k, v in zip(grids, keys, values):
            self._index[k] = len(self._grids)
            self._grids.append(g)
            self._values.append(v)

    def split(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F (N, objectives) to minimise, G (N, constraints) feasible when <= 0)."""
        c = values[:, : self.n_constraints]
        g = np.maximum(self.low - c, c - self.high)
        f = values[:, self.n_constraints:] * self.signs
        bad = ~np.isfinite(values).all(axis=1)  # all-wall grids
        g[bad], f[bad] = INFEASIBLE, INFEASIBLE
        return f, g

    def archive(self) -> tuple[np.ndarray, np.ndarray]:
        """(grids (M, H, W), values (M, K)) of every grid seen, in the order first seen."""
        if not self._grids:
            return np.zeros((0, *self.shape), np.uint8), np.zeros((0, len(self.entries)))
        return np.stack(self._grids), np.stack(self._values)


def values_of(entries, curves: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """(N, len(entries)) values of every entry's property on isotherms already simulated."""
    curves = np.asarray(curves, dtype=np.float64)
    return np.stack([e.prop.values(curves[:, : len(e.prop.path)], grids) for e in entries], axis=1)


def property_values(entries, simulator, grids: np.ndarray) -> np.ndarray:
    """(N, len(entries)) values of every entry's property on the simulated isotherms."""
    return values_of(entries, simulator.simulate(grids), grids)


def violation(g: np.ndarray) -> np.ndarray:
    """Total constraint violation (pymoo's CV): the sum of the positive parts of G."""
    return np.maximum(g, 0.0).sum(axis=1) if g.shape[1] else np.zeros(len(g))
