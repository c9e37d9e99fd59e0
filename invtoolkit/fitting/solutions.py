"""Every (structure, y) the data allow: the tolerance, the intervals and the ensemble.

The best pair of the score table is the fit. A pair is *allowed* when its score is
within the tolerance of the best (docs/what-the-isotherm-determines.md):

    tolerance = max(NOISE_FACTOR x noise, RELATIVE_SLACK x best, FLOOR)

``noise`` is the scatter of the data themselves: the mean absolute residual of an
isotonic (monotone) regression of each branch, over the file's largest amount; no
model can fit points closer than that, so scores that differ by less are
indistinguishable. ``RELATIVE_SLACK x best`` covers the model's own error: the lattice
model does not fit any real material exactly, and a search run again from another
seed lands at a different best y with a score up to about twice as far from the data
at the first run's y (DUT-67 methanol, seeds 0-2: best scores 0.0047-0.0053, best y
2.0-2.5; with a slack of 0.5 x best one seed's y interval missed another's best y;
benchmarks/dut67.py measures it on all five files). The y interval, the pore-volume interval and the
descriptor ranges are taken over all allowed pairs, so they describe the solutions
found from every start, not one basin. A pair's volume is not one value either: every
volume that keeps its score within the tolerance is allowed too (:func:`widen_volumes`),
so the pore-volume interval is never narrower than the data's own leeway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE_FACTOR = 2.0
RELATIVE_SLACK = 1.0
FLOOR = 0.002
# allowed y covering this share of the searched range say little about y: the structure
# compensates the wall affinity (wider pores at a stronger wall fill at the same pressure)
Y_UNDETERMINED_SHARE = 0.75


def branch_noise(pressures: np.ndarray, amounts: np.ndarray, n_adsorption: int) -> float:
    """Mean |residual| of a monotone fit of each branch, over max |amount|."""
    from scipy.optimize import isotonic_regression

    residuals = []
    for lo, hi in ((0, n_adsorption), (n_adsorption, len(amounts))):
        a, p = np.asarray(amounts[lo:hi], float), np.asarray(pressures[lo:hi], float)
        if len(a) < 2:
            continue
        order = np.argsort(p, kind="stable")  # both branches rise with pressure
        fitted = isotonic_regression(a[order]).x
        residuals.append(np.abs(a[order] - fitted))
    scale = float(np.abs(amounts).max()) or 1.0
    return float(np.concatenate(residuals).mean() / scale) if residuals else 0.0


def data_noise(files) -> float:
    return float(np.mean([branch_noise(m.pressures, m.amounts, m.n_adsorption) for m in files]))


def tolerance(best: float, noise: float, slack: float = RELATIVE_SLACK) -> float:
    """``slack``: the relative slack (benchmarks/fit_coverage.py compares others)."""
    return float(max(NOISE_FACTOR * noise, slack * best, FLOOR))


@dataclass
class Solutions:
    """The allowed pairs of a score table, summarised."""

    ys: list[float]  # best y per adsorbate group
    best: float
    tolerance: float
    noise: float
    grid_rows: np.ndarray  # table rows of the allowed grids, best first
    grid_scores: np.ndarray  # each allowed grid's best score over the profiles
    y_intervals: list[tuple[float, float]]
    volume_interval: tuple[float, float]  # of the shared volume (a single file: its capacity)
    searched: list[tuple[float, float]]  # y range scored per group

    @property
    def y_determined(self) -> list[bool]:
        """Per group: False when the allowed y cover most (``Y_UNDETERMINED_SHARE``) of the
        searched range, i.e. structures fit about as well at nearly any y tried."""
        return [not (hi - lo > 0 and (b - a) >= Y_UNDETERMINED_SHARE * (hi - lo))
                for (a, b), (lo, hi) in zip(self.y_intervals, self.searched)]


def solutions(table, ys: list[float], y_values: list[np.ndarray], noise: float,
              given: float | None = None) -> Solutions:
    """Profiles of every group around the best ``ys``; pairs within the tolerance
    (``given``: the user's, e.g. ``invert --ensemble``, instead of the data's)."""
    profiles = [table.profile(ys, g, values) for g, values in enumerate(y_values)]
    best = float(min(scores.min() for scores, _ in profiles))
    tol = tolerance(best, noise) if given is None else float(given)
    grid_best = np.min([scores.min(axis=0) for scores, _ in profiles], axis=0)
    intervals, lows, highs = [], [], []
    objective = table.objective
    share = objective.pore_share(table.grids)[None]
    for (scores, vols), values in zip(profiles, y_values):
        allowed = scores <= best + tol
        ys_ok = values[allowed.any(axis=1)]
        intervals.append((float(ys_ok.min()), float(ys_ok.max())))
        low, high = widen_volumes(vols, objective.volume_slack(best + tol - scores), objective.bounds[1], share)
        lows.append(low[allowed])
        highs.append(high[allowed])
    rows = np.flatnonzero(grid_best <= best + tol)
    rows = rows[np.argsort(grid_best[rows], kind="stable")]
    return Solutions(list(ys), best, tol, noise, rows, grid_best[rows], intervals,
                     (float(np.concatenate(lows).min()), float(np.concatenate(highs).max())),
                     [(float(v.min()), float(v.max())) for v in y_values])


def widen_volumes(vols: np.ndarray, slack: np.ndarray, bound: float, share) -> tuple[np.ndarray, np.ndarray]:
    """The pore volumes each (y, grid) pair allows: its fitted volume, widened by ``slack``
    (MaterialObjective.volume_slack of its gap to the limit) and capped by the plateau
    ``bound``; per-site amounts scale by the grid's pore ``share``. Another run whose best
    grid differs a little lands inside this, not just beside the fitted values."""
    low = np.clip(vols - slack, 0.0, None)
    high = np.maximum(np.minimum(vols + slack, bound), vols)
    return low * share, high * share
