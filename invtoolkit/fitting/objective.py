"""Measured isotherms of one material as an objective: one structure, one pore volume.

Each file k is simulated on its own path (RH = 0, then its measured points) with its
own T, TC and wall affinity y; the search sees the mean over files of
``MAE_k / max |amount_k|`` at the shared pore volume (:mod:`.capacity`; each file's
capacity within ``GURVICH_SPREAD`` of it). One file is the
special case K = 1 and keeps the plain simulator and path, so every optimizer and the
multi-objective ``nsga2`` (per-point errors) work on it unchanged.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.core.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.core.objective import Objective, PointErrors
from invtoolkit.core.pressure import PressurePath
from invtoolkit.core.roles import Simulator

from .capacity import capacity_mae, plateau, shared_capacity

GURVICH_SPREAD = 0.15  # how far one file's pore volume may sit from the material's in a joint fit


def measured_simulator(measured, y: float, name: str = DEFAULT_SIMULATOR):
    """The exact simulator at the measured pressures, with the file's T and TC and this y."""
    from invtoolkit.hooks.registry import create

    return create("simulator", name, T=measured.T, TC=measured.fluid.TC, y=float(y),
                  normalization=measured.normalization, path=measured.simulation_path)


class JointPath(PressurePath):
    """Several files' paths one after another: what a :class:`JointSimulator` returns.

    Not one rising-then-falling path, so the branch check of PressurePath does not apply;
    every point counts as 'adsorption' for the prefix test of Problem, which only asks
    that the simulator gives exactly these columns.
    """

    def __init__(self, paths: list[PressurePath]):
        self._pressures = np.concatenate([p.pressures for p in paths])
        self._n_adsorption = len(self._pressures)
        self.parts = [len(p) for p in paths]


class JointSimulator(Simulator):
    """One simulator per file, their curves side by side (columns in file order)."""

    name = DEFAULT_SIMULATOR

    def __init__(self, simulators: list, path: JointPath):
        self.simulators, self.schedule = simulators, path
        self.normalization = simulators[0].normalization
        self.grid_shape = None

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        return np.hstack([np.asarray(s.simulate(grids)) for s in self.simulators])


