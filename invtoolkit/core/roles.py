"""The role interfaces every plugin implements.

numpy at the boundaries (grids uint8, 1 = pore; curves float), torch inside models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from invtoolkit.core.defaults import DEFAULT_GRID_SHAPE
from invtoolkit.core.pressure import PressureSchedule

if TYPE_CHECKING:  # pragma: no cover
    from invtoolkit.core.population import Population
    from invtoolkit.core.problem import Problem
    from invtoolkit.core.termination import Termination
    from invtoolkit.core.space import GridSpace


def _space_of(shape) -> "GridSpace | None":
    from invtoolkit.core.space import GridSpace

    return None if shape is None else GridSpace(tuple(shape))


class Simulator(ABC):
    """Forward model: grids (N, *shape) of a grid space -> isotherms (N,P) on :attr:`schedule`."""

    name: str = "simulator"
    schedule: PressureSchedule = PressureSchedule()
    normalization: str = "pore"  # "pore": filled fraction of pore cells; "site": per lattice site
    grid_shape: tuple[int, ...] | None = None  # None: any grid space it supports

    @property
    def space(self) -> "GridSpace | None":
        """The only grid space this simulator takes (None: any)."""
        return _space_of(self.grid_shape)

    @property
    def pressures(self) -> np.ndarray:
        return self.schedule.pressures

    @property
    def params(self) -> dict:
        """Physical parameters that make two simulators' answers comparable."""
        return {"steps": self.schedule.steps, "normalization": self.normalization}

    @abstractmethod
    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """Return float64 (N,P) isotherms of uint8 grids (N, *shape) (rank 2: (N,H,W), rank 3: (N,D,H,W))."""

    def with_options(self, **options) -> "Simulator":
        """A copy with other options (e.g. normalization, adsorption_only); override."""
        raise NotImplementedError(f"{self.name} cannot change options {sorted(options)}")


class Surrogate(Simulator):
    """Learned, differentiable forward model. Loaded from and saved to files."""

    @abstractmethod
    def forward_torch(self, grids):
        """torch (N, *shape) float in [0,1] -> torch (N,P), differentiable."""

    @abstractmethod
    def save(self, path) -> None: ...


# -- capabilities: declared by subclassing, checked with isinstance / issubclass --------
class Trainable(ABC):
    """Builds a model from a labelled dataset (``invtoolkit train surrogate``)."""

    @classmethod
    @abstractmethod
    def train(cls, data, output, **options) -> dict:
        """Train on dataset ``data`` into model directory ``output``; return a summary
        with at least ``val_mae``, ``val_mae_p95`` and ``n_val``."""


class Fittable(ABC):
    """Trains in place through a differentiable surrogate (generators)."""

    #: the settings the last :meth:`fit` used (given ones and the defaults it filled in)
    fit_settings: dict = {}

    @abstractmethod
    def fit(self, surrogate, targets, **options) -> dict:
        """Train on target curves (N,P) through ``surrogate``; return the per-epoch history."""


class FineTunable(ABC):
    """Fine-tunes itself on new (grids, curves) pairs (active learning); a surrogate
    without it is fine-tuned generically through ``forward_torch``."""

    @abstractmethod
    def fine_tune(self, grids, curves, *, epochs: int, seed: int, lr: float, progress: bool = False) -> dict: ...


class WithUncertainty(ABC):
    """Predicts a per-point standard deviation beside the mean (ensembles)."""

    @abstractmethod
    def predict_with_uncertainty(self, grids, *, progress: bool = False):
        """(mean, std) float64 (N,P)."""


class Saveable(ABC):
    """Saves itself as a model directory, with ``extra`` config entries (e.g. a recipe)."""

    @abstractmethod
    def save(self, path, extra: dict | None = None) -> None: ...


class Generator(ABC):
    """Learned inverse: target isotherms x latent codes -> grids."""

    name: str = "generator"
    schedule: PressureSchedule = PressureSchedule()
    grid_shape: tuple[int, ...] = DEFAULT_GRID_SHAPE  # what it was trained for
    normalization: str = "pore"                       # of the isotherms it was trained on

    @property
    def space(self) -> "GridSpace":
        """The grid space of the grids it makes."""
        return _space_of(self.grid_shape)

    @abstractmethod
    def generate(self, targets: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
        """targets (M,P) on :attr:`schedule` (or its adsorption prefix) -> uint8 (M, n, *shape)."""


class Optimizer(ABC):
    """Search stage: (problem, starting population, termination) -> better population.

    ``termination`` (:mod:`invtoolkit.core.termination`; None = no limit) says when the
    stage must stop; the chain builds it from the stage's share of the time limit. Write
    optimizers on :class:`invtoolkit.search.Algorithm`, which honours it for you.
    """

    name: str = "optimizer"
    note: str | None = None  # what the chain's stage report says about the last run (e.g. a skip)

    @abstractmethod
    def run(
        self,
        problem: "Problem",
        population: "Population",
        *,
        rng: np.random.Generator,
        termination: "Termination | None" = None,
        progress: bool = False,
    ) -> "Population": ...


class Sampler(ABC):
    """Draws random grids for datasets and starting populations."""

    name: str = "sampler"

    @abstractmethod
    def sample(self, n: int, space: "GridSpace", rng: np.random.Generator) -> np.ndarray:
        """Return uint8 (n, *space.shape) grids, each with at least one pore cell.

        ``space`` is a GridSpace (a shape tuple is accepted too); a sampler that supports
        only some spaces (e.g. rank 2) raises InputError for the others."""
