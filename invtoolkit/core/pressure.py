"""Pressure paths: the relative pressures (p/p0) at which isotherms are simulated.

A path rises (adsorption) and then may fall (desorption). Branch values are
path-independent (docs/physics.md, "Real fluids and measured isotherms"), so any such list can be simulated exactly: the
uniform schedule of the learned models, or the pressures an instrument measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADSORPTION = 0
DESORPTION = 1


class PressurePath:
    """Any rising-then-falling sequence of relative pressures in [0, 1].

    The first ``n_adsorption`` points are the adsorption branch (non-decreasing);
    the rest is the desorption branch (non-increasing, starting at or below the top).
    """

    steps: int | None = None  # uniform schedules only

    def __init__(self, pressures, n_adsorption: int | None = None):
        p = np.asarray(pressures, dtype=np.float64).reshape(-1)
        n_ads = len(p) if n_adsorption is None else int(n_adsorption)
        _check_path(p, n_ads)
        self._pressures = p
        self._n_adsorption = n_ads

    @property
    def pressures(self) -> np.ndarray:
        """Relative pressure of every point, in path order."""
        return self._pressures

    @property
    def n_adsorption(self) -> int:
        return self._n_adsorption

    @property
    def adsorption_only(self) -> bool:
        return self.n_adsorption == len(self)

    @property
    def branches(self) -> np.ndarray:
        """ADSORPTION (0) or DESORPTION (1) for every point."""
        out = np.full(len(self), DESORPTION, dtype=np.int8)
        out[: self.n_adsorption] = ADSORPTION
        return out

    def __len__(self) -> int:
        return len(self.pressures)

    def same_as(self, other: "PressurePath") -> bool:
        """Same points on the same branches (uniform or not)."""
        return self.n_adsorption == other.n_adsorption and np.array_equal(self.pressures, other.pressures)

    def starts(self, other: "PressurePath") -> bool:
        """True if ``other`` (e.g. an adsorption target) is a prefix of this path."""
        n = len(other)
        if n > len(self) or other.n_adsorption > self.n_adsorption:
            return False
        if other.n_adsorption < n and other.n_adsorption != self.n_adsorption:
            return False
        return np.array_equal(self.pressures[:n], other.pressures)

    def __repr__(self) -> str:
        return f"PressurePath({len(self)} points, {self.n_adsorption} on adsorption)"


def _check_path(p: np.ndarray, n_ads: int) -> None:
    if len(p) == 0 or not 1 <= n_ads <= len(p):
        raise ValueError(f"a pressure path needs >= 1 adsorption point, got {n_ads} of {len(p)}")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("relative pressures must be finite and lie in [0, 1]")
    ads, des = p[:n_ads], p[n_ads:]
    if np.any(np.diff(ads) < 0):
        raise ValueError("adsorption pressures must not decrease")
    if len(des) and (np.any(np.diff(des) > 0) or des[0] > ads[-1]):
        raise ValueError("desorption pressures must fall from at most the highest adsorption pressure")


@dataclass(frozen=True, eq=True)
class PressureSchedule(PressurePath):
    """Adsorption at RH = 0, 1/steps, ..., 1, then desorption back to 0.

    ``steps=40`` gives the default 81-point loop (41 adsorption + 40 desorption).
    ``adsorption_only`` keeps the first ``steps + 1`` points.
    """

    steps: int = 40
    adsorption_only: bool = False

    def __post_init__(self):
        if int(self.steps) < 1:
            raise ValueError("steps must be >= 1")

    @property
    def adsorption(self) -> np.ndarray:
        return np.arange(self.steps + 1, dtype=np.float64) / self.steps

    @property
    def n_adsorption(self) -> int:
        return self.steps + 1

    @property
    def pressures(self) -> np.ndarray:
        ads = self.adsorption
        if self.adsorption_only:
            return ads
        return np.concatenate([ads, ads[-2::-1]])


def schedule_for_points(n_points: int, steps: int = 40) -> PressureSchedule:
    """Map a target length onto the simulator axis with ``steps`` steps.

    ``steps + 1`` points is the adsorption branch, ``2 * steps + 1`` the full loop.
    """
    if n_points == steps + 1:
        return PressureSchedule(steps, adsorption_only=True)
    if n_points == 2 * steps + 1:
        return PressureSchedule(steps)
    raise ValueError(
        f"{n_points} points fit neither the adsorption branch ({steps + 1}) "
        f"nor the full loop ({2 * steps + 1}) of a {steps}-step schedule"
    )
