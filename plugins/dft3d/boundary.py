"""Boundaries of a lattice: periodic, or one axis open to layers of bulk fluid (reservoir).

``Boundary(kind="periodic")``: every axis periodic (the default of docs/physics.md).

``Boundary(kind="reservoir", layers=R, axis=0, far="reflect")``: axis ``axis`` of the
grid is not periodic.  Beyond its last face lie ``R`` layers of bulk fluid cells (s = 1,
no walls) that obey the same mean-field equation; the reservoir's outer face reflects
(a mirror: the cell beyond it is the face cell itself).  ``far`` says what lies beyond
the grid's first face: ``"reflect"`` (a mirror) or ``"reservoir"`` (a second block of R
bulk layers, its outer face reflecting too).  A mirror face is the same as continuing the
lattice by its mirror image, so a reflecting system equals a periodic one of twice the
length built from the system and its reflection (the tests use this).

The output of a solver stays the sum of rho over the grid's own cells: the reservoir is
the surroundings, not part of the sample.  Cells are numbered so that the grid's own cells
come first (row-major), then the reservoir beyond the last face, then (far = reservoir)
the one beyond the first face.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Boundary", "PERIODIC", "extend", "neighbour_table", "cell_coordinates", "cell_order"]


@dataclass(frozen=True)
class Boundary:
    """Boundary of the lattice (see the module doc)."""

    kind: str = "periodic"
    layers: int = 0
    axis: int = 0
    far: str = "reflect"

    def __post_init__(self):
        if self.kind not in ("periodic", "reservoir"):
            raise ValueError(f"boundary must be 'periodic' or 'reservoir', got {self.kind!r}")
        if self.far not in ("reflect", "reservoir"):
            raise ValueError(f"far side must be 'reflect' or 'reservoir', got {self.far!r}")
        if self.kind == "reservoir" and self.layers < 0:
            raise ValueError(f"reservoir layers must be >= 0, got {self.layers}")

    @property
    def periodic(self) -> bool:
        return self.kind == "periodic"


PERIODIC = Boundary()


def extend(grids: np.ndarray, boundary: Boundary = PERIODIC) -> np.ndarray:
    """(N, *shape) grids -> (N, *extended shape) with the reservoir layers in place.

    Spatial order along the open axis: [front reservoir] grid [back reservoir]; the
    reservoir cells are 1 (bulk fluid).  Periodic: the grids unchanged.
    """
    g = np.asarray(grids)
    if boundary.periodic:
        return g
    ax = 1 + boundary.axis
    if not 1 <= ax < g.ndim:
        raise ValueError(f"open axis {boundary.axis} outside a rank-{g.ndim - 1} grid")
    shape = list(g.shape)
    shape[ax] = boundary.layers
    bulk = np.ones(shape, dtype=g.dtype)
    parts = [g, bulk]
    if boundary.far == "reservoir":
        parts = [bulk, g, bulk]
    return np.concatenate(parts, axis=ax)


def cell_coordinates(shape, boundary: Boundary = PERIODIC) -> np.ndarray:
    """(rank, ncells) coordinates on the extended lattice of every cell, in cell order."""
    rank = len(shape)
    R = boundary.layers if not boundary.periodic else 0
    front = R if (not boundary.periodic and boundary.far == "reservoir") else 0
    blocks = [np.indices(shape).reshape(rank, -1)]
    if R:
        a = boundary.axis
        rshape = list(shape)
        rshape[a] = R
        back = np.indices(rshape).reshape(rank, -1)
        back[a] += shape[a]
        blocks.append(back)
        if front:
            fr = np.indices(rshape).reshape(rank, -1)
            fr[a] -= R
            blocks.append(fr)
    coords = np.concatenate(blocks, axis=1)
    if front:
        coords[boundary.axis] += front  # the front reservoir starts at 0
    return coords


def neighbour_table(shape, boundary: Boundary = PERIODIC):
    """(ncells, 2*rank) int64 neighbour cells of every cell, and the extended shape.

    Cell order: see the module doc (the grid's own prod(shape) cells first).  A mirror
    face makes the cell its own neighbour across that face.
    """
    shape = tuple(int(n) for n in shape)
    rank = len(shape)
    coords = cell_coordinates(shape, boundary)
    ext = list(shape)
    if not boundary.periodic:
        R = boundary.layers
        ext[boundary.axis] += R * (2 if boundary.far == "reservoir" else 1)
    index = np.full(ext, -1, dtype=np.int64)
    index[tuple(coords)] = np.arange(coords.shape[1])
    cols = []
    for a in range(rank):
        for step in (-1, 1):
            c = coords.copy()
            c[a] += step
            if boundary.periodic or a != boundary.axis:
                c[a] %= ext[a]
            else:
                c[a] = np.clip(c[a], 0, ext[a] - 1)  # mirror: the face cell itself
            cols.append(index[tuple(c)])
    return np.stack(cols, axis=1), tuple(ext)


def cell_order(grids: np.ndarray, boundary: Boundary = PERIODIC) -> np.ndarray:
    """(N, ncells) uint8 pore flags of the extended lattice in cell order (see module doc)."""
    g = (np.asarray(grids) != 0).astype(np.uint8)
    n = g.shape[0]
    shape = g.shape[1:]
    coords = cell_coordinates(shape, boundary)
    ext = extend(g, boundary)
    return np.ascontiguousarray(ext[(slice(None),) + tuple(coords)].reshape(n, -1))
