"""The role interfaces every plugin implements.

numpy at the boundaries (grids uint8, 1 = pore; curves float), torch inside models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from invtoolkit.pressure import PressureSchedule

if TYPE_CHECKING:  # pragma: no cover
    from invtoolkit.population import Population
    from invtoolkit.problem import Problem


class Simulator(ABC):
    """Forward model: grids (N,H,W) -> isotherms (N,P) on :attr:`schedule`."""

    name: str = "simulator"
    schedule: PressureSchedule = PressureSchedule()
    normalization: str = "pore"  # "pore": filled fraction of pore cells; "site": per lattice site
    grid_shape: tuple[int, int] | None = None  # None: any H, W >= 3

    @property
    def pressures(self) -> np.ndarray:
        return self.schedule.pressures

    @property
    def params(self) -> dict:
        """Physical parameters that make two simulators' answers comparable."""
        return {"steps": self.schedule.steps, "normalization": self.normalization}

    @abstractmethod
    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """Return float64 (N,P) isotherms of uint8 grids (N,H,W)."""

    def with_options(self, **options) -> "Simulator":
        """A copy with other options (e.g. normalization, adsorption_only); override."""
        raise NotImplementedError(f"{self.name} cannot change options {sorted(options)}")


class Surrogate(Simulator):
    """Learned, differentiable forward model. Loaded from and saved to files."""

    @abstractmethod
    def forward_torch(self, grids):
        """torch (N,H,W) float in [0,1] -> torch (N,P), differentiable."""

    @abstractmethod
    def save(self, path) -> None: ...


class Generator(ABC):
    """Learned inverse: target isotherms x latent codes -> grids."""

    name: str = "generator"
    schedule: PressureSchedule = PressureSchedule()
    grid_shape: tuple[int, int] = (20, 20)

    @abstractmethod
    def generate(self, targets: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
        """targets (M,P) on :attr:`schedule` (or its adsorption prefix) -> uint8 (M,n,H,W)."""


class Optimizer(ABC):
    """Search stage: (problem, starting population) -> better population.

    ``deadline`` is a ``time.monotonic()`` value the stage must not overrun (None = none).
    """

    name: str = "optimizer"

    @abstractmethod
    def run(
        self,
        problem: "Problem",
        population: "Population",
        *,
        rng: np.random.Generator,
        deadline: float | None = None,
        progress: bool = False,
    ) -> "Population": ...


class Sampler(ABC):
    """Draws random grids for datasets and starting populations."""

    name: str = "sampler"

    @abstractmethod
    def sample(self, n: int, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Return uint8 (n,H,W) grids, each with at least one pore cell."""
