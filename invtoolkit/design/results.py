"""Design results: pick the best and the Pareto front from everything simulated,
verify them with the exact simulator (the chain's verify), and write best.npy,
pareto.npy, report.json and the plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.core.fileio import atomic_path, write_json
from invtoolkit.core.population import Population
from invtoolkit.core.symmetry import canonical_keys
from invtoolkit.design.problem import DesignProblem, values_of, violation
from invtoolkit.search.chain import verify as verify_population
from invtoolkit.search.evaluator import constrained_columns

MAX_FRONT = 64  # distinct designs kept on the front


@dataclass
class Designs:
    """Grids with their verified property values, objectives and constraint violation."""

    grids: np.ndarray
    values: np.ndarray
    f: np.ndarray
    violation: np.ndarray

    @property
    def feasible(self) -> np.ndarray:
        return self.violation <= 0

    def __len__(self) -> int:
        return len(self.grids)


@dataclass
class DesignResult:
    spec: object
    best: Designs
    pareto: Designs
    search: dict = field(default_factory=dict)
    curves: np.ndarray | None = None  # isotherms of the best designs (exact simulator)
    pressures: np.ndarray | None = None

    @property
    def best_value(self) -> float | None:
        """First objective of the best design (as the user states it, not negated), if feasible."""
        if not len(self.best) or not self.best.feasible[0]:
            return None
        return float(self.best.values[0, len(self.spec.constraints)])


def candidates(problem: DesignProblem, keep: int) -> tuple[Population, Population]:
    """(everything seen, the distinct feasible front) of the search's archive, each grid
    scored by its order (feasible first by the first objective, then by violation)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    grids, values = problem.archive()
    f, g = problem.split(values)
    pool = Population(grids, constrained_columns(f, g)[:, 0]) if len(grids) else Population.empty(problem.space)
    feasible = np.flatnonzero(violation(g) <= 0)
    if not len(feasible):
        return pool, pool[:0]
    front = feasible[NonDominatedSorting().do(f[feasible], only_non_dominated_front=True)]
    front = front[np.lexsort(f[front].T[::-1])]
    return pool, pool[front].unique(canonical_keys, limit=MAX_FRONT)


def verify(exact: DesignProblem, pop: Population, keep: int) -> tuple[Designs, np.ndarray]:
    """The chain's verify (:func:`invtoolkit.search.chain.verify`) on a design problem whose
    simulator is the exact one: (designs sorted feasible first, then the first objective;
    their full curves)."""
    pop, curves = verify_population(exact, pop, keep)
    if not len(pop):
        k = len(exact.entries)
        return Designs(pop.grids, np.zeros((0, k)), np.zeros((0, exact.n_objectives)), np.zeros(0)), curves
    values = values_of(exact.entries, curves, pop.grids)
    f, g = exact.split(values)
    cv = violation(g)
    order = np.lexsort((f[:, 0], cv))
    return Designs(pop.grids[order], values[order], f[order], cv[order]), curves[order]


def front_only(designs: Designs) -> Designs:
    """The verified feasible non-dominated subset (verification may move a point)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    keep = np.flatnonzero(designs.feasible)
    if len(keep):
        keep = keep[NonDominatedSorting().do(designs.f[keep], only_non_dominated_front=True)]
        keep = keep[np.lexsort(designs.f[keep].T[::-1])]
    return Designs(designs.grids[keep], designs.values[keep], designs.f[keep], designs.violation[keep])


def design_rows(result: DesignResult, designs: Designs) -> list[dict]:
    entries = result.spec.constraints + result.spec.objectives
    return [{"rank": i + 1, "feasible": bool(designs.feasible[i]), "violation": float(designs.violation[i]),
             "porosity": float(designs.grids[i].mean()),
             "properties": {e.label: float(v) for e, v in zip(entries, designs.values[i])}}
            for i in range(len(designs))]


def build_report(result: DesignResult) -> dict:
    return {"spec": result.spec.to_dict(), "spec_file": result.spec.source, "search": result.search,
            "best_value": result.best_value, "n_feasible_best": int(result.best.feasible.sum()),
            "best": design_rows(result, result.best), "pareto": design_rows(result, result.pareto)}


def write_results(out, result: DesignResult) -> list[str]:
    """Write every output into directory ``out``; returns the file names."""
    from invtoolkit.design import plots

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, grids in (("best.npy", result.best.grids), ("pareto.npy", result.pareto.grids)):
        with atomic_path(out / name, keep_suffix=True) as tmp:
            np.save(tmp, grids)
    write_json(out / "report.json", build_report(result))
    plots.isotherms(out / "isotherms.png", result)
    plots.grids(out / "grids.png", result)
    plots.front(out / "pareto.png", result)
    return ["best.npy", "pareto.npy", "report.json", "isotherms.png", "grids.png", "pareto.png"]
