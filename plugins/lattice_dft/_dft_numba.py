"""Fast CPU solver for the lattice mean-field DFT of rank-2 grids (docs/physics.md).

For every grid ``s`` (periodic, 1 = pore) and every chemical potential ``mu`` of a
schedule, find the fixed point

    rho_i = s_i * sigmoid(beta * (mu + w_ff * sum_j (rho_j + y * (1 - s_j))))

starting at the first point from ``rho = s`` and at every later point from the
previous point's converged state, and return ``sum(rho)`` per grid and point.

This module lays the H x W torus out (``_layout``); the worker loop -- red-black
Gauss-Seidel over lanes of interleaved grids, the stopping rule, float32 sweeps with a
float64 polish of the ill-conditioned points -- is ``lanes.py``, shared with the 3-D
kernel (``dft3d/numba3d.py``), and the sweeps are ``_sweeps.py`` (4-neighbour stencil).

Layout: for even H and W the two colours are stored apart, row by row with periodic
ghost slots, so a row of one colour and the rows of its four neighbours are contiguous
runs of (W/2)*L values and the innermost loop is one long vectorised loop per row.
Odd sizes (no consistent 2-colouring of the torus) fall back to one run per cell: an
ordinary Gauss-Seidel sweep, just as valid, only slower.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import lanes
from ._checks import grids_2d

__all__ = ["solve", "last_stats", "LANES"]

LANES = 64            # max grids per lane group (innermost, vectorised loop)
CHUNK_CELLS = 16384 * 400   # cells per internal chunk: 16384 20x20 grids (fewer chunk tails)


def _tables(H: int, W: int):
    """Neighbour table (HW,4) and red-black sweep table (HW,5) of an HxW torus.

    For odd H or W the two colours are not independent across the seam; the sweep
    is then an ordinary Gauss-Seidel sweep in that order, which is just as valid.
    """
    idx = np.arange(H * W).reshape(H, W)
    nbr = np.stack([np.roll(idx, 1, 0), np.roll(idx, -1, 0),
                    np.roll(idx, 1, 1), np.roll(idx, -1, 1)], axis=-1).reshape(H * W, 4)
    ii, jj = np.divmod(np.arange(H * W), W)
    order = np.concatenate([np.flatnonzero((ii + jj) % 2 == 0),
                            np.flatnonzero((ii + jj) % 2 == 1)])
    tab = np.concatenate([order[:, None], nbr[order]], axis=1)
    return np.ascontiguousarray(nbr, dtype=np.int64), np.ascontiguousarray(tab, dtype=np.int64)


def _layout(H: int, W: int):
    """State layout and sweep program: (nbr, cslot, prog, seg, prow).

    nbr: (HW,4) neighbours; cslot: (HW,) slot of each cell in the state array (a slot
    holds the L lanes of one cell); prog: (n,7) int64 rows (kind, dst, a, b, u, v, len)
    in slots, run by ``_sweeps.sweep``; seg: the longest update run; prow: the row index
    of each update row of prog (-1 for the other rows), so sweeps can skip wall rows.

    For even H and W the two colours are stored apart, row by row, each row with a
    ghost slot at both ends and each colour with a ghost row above and below (periodic
    copies): then a row of one colour is a contiguous run whose 4 neighbour runs
    (up, down, left, right) are contiguous too, and one sweep is 2H long loops, run
    as pairs of rows i, i + 2 (``lanes.row_pairs``: one loop for both, their shared
    neighbour run loaded once).  The
    ghosts of a colour are refreshed just before the other colour reads them (so a
    lane loaded between sweeps is picked up); of the two ghost columns of a row only
    the one its reader needs (the reader's row parity decides the side).  kind-2 rows
    flush the partial step sums.  Odd sizes (no consistent 2-colouring of
    the torus) fall back to one run per cell in the ``_tables`` order: an ordinary
    Gauss-Seidel sweep, just as valid, only slower.
    """
    nbr, tab = _tables(H, W)
    if H % 2 or W % 2:
        prog = np.zeros((H * W, 7), dtype=np.int64)
        prog[:, 1:6] = tab
        prog[:, 6] = 1
        prow = tab[:, 0] // W
        at = np.arange(8, H * W, 8)
        prog = np.insert(prog, at, (2, 0, 0, 0, 0, 0, 0), axis=0)
        prow = np.insert(prow, at, -1)
        return nbr, np.arange(H * W, dtype=np.int64), prog, 1, prow
    h = W // 2
    rw = h + 2                      # slots per row: ghost, h cells, ghost
    per = (H + 2) * rw              # slots per colour: ghost row, H rows, ghost row

    def slot(col, i, k):            # row i in -1..H, k in -1..h
        return col * per + (i + 1) * rw + (k + 1)

    ii, jj = np.divmod(np.arange(H * W), W)
    cslot = slot((ii + jj) & 1, ii, jj // 2).astype(np.int64)
    prog = []
    for col in (0, 1):
        o = 1 - col
        for i in range(H):          # the ghost column of the other colour's row read below
            if (i + col) & 1:
                prog.append((1, slot(o, i, h), slot(o, i, 0), 0, 0, 0, 1, -1))
            else:
                prog.append((1, slot(o, i, -1), slot(o, i, h - 1), 0, 0, 0, 1, -1))
        prog.append((1, slot(o, -1, -1), slot(o, H - 1, -1), 0, 0, 0, rw, -1))
        prog.append((1, slot(o, H, -1), slot(o, 0, -1), 0, 0, 0, rw, -1))
        rows = []
        for i in range(H):
            # cell (i, j = 2k + p): its left neighbour is the other colour's k + p - 1,
            # its right one k + p, up and down the other colour's k in rows i -+ 1
            p = (i + col) & 1
            rows.append((0, slot(col, i, 0), slot(o, i - 1, 0), slot(o, i + 1, 0),
                         slot(o, i, p - 1), slot(o, i, p), h, i))
        done = 0
        for group in lanes.row_pairs(H):
            for r, kind in zip(group, (3, 4) if len(group) == 2 else (0,)):
                prog.append((kind, *rows[r][1:]))
            done += len(group)
            if done % 8 == 0:       # flush the float32 partial sums of the new values
                prog.append((2, 0, 0, 0, 0, 0, 0, -1))
    prog = np.array(prog, dtype=np.int64)
    prog, prow = np.ascontiguousarray(prog[:, :7]), np.ascontiguousarray(prog[:, 7])
    return nbr, cslot, prog, h, prow


@njit(cache=True)
def _gap(occupied):
    """(start, length) of the longest cyclic run of False in ``occupied``."""
    n = occupied.shape[0]
    best, bstart, run = 0, 0, 0
    for t in range(2 * n):
        if occupied[t % n]:
            run = 0
        else:
            run += 1
            if run > best and run <= n:
                best, bstart = run, (t - run + 1) % n
    return bstart, best


@njit(cache=True)
def _align(g, out, ext):
    """out[n] = grid n translated on its torus (and transposed if square and that helps) so
    that its pores lie in rows < ext[n, 0] and columns < ext[n, 1] (the wall rows and
    columns of the longest wall gaps moved to the end)."""
    N, H, W = g.shape
    for n in range(N):
        rows = np.zeros(H, dtype=np.bool_)
        cols = np.zeros(W, dtype=np.bool_)
        for i in range(H):
            for j in range(W):
                if g[n, i, j]:
                    rows[i] = True
                    cols[j] = True
        r0, rg = _gap(rows)
        c0, cg = _gap(cols)
        nr, nc = H - rg, W - cg
        flip = H == W and nr > nc
        for i in range(H):
            for j in range(W):
                v = g[n, (i + r0 + rg) % H, (j + c0 + cg) % W] != 0
                if flip:
                    out[n, j, i] = v
                else:
                    out[n, i, j] = v
        ext[n, 0], ext[n, 1] = (nc, nr) if flip else (nr, nc)


def _pack(g, half):
    """Grids translated so their pores sit in a top-left box, sorted by box size (lanes of
    one worker then need similar boxes), the order, and each grid's region (rows, run
    length in slots; ``half`` = W/2 slots per run in the row layout, 0 in the cell table).

    Translations and the transpose are symmetries of the torus: the sums do not change,
    and a sweep skips rows (and run ends) that are walls in every lane."""
    N, H, W = g.shape
    packed = np.empty((N, H, W), dtype=np.uint8)
    ext = np.empty((N, 2), dtype=np.int64)
    _align(np.ascontiguousarray(g), packed, ext)
    region = np.empty((N, 2), dtype=np.int64)
    region[:, 0] = ext[:, 0]
    region[:, 1] = np.minimum((ext[:, 1] + 1) // 2, half) if half else 1
    order = np.argsort(-(region[:, 0] * (W + 1) + region[:, 1]), kind="stable")
    return packed[order], order, np.ascontiguousarray(region[order])


_last_stats: dict = {}


def last_stats() -> dict:
    """Counters of the last ``solve`` call in this process (for benchmarks/profiling).

    lane_sweeps: lane-sweeps of the main pass (cost = lane_sweeps * H*W cell updates,
    idle lanes included); polish_lane_sweeps: same for the float64 polish pass;
    polished: points re-converged in float64; stalled, capped: see ``lanes``;
    sweeps_per_point: mean lane-sweeps per grid at each point (active lanes only).
    """
    return dict(_last_stats)


def solve(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, threads=None,
          progress=None) -> np.ndarray:
    """Sums of the converged density for every grid and chemical potential.

    grids: (N,H,W) 0/1 (1 = pore), periodic, H, W >= 3; mus: (P,) chemical
    potentials in schedule order (the first point starts from rho = s, every later
    one from the previous point's state); returns float64 (N,P), ``sum(rho)`` over
    each grid at each point.  dtype "float32" (default, fast; error <= 1e-5 after
    dividing by the pore count, typically ~1e-6) or "float64" (exact, ~1e-9).
    tol: bound on the estimated remaining error of the mean density per pore cell
    (float32 pass, or float64 mode).  threads: worker threads (default: all numba threads).
    progress(n): called with the number of grids done after each internal chunk.
    """
    g = grids_2d(grids)
    N, H, W = g.shape
    lanes.precision(dtype, np.zeros(1), 0.0, 0.0, 4)   # a bad dtype fails before any work
    nbr, cslot, prog, seg, prow = _layout(H, W)
    lay = (nbr, cslot, prog, int((prog[:, 1] + prog[:, 6]).max()), seg, H * W, prow)
    packed, order, region = _pack(g, seg if seg > 1 else 0)
    step = int(min(16384, max(256, CHUNK_CELLS // (H * W))))
    chunks = ((c0, packed[c0:c0 + step].reshape(-1, H * W), region[c0:c0 + step])
              for c0 in range(0, N, step))
    sums, stats = lanes.solve_cells(chunks, N, mus, beta, w_ff, y, lay, dtype=dtype, tol=tol,
                                     threads=threads, maxlanes=LANES, label="lattice DFT",
                                     progress=progress)
    out = np.empty_like(sums)
    out[order] = sums
    _last_stats.clear()
    _last_stats.update(stats)
    return out
