"""Points of a measured file that cannot be one isotherm: repeats, pasted runs, outliers.

Pure numpy on one file's points (p/p0 and amounts); :func:`invtoolkit.parsing.measured._clean`
turns the findings into notes that name the rows and leaves the points out of the fit.

* Exact repeats: a row with the pressure and amount of an earlier row of its branch.
* Pasted runs: a branch whose pressures, in file order, restart MAX_RUNS times or less
  and whose every run has at least MIN_RUN points is two (or more) measurements pasted
  together: the longest run (the first on a tie) is kept. Fewer points out of order
  (single points, or many short runs as after a shuffle) are only sorted.
* Outliers, two robust tests on the sorted branches (``S`` = the trimmed span of all
  amounts, max minus min after leaving out the K = max(1, ceil(5 %)) highest and lowest,
  none when fewer than MIN_RUN would be left):
  - level: an amount below -S (below the trimmed minimum minus S if that is negative:
    an isotherm starts near zero, so a few low points of a type I isotherm are not
    outliers), or above the trimmed maximum by more than LEVEL_FACTOR x S, is out of any
    isotherm's range (a typo or a glitch such as a value x 10^6; the high side is
    lenient because a sparse isotherm may rise steeply at its last point);
  - monotone: the amount must lie within its neighbours' amounts (in the branch's
    pressure order; an end point only on its open side); a point outside that interval
    by more than MONOTONE_FACTOR x S is an isolated excursion. A real step (capillary
    condensation, a gate opening, a negative adsorption step as in DUT-49) moves
    several points, so each lies near one of its neighbours and none is flagged.
  An interior point moved by more than 2 S, a point moved below -2 S or one moved above
  the largest amount by more than ~100 S is always found; the shared real files give no
  outlier (tests/parsing/test_measured_mutations.py).
"""

from __future__ import annotations

import math

import numpy as np

MIN_RUN = 3
MAX_RUNS = 3
LEVEL_FACTOR = 100.0
MONOTONE_FACTOR = 0.5
TRIM_SHARE = 0.05


def repeats(p: np.ndarray, a: np.ndarray) -> list[tuple[int, int]]:
    """(row, earlier row it repeats) for rows equal in pressure and amount to an earlier one."""
    seen: dict[tuple[float, float], int] = {}
    out = []
    for i, key in enumerate(zip(p.tolist(), a.tolist())):
        if key in seen:
            out.append((i, seen[key]))
        else:
            seen[key] = i
    return out


def runs(p: np.ndarray, rising: bool) -> list[np.ndarray]:
    """Index ranges of the maximal stretches whose pressure moves the branch's way."""
    step = np.diff(p) if rising else -np.diff(p)
    cuts = np.flatnonzero(step < 0) + 1
    return [np.arange(lo, hi) for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(p)])]


def pasted(p: np.ndarray, rising: bool) -> list[np.ndarray] | None:
    """The runs of a branch made of 2..MAX_RUNS runs of MIN_RUN points or more, else None."""
    found = runs(p, rising)
    if 2 <= len(found) <= MAX_RUNS and all(len(r) >= MIN_RUN for r in found):
        return found
    return None


def trimmed_span(a: np.ndarray) -> tuple[float, float]:
    """(low, high): the amounts' min and max after leaving out the K most extreme on each side."""
    v = np.sort(a)
    k = max(1, math.ceil(TRIM_SHARE * len(v)))
    if len(v) - 2 * k < MIN_RUN:  # too few points to leave any out
        return float(v[0]), float(v[-1])
    return float(v[k]), float(v[len(v) - 1 - k])


def level_outliers(a: np.ndarray) -> np.ndarray:
    """Mask of amounts out of the range of the rest (see the module)."""
    lo, hi = trimmed_span(a)
    span = hi - lo
    return (a < min(lo, 0.0) - span) | (a > hi + LEVEL_FACTOR * span)  # an isotherm starts near 0


def monotone_outliers(a_sorted: np.ndarray, span: float) -> np.ndarray:
    """Mask of isolated excursions in one branch sorted by rising pressure (see the module)."""
    n = len(a_sorted)
    out = np.zeros(n, bool)
    if n < 3 or not span > 0:
        return out
    for i in range(n):
        below = a_sorted[i - 1] if i > 0 else -np.inf
        above = a_sorted[i + 1] if i < n - 1 else np.inf
        lo, hi = min(below, above), max(below, above)  # an end point: open on its outer side
        excess = max(lo - a_sorted[i], a_sorted[i] - hi, 0.0)
        out[i] = excess > MONOTONE_FACTOR * span
    return out