class MaterialObjective(Objective, PointErrors):
    """Files of one material (K >= 1): shared structure and pore volume, y per file.

    ``ratios[k]``: file k's capacity per unit of the shared pore volume (1.0 for a
    single file, whose 'pore volume' is then its capacity in the file's unit).
    """

    name = "measured"

    def __init__(self, files: list, ratios=None, *, fixed_volume: float | None = None, bounded: bool = True):
        self.files = list(files)
        self.ratios = np.ones(len(files)) if ratios is None else np.asarray(ratios, float)
        self.amounts = [np.asarray(m.amounts, np.float64) for m in self.files]
        self.scales = np.array([float(np.abs(a).max()) or 1.0 for a in self.amounts])
        self.plateaus = [plateau(m.pressures, m.amounts, m.n_adsorption) for m in self.files]
        self.fixed_volume = fixed_volume
        # the plateau bound is about pore-normalised filling; per-site amounts never reach 1
        self.bounds = self._volume_bounds() if bounded and self.files[0].normalization == "pore" else (0.0, np.inf)
        paths = [m.simulation_path for m in self.files]
        self.path = paths[0] if len(paths) == 1 else JointPath(paths)
        self.cuts = np.cumsum([0] + [len(p) for p in paths])
        self.normalization = self.files[0].normalization
        self.target = None  # no model isotherm on the simulator axis: generators do not apply

    def _volume_bounds(self) -> tuple[float, float]:
        """The tightest upper bound of the files whose plateau is reached (capacity / ratio)."""
        highs = [p.capacity_bounds[1] / r for p, r in zip(self.plateaus, self.ratios) if p.reached]
        return (0.0, min(highs)) if highs else (0.0, np.inf)

    def pore_share(self, grids: np.ndarray) -> np.ndarray:
        """Fraction of a grid's cells that hold the pore volume at complete filling: 1 for
        pore-normalised amounts, the porosity for per-site ones (capacity counts every cell)."""
        grids = np.asarray(grids)
        if self.normalization != "site":
            return np.ones(len(grids))
        return grids.reshape(len(grids), -1).mean(axis=1)

    def simulator(self, ys, name: str = DEFAULT_SIMULATOR):
        """The evaluator of the whole objective, file k at wall affinity ``ys[k]``."""
        sims = [self.simulator_for(k, y, name) for k, y in enumerate(ys)]
        return sims[0] if len(sims) == 1 else JointSimulator(sims, self.path)

    def simulator_for(self, k: int, y: float, name: str = DEFAULT_SIMULATOR):
        return measured_simulator(self.files[k], y, name)

    def split(self, curves: np.ndarray) -> list[np.ndarray]:
        """File k's filled fractions at its measured points (the RH = 0 start dropped)."""
        curves = np.atleast_2d(curves)
        return [curves[:, lo + 1:hi] for lo, hi in zip(self.cuts[:-1], self.cuts[1:])]

    def volumes(self, curves: np.ndarray) -> np.ndarray:
        """The shared pore volume (or a single file's capacity) of every curve row."""
        parts = self.split(curves)
        if self.fixed_volume is not None:
            return np.full(len(parts[0]), float(self.fixed_volume))
        weights = 1.0 / (self.scales * np.array([a.size for a in self.amounts]))
        return shared_capacity(parts, self.amounts, self.ratios, weights, self.bounds)

    def file_errors(self, curves: np.ndarray):
        """(volumes (N,), capacities (N, K), MAEs (N, K) in each file's unit).

        Several files: each capacity is its own best within ``GURVICH_SPREAD`` of what the
        shared volume implies (the Gurvich rule holds to about that between adsorbates:
        packing and the pores a large molecule cannot enter differ).
        """
        parts = self.split(curves)
        volume = self.volumes(curves)
        caps = volume[:, None] * self.ratios[None]
        if len(self.files) > 1 and self.fixed_volume is None:
            for k, (f, a, p) in enumerate(zip(parts, self.amounts, self.plateaus)):
                own = shared_capacity([f], [a], [1.0], [1.0], p.capacity_bounds if self.bounds[1] < np.inf else
                                      (0.0, np.inf))
                caps[:, k] = np.clip(own, caps[:, k] * (1 - GURVICH_SPREAD), caps[:, k] * (1 + GURVICH_SPREAD))
        maes = np.stack([capacity_mae(f, a, caps[:, k]) for k, (f, a) in enumerate(zip(parts, self.amounts))], axis=1)
        return volume, caps, maes

    def volume_slack(self, gap) -> np.ndarray:
        """How far the shared volume may move from its fitted value while the score rises by
        at most ``gap``: a conservative bound, exact in sign. File k's capacity moves by at most
        ratio x (1 + band) per unit of volume, and its MAE by at most that (filled fractions
        are <= 1), so its score (MAE / scale) by at most ratio x (1 + band) / scale."""
        if self.fixed_volume is not None:
            return np.zeros_like(np.asarray(gap, float))
        band = GURVICH_SPREAD if len(self.files) > 1 else 0.0
        rise = float(np.mean(self.ratios * (1 + band) / self.scales))
        return np.clip(np.asarray(gap, float), 0.0, None) / rise

    def volumes_and_scores(self, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        volume, _, maes = self.file_errors(curves)
        return volume, (maes / self.scales[None]).mean(axis=1)

    def scores(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        return self.volumes_and_scores(curves)[1]

    @property
    def point_pressures(self) -> np.ndarray:
        """Every file's measured pressures, in file order (the RH = 0 starts are not points)."""
        return np.concatenate([m.pressures for m in self.files])

    def point_errors(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        """|capacity x curve - amount| per point over its file's scale, weighted so that the row
        means are the scores (each file counts once, whatever its number of points)."""
        _, caps, _ = self.file_errors(curves)
        sizes = np.array([a.size for a in self.amounts])
        weights = sizes.sum() / (len(self.files) * sizes * self.scales)
        return np.hstack([np.abs(caps[:, [k]] * f - a[None]) * w for k, (f, a, w) in
                          enumerate(zip(self.split(curves), self.amounts, weights))])

    def describe(self) -> dict:
        return {"name": self.name, "files": len(self.files), "points": int(sum(a.size for a in self.amounts)),
                "normalization": self.normalization, "score": "mean over files of MAE / max measured amount"}


class MeasuredObjective(MaterialObjective):
    """One measured file with its capacity fitted per candidate (or fixed)."""

    def __init__(self, measured, capacity: float | None = None, *, bounded: bool = False):
        if capacity is not None and not capacity > 0:
            raise InputError(f"--capacity must be positive, got {capacity:g}")
        super().__init__([measured], fixed_volume=capacity, bounded=bounded)
        self.measured = measured

    def fit(self, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(capacities, MAEs in the file's unit) of curves on ``self.path``."""
        _, caps, maes = self.file_errors(curves)
        return caps[:, 0], maes[:, 0]
