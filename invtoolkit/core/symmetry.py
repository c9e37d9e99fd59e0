"""Symmetries of periodic grids: canonical forms, duplicate removal, augmentation.

A periodic H x W grid looks the same after any of its torus symmetries: the H*W
translations combined with the point group (the 8 rotations/reflections of the square
for H == W, the 4 flips {identity, flip rows, flip columns, rotate 180} otherwise).
The simulated isotherm is invariant under all of them.

The canonical form of a grid is the lexicographically smallest of all its transforms,
comparing rows as integers (first cell = most significant bit). It is computed by a
numba kernel with early exit, so typical grids cost a few thousand word comparisons.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

__all__ = [
    "point_group_size",
    "n_symmetries",
    "point_transform",
    "transform",
    "all_transforms",
    "random_transform",
    "canonical",
    "canonical_keys",
    "canonical_hash",
    "dedupe",
    "distinct_up_to_symmetry",
    "augment_torch",
]



def point_group_size(shape) -> int:
    """2-D (H, W): 8 for square grids (dihedral group), 4 otherwise (flips only).

    3-D (D, H, W): the axis permutations that keep the shape times the 8 axis flips
    (48 for a cube). ``shape`` is a GridSpace's shape (rank 2 or 3), not a batch's.
    """
    if len(shape) == 3:
        return 8 * len(_axis_permutations(tuple(shape)))
    h, w = shape[-2], shape[-1]
    return 8 if h == w else 4


def n_symmetries(shape) -> int:
    return point_group_size(shape) * int(np.prod(shape[-len(shape):]))


@functools.cache
def _axis_permutations(shape: tuple[int, int, int]) -> tuple[tuple[int, int, int], ...]:
    """Permutations of the three axes that map the shape onto itself."""
    import itertools

    return tuple(p for p in itertools.permutations(range(3)) if tuple(shape[i] for i in p) == shape)


def point_transform_3d(grids: np.ndarray, d: int) -> np.ndarray:
    """Element ``d`` of the 3-D point group on the last three axes: permutation d // 8,
    then flips of the axes whose bits are set in d % 8."""
    g = np.asarray(grids)
    perm = _axis_permutations(tuple(g.shape[-3:]))[d // 8]
    lead = g.ndim - 3
    g = np.transpose(g, tuple(range(lead)) + tuple(lead + p for p in perm))
    for bit in range(3):
        if d & (1 << bit):
            g = np.flip(g, axis=lead + bit)
    return g


def point_transform(grids: np.ndarray, d: int) -> np.ndarray:
    """Element ``d`` of the point group applied to the last two axes.

    Square: d = 0..3 rotate by d*90 degrees, d = 4..7 the same after transposing.
    Non-square: 0 identity, 1 flip rows, 2 flip columns, 3 both (rotation by 180).
    """
    g = np.asarray(grids)
    if g.shape[-1] == g.shape[-2]:
        if d >= 4:
            g = np.swapaxes(g, -1, -2)
        return np.rot90(g, d % 4, axes=(-2, -1))
    if d & 1:
        g = g[..., ::-1, :]
    if d & 2:
        g = g[..., :, ::-1]
    return g


def transform(grids: np.ndarray, d: int, *shift: int, rank: int | None = None) -> np.ndarray:
    """Point-group element ``d``, then a periodic shift of the last ``rank`` axes.

    2-D: ``transform(g, d, dy, dx)``; 3-D: ``transform(g, d, dz, dy, dx)`` (three shifts,
    or ``rank=3``), with ``d`` as in :func:`point_transform_3d`.
    """
    if rank is None:
        rank = 3 if len(shift) == 3 else 2
    if len(shift) > rank:
        raise ValueError(f"{len(shift)} shifts for a rank-{rank} transform")
    shift = tuple(int(v) for v in shift) + (0,) * (rank - len(shift))
    axes = tuple(range(-rank, 0))
    moved = point_transform_3d(grids, d) if rank == 3 else point_transform(grids, d)
    return np.roll(moved, shift, axis=axes)


def all_transforms(grid: np.ndarray) -> np.ndarray:
    """All G*cells transforms of one (H,W) or (D,H,W) grid, with repeats: (G*cells, *shape)."""
    grid = np.asarray(grid)
    if grid.ndim == 3:
        return _all_transforms_3d(grid)
    h, w = grid.shape
    out = []
    for d in range(point_group_size(grid.shape)):
        base = point_transform(grid, d)
        for dy in range(h):
            for dx in range(w):
                out.append(np.roll(base, (dy, dx), axis=(0, 1)))
    return np.stack(out)


def _all_transforms_3d(grid: np.ndarray) -> np.ndarray:
    out = []
    for d in range(point_group_size(grid.shape)):
        base = point_transform_3d(grid, d)
        out.extend(np.roll(base, tuple(s), (0, 1, 2)) for s in np.ndindex(*grid.shape))
    return np.stack(out)


def random_transform(grids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An independent uniformly random torus symmetry for every grid of (N,H,W) or (N,D,H,W)."""
    grids = np.asarray(grids)
    if grids.ndim == 4:
        return _random_transform_3d(grids, rng)
    n, h, w = grids.shape
    ds = rng.integers(0, point_group_size(grids.shape), n)
    dy = rng.integers(0, h, n)
    dx = rng.integers(0, w, n)
    out = np.empty_like(grids)
    for d in np.unique(ds):
        idx = np.flatnonzero(ds == d)
        out[idx] = point_transform(grids[idx], int(d))
    rows = (np.arange(h)[None, :] - dy[:, None]) % h
    cols = (np.arange(w)[None, :] - dx[:, None]) % w
    return out[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _random_transform_3d(grids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    shape = grids.shape[1:]
    ds = rng.integers(0, point_group_size(shape), len(grids))
    shifts = rng.integers(0, np.array(shape), (len(grids), 3))
    return np.stack([np.roll(point_transform_3d(g, int(d)), tuple(s), (0, 1, 2))
                     for g, d, s in zip(grids, ds, shifts)]) if len(grids) else grids.copy()


# ---------------------------------------------------------------------- canonical form

# numba kernels at module level so that numba can cache them; this module is not
# imported at CLI start-up (commands import it inside functions).
@njit(cache=True, inline="always")
def _row_words(flat, src, table, h, w, mask):
    # table[r, c] = row r of the image (flat[src]) shifted left by c columns, as a w-bit word
    for r in range(h):
        word = np.uint64(0)
        for c in range(w):
            word = (word << np.uint64(1)) | np.uint64(flat[src[r, c]])
        table[r, 0] = word
        for c in range(1, w):
            table[r, c] = ((word << np.uint64(c)) | (word >> np.uint64(w - c))) & mask


@njit(parallel=True, cache=True)
def canonical_words(flat_grids, src, out):
    # flat_grids (N, H*W) uint8; src (G, H, W): flat source index of every cell of the
    # G point-group images. out (N, H) uint64: the smallest row-word sequence over all
    # G*H*W transforms (rows compared as integers, first cell most significant).
    n = flat_grids.shape[0]
    g, h, w = src.shape
    mask = np.uint64((1 << w) - 1) if w < 64 else np.uint64(0xFFFFFFFFFFFFFFFF)
    for i in prange(n):
        tables = np.empty((g, h, w), np.uint64)
        for d in range(g):
            _row_words(flat_grids[i], src[d], tables[d], h, w, mask)
        first = tables[0, 0, 0]
        for d in range(g):
            for r in range(h):
                for c in range(w):
                    if tables[d, r, c] < first:
                        first = tables[d, r, c]
        bd, br, bc = -1, 0, 0
        for d in range(g):
            for r in range(h):
                for c in range(w):
                    if tables[d, r, c] != first:
                        continue
                    if bd < 0:
                        bd, br, bc = d, r, c
                        continue
                    # compare candidate (d, r, c) with the best so far, row by row
                    for k in range(1, h):
                        a = tables[d, (r + k) % h, c]
                        b = tables[bd, (br + k) % h, bc]
                        if a != b:
                            if a < b:
                                bd, br, bc = d, r, c
                            break
        for k in range(h):
            out[i, k] = tables[bd, (br + k) % h, bc]


@functools.cache
def _source_index(h: int, w: int) -> np.ndarray:
    """(G,H,W) int64: flat index of the source cell of every cell of each point image."""
    flat = np.arange(h * w).reshape(h, w)
    return np.ascontiguousarray(np.stack([point_transform(flat, d) for d in range(point_group_size((h, w)))]))


@njit(cache=True)
def _translate_of(a, b, d, h, w):
    # is image b a translate of image a? (a symmetry moves a's first rare cell onto a
    # rare cell of b, so only those shifts are tried)
    cells = d * h * w
    hw = h * w
    ones_a = 0
    ones_b = 0
    for c in range(cells):
        ones_a += a[c]
        ones_b += b[c]
    if ones_a != ones_b:
        return False
    rare = np.uint8(1) if (0 < 2 * ones_a <= cells) or ones_a == cells else np.uint8(0)  # present
    c0 = 0
    while c0 < cells - 1 and a[c0] != rare:
        c0 += 1
    z0, y0, x0 = c0 // hw, (c0 // w) % h, c0 % w
    for p in range(cells):
        if b[p] == rare and _matches_shifted(a, b, d, h, w, (p // hw - z0) % d,
                                             ((p // w) % h - y0) % h, (p % w - x0) % w):
            return True
    return False


@njit(cache=True)
def _distinct_images(images, d, h, w):
    # indices of the point images that are no translate of an earlier one (a symmetric
    # grid has repeated images up to a shift; one of each is enough)
    g = images.shape[0]
    keep = np.empty(g, np.int64)
    nk = 0
    for i in range(g):
        new = True
        for j in range(nk):
            if _translate_of(images[keep[j]], images[i], d, h, w):
                new = False
                break
        if new:
            keep[nk] = i
            nk += 1
    return keep[:nk]


@njit(cache=True)
def _matches_shifted(image, other, d, h, w, tz, ty, tx):
    # image[c] == other[c + t] for every cell c? (nested loops: no division in the loop)
    for z in range(d):
        zz = z + tz - d if z + tz >= d else z + tz
        for y in range(h):
            yy = y + ty - h if y + ty >= h else y + ty
            row, row2 = (z * h + y) * w, (zz * h + yy) * w
            for x in range(w):
                xx = x + tx - w if x + tx >= w else x + tx
                if image[row + x] != other[row2 + xx]:
                    return False
    return True


@njit(cache=True)
def _shift_reps(image, d, h, w):
    # one shift per coset of the image's translation stabilizer (shifts that leave the
    # image unchanged): other shifts of the same coset give the same transform
    cells = d * h * w
    hw = h * w
    stab = np.empty(cells, np.int64)
    ns = 0
    ones = 0
    for c in range(cells):
        ones += image[c]
    rare = np.uint8(1) if (0 < 2 * ones <= cells) or ones == cells else np.uint8(0)  # minority, present
    c0 = 0
    while c0 < cells - 1 and image[c0] != rare:
        c0 += 1
    z0, y0, x0 = c0 // hw, (c0 // w) % h, c0 % w
    for p in range(cells):  # a symmetry moves the first rare cell onto a rare cell
        if image[p] != rare:
            continue
        tz, ty, tx = (p // hw - z0) % d, ((p // w) % h - y0) % h, (p % w - x0) % w
        if _matches_shifted(image, image, d, h, w, tz, ty, tx):
            stab[ns] = (tz * h + ty) * w + tx
            ns += 1
    seen = np.zeros(cells, np.bool_)
    reps = np.empty(cells, np.int64)
    nr = 0
    for s in range(cells):
        if seen[s]:
            continue
        reps[nr] = s
        nr += 1
        sz, sy, sx = s // hw, (s // w) % h, s % w
        for k in range(ns):
            t = stab[k]
            seen[((sz + t // hw) % d) * hw + ((sy + (t // w) % h) % h) * w + (sx + t % w) % w] = True
    return reps[:nr]


@njit(cache=True)
def _canonical_3d_cells(images, d, h, w, out):
    # images (G, D*H*W) uint8: the point-group images of one grid, flat. out (D*H*W,):
    # the smallest flat image over all G*D*H*W transforms (image g rolled by a shift).
    # Candidates (image, shift), one per distinct transform of a symmetric grid, are
    # pruned cell by cell: only those giving the smallest value at every cell so far
    # survive, so the cost is about one pass over the cells once a few cells decided.
    cells = d * h * w
    hw = h * w
    distinct = _distinct_images(images, d, h, w)
    total = 0
    reps = []
    for i in distinct:
        r = _shift_reps(images[i], d, h, w)
        reps.append(r)
        total += len(r)
    cg = np.empty(total, np.int64)
    cz = np.empty(total, np.int64)
    cy = np.empty(total, np.int64)
    cx = np.empty(total, np.int64)
    nc = 0
    for j in range(len(distinct)):
        for s in reps[j]:
            cg[nc], cz[nc], cy[nc], cx[nc] = distinct[j], s // hw, (s // w) % h, s % w
            nc += 1
    vals = np.empty(total, np.uint8)
    for k in range(cells):
        z, y, x = k // hw, (k // w) % h, k % w
        low = np.uint8(1)
        for i in range(nc):
            a, b, c = z - cz[i], y - cy[i], x - cx[i]
            a += d if a < 0 else 0
            b += h if b < 0 else 0
            c += w if c < 0 else 0
            v = images[cg[i], a * hw + b * w + c]
            vals[i] = v
            low = min(low, v)
        out[k] = low
        kept = 0
        for i in range(nc):
            if vals[i] == low:
                cg[kept], cz[kept], cy[kept], cx[kept] = cg[i], cz[i], cy[i], cx[i]
                kept += 1
        nc = kept


@njit(parallel=True, cache=True)
def _canonical_3d_batch(images, d, h, w, out):
    # images (N, G, cells) uint8, out (N, cells) uint8: one grid per parallel task.
    for n in prange(images.shape[0]):
        _canonical_3d_cells(images[n], d, h, w, out[n])


def canonical_3d(grid: np.ndarray) -> np.ndarray:
    """Canonical form of one (D,H,W) grid: the lexicographically smallest flat image of
    all 48*D*H*W (for a cube) torus transforms (a numba kernel prunes the candidates
    cell by cell)."""
    grid = np.asarray(grid, np.uint8)
    return _canonical_3d_many(grid[None])[0]


def _canonical_3d_many(grids: np.ndarray) -> np.ndarray:
    """Canonical forms of a batch (N,D,H,W) of 3-D grids, in parallel."""
    grids = np.ascontiguousarray(grids, dtype=np.uint8)
    n, shape = len(grids), grids.shape[1:]
    group = point_group_size(shape)
    images = np.stack([point_transform_3d(grids, k).reshape(n, -1) for k in range(group)], axis=1)
    out = np.empty((n, int(np.prod(shape))), np.uint8)
    if n:
        _canonical_3d_batch(np.ascontiguousarray(images), *shape, out)
    return out.reshape(grids.shape)


def canonical_keys(grids: np.ndarray) -> np.ndarray:
    """uint64 (N,K): words of each grid's canonical form (2-D: the H row words, W <= 64;
    3-D: the packed canonical cells).

    Two grids are equivalent under a torus symmetry iff their keys are equal.
    """
    grids = np.ascontiguousarray(grids, dtype=np.uint8)
    if grids.ndim == 4:  # a batch of 3-D grids (a batch of 2-D ones has ndim 3)
        canon = canonical(grids).reshape(len(grids), -1)
        packed = np.packbits(canon, axis=1)
        pad = (-packed.shape[1]) % 8
        packed = np.pad(packed, ((0, 0), (0, pad)))
        return np.ascontiguousarray(packed).view(np.uint64)
    if grids.ndim == 2:
        grids = grids[None]
    n, h, w = grids.shape
    if w > 64:
        raise ValueError(f"canonical forms need W <= 64, got {h}x{w}")
    src = _source_index(h, w)
    out = np.empty((n, h), np.uint64)
    canonical_words(grids.reshape(n, h * w), src, out)
    return out


def _words_to_grids(words: np.ndarray, w: int) -> np.ndarray:
    shifts = np.arange(w - 1, -1, -1, dtype=np.uint64)
    return ((words[..., None] >> shifts) & np.uint64(1)).astype(np.uint8)


def canonical(grids: np.ndarray) -> np.ndarray:
    """The canonical representative of every grid: uint8 (N,H,W) or (N,D,H,W) (one grid
    of rank 2 in, one out; a single 3-D grid must come as a batch of one)."""
    a = np.asarray(grids)
    if a.ndim == 4:
        return _canonical_3d_many(a)
    keys = canonical_keys(a)
    out = _words_to_grids(keys, a.shape[-1])
    return out[0] if a.ndim == 2 else out


def canonical_hash(grids: np.ndarray) -> np.ndarray:
    """uint64 (N,) symmetry-invariant hash (a mix of the canonical row words).

    Collisions between different classes are possible but rare (~N^2 / 2^65).
    """
    keys = canonical_keys(grids)
    h = np.full(len(keys), 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(keys.shape[1]):
            h = _mix64(h ^ keys[:, k])
    return h


def _mix64(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: every output bit depends on every input bit
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _key_rows(grids: np.ndarray) -> np.ndarray:
    keys = canonical_keys(grids)
    return np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1] * 8))).ravel()


def dedupe(grids: np.ndarray, *, return_index: bool = False):
    """Keep the first grid of every symmetry class, in input order (an empty batch stays empty)."""
    grids = np.asarray(grids)
    if not len(grids):
        return (grids, np.zeros(0, np.int64)) if return_index else grids
    _, first = np.unique(_key_rows(grids), return_index=True)
    first = np.sort(first)
    return (grids[first], first) if return_index else grids[first]


def distinct_up_to_symmetry(grids: np.ndarray) -> int:
    """Number of different grids when equivalent grids count once."""
    if len(grids) == 0:
        return 0
    return int(len(np.unique(_key_rows(grids))))


# ---------------------------------------------------------------------- torch augmentation


def augment_torch(x, generator=None, *, per_sample: bool = True, rank: int = 2):
    """Random torus symmetry of a torch batch (N,H,W) or (N,C,H,W); isotherms are invariant.

    ``rank=3``: a batch (N,D,H,W) or (N,C,D,H,W) of 3-D grids (48 point operations of a
    cube x translations). ``per_sample``: an independent roll and point-group element per
    sample (default); otherwise one transform for the whole batch (cheaper).
    ``generator``: torch.Generator.
    """
    import torch

    if rank == 3:
        return _augment_torch_3d(x, generator, per_sample)
    h, w = x.shape[-2], x.shape[-1]
    n = x.shape[0]
    group = point_group_size(x.shape)
    dev = x.device

    def randint(high, size):
        return torch.randint(0, high, size, generator=generator, device="cpu").to(dev)

    if not per_sample:
        d, dy, dx = (int(randint(k, (1,))) for k in (group, h, w))
        return torch.roll(_point_torch(x, d), shifts=(dy, dx), dims=(-2, -1))
    out = _per_sample_points(x, randint(group, (n,)), group, _point_torch)
    dy, dx = randint(h, (n,)), randint(w, (n,))
    rows = (torch.arange(h, device=dev)[None, :] - dy[:, None]) % h  # (N,H)
    cols = (torch.arange(w, device=dev)[None, :] - dx[:, None]) % w  # (N,W)
    rows = rows.view(n, *([1] * (x.dim() - 3)), h, 1).expand(*x.shape)
    out = torch.gather(out, -2, rows)
    cols = cols.view(n, *([1] * (x.dim() - 3)), 1, w).expand(*x.shape)
    return torch.gather(out, -1, cols)


def _per_sample_points(x, elements, group: int, transform):
    """Sample i transformed by point-group element ``elements[i]`` (batched per element)."""
    import torch

    out = torch.empty_like(x)
    for d in range(group):
        idx = torch.nonzero(elements == d).flatten()
        if len(idx):
            out[idx] = transform(x[idx], d)
    return out


def _point_torch(x, d: int):
    import torch

    if x.shape[-1] == x.shape[-2]:
        if d >= 4:
            x = x.transpose(-1, -2)
        return torch.rot90(x, d % 4, dims=(-2, -1))
    dims = [dim for bit, dim in ((1, -2), (2, -1)) if d & bit]
    return torch.flip(x, dims=dims) if dims else x


def _point_torch_3d(x, d: int):
    """torch version of :func:`point_transform_3d` on the last three axes."""
    import torch

    perm = _axis_permutations(tuple(x.shape[-3:]))[d // 8]
    lead = x.dim() - 3
    x = x.permute(*range(lead), *(lead + p for p in perm))
    dims = [lead + bit for bit in range(3) if d & (1 << bit)]
    return torch.flip(x, dims=dims) if dims else x


def _augment_torch_3d(x, generator, per_sample: bool):
    import torch

    shape = tuple(x.shape[-3:])
    group = point_group_size(shape)
    n, dev = x.shape[0], x.device

    def randint(high, size):
        return torch.randint(0, high, size, generator=generator, device="cpu").to(dev)

    if not per_sample:
        d = int(randint(group, (1,)))
        shifts = tuple(int(randint(k, (1,))) for k in shape)
        return torch.roll(_point_torch_3d(x, d), shifts=shifts, dims=(-3, -2, -1))
    out = _per_sample_points(x, randint(group, (n,)), group, _point_torch_3d)
    for axis, size in zip((-3, -2, -1), shape):  # an independent roll per sample and axis
        shift = randint(size, (n,))
        index = (torch.arange(size, device=dev)[None, :] - shift[:, None]) % size
        view = [n] + [1] * (x.dim() - 1)
        view[axis] = size
        out = torch.gather(out, axis, index.view(*view).expand(*x.shape))
    return out
