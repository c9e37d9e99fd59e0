"""A population of candidate grids with their errors on the current problem."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invtoolkit.core.space import GridSpace, as_space


@dataclass
class Population:
    grids: np.ndarray  # uint8 (N, *shape) of a rank-2 or rank-3 grid space
    errors: np.ndarray | None = None  # float (N,), lower is better; None = not scored

    def __post_init__(self):
        self.grids = np.ascontiguousarray(self.grids, dtype=np.uint8)
        if self.grids.ndim not in (3, 4):
            raise ValueError(f"population grids must be a batch (N, *shape) of 2-D or 3-D grids, got {self.grids.shape}")
        if self.errors is not None:
            self.errors = np.asarray(self.errors, dtype=np.float64).reshape(-1)
            if len(self.errors) != len(self.grids):
                raise ValueError("errors and grids differ in length")

    def __len__(self) -> int:
        return len(self.grids)

    @property
    def space(self) -> GridSpace:
        """The grid space of the grids (an empty population keeps its shape)."""
        return GridSpace(tuple(self.grids.shape[1:]))

    @classmethod
    def empty(cls, space) -> "Population":
        """No grids, of a GridSpace (or a shape)."""
        return cls(as_space(space).empty(), np.zeros(0))

    @classmethod
    def random(cls, n: int, space, rng: np.random.Generator, porosity=None) -> "Population":
        """Independent random cells; porosity drawn per grid in [0.2, 0.8] unless given."""
        return cls(as_space(space).random(n, rng, porosity=porosity))

    @property
    def scored(self) -> bool:
        return self.errors is not None

    def sorted(self) -> "Population":
        if self.errors is None:
            return self
        order = np.argsort(self.errors, kind="stable")
        return Population(self.grids[order], self.errors[order])

    def best(self, k: int = 1) -> "Population":
        return self.sorted()[:k]

    def __getitem__(self, index) -> "Population":
        errors = None if self.errors is None else self.errors[index]
        return Population(self.grids[index], errors)

    def concat(self, other: "Population") -> "Population":
        if len(self) == 0:
            return other
        if len(other) == 0:
            return self
        errors = None
        if self.errors is not None and other.errors is not None:
            errors = np.concatenate([self.errors, other.errors])
        return Population(np.concatenate([self.grids, other.grids]), errors)

    def unique(self, key=None, limit: int | None = None) -> "Population":
        """Drop repeated grids (keeping the first); ``key`` maps grids to comparable arrays
        (e.g. ``invtoolkit.core.symmetry.canonical_keys``: distinct up to torus symmetry).
        ``limit``: the first that many only, keyed in chunks of 4 x limit, so a large archive
        (a design's holds 10^4-10^5 grids) is not keyed whole."""
        step = max(len(self), 1) if limit is None else 4 * max(int(limit), 1)
        seen, keep = set(), []
        for start in range(0, len(self), step):
            block = self.grids[start:start + step]
            for i, g in enumerate(key(block) if key is not None else block, start):
                b = np.ascontiguousarray(g).tobytes()
                if b not in seen:
                    seen.add(b)
                    keep.append(i)
                    if limit is not None and len(keep) == limit:
                        return self[np.array(keep, dtype=np.int64)]
        return self[np.array(keep, dtype=np.int64)]

    @property
    def best_error(self) -> float:
        if self.errors is None or len(self.errors) == 0:
            return float("nan")
        return float(np.nanmin(self.errors))
