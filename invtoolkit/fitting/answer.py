"""A fit made into an answer: the best grids, each file's fitted numbers, physical units.

The allowed grids of the fit (:mod:`.solutions`) become the ensemble (families and
descriptor ranges, :mod:`invtoolkit.results.ensemble`); best.npy holds the best grid, then one
per other family. Each file gets its y, capacity, errors and pore volume; widths are
given in nm with every file's lattice spacing, the pore volume and its interval in
cm3/g, and a descriptor the data do not pin down is marked undetermined with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invtoolkit.results.ensemble import build_ensemble
from invtoolkit.core.population import Population

from .physical import FileScale, nm_range, surface_area_m2_g, widths_nm

# A width range covering at least this share of the widths a grid can have (1 .. side)
# says nothing about the structure: it is reported as undetermined.
UNDETERMINED_SHARE = 0.5


@dataclass
class FileFit:
    """One file's fitted numbers (report.json ``fits[k]``; ``fit`` for a single file)."""

    measured: object
    scale: FileScale
    y: float
    y_interval: tuple[float, float]
    capacity: float
    mae: float
    gurvich_volume: float | None
    plateau_reached: bool
    plateau_reason: str
    pore_share: float = 1.0  # per-site amounts: the best grid's porosity (pore volume = capacity x it)
    y_determined: bool = True  # False: the allowed y cover most of the searched range (solutions.py)

    @property
    def relative_mae(self) -> float:
        """MAE over the amount at complete pore filling (per-site amounts: capacity x porosity)."""
        full = self.capacity * self.pore_share
        return self.mae / full if full > 0 else float("inf")

    @property
    def pore_volume(self) -> float | None:
        return self.scale.pore_volume(self.capacity * self.pore_share)


@dataclass
class MaterialAnswer:
    fit: object  # the MaterialFit
    scales: list[FileScale]
    files: list[FileFit]
    population: Population  # best.npy rows: the best grid, then one per other family, scored
    ensemble: object  # invtoolkit.results.ensemble.Ensemble of the allowed grids
    summary: dict  # the ensemble's JSON summary, with nm ranges and determinacy
    curves: np.ndarray  # best.npy rows' curves at the fitted y (every file, side by side)
    capacities: np.ndarray  # (rows, K) per file
    volumes: np.ndarray  # (rows,) the shared volume (one file: its capacity, in its unit)

    @property
    def pore_volume(self) -> float | None:
        """The material's pore volume (cm3/g) of the best grid, None when units do not allow it."""
        objective = self.fit.objective
        share = float(objective.pore_share(self.population.grids[:1])[0])
        return self.scales[0].pore_volume(float(self.volumes[0]) * float(objective.ratios[0]) * share)


def make_answer(fit, scales: list[FileScale], keep: int) -> MaterialAnswer:
    sol, objective = fit.solutions, fit.objective
    grids = fit.table.grids[sol.grid_rows]
    spread = float(sol.grid_scores.max() - sol.grid_scores.min())  # every allowed grid is in
    ensemble = build_ensemble(grids, sol.grid_scores, spread, rank=grids.ndim - 1)
    rows = ensemble.order(keep)
    population = Population(grids[rows], sol.grid_scores[rows])
    curves = np.asarray(objective.simulator(fit.file_ys()).simulate(population.grids))
    volumes, caps, maes = objective.file_errors(curves)
    share = float(objective.pore_share(population.grids[:1])[0])
    files = [_file_fit(fit, k, scales[k], caps[0, k], maes[0, k], share) for k in range(len(scales))]
    summary = ensemble.summary(rows)
    summary.update({"tolerance": sol.tolerance, "best_error": sol.best, "noise": sol.noise,
                    "y_intervals": [list(i) for i in sol.y_intervals]})
    physical = _physical_ranges(ensemble, scales, objective, sol, grids.shape[1:])
    summary["descriptors"].update(physical.pop("widths_nm"))
    summary.update(physical)
    summary["one_family_note"] = one_family_note([d["dominant_width"] for d in ensemble.descriptors], fit.probes)
    return MaterialAnswer(fit, scales, files, population, ensemble, summary, curves, caps, volumes)


