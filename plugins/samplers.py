"""Sampler plugins: random periodic grids for datasets and starting populations.

Every sampler is vectorised over grids (no Python loop per grid) and returns uint8
(n, *space.shape), 1 = pore, with at least one pore cell per grid, for grid spaces of
rank 2 (H, W) and rank 3 (D, H, W). The 2-D draws are the original ones (the same seed
gives the same 2-D grids as before 3-D existed); 3-D has its own code path. Built-ins:

* ``random``      independent cells, porosity drawn per grid
* ``correlated``  thresholded smooth periodic Gaussian random fields (FFT), many
                  correlation lengths, optionally anisotropic
* ``slit``        one to three slit/channel pores of various widths, along rows,
                  columns or diagonals, sometimes with rough walls; in 3-D slabs
                  (bands across one axis) and channels (bands across two axes)
* ``rect``        one to four rectangular pores (or, sometimes, wall blocks in a pore);
                  in 3-D boxes
* ``mixed``       the default: a mixture of all of these, plus unions of two kinds
                  (pores of different sizes in one grid give multi-step isotherms)
"""

from __future__ import annotations

import math

import numpy as np

from invtoolkit.plugin import InputError, Sampler, as_space, hookimpl


def plane(space, sampler: str) -> tuple[int, int]:
    """(H, W) of a rank-2 grid space; a clear InputError for any other rank."""
    space = as_space(space)
    if space.rank != 2:
        raise InputError(f"sampler '{sampler}' makes 2-D grids only, not {space} (use 'random')")
    return space.shape


def _log_sizes(rng, length: int, size) -> np.ndarray:
    """Sizes 1 .. length-1, log-uniform (many small features, some large ones)."""
    return np.floor(np.exp(rng.uniform(0, np.log(length), size))).astype(np.int64).clip(1, length - 1)


def _bands_3d(rng, n: int, shape, constrained: np.ndarray) -> np.ndarray:
    """(n, D, H, W) bool: one periodic band of log-uniform width on each axis where
    ``constrained[:, axis]`` (n, 3), the whole axis elsewhere: a slab (one axis), a
    channel (two) or a box (three)."""
    out = np.ones((n, *shape), bool)
    for a, length in enumerate(shape):
        width = _log_sizes(rng, length, n)
        offset = rng.integers(0, length, n)
        prof = (np.arange(length)[None, :] - offset[:, None]) % length < width[:, None]
        prof |= ~constrained[:, a:a + 1]
        out &= prof.reshape(n, *[length if b == a else 1 for b in range(3)])
    return out


def _features_3d(rng, n: int, shape, counts, kinds) -> np.ndarray:
    """(n, D, H, W) uint8: the union of 1..len(counts) features per grid; ``kinds(k)``
    gives the (n, 3) constrained axes of feature k."""
    k = _count_per_grid(rng, n, counts)
    grids = np.zeros((n, *shape), bool)
    for j in range(len(counts)):
        feature = _bands_3d(rng, n, shape, kinds(j))
        grids |= feature & (j < k).reshape(n, 1, 1, 1)
    return grids.astype(np.uint8)


def range_option(value, name: str, low: float, high: float) -> tuple[float, float]:
    """A (min, max) option from a pair or a 'a,b' string, checked to lie in [low, high]
    (public: the families plugin uses it)."""
    if isinstance(value, str):
        value = value.strip("[]() ").replace(":", ",").split(",")
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"sampler option {name}: expected two numbers 'min,max', got {value!r}") from None
    if not (low <= a <= b <= high):
        raise InputError(f"sampler option {name}: need {low} <= min <= max <= {high}, got {a}, {b}")
    return a, b


def _probabilities(value, name: str) -> tuple[float, ...]:
    if isinstance(value, str):
        value = value.strip("[]() ").split(",")
    try:
        probs = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"sampler option {name}: expected numbers 'p1,p2,...', got {value!r}") from None
    if not probs or min(probs) < 0 or sum(probs) <= 0:
        raise InputError(f"sampler option {name}: weights must be >= 0 and not all 0")
    return probs


