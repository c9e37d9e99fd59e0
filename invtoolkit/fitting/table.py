"""Candidate grids scored at many wall affinities: the fit's evidence in one table.

Searches at a few y values leave a pool of good grids; the exact simulator then scores
every pooled grid at every y of a fine grid (``Y_STEP``), one adsorbate group at a
time with the other groups at their best y (a profile). The best (grid, y) pair is the
fit; every pair within the tolerance of it is a solution the data allow
(:mod:`.solutions`). Curves are cached per (file, y), so re-asking costs nothing, and
every simulated grid is counted as work.
"""

from __future__ import annotations

import numpy as np

Y_STEP = 0.1  # resolution of the y grid (the wall affinity is fitted to this step)


def y_grid(lo: float, hi: float, step: float = Y_STEP) -> np.ndarray:
    """lo, lo + step, ..., hi (both ends included, rounded so that values repeat exactly)."""
    n = int(round((hi - lo) / step))
    return np.round(np.linspace(lo, hi, n + 1) if n > 0 else np.array([lo]), 6)


class ScoreTable:
    """Pooled grids x y values per adsorbate group, scored by a MaterialObjective."""

    def __init__(self, objective, grids: np.ndarray, groups: list[list[int]]):
        self.objective, self.grids, self.groups = objective, np.asarray(grids, np.uint8), groups
        self._curves: dict[tuple[int, float], np.ndarray] = {}
        self.evaluations = 0

    def file_curves(self, k: int, y: float) -> np.ndarray:
        key = (k, round(float(y), 6))
        if key not in self._curves:
            self._curves[key] = np.asarray(self.objective.simulator_for(k, y).simulate(self.grids))
            self.evaluations += len(self.grids)
        return self._curves[key]

    def add(self, grids: np.ndarray) -> None:
        """Append grids (callers dedupe); cached curves are extended by simulating only them."""
        grids = np.asarray(grids, np.uint8)
        if not len(grids):
            return
        self.grids = np.concatenate([self.grids, grids])
        for (k, y), curves in self._curves.items():
            self._curves[(k, y)] = np.vstack([curves, np.asarray(self.objective.simulator_for(k, y).simulate(grids))])
            self.evaluations += len(grids)

    def curves(self, ys: list[float]) -> np.ndarray:
        """Every file's curves side by side, file k at its group's y."""
        per_file = {k: ys[g] for g, members in enumerate(self.groups) for k in members}
        return np.hstack([self.file_curves(k, per_file[k]) for k in range(len(per_file))])

    def scores(self, ys: list[float]) -> np.ndarray:
        return self.objective.scores(self.curves(ys))

    def profile(self, ys: list[float], group: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores, volumes), each (len(values), N): group ``group`` at each value, the
        others at ``ys``."""
        scores, volumes = [], []
        for v in values:
            trial = list(ys)
            trial[group] = float(v)
            volume, score = self.objective.volumes_and_scores(self.curves(trial))
            scores.append(score)
            volumes.append(volume)
        return np.array(scores), np.array(volumes)

    def best_ys(self, ys: list[float], grids_of_y: list[np.ndarray], sweeps: int = 2) -> list[float]:
        """Coordinate descent over groups on their y grids (one sweep is exact for one group)."""
        ys = list(ys)
        for _ in range(sweeps if len(self.groups) > 1 else 1):
            for g, values in enumerate(grids_of_y):
                table = self.profile(ys, g, values)[0]
                ys[g] = float(values[int(np.argmin(table.min(axis=1)))])
        return ys
