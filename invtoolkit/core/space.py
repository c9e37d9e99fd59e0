"""The grid space: what a grid is (shape, periodicity, symmetry) in one object.

Everything that needs a grid's shape asks a :class:`GridSpace` instead of unpacking
``(H, W)``: validation, random grids, single-cell moves, the torus symmetry group
and canonical forms, for rank 2 (H, W) and rank 3 (D, H, W) alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invtoolkit.errors import InputError

__all__ = ["GridSpace", "as_space"]


@dataclass(frozen=True)
class GridSpace:
    """Binary grids (1 = pore) of one shape, periodic on every axis, each axis >= 3."""

    shape: tuple[int, ...]
    periodic: bool = True

    def __post_init__(self):
        try:
            shape = tuple(int(v) for v in self.shape)
        except (TypeError, ValueError):
            raise InputError(f"grid shape must be integers, got {self.shape!r}") from None
        if len(shape) not in (2, 3):
            raise InputError(f"grids have rank 2 or 3, got shape {shape}")
        if min(shape) < 3:
            raise InputError(f"every grid axis must be >= 3, got {'x'.join(map(str, shape))}")
        object.__setattr__(self, "shape", shape)

    @classmethod
    def parse(cls, text: str) -> "GridSpace":
        """'20' (20x20), '20x24' or '16x16x16'."""
        try:
            sizes = [int(p) for p in str(text).lower().split("x")]
        except ValueError:
            sizes = []
        if len(sizes) == 1:
            sizes = sizes * 2
        if len(sizes) not in (2, 3):
            raise InputError(f"grid size '{text}': expected N, HxW or DxHxW, e.g. 20, 20x20 or 16x16x16")
        return cls(tuple(sizes))

    def __str__(self) -> str:
        return "x".join(str(s) for s in self.shape)

    # A space unpacks like its shape, so samplers written for ``h, w = shape`` still work.
    def __iter__(self):
        return iter(self.shape)

    def __len__(self) -> int:
        return len(self.shape)

    def __getitem__(self, index):
        return self.shape[index]

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def batch_ndim(self) -> int:
        """ndim of a batch (N, *shape) of grids of this space."""
        return self.rank + 1

    @property
    def c(self) -> int:
        """Nearest neighbours of a cell (4 in 2-D, 6 in 3-D)."""
        return 2 * self.rank

    @property
    def cells(self) -> int:
        return int(np.prod(self.shape))

    def empty(self, n: int = 0) -> np.ndarray:
        return np.zeros((n, *self.shape), np.uint8)

    def validate(self, grids, name: str = "grids") -> np.ndarray:
        """uint8 (N, *shape) of binary grids with a pore each; one-line InputError otherwise."""
        a = np.asarray(grids)
        if a.shape == self.shape:
            a = a[None]
        if a.ndim != self.batch_ndim or tuple(a.shape[1:]) != self.shape:
            raise InputError(f"{name}: expected grids of shape {self} (or a batch of them), got {a.shape}")
        if a.size and not np.isin(a, (0, 1)).all():
            raise InputError(f"{name}: grids must hold only 0 (wall) and 1 (pore)")
        a = np.ascontiguousarray(a, dtype=np.uint8)
        if len(a) and not a.reshape(len(a), -1).any(1).all():
            raise InputError(f"{name}: every grid needs at least one pore cell")
        return a

    def random(self, n: int, rng: np.random.Generator, porosity=None) -> np.ndarray:
        """Independent random cells; porosity drawn per grid in [0.2, 0.8] unless given."""
        if porosity is None:
            porosity = rng.uniform(0.2, 0.8, size=(n,) + (1,) * self.rank)
        grids = (rng.random((n, *self.shape)) < porosity).astype(np.uint8)
        grids.reshape(n, -1)[grids.reshape(n, -1).sum(1) == 0, 0] = 1  # never an all-wall grid
        return grids

    def flip(self, grid: np.ndarray, index: int) -> np.ndarray:
        """A copy of ``grid`` with cell ``index`` (row-major flat index) flipped."""
        out = np.array(grid, dtype=np.uint8, copy=True)
        out.reshape(-1)[int(index)] ^= 1
        return out

    def neighbours(self, grid: np.ndarray) -> np.ndarray:
        """All grids one flip away from ``grid``: (cells, *shape), neighbour k flips cell k."""
        flips = np.repeat(np.asarray(grid, np.uint8).reshape(1, -1), self.cells, axis=0)
        idx = np.arange(self.cells)
        flips[idx, idx] ^= 1
        return flips.reshape(self.cells, *self.shape)

    # -- symmetry (see invtoolkit.core.symmetry) -------------------------------------------
    @property
    def symmetry(self) -> int:
        """Size of the point group of the torus (8 for a square, 48 for a cube)."""
        from invtoolkit.core.symmetry import point_group_size

        return point_group_size(self.shape)

    def canonical(self, grids: np.ndarray) -> np.ndarray:
        """The canonical representative of every grid under the torus symmetries."""
        from invtoolkit.core.symmetry import canonical

        return canonical(grids)


def as_space(value) -> GridSpace:
    """A GridSpace from a GridSpace, a shape tuple or a text like '20x20'."""
    if isinstance(value, GridSpace):
        return value
    if isinstance(value, str):
        return GridSpace.parse(value)
    return GridSpace(tuple(value))
