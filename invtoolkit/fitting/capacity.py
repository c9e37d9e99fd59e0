"""The capacity (pore volume) of a measured material, fitted in closed form per structure.

A measured uptake is ``capacity x filled fraction`` (docs/physics.md). For simulated
curves f and amounts a, the capacity c minimising ``sum_i w_i |a_i - c f_i|`` is the
median of the ratios ``a_i / f_i`` weighted by ``w_i f_i`` (the loss is convex and
piecewise linear in c), so it costs nothing per candidate. Several files of one
material share one pore volume V: file k's capacity is ``V r_k`` (r_k converts cm3/g
into the file's loading unit), and the same weighted median over every file's points
gives V. A bound on V is honoured by clipping: the loss is convex in V.

Where the data show the pores full (:func:`plateau_bounds`), the capacity may not
exceed what the plateau holds by more than a filled fraction of ``MIN_TOP_FILLING``
allows: a structure that explains the points only with pores that never fill is not
a physical answer (issue 32), and the clip makes the search prefer ones that fill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A pore structure that is full at the plateau holds at least this fraction of its
# capacity there (mean-field bulk liquid at p0 fills 0.96-0.97 of a cell; the slack
# covers compressible filling and a plateau that still creeps up).
MIN_TOP_FILLING = 0.8
PLATEAU_WINDOW = 0.2  # p/p0 span below the top adsorption point the plateau test looks at
PLATEAU_RISE = 0.1  # largest relative rise over that span that still counts as a plateau
PLATEAU_MIN_PRESSURE = 0.75  # a plateau must be seen up to at least this p/p0 (below 0.95)
GURVICH_PRESSURE = 0.95  # the Gurvich volume: largest uptake up to this p/p0


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted median (N, M) -> (N,); rows with no weight give 0."""
    order = np.argsort(values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, axis=1)
    w = np.take_along_axis(weights, order, axis=1)
    cumulative = np.cumsum(w, axis=1)
    total = cumulative[:, -1]
    half = np.argmax(cumulative >= 0.5 * total[:, None], axis=1)  # first index reaching half: a minimiser
    return np.where(total > 0, v[np.arange(len(v)), half], 0.0)


def shared_capacity(curves: list[np.ndarray], amounts: list[np.ndarray], ratios, weights,
                    bounds=(0.0, np.inf)) -> np.ndarray:
    """V (N,) minimising ``sum_k weights[k] * sum_i |a_ki - V ratios[k] f_ki|`` within ``bounds``.

    ``curves[k]`` (N, M_k) are file k's simulated filled fractions at its points.
    """
    vals, wts = [], []
    for f, a, r, w in zip(curves, amounts, ratios, weights):
        f = np.clip(np.atleast_2d(np.asarray(f, np.float64)), 0.0, None) * float(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            vals.append(np.where(f > 0, np.asarray(a, np.float64)[None] / f, np.inf))
        wts.append(f * float(w))
    v = weighted_median(np.concatenate(vals, axis=1), np.concatenate(wts, axis=1))
    return np.clip(np.clip(v, 0.0, None), bounds[0], bounds[1])


def fit_capacity(curves: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Per curve (N, P) the capacity c >= 0 minimising sum |amounts - c * curve| (N,)."""
    return shared_capacity([curves], [amounts], [1.0], [1.0])


def capacity_mae(curves: np.ndarray, amounts: np.ndarray, capacity) -> np.ndarray:
    """MAE (in the amounts' unit) of ``capacity x curve`` against ``amounts`` (N,)."""
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    capacity = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (len(curves),))
    return np.abs(capacity[:, None] * curves - np.asarray(amounts, float)[None]).mean(axis=1)


@dataclass(frozen=True)
class Plateau:
    """What the adsorption branch says about complete filling (file's loading unit)."""

    reached: bool
    gurvich_amount: float  # largest adsorption uptake up to p/p0 = 0.95 (or the top point below it)
    top_pressure: float
    rise: float | None  # relative rise over the last PLATEAU_WINDOW of p/p0 (None: too few points)

    @property
    def capacity_bounds(self) -> tuple[float, float]:
        """(lowest, highest) capacity a structure that fills at the plateau can have."""
        if not self.reached:
            return 0.0, np.inf
        return 0.0, self.gurvich_amount / MIN_TOP_FILLING

    def reason(self) -> str:
        if self.reached:
            return (f"the adsorption branch levels off (rise {self.rise:.3f} over the last {PLATEAU_WINDOW:g} "
                    f"of p/p0 up to {self.top_pressure:.3g})")
        if self.top_pressure < PLATEAU_MIN_PRESSURE:
            return f"the adsorption branch stops at p/p0 = {self.top_pressure:.3g}, before the pores are seen full"
        rise = "too few points" if self.rise is None else f"still rises {self.rise:.0%}"
        return f"no plateau: the adsorption branch {rise} over the last {PLATEAU_WINDOW:g} of p/p0"


def plateau(pressures: np.ndarray, amounts: np.ndarray, n_adsorption: int) -> Plateau:
    """Whether the adsorption branch (points in path order) has reached its plateau."""
    p, a = np.asarray(pressures[:n_adsorption], float), np.asarray(amounts[:n_adsorption], float)
    below = p <= GURVICH_PRESSURE
    if not below.any():
        return Plateau(False, max(float(a[np.argmin(p)]), 0.0), float(p.min()), None)
    # The plateau is judged below p/p0 = 0.95, where the Gurvich rule reads it: the last
    # points near p0 often rise again by condensation between the crystals.
    p, a = p[below], np.maximum.accumulate(a[below])
    gurvich, top = float(a.max()), float(p.max())
    rise = None  # with the running maximum, interpolating between sparse points can only overstate it
    if (p < top - PLATEAU_WINDOW).any():
        start = float(np.interp(top - PLATEAU_WINDOW, p, a))
        rise = (gurvich - start) / gurvich if gurvich > 0 else None
    reached = bool(top >= PLATEAU_MIN_PRESSURE and rise is not None and rise <= PLATEAU_RISE)
    return Plateau(reached, max(gurvich, 0.0), top, rise)
