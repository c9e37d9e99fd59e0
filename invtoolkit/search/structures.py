"""Structured seeds: a systematic set of simple pore structures for starting populations.

Random-start search rarely assembles a large contiguous pore (issue 17: an 8-wide
slit or a 10 x 10 square stayed out of reach after 20 s), yet a handful of simple
shapes covers them: slits (slabs) of every width, squares (cubes) of every size,
rectangles (channels in 3-D) on a coarse grid of sizes, pairs of slits or squares,
and their inverses for nearly open cells: the open cell, single walls and solid blocks.

The physics is nearest-neighbour, so a pore's isotherm depends on its shape, not on
where it sits, and two pores separated by walls at least one cell thick fill
independently: one placement per size (and per pair of sizes) covers every
translate and every wall thickness. The set is distinct up to torus symmetry and
ordered by priority (single slits and squares first), so a caller short of time can
score a prefix.
"""

from __future__ import annotations

import itertools

import numpy as np

DENSE_SIZES = 4  # sizes 1..4 always appear in a coarse grid of sizes (narrow pores differ most)


def coarse_sizes(length: int, most: int = 12) -> list[int]:
    """Pore sizes 1 .. length-1: all of them when there are at most ``most``, else
    1..4 and an even spread up to length-1 (``most`` sizes in all)."""
    top = length - 1
    if top <= most:
        return list(range(1, top + 1))
    spread = np.rint(np.linspace(DENSE_SIZES + 1, top, most - DENSE_SIZES)).astype(int)
    return sorted(set(range(1, DENSE_SIZES + 1)) | set(int(s) for s in spread))


def box(shape, sides, starts=None) -> np.ndarray:
    """One periodic box pore of ``sides`` (one per axis) starting at ``starts`` (default 0)."""
    grid = np.ones(shape, bool)
    starts = (0,) * len(shape) if starts is None else starts
    for axis, (length, side, start) in enumerate(zip(shape, sides, starts)):
        profile = (np.arange(length) - start) % length < side
        grid &= profile.reshape([length if b == axis else 1 for b in range(len(shape))])
    return grid.astype(np.uint8)


def slits(shape) -> list[np.ndarray]:
    """Slits (slabs in 3-D) of every width 1 .. L-1 across every axis."""
    out = []
    for axis, length in enumerate(shape):
        for width in range(1, length):
            sides = list(shape)
            sides[axis] = width
            out.append(box(shape, sides))
    return out


def squares(shape) -> list[np.ndarray]:
    """Squares (cubes) of every size 1 .. min(L)-1."""
    return [box(shape, (side,) * len(shape)) for side in range(1, min(shape))]


def rectangles(shape, most: int = 12) -> list[np.ndarray]:
    """Boxes with sides on a coarse grid; in 3-D channels (one axis open, two coarse sides)."""
    if len(shape) == 2:
        return [box(shape, sides) for sides in itertools.product(*(coarse_sizes(n, most) for n in shape))]
    out = []
    for axis in range(len(shape)):
        across = [n for b, n in enumerate(shape) if b != axis]
        for pair in itertools.product(*(coarse_sizes(n, most) for n in across)):
            sides = list(pair)
            sides.insert(axis, shape[axis])
            out.append(box(shape, sides))
    return out


def _pair_sizes(length: int, most: int) -> list[tuple[int, int]]:
    """(a, b), a <= b, sizes from the (coarse) grid, with room for a wall on both sides."""
    sizes = coarse_sizes(length, most)
    return [(a, b) for a in sizes for b in sizes if a <= b and a + b + 2 <= length]


def pairs(shape, square: bool, most: int = 19) -> list[np.ndarray]:
    """Two parallel slits (square=False) or two squares/cubes along each axis, the second
    half-way along the wall that separates them."""
    out = []
    for axis, length in enumerate(shape):
        room = min((n for b, n in enumerate(shape) if b != axis), default=length)
        for a, b in _pair_sizes(length, most):
            if square and b > room - 1:
                continue
            gap = (length - a - b) // 2
            grid = np.zeros(shape, np.uint8)
            for size, start in ((a, 0), (b, a + gap)):
                sides = [size if square else n for n in shape]
                sides[axis] = size
                starts = [0] * len(shape)
                starts[axis] = start
                grid |= box(shape, sides, starts)
            out.append(grid)
    return out


def open_cells(shape) -> list[np.ndarray]:
    """The all-pore cell, and cells open but for one wall (slab) or one solid square
    (cube) of every size: the inverses of slits and squares."""
    return [np.ones(shape, np.uint8)] + [1 - g for g in slits(shape) + squares(shape)]


def structured_grids(shape) -> np.ndarray:
    """The structured seeds of a grid shape (N, *shape) uint8, distinct up to torus
    symmetry, in priority order: slits, squares, rectangles/channels, slit pairs,
    square pairs, open cells."""
    from invtoolkit.core.population import Population
    from invtoolkit.core.symmetry import canonical_keys

    shape = tuple(int(n) for n in shape)
    grids = slits(shape) + squares(shape) + rectangles(shape) + pairs(shape, False) + pairs(shape, True)
    grids += open_cells(shape)
    return Population(np.stack(grids)).unique(canonical_keys).grids
