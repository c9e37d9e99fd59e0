"""Structure-family samplers: the structures users bring, each family on its own.

One sampler per family, so that per-family and leave-one-family-out evaluation are
possible (issue 17), plus mixtures of them. Every sampler is vectorised over grids,
seeded by the ``rng`` it is given, returns uint8 grids of the asked shape (rank 2
(H, W) or rank 3 (D, H, W), every axis >= 3), 1 = pore, with at least one pore cell.

* ``fam-random``   independent cells, porosity uniform in 0.02-0.99
* ``fam-smooth``   thresholded smooth periodic Gaussian fields, correlation length
                   log-uniform from 0.5 cell to twice the cell, porosity 0.02-0.99
* ``fam-slit``     one slit (slab) pore of width 1 .. L-1, uniform, along any axis
* ``fam-rect``     one rectangular (box) pore, sides 1 .. L-1, half of them squares
* ``fam-pair``     two separate pores of different size: two parallel slits or two
                   squares (two connected components on the torus)
* ``fam-union``    union of the pores of two grids of two families
* ``fam-dense``    nearly full (porosity 0.85-0.99) and nearly empty grids: a few
                   wall (or pore) cells, blocks, walls or blobs
* ``families``     the mixture of all of the above (``weights`` to change it)
* ``families-mixed`` half ``families``, half the default ``mixed`` sampler (training
                   set that covers the families and keeps what the model knew)
"""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import InputError, Sampler, hookimpl
from invtoolkit_plugins.samplers import fraction_option, range_option


def _check_shape(shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 3) or min(shape) < 3:
        raise InputError(f"family samplers need a grid of rank 2 or 3 with every axis >= 3, got {shape}")
    return shape