def fraction_option(value, name: str) -> float:
    """A fraction option, checked to lie in [0, 1] (public: the families plugin uses it)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"sampler option {name}: expected a number, got {value!r}") from None
    if not 0 <= x <= 1:
        raise InputError(f"sampler option {name}: must be in [0, 1], got {x}")
    return x


def ensure_pore(grids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Open one random cell in every grid that has no pore cell."""
    n = len(grids)
    empty = np.flatnonzero(~grids.reshape(n, -1).any(1))
    if empty.size:
        cells = rng.integers(0, grids[0].size, empty.size)
        grids.reshape(n, -1)[empty, cells] = 1
    return grids


def _periodic_bands(coord: np.ndarray, offsets: np.ndarray, widths: np.ndarray, period: int) -> np.ndarray:
    """(n, L) bool: coordinate inside any band [offset, offset + width) modulo period.

    ``offsets``/``widths`` are (n, k); a width of 0 is an absent band.
    """
    inside = (coord[None, None, :] - offsets[:, :, None]) % period < widths[:, :, None]
    return inside.any(1)


def _count_per_grid(rng, n: int, probs) -> np.ndarray:
    """How many features (1..len(probs)) each grid gets."""
    return rng.choice(np.arange(1, len(probs) + 1), size=n, p=np.asarray(probs) / np.sum(probs))


def _roughen(grids: np.ndarray, rng, fraction: float, rate: tuple[float, float]) -> np.ndarray:
    """Flip a few cells of a random ``fraction`` of the grids (defects, rough walls)."""
    n = len(grids)
    which = rng.random(n) < fraction
    p = np.where(which, rng.uniform(*rate, n), 0.0).reshape((n,) + (1,) * (grids.ndim - 1))
    flips = rng.random(grids.shape, dtype=np.float32) < p
    return grids ^ flips.astype(np.uint8)


class RandomSampler(Sampler):
    """Independent cells; the porosity of each grid is uniform in ``porosity``."""

    name = "random"

    def __init__(self, porosity=(0.05, 0.95)):
        self.porosity = range_option(porosity, "porosity", 0.0, 1.0)

    def sample(self, n, space, rng):
        shape = as_space(space).shape
        p = rng.uniform(*self.porosity, size=(n,) + (1,) * len(shape))
        grids = (rng.random((n, *shape), dtype=np.float32) < p).astype(np.uint8)
        return ensure_pore(grids, rng)


