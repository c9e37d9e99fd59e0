"""An inversion problem: an objective scored on what an evaluator simulates."""

from __future__ import annotations

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.objective import CurveMAE, Objective, Target
from invtoolkit.core.roles import Simulator
from invtoolkit.core.space import GridSpace, as_space

__all__ = ["Problem", "Target"]


class Problem:
    """Objective + evaluator (simulator or surrogate) (+ the grid space searched).

    ``errors(grids)`` scores grids by the objective; all-wall grids score +inf.
    Counts evaluations so stages can report their cost. ``space`` is the grid space
    searched (a GridSpace, a shape or '20x20'; default: the evaluator's, if it has one).
    When the stage's time is up is the optimizer's termination's business, not the problem's.
    """

    def __init__(self, objective: Objective | Target, evaluator: Simulator, *, space=None):
        self.objective = CurveMAE(objective) if isinstance(objective, Target) else objective
        self.evaluator = evaluator
        self.space: GridSpace | None = as_space(space) if space is not None else evaluator.space
        self.n_evals = 0
        _check_compatible(self.objective, evaluator)
        # The objective's path is a prefix of the evaluator's (an adsorption target on a loop).
        self.index = np.arange(len(self.objective.path))

    @property
    def target(self) -> Target | None:
        return self.objective.target

    @property
    def path(self):
        """The pressure path the objective reads (a prefix of the evaluator's schedule)."""
        return self.objective.path

    def _batch(self, grids) -> np.ndarray:
        """uint8 (N, *shape); one grid of the problem's space becomes a batch of one."""
        grids = np.asarray(grids, dtype=np.uint8)
        rank = self.space.rank if self.space is not None else 2
        return grids[None] if grids.ndim == rank else grids

    def curves(self, grids: np.ndarray) -> np.ndarray:
        grids = self._batch(grids)
        self.n_evals += len(grids)
        return np.asarray(self.evaluator.simulate(grids))[:, self.index]

    def scores(self, curves: np.ndarray, grids: np.ndarray) -> np.ndarray:
        """Objective scores of curves already simulated on this problem's path."""
        return np.asarray(self.objective.scores(curves, grids), dtype=np.float64)

    def errors(self, grids: np.ndarray) -> np.ndarray:
        """Score of every grid (N,). All-wall grids score +inf."""
        grids = self._batch(grids)
        valid = grids.reshape(len(grids), -1).any(axis=1)
        out = np.full(len(grids), np.inf)
        if valid.any():
            out[valid] = self.scores(self.curves(grids[valid]), grids[valid])
        return out


def _check_compatible(objective: Objective, evaluator: Simulator) -> None:
    """The evaluator must simulate the objective's path with its normalization."""
    name = evaluator.name
    path, schedule = objective.path, evaluator.schedule
    if not schedule.starts(path):
        if path.steps is not None and schedule.steps is not None and path.steps != schedule.steps:
            raise InputError(f"target has {path.steps} pressure steps, evaluator '{name}' has {schedule.steps}")
        if len(path) > len(schedule):
            raise InputError(f"evaluator '{name}' gives {len(schedule)} points, target needs {len(path)}")
        raise InputError(f"evaluator '{name}' does not simulate the target's pressure path")
    if evaluator.normalization != objective.normalization:
        raise InputError(
            f"evaluator '{name}' normalises by {evaluator.normalization}, target by {objective.normalization}"
        )