def ensure_pore_nd(grids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Open one random cell in every grid (any rank) that has no pore cell."""
    flat = grids.reshape(len(grids), -1)
    empty = np.flatnonzero(~flat.any(1))
    if empty.size:
        flat[empty, rng.integers(0, flat.shape[1], empty.size)] = 1
    return grids


def threshold_to_porosity(field: np.ndarray, porosity: np.ndarray) -> np.ndarray:
    """Pore = cells at or above the per-grid quantile that leaves ``porosity`` (>= 1 cell)."""
    n = len(field)
    flat = field.reshape(n, -1)
    cells = flat.shape[1]
    k = np.clip(np.rint((1 - porosity) * cells).astype(np.int64), 0, cells - 1)
    threshold = np.take_along_axis(np.sort(flat, axis=1), k[:, None], axis=1)
    return (flat >= threshold).astype(np.uint8).reshape(field.shape)


def random_grids(n, shape, rng, porosity: np.ndarray) -> np.ndarray:
    """Independent cells, exactly round(porosity x cells) pores per grid (at least 1)."""
    field = rng.random((n, *shape), dtype=np.float32)
    return threshold_to_porosity(field, porosity)


def smooth_field(n, shape, rng, lengths: np.ndarray) -> np.ndarray:
    """(n, *shape) periodic Gaussian random fields of correlation lengths ``lengths`` (n,).

    The Gaussian filter is divided by its largest non-constant mode per grid, so that
    fields much longer than the cell keep their shape in float32 (the quantile threshold
    is blind to scale and to the constant mode, which is set to 0).
    """
    axes = tuple(range(1, len(shape) + 1))
    freqs = [np.fft.fftfreq(s) for s in shape[:-1]] + [np.fft.rfftfreq(shape[-1])]
    k2 = sum(np.meshgrid(*[(2 * np.pi * f) ** 2 for f in freqs], indexing="ij"))
    exponent = 0.5 * lengths.reshape(-1, *([1] * len(shape))) ** 2 * k2[None]
    exponent = exponent - exponent.reshape(n, -1)[:, 1:].min(1).reshape(-1, *([1] * len(shape)))
    kernel = np.exp(-np.minimum(exponent, 80.0)).astype(np.float32)
    kernel.reshape(n, -1)[:, 0] = 0.0
    spectrum = np.empty(kernel.shape, np.complex64)
    spectrum.real = rng.standard_normal(kernel.shape, dtype=np.float32) * kernel
    spectrum.imag = rng.standard_normal(kernel.shape, dtype=np.float32) * kernel
    return np.fft.irfftn(spectrum, s=shape, axes=axes).astype(np.float32)


def _axis_profile(length: int, offsets: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """(n, length) bool: periodic interval [offset, offset + width) on one axis."""
    return (np.arange(length)[None, :] - offsets[:, None]) % length < widths[:, None]


def boxes(shape, starts: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """(n, *shape) uint8: one periodic box per grid, ``starts``/``sides`` of shape (n, rank)."""
    rank = len(shape)
    out = None
    for a, length in enumerate(shape):
        prof = _axis_profile(length, starts[:, a], sides[:, a])
        prof = prof.reshape(len(prof), *[length if b == a else 1 for b in range(rank)])
        out = prof if out is None else out & prof
    return out.astype(np.uint8)


def _uniform_int(rng, low: int, high: np.ndarray) -> np.ndarray:
    """Integers uniform in low .. high (inclusive), ``high`` per grid."""
    return low + np.floor(rng.random(np.shape(high)) * (np.asarray(high) - low + 1)).astype(np.int64)


class _Family(Sampler):
    """Shape check and the at-least-one-pore guarantee around ``_draw``."""

    def sample(self, n, shape, rng):
        shape = _check_shape(shape)
        if n == 0:
            return np.zeros((0, *shape), np.uint8)
        return ensure_pore_nd(np.ascontiguousarray(self._draw(int(n), shape, rng), np.uint8), rng)


class RandomFamily(_Family):
    """Independent cells; porosity uniform in ``porosity`` (default 0.02-0.99)."""

    name = "fam-random"

    def __init__(self, porosity=(0.02, 0.99)):
        self.porosity = range_option(porosity, "porosity", 0.0, 1.0)

    def _draw(self, n, shape, rng):
        return random_grids(n, shape, rng, rng.uniform(*self.porosity, n))


class SmoothFamily(_Family):
    """Thresholded smooth periodic Gaussian fields.

    Correlation length log-uniform in ``lengths`` (cells; default 0.5 to twice the
    largest axis), porosity uniform in ``porosity``: short lengths give a fine mesh,
    lengths beyond the cell one or two large rounded pores or channels.
    """

    name = "fam-smooth"

    def __init__(self, porosity=(0.02, 0.99), lengths=None):
        self.porosity = range_option(porosity, "porosity", 0.0, 1.0)
        self.lengths = None if lengths is None else range_option(lengths, "lengths", 1e-3, 1e6)

    def _draw(self, n, shape, rng):
        low, high = self.lengths or (0.5, 2.0 * max(shape))
        lengths = np.exp(rng.uniform(np.log(low), np.log(high), n))
        return threshold_to_porosity(smooth_field(n, shape, rng, lengths), rng.uniform(*self.porosity, n))


class SlitFamily(_Family):
    """One slit pore (a slab in 3-D) across the cell, width uniform in 1 .. L-1, any axis."""

    name = "fam-slit"

    def __init__(self, rough=0.0):
        self.rough = fraction_option(rough, "rough")

    def _draw(self, n, shape, rng):
        rank = len(shape)
        axis = rng.integers(0, rank, n)
        lengths = np.asarray(shape)[axis]
        widths = _uniform_int(rng, 1, lengths - 1)
        sides = np.tile(np.asarray(shape), (n, 1))
        sides[np.arange(n), axis] = widths
        starts = rng.integers(0, 1 << 30, (n, rank)) % np.asarray(shape)
        grids = boxes(shape, starts, sides)
        if self.rough:
            flips = rng.random(grids.shape) < self.rough * 0.05
            grids ^= flips.astype(np.uint8)
        return grids


class RectFamily(_Family):
    """One box pore, sides uniform in 1 .. L-1 (near-full-cell ones included).

    A fraction ``square`` of them are squares (cubes), side 1 .. min(L)-1.
    """

    name = "fam-rect"

    def __init__(self, square=0.5):
        self.square = fraction_option(square, "square")

    def _draw(self, n, shape, rng):
        dims = np.asarray(shape)
        sides = _uniform_int(rng, 1, np.tile(dims - 1, (n, 1)))
        square = rng.random(n) < self.square
        side = _uniform_int(rng, 1, np.full(n, dims.min() - 1))
        sides[square] = side[square, None]
        starts = rng.integers(0, 1 << 30, (n, len(shape))) % dims
        return boxes(shape, starts, sides)


def _pair_sizes(length: int) -> np.ndarray:
    """All (a, b), a != b, with a + b + 2 <= length (two pores and a wall on each side)."""
    pairs = [(a, b) for a in range(1, length) for b in range(1, length) if a != b and a + b + 2 <= length]
    if not pairs:  # too short for different sizes: two single layers
        pairs = [(1, 1)]
    return np.asarray(pairs, np.int64)


class PairFamily(_Family):
    """Two separate pores of different size: two parallel slits or two squares (cubes).

    The two pores are separated by walls on both sides along one axis, so they are two
    connected components of the torus. A fraction ``squares`` of the grids get squares.
    On a grid with every axis 3 (no room for walls) the pair is two diagonal cells.
    """

    name = "fam-pair"

    def __init__(self, squares=0.5):
        self.squares = fraction_option(squares, "squares")

    def _draw(self, n, shape, rng):
        dims = np.asarray(shape)
        roomy = np.flatnonzero(dims >= 4)
        if roomy.size == 0:
            grids = np.zeros((n, *shape), np.uint8)
            grids[(slice(None),) + (0,) * len(shape)] = 1
            grids[(slice(None),) + (1,) * len(shape)] = 1
            return grids
        axis = roomy[rng.integers(0, roomy.size, n)]
        grids = np.zeros((n, *shape), np.uint8)
        square = rng.random(n) < self.squares
        for a in roomy:
            for is_square in (False, True):
                idx = np.flatnonzero((axis == a) & (square == is_square))
                if idx.size:
                    grids[idx] = self._pair_along(idx.size, shape, int(a), is_square, rng)
        return grids

    @staticmethod
    def _pair_along(n, shape, axis, square, rng):
        dims = np.asarray(shape)
        sizes = _pair_sizes(int(dims[axis]))
        if square:  # squares must also fit across the other axes without closing them
            other = int(np.delete(dims, axis).min())
            fitting = sizes[sizes.max(1) <= other - 1]
            sizes = fitting if len(fitting) else sizes
        a, b = sizes[rng.integers(0, len(sizes), n)].T
        gap = _uniform_int(rng, 1, dims[axis] - a - b - 1)
        start = rng.integers(0, dims[axis], n)
        out = np.zeros((n, *shape), np.uint8)
        for size, offset in ((a, start), (b, start + a + gap)):
            sides = np.tile(dims, (n, 1))
            starts = rng.integers(0, 1 << 30, (n, len(shape))) % dims
            if square:
                sides[:] = np.minimum(size[:, None], dims[None, :])
            sides[:, axis] = size
            starts[:, axis] = offset % dims[axis]
            out |= boxes(shape, starts, sides)
        return out


def _mixture(samplers, weights, n, shape, rng) -> np.ndarray:
    """Each grid from one of ``samplers``, drawn with probabilities ``weights``."""
    which = rng.choice(len(samplers), size=n, p=np.asarray(weights) / np.sum(weights))
    grids = np.empty((n, *shape), np.uint8)
    for c, sampler in enumerate(samplers):
        idx = np.flatnonzero(which == c)
        if idx.size:
            grids[idx] = sampler.sample(idx.size, shape, rng)
    return grids


class UnionFamily(_Family):
    """Union of the pores of two grids, each from one of slit, rect, pair, smooth or a
    sparse random matrix (porosity 0.02-0.4): several pore sizes and shapes in one grid."""

    name = "fam-union"

    def __init__(self):
        self.parts = [SlitFamily(), RectFamily(), PairFamily(), SmoothFamily(porosity=(0.02, 0.6)),
                      RandomFamily(porosity=(0.02, 0.4))]

    def _draw(self, n, shape, rng):
        weights = np.ones(len(self.parts))
        return _mixture(self.parts, weights, n, shape, rng) | _mixture(self.parts, weights, n, shape, rng)


class DenseFamily(_Family):
    """Nearly full and nearly empty grids.

    A sparse grid (porosity uniform in ``sparse``, default 0.01-0.15) of random cells,
    a smooth field, a small box or a thin slit; a fraction ``full`` of them are
    inverted, so that their walls are a few cells, blobs, blocks or thin walls in an
    otherwise open cell (porosity 0.85-0.99, where the first cnn failed).
    """

    name = "fam-dense"

    def __init__(self, sparse=(0.01, 0.15), full=0.7):
        self.sparse = range_option(sparse, "sparse", 0.0, 0.5)
        self.full = fraction_option(full, "full")

    def _draw(self, n, shape, rng):
        kind = rng.integers(0, 4, n)
        porosity = rng.uniform(*self.sparse, n)
        grids = random_grids(n, shape, rng, porosity)
        smooth = np.flatnonzero(kind == 1)
        if smooth.size:
            lengths = np.exp(rng.uniform(np.log(0.5), np.log(max(shape)), smooth.size))
            field = smooth_field(smooth.size, shape, rng, lengths)
            grids[smooth] = threshold_to_porosity(field, porosity[smooth])
        for k, family in ((2, RectFamily()), (3, SlitFamily())):
            idx = np.flatnonzero(kind == k)
            if idx.size:
                grids[idx] = self._small(family, idx.size, shape, rng, self.sparse[1])
        invert = rng.random(n) < self.full
        grids[invert] ^= 1
        return grids

    @staticmethod
    def _small(family, n, shape, rng, max_porosity, rounds=20):
        """Grids of ``family`` with porosity <= max_porosity (drawn again until they are)."""
        out = family.sample(n, shape, rng)
        for _ in range(rounds):
            big = np.flatnonzero(out.reshape(n, -1).mean(1) > max_porosity)
            if big.size == 0:
                break
            out[big] = family.sample(big.size, shape, rng)
        big = np.flatnonzero(out.reshape(n, -1).mean(1) > max_porosity)
        if big.size:  # the family cannot be this sparse on this grid: random cells instead
            out[big] = random_grids(big.size, shape, rng, np.full(big.size, max_porosity))
        return out


FAMILIES = {
    cls.name: cls for cls in (RandomFamily, SmoothFamily, SlitFamily, RectFamily, PairFamily, UnionFamily, DenseFamily)
}


class FamiliesSampler(_Family):
    """Mixture of every structure family; ``weights`` maps family names (``fam-slit`` or
    ``slit``) to relative weights (default: equal; missing names keep weight 1)."""

    name = "families"

    def __init__(self, weights: dict | None = None):
        if weights is not None and not isinstance(weights, dict):
            raise InputError(f"families weights: expected a mapping like {{\"fam-slit\": 2}}, got {weights!r}")
        given = {(k if k.startswith("fam-") else f"fam-{k}"): v for k, v in (weights or {}).items()}
        unknown = set(given) - set(FAMILIES)
        if unknown:
            raise InputError(f"unknown families {sorted(unknown)} (known: {sorted(FAMILIES)})")
        try:
            self.weights = np.array([float(given.get(name, 1.0)) for name in FAMILIES])
        except (TypeError, ValueError):
            raise InputError(f"families weights must be numbers, got {weights!r}") from None
        if self.weights.sum() <= 0 or (self.weights < 0).any():
            raise InputError("families weights must be >= 0 and not all 0")
        self.samplers = [cls() for cls in FAMILIES.values()]

    def _draw(self, n, shape, rng):
        return _mixture(self.samplers, self.weights, n, shape, rng)


class FamiliesMixedSampler(Sampler):
    """A fraction ``families`` (default 0.5) of the grids from ``families``, the rest from
    the default ``mixed`` sampler (a training set that covers the families without
    forgetting what the model was trained on). Rank 2 only (``mixed`` is)."""

    name = "families-mixed"

    def __init__(self, families=0.5):
        from invtoolkit_plugins.samplers import MixedSampler

        self.fraction = fraction_option(families, "families")
        self.parts = [FamiliesSampler(), MixedSampler()]

    def sample(self, n, shape, rng):
        return _mixture(self.parts, [self.fraction, 1 - self.fraction], n, tuple(shape), rng)


@hookimpl
def register_samplers(register):
    register("fam-random", RandomFamily, "Family: independent cells, porosity 0.02-0.99")
    register("fam-smooth", SmoothFamily, "Family: thresholded smooth fields, lengths 0.5 cell to 2 cells")
    register("fam-slit", SlitFamily, "Family: one slit of width 1..L-1 along any axis")
    register("fam-rect", RectFamily, "Family: one rectangle/square pore, sides 1..L-1")
    register("fam-pair", PairFamily, "Family: two separate slits or squares of different size")
    register("fam-union", UnionFamily, "Family: union of the pores of two family grids")
    register("fam-dense", DenseFamily, "Family: nearly full (0.85-0.99) and nearly empty grids")
    register("families", FamiliesSampler, "Mixture of all fam-* families")
    register("families-mixed", FamiliesMixedSampler, "Half families, half the default mixed sampler")
