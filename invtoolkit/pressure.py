"""The pressure (relative humidity) schedule shared by simulators and targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADSORPTION = 0
DESORPTION = 1


@dataclass(frozen=True)
class PressureSchedule:
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
    def pressures(self) -> np.ndarray:
        """Relative pressure of every point, in schedule order."""
        ads = self.adsorption
        if self.adsorption_only:
            return ads
        return np.concatenate([ads, ads[-2::-1]])

    @property
    def branches(self) -> np.ndarray:
        """ADSORPTION (0) or DESORPTION (1) for every point."""
        n_ads = self.steps + 1
        n = len(self.pressures)
        out = np.full(n, DESORPTION, dtype=np.int8)
        out[:n_ads] = ADSORPTION
        return out

    def __len__(self) -> int:
        return len(self.pressures)


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
