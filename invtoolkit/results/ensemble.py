"""The ensemble of solutions: every distinct grid about as good as the best, in families.

The inverse map is one-to-many, so one grid says little about what the isotherm
determines. From a scored population (verified grids and their errors) the ensemble
keeps every grid distinct up to the torus symmetries whose error is within an absolute
``tolerance`` of the best, describes each (:mod:`invtoolkit.core.descriptors`) and groups
them into structurally different families by complete-linkage clustering of a few
scaled descriptors. The ranges of the descriptors over the ensemble say how well the
isotherm pins each one down; one representative per family shows the alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invtoolkit.core.descriptors import DESCRIPTOR_NAMES, batch_descriptors
from invtoolkit.errors import InputError

__all__ = ["DEFAULT_TOLERANCE", "ENSEMBLE_KEEP", "FAMILY_SCALES", "Ensemble", "build_ensemble"]

# Absolute MAE above the best error, chosen by benchmarks/ensemble.py (two runs of 20
# site-normalised targets, 20 s each; docs/what-the-isotherm-determines.md): the smallest
# tolerance at which the share of targets whose porosity and dominant width lie in the
# ensemble's range stopped growing (0.0005 to 0.02 tried); larger ones only widen the ranges.
DEFAULT_TOLERANCE = 0.002
# Verified candidates an inversion keeps when it builds the ensemble (one DFT call).
ENSEMBLE_KEEP = 64
# Two grids belong to one family when every one of these descriptors differs by at most
# its scale (complete linkage, Chebyshev distance <= 1 on the scaled values).
FAMILY_SCALES = {"porosity": 0.05, "dominant_width": 2.0, "mean_width": 2.0, "surface": 0.25}


@dataclass
class Ensemble:
    """Members sorted by error (best first), with descriptors and family labels."""

    grids: np.ndarray  # (M, *shape) uint8
    errors: np.ndarray  # (M,)
    index: np.ndarray  # (M,) positions in the population the ensemble was built from
    descriptors: list[dict]
    labels: np.ndarray  # (M,) family of each member; family 0 holds the best grid
    tolerance: float
    candidates: int  # finite-error distinct grids offered

    def __len__(self) -> int:
        return len(self.grids)

    @property
    def n_families(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def representatives(self) -> np.ndarray:
        """Member index of the best grid of every family, family 0 (the best grid) first."""
        return np.array([int(np.flatnonzero(self.labels == f)[0]) for f in range(self.n_families)], np.int64)

    def order(self, limit: int | None = None) -> np.ndarray:
        """Population positions for best.npy: the best grid, then one grid per other family."""
        rows = self.index[self.representatives()]
        return rows[:limit] if limit else rows

    def summary(self, rows: np.ndarray | None = None) -> dict:
        """JSON-ready ``{tolerance, count, clusters, descriptors, psd}``; ``rows``: the
        population positions written to best.npy, to name each family's row there."""
        placed = {int(r): i for i, r in enumerate(rows)} if rows is not None else {}
        clusters = []
        for f, rep in enumerate(self.representatives()):
            members = self.labels == f
            clusters.append({
                "size": int(members.sum()),
                "representative": int(rep),
                "best_row": placed.get(int(self.index[rep])),
                "error": float(self.errors[rep]),
                "descriptors": _scalar_ranges([self.descriptors[i] for i in np.flatnonzero(members)]),
            })
        return {
            "tolerance": float(self.tolerance),
            "best_error": float(self.errors[0]),
            "count": len(self),
            "candidates": int(self.candidates),
            "clusters": clusters,
            "descriptors": _scalar_ranges(self.descriptors),
            "psd": psd_spread(self.descriptors),
        }


def _scalar_ranges(descriptors: list[dict]) -> dict:
    out = {}
    for name in DESCRIPTOR_NAMES:
        values = np.array([float(d[name]) for d in descriptors])
        out[name] = {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}
    return out