class CorrelatedSampler(Sampler):
    """Thresholded smooth periodic (near-Gaussian) random fields.

    White noise is smoothed in Fourier space by a Gaussian of correlation length
    ``l`` (log-uniform in ``lengths``, in cells; per axis up to ``anisotropy`` times
    longer in one direction), then the cells above the per-grid quantile that leaves
    a porosity drawn from ``porosity`` become pores. Long ``l`` gives big rounded
    pores, short ``l`` a fine mesh of small ones.
    """

    name = "correlated"

    def __init__(self, lengths=(0.6, 6.0), porosity=(0.1, 0.9), anisotropy=3.0):
        self.lengths = range_option(lengths, "lengths", 1e-3, 1e6)
        self.porosity = range_option(porosity, "porosity", 0.0, 1.0)
        self.anisotropy = float(anisotropy)
        if not self.anisotropy >= 1:
            raise InputError(f"sampler option anisotropy: must be >= 1, got {anisotropy}")

    def sample(self, n, space, rng):
        if as_space(space).rank == 3:
            return self._sample_3d(n, as_space(space).shape, rng)
        h, w = plane(space, self.name)
        length = np.exp(rng.uniform(*np.log(self.lengths), n))
        stretch = np.exp(rng.uniform(0.0, math.log(self.anisotropy), n) * rng.choice([-0.5, 0.5], n))
        ly, lx = (length * stretch)[:, None, None], (length / stretch)[:, None, None]
        ky = 2 * np.pi * np.fft.fftfreq(h)[None, :, None]
        kx = 2 * np.pi * np.fft.rfftfreq(w)[None, None, :]
        # separable Gaussian filter: only n*(H+W) exponentials
        kernel = (np.exp(-0.5 * (ky * ly) ** 2) * np.exp(-0.5 * (kx * lx) ** 2)).astype(np.float32)
        # white noise drawn directly in Fourier space, independent zero-mean components
        # per mode: the field, a sum of many modes, is close to Gaussian, and the
        # quantile threshold below makes its marginal distribution irrelevant anyway.
        # (Uniform draws are 4x cheaper than normal ones.)
        spectrum = np.empty((n, h, w // 2 + 1), np.complex64)
        spectrum.real = (rng.random(spectrum.shape, dtype=np.float32) - 0.5) * kernel
        spectrum.imag = (rng.random(spectrum.shape, dtype=np.float32) - 0.5) * kernel
        field = np.fft.irfft2(spectrum, s=(h, w)).reshape(n, h * w)
        porosity = rng.uniform(*self.porosity, n)
        k = np.clip(np.rint((1 - porosity) * h * w).astype(np.int64), 0, h * w - 1)
        # threshold = k-th smallest value of each field: exactly the drawn porosity
        threshold = np.take_along_axis(np.sort(field, axis=1), k[:, None], axis=1)
        grids = (field >= threshold).astype(np.uint8).reshape(n, h, w)
        return ensure_pore(grids, rng)

    def _sample_3d(self, n, shape, rng):
        """The 3-D field: per-axis lengths ``l * exp(u log(anisotropy))``, u in [-1/2, 1/2]."""
        length = np.exp(rng.uniform(*np.log(self.lengths), n))
        stretch = np.exp(rng.uniform(-0.5, 0.5, (n, 3)) * math.log(self.anisotropy))
        lengths = length[:, None] * stretch
        freqs = [np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1]), np.fft.rfftfreq(shape[2])]
        kernel = np.ones((n, shape[0], shape[1], shape[2] // 2 + 1), np.float32)
        for a, f in enumerate(freqs):  # separable Gaussian filter
            k = (2 * np.pi * f).reshape([-1 if b == a else 1 for b in range(3)])
            kernel *= np.exp(-0.5 * (k[None] * lengths[:, a].reshape(n, 1, 1, 1)) ** 2).astype(np.float32)
        # the threshold is blind to the constant mode and to scale: drop the one, fix the
        # other, so long fields on small grids keep their shape (no ties of a flat field)
        kernel.reshape(n, -1)[:, 0] = 0.0
        kernel /= np.maximum(kernel.reshape(n, -1).max(1), 1e-30).reshape(n, 1, 1, 1)
        spectrum = np.empty(kernel.shape, np.complex64)
        spectrum.real = (rng.random(kernel.shape, dtype=np.float32) - 0.5) * kernel
        spectrum.imag = (rng.random(kernel.shape, dtype=np.float32) - 0.5) * kernel
        field = np.fft.irfftn(spectrum, s=shape, axes=(1, 2, 3)).reshape(n, -1)
        cells = field.shape[1]
        k = np.clip(np.rint((1 - rng.uniform(*self.porosity, n)) * cells).astype(np.int64), 0, cells - 1)
        threshold = np.take_along_axis(np.sort(field, axis=1), k[:, None], axis=1)
        return ensure_pore((field >= threshold).astype(np.uint8).reshape(n, *shape), rng)


class SlitSampler(Sampler):
    """Slit and channel pores: bands of pore cells between walls.

    One to three bands per grid (probabilities ``counts``), widths 1 .. L-1 cells,
    all along rows, columns, or (square grids) the diagonals; ``rough`` of the grids
    get a few flipped cells (rough walls, blocked channels, isolated sites).
    """

    name = "slit"

    def __init__(self, counts=(0.55, 0.3, 0.15), rough=0.3):
        self.counts = _probabilities(counts, "counts")
        self.rough = fraction_option(rough, "rough")

    def sample(self, n, space, rng):
        if as_space(space).rank == 3:
            return self._sample_3d(n, as_space(space).shape, rng)
        h, w = plane(space, self.name)
        diag = math.gcd(h, w)  # (i + j) mod diag is periodic on the torus
        n_orient = 4 if diag >= 4 else 2
        orient = rng.integers(0, n_orient, n)
        period = np.choose(orient, [h, w, diag, diag][:n_orient])
        k = _count_per_grid(rng, n, self.counts)
        kmax = len(self.counts)
        # widths: 1 .. period-1, skewed to narrow pores (uniform in log width)
        widths = np.floor(np.exp(rng.uniform(0, 1, (n, kmax)) * np.log(period[:, None]))).astype(np.int64)
        widths = np.clip(widths, 1, period[:, None] - 1)
        widths[np.arange(kmax)[None, :] >= k[:, None]] = 0
        offsets = rng.integers(0, 1 << 30, (n, kmax)) % period[:, None]
        i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        coords = [i, j, (i + j) % diag, (i - j) % diag][:n_orient]
        grids = np.zeros((n, h, w), np.uint8)
        for o, coord in enumerate(coords):
            idx = np.flatnonzero(orient == o)
            if idx.size == 0:
                continue
            flat = coord.ravel()
            length = int(period[idx[0]])
            # bands over the coordinate values 0..length-1, then looked up per cell
            bands = _periodic_bands(np.arange(length), offsets[idx], widths[idx], length)
            grids[idx] = bands[:, flat].reshape(-1, h, w)
        grids = _roughen(grids, rng, self.rough, (0.01, 0.08))
        return ensure_pore(grids, rng)

    def _sample_3d(self, n, shape, rng):
        """Slabs (a band across one axis) or channels (bands across two, open along the
        third), half each, the axis uniform, all features of a grid of one kind."""
        channel = rng.random(n) < 0.5
        axis = rng.integers(0, 3, n)
        across = np.arange(3)[None, :] == axis[:, None]
        kinds = np.where(channel[:, None], ~across, across)
        grids = _features_3d(rng, n, shape, self.counts, lambda j: kinds)
        grids = _roughen(grids, rng, self.rough, (0.01, 0.08))
        return ensure_pore(grids, rng)


class RectSampler(Sampler):
    """One to four rectangular pores of sizes 1 .. L-1 per side, placed periodically.

    In a fraction ``inverted`` of the grids the rectangles are walls in a pore (pillars).
    """

    name = "rect"

    def __init__(self, counts=(0.4, 0.3, 0.2, 0.1), inverted=0.15):
        self.counts = _probabilities(counts, "counts")
        self.inverted = fraction_option(inverted, "inverted")

    def sample(self, n, space, rng):
        if as_space(space).rank == 3:
            return self._sample_3d(n, as_space(space).shape, rng)
        h, w = plane(space, self.name)
        kmax = len(self.counts)
        k = _count_per_grid(rng, n, self.counts)
        present = np.arange(kmax)[None, :] < k[:, None]
        # side lengths log-uniform in 1 .. L-1: many small pores, some large ones
        sides_h = np.floor(np.exp(rng.uniform(0, np.log(h), (n, kmax)))).astype(np.int64).clip(1, h - 1)
        sides_w = np.floor(np.exp(rng.uniform(0, np.log(w), (n, kmax)))).astype(np.int64).clip(1, w - 1)
        y0 = rng.integers(0, h, (n, kmax))
        x0 = rng.integers(0, w, (n, kmax))
        rows = (np.arange(h)[None, None, :] - y0[:, :, None]) % h < sides_h[:, :, None]  # (n,k,H)
        cols = (np.arange(w)[None, None, :] - x0[:, :, None]) % w < sides_w[:, :, None]  # (n,k,W)
        rects = rows[:, :, :, None] & cols[:, :, None, :] & present[:, :, None, None]
        grids = rects.any(1).astype(np.uint8)
        flip = rng.random(n) < self.inverted
        grids[flip] ^= 1
        return ensure_pore(grids, rng)

    def _sample_3d(self, n, shape, rng):
        """Boxes of sides 1 .. L-1 (log-uniform) per axis; inverted: pillars in a pore."""
        every_axis = np.ones((n, 3), bool)
        grids = _features_3d(rng, n, shape, self.counts, lambda j: every_axis)
        grids[rng.random(n) < self.inverted] ^= 1
        return ensure_pore(grids, rng)


class UnionSampler(Sampler):
    """Union of the pores of two grids from two samplers (several pore sizes per grid)."""

    name = "union"

    def __init__(self, first: Sampler, second: Sampler):
        self.first, self.second = first, second

    def sample(self, n, space, rng):
        return self.first.sample(n, space, rng) | self.second.sample(n, space, rng)


def _default_components() -> dict[str, tuple[float, Sampler]]:
    return {
        "random": (0.15, RandomSampler()),
        "correlated": (0.30, CorrelatedSampler()),
        "slit": (0.15, SlitSampler()),
        "rect": (0.25, RectSampler()),
        "slit+rect": (0.10, UnionSampler(SlitSampler(counts=(1.0,), rough=0.0), RectSampler(inverted=0.0))),
        "rect+correlated": (
            0.05,
            UnionSampler(RectSampler(inverted=0.0), CorrelatedSampler(lengths=(0.6, 1.5), porosity=(0.05, 0.3))),
        ),
    }


class MixedSampler(Sampler):
    """The default: every grid comes from one component drawn with ``weights``.

    Components: random, correlated, slit, rect, slit+rect (a slit and rectangular
    pores together) and rect+correlated (large rectangles in a fine porous matrix).
    ``weights`` maps component names to relative weights (missing names keep theirs).
    """

    name = "mixed"

    def __init__(self, weights: dict | None = None):
        if weights is not None and not isinstance(weights, dict):
            raise InputError(f"mixed-sampler weights: expected a mapping like {{\"slit\": 0.3}}, got {weights!r}")
        comps = _default_components()
        unknown = set(weights or {}) - set(comps)
        if unknown:
            raise InputError(f"unknown mixed-sampler components {sorted(unknown)} (known: {sorted(comps)})")
        self.names = list(comps)
        self.samplers = [comps[name][1] for name in self.names]
        try:
            raw = np.array([float((weights or {}).get(name, comps[name][0])) for name in self.names])
        except (TypeError, ValueError):
            raise InputError(f"mixed-sampler weights must be numbers, got {weights!r}") from None
        if raw.sum() <= 0 or (raw < 0).any():
            raise InputError("mixed-sampler weights must be >= 0 and not all 0")
        self.weights = raw / raw.sum()

    def sample(self, n, space, rng):
        shape = as_space(space).shape
        which = rng.choice(len(self.samplers), size=n, p=self.weights)
        grids = np.empty((n, *shape), np.uint8)
        for c, sampler in enumerate(self.samplers):
            idx = np.flatnonzero(which == c)
            if idx.size:
                grids[idx] = sampler.sample(idx.size, shape, rng)
        return grids


@hookimpl
def register_samplers(register):
    register("random", RandomSampler, "Independent random cells, porosity 0.05-0.95 per grid")
    register("correlated", CorrelatedSampler, "Thresholded smooth periodic Gaussian random fields")
    register("slit", SlitSampler, "Slit/channel pores of various widths and orientations")
    register("rect", RectSampler, "Rectangular pores of various sizes, one to four")
    register("mixed", MixedSampler, "Default: mixture of random, correlated, slit, rect and unions")