def _file_fit(fit, k: int, scale: FileScale, capacity: float, mae: float, share: float) -> FileFit:
    group = next(g for g, members in enumerate(fit.groups) if k in members)
    m, plateau = fit.objective.files[k], fit.objective.plateaus[k]
    return FileFit(m, scale, fit.solutions.ys[group], fit.solutions.y_intervals[group], float(capacity), float(mae),
                   scale.pore_volume(plateau.gurvich_amount), plateau.reached, plateau.reason(), share,
                   fit.solutions.y_determined[group])


def _physical_ranges(ensemble, scales, objective, sol, shape) -> dict:
    """Width ranges in nm, the pore-volume interval (cm3/g) and what is undetermined."""
    spacings = [s.lattice_spacing_nm for s in scales]
    side = min(shape)
    ranges = {}
    for name in ("dominant_width", "mean_width", "max_width"):
        cells = np.array([d[name] for d in ensemble.descriptors], float)
        entry = nm_range(cells, spacings)
        span = (cells.max() - cells.min() + 1) / side
        entry["determined"] = bool(span < UNDETERMINED_SHARE)
        if not entry["determined"]:
            entry["reason"] = (f"the allowed grids span {cells.min():.3g}-{cells.max():.3g} cells of a possible "
                               f"1-{side}: the data do not pin the width down")
        ranges[f"{name}_nm"] = entry
    volume = [scales[0].pore_volume(v * objective.ratios[0]) for v in sol.volume_interval]
    undetermined = {}
    per_volume = [f"'{m.unit}'" for m, s in zip(objective.files, scales) if s.capacity_per_volume is None]
    if per_volume:
        undetermined["pore_volume"] = (f"the loading unit {', '.join(per_volume)} is not an amount per mass (or the "
                                       "adsorbate's liquid density is unknown): no pore volume in cm3/g")
        volume = [None, None]
    elif not any(p.reached for p in objective.plateaus):
        undetermined["pore_volume"] = "; ".join(p.reason() for p in objective.plateaus)
        volume = [None, None]
    if objective.normalization == "pore":
        undetermined["porosity"] = ("pore-normalised uptake (filled fraction of the pore cells) does not depend on "
                                    "how many cells are pores: the isotherm does not determine the porosity")
    surfaces = [d["surface"] for d in ensemble.descriptors]
    return {"widths_nm": ranges, "undetermined": undetermined, "lattice_spacings_nm": spacings,
            "pore_volume_interval_cm3_g": None if None in volume else volume,
            "surface_area_interval_m2_g": _surface_interval(surfaces, volume, spacings)}


def one_family_note(dominant_widths, probes=()) -> str | None:
    """A note when every allowed grid has one dominant width: what the width probes found
    next to it (fitting.probes), or, where they did not look, a warning that another seed
    may reach a neighbouring family (docs/what-the-isotherm-determines.md, seed coverage)."""
    widths = set(int(w) for w in dominant_widths)
    if len(widths) != 1:
        return None
    width = widths.pop()
    rejected = sorted(w for w, ok in probes if not ok and abs(w - width) == 1)
    if rejected and all(w in rejected for w in (width - 1, width + 1) if w >= 1):
        return (f"every allowed grid has dominant width {width} cells: runs restricted to "
                f"{' and '.join(str(w) for w in rejected)} cells found none within the tolerance")
    return (f"every allowed grid has dominant width {width} cells: the searches reached one structure "
            "family; another --seed may reach a neighbouring one with a similar score")


def _surface_interval(surfaces, volume, spacings):
    if None in volume:
        return None
    values = [surface_area_m2_g(s, v, a) for s in (min(surfaces), max(surfaces)) for v in volume for a in spacings]
    return [float(min(values)), float(max(values))]


def grid_physical(descriptors: dict, scales: list[FileScale], pore_volume: float | None) -> dict:
    """Per grid: widths in nm at the first file's spacing and the specific surface."""
    a = scales[0].lattice_spacing_nm
    out = widths_nm(descriptors, a)
    out["surface_area_m2_g"] = surface_area_m2_g(descriptors["surface"], pore_volume, a)
    return out