def psd_spread(descriptors: list[dict]) -> list[list]:
    """[[width, min, mean, max], ...]: each width's share of pore cells over the members."""
    widest = max(int(d["max_width"]) for d in descriptors)
    table = np.zeros((len(descriptors), widest + 1))
    for i, d in enumerate(descriptors):
        for width, fraction in d["psd"]:
            table[i, int(width)] = fraction
    # the mean of equal shares can round past them (issue 33): clip it into [min, max]
    return [[w, float(table[:, w].min()), float(np.clip(table[:, w].mean(), table[:, w].min(), table[:, w].max())),
             float(table[:, w].max())] for w in range(1, widest + 1) if table[:, w].max() > 0]


def _distinct(grids: np.ndarray) -> np.ndarray:
    """Positions of the first grid of every torus-symmetry class, in input order."""
    try:
        from invtoolkit.core.symmetry import dedupe

        _, first = dedupe(grids, return_index=True)
        return np.asarray(first, np.int64)
    except Exception:  # a rank or size the canonical form does not cover: exact repeats only
        flat = np.ascontiguousarray(grids.reshape(len(grids), -1))
        _, first = np.unique(flat, axis=0, return_index=True)
        return np.sort(first)


def family_labels(descriptors: list[dict], scales: dict | None = None) -> np.ndarray:
    """Family of every member (members sorted best first); family 0 holds member 0 and
    families are numbered by their best member."""
    scales = scales or FAMILY_SCALES
    if len(descriptors) == 1:
        return np.zeros(1, np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    x = np.array([[float(d[name]) / s for name, s in scales.items()] for d in descriptors])
    raw = fcluster(linkage(x, method="complete", metric="chebyshev"), t=1.0, criterion="distance")
    renumber: dict[int, int] = {}
    for r in raw:  # first appearance in error order = the family's best member
        renumber.setdefault(int(r), len(renumber))
    return np.array([renumber[int(r)] for r in raw], np.int64)


def build_ensemble(grids: np.ndarray, errors: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
                   rank: int | None = None) -> Ensemble:
    """Distinct grids with error <= best + ``tolerance``, described and in families."""
    grids = np.asarray(grids, np.uint8)
    errors = np.asarray(errors, np.float64).reshape(-1)
    if len(errors) != len(grids):
        raise ValueError("errors and grids differ in length")
    if not np.isfinite(tolerance) or tolerance < 0:
        raise InputError(f"ensemble tolerance must be a number >= 0, got {tolerance:g}")
    valid = np.flatnonzero(np.isfinite(errors) & grids.reshape(len(grids), -1).any(1))
    if not len(valid):
        raise InputError("no scored grid to build an ensemble from")
    valid = valid[np.argsort(errors[valid], kind="stable")]
    valid = valid[_distinct(grids[valid])]
    chosen = valid[errors[valid] <= errors[valid[0]] + tolerance]
    descriptors = batch_descriptors(grids[chosen], rank)
    return Ensemble(grids[chosen], errors[chosen], chosen, descriptors, family_labels(descriptors),
                    float(tolerance), len(valid))


def ensemble_result(result, tolerance: float | None = None, limit: int | None = None):
    """A chain result reordered for best.npy (the best grid, then one grid per other
    family, at most ``limit``), with the ensemble it came from and its summary."""
    from dataclasses import replace

    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    pop = result.population
    ens = build_ensemble(pop.grids, pop.errors, tolerance, rank=pop.grids.ndim - 1)
    rows = ens.order(limit)
    caps = None if result.capacities is None else np.asarray(result.capacities)[rows]
    ordered = replace(result, population=pop[rows], curves=np.asarray(result.curves)[rows], capacities=caps)
    return ordered, ens, ens.summary(rows)


def summary_text(summary: dict) -> str:
    """One line for the terminal: how many grids, families and the main ranges."""
    d = summary["descriptors"]
    return (f"ensemble: {summary['count']} distinct grids within +{summary['tolerance']:g} of the best "
            f"({summary['best_error']:.5f}), {len(summary['clusters'])} famil"
            f"{'y' if len(summary['clusters']) == 1 else 'ies'}; porosity {d['porosity']['min']:.3f}-"
            f"{d['porosity']['max']:.3f}, dominant width {d['dominant_width']['min']:.0f}-"
            f"{d['dominant_width']['max']:.0f}, surface {d['surface']['min']:.2f}-{d['surface']['max']:.2f}")
