"""Fast CPU solver of the lattice mean-field DFT for rank-3 grids (docs/physics.md).

For every grid ``s`` (1 = pore) and chemical potential ``mu`` of a schedule, find

    rho_i = s_i * sigmoid(beta * (mu + w_ff * sum_j (rho_j + y * (1 - s_j))))

over the 6 neighbours j (periodic, or the reservoir boundary of ``boundary.py``), the
first point from ``rho = s``, every later one from the previous point's converged state,
and return ``sum(rho)`` over the grid's own cells per grid and point.  Rank-2 grids work
too (two neighbour slots then read a block of zeros); the 2-D plugin has its own layout.

This module only lays the lattice out; the worker loop (lanes, stopping rule, float32
with a float64 polish) is the 2-D kernel's, ``lattice_dft/lanes.py``, and the sweeps
are ``lattice_dft/_sweeps.py`` (6-neighbour stencil).

Layouts
-------
* Even 3-D lattices (even H and W, and even D when axis 0 is periodic): the row layout
  of ``_row_program``.  Colours stored apart, row by row, one ghost slot per row; a row
  of one colour is ONE contiguous run whose 6 neighbour runs are contiguous too
  (wrap-around in H and D is just another start offset, a mirror face is the row itself:
  that term is then Jacobi, still monotone).
* Anything else (odd sizes: no consistent red-black colouring; rank 2 with a
  reservoir): a general cell table.  Cells get slots colour by colour in row-major
  order, and ``_merge_runs`` merges runs of consecutive slots whose neighbour slots are
  consecutive too; odd periodic sizes make same-colour neighbours (plain Gauss-Seidel
  order, still valid).
"""
from __future__ import annotations

import numpy as np

from invtoolkit_plugins.lattice_dft import lanes
from .boundary import PERIODIC, Boundary, cell_coordinates, cell_order, neighbour_table

__all__ = ["solve", "last_stats", "lane_count"]

# state bytes per array of a lane group: float32 8^3 -> 128 lanes, 16^3 -> 32, 32^3 -> 16.
# 512 KiB (was 1 MiB): the three state arrays of a 16^3 group then stay nearer the 1 MiB
# L2; measured 16^3 +7-30% per CPU-second on one thread, +19% on two, float64 +37%
# (issue 30, docs/measurements.md); 256 KiB was slower again.
LANE_BYTES = 2 ** 19
LANES = (16, 128)     # bounds of the lane count (measured: 8^3 +30% at 128, 32^3 best at 16)
NB = 6                # neighbour columns of the sweep program
# The float32 pass stops at an estimated mean error of 2e-6 per pore cell (2-D: 1e-6).
# At 1e-6 the tail test d r/(1-r) <= tol asks for steps near the float32 rounding level
# of the step sums (4.8e-7), so slow points fall to the 64-sweep stall rule or the
# float64 polish; at 2e-6 16^3 grids take 8% fewer sweeps and 60% less polish, and the
# measured max error stays <= 3.1e-6 (random p = 0.3-0.95 at 8^3 and 16^3; bound 1e-5).
TOL32 = 2e-6


# ---------------------------------------------------------------- layout
def _merge_runs(cslot, nbr_slots, order):
    """Runs (dst, n0..n5, len) of consecutive slots with consecutive neighbour slots.

    nbr_slots: (ncells, NB) slots of the neighbours, -1 for the zero block (rank 2):
    a -1 column is continuous by definition and is set to the zero block later.
    """
    runs = []
    for c in order:
        dst = cslot[c]
        nb = nbr_slots[c]
        if runs:
            r = runs[-1]
            n = r[-1]
            if dst == r[0] + n and all((x < 0 and y < 0) or (x >= 0 and x == y + n)
                                       for x, y in zip(nb, r[1:-1])):
                r[-1] += 1
                continue
        runs.append([int(dst), *(int(x) for x in nb), 1])
    return runs


def _program(shape, boundary: Boundary):
    """(nbr, cslot, prog, nslots, seg) of a lattice (see the module doc).

    Even 3-D lattices get the row layout of ``_row_program``; the rest this general one.

    Slots: cells sorted by (colour, extended row-major index); colour = parity of the
    coordinate sum.  Flush rows (kind 2) are placed so no float32 accumulator position
    takes more than ~8 rows' worth of steps between flushes.
    """
    rows = _row_program(shape, boundary)
    if rows is not None:
        return rows
    nbr, ext = neighbour_table(shape, boundary)
    coords = cell_coordinates(shape, boundary)
    ncells = nbr.shape[0]
    colour = coords.sum(0) & 1
    lin = np.ravel_multi_index(tuple(coords), ext)
    order = np.lexsort((lin, colour))
    cslot = np.empty(ncells, dtype=np.int64)
    cslot[order] = np.arange(ncells)
    nbr_slots = np.full((ncells, NB), -1, dtype=np.int64)
    nbr_slots[:, :nbr.shape[1]] = cslot[nbr]
    runs = _merge_runs(cslot, nbr_slots, order)
    seg = max(r[-1] for r in runs)
    rows = []
    since = 0
    for r in runs:
        rows.append([0, r[0], *[ncells if x < 0 else x for x in r[1:-1]], r[-1]])
        since += r[-1]
        if since >= 8 * seg:
            rows.append([2] + [0] * (NB + 2))
            since = 0
    prog = np.array(rows, dtype=np.int64)
    return (np.ascontiguousarray(nbr), cslot, prog, ncells + seg, seg)


def _row_program(shape, boundary: Boundary):
    """Row layout of an even-sized 3-D lattice: (nbr, cslot, prog, nslots, seg), or None.

    Cells stored colour by colour, row by row ((d, i) of the extended lattice), each row
    of one colour with ONE ghost slot: on the side its reader (the other colour's row at
    the same (d, i)) steps over the periodic seam of W.  Then every row of one colour is
    a single run: its up/down/front/back neighbours are the other colour's rows at the
    same k (wrap-around in H and D is just another start offset, a mirror face the row
    itself), its left/right neighbours that row shifted by -1/0 or 0/+1.  Kind-1 rows
    refresh the ghosts of a colour just before the other colour reads them.  Needs even
    H and W and, when axis 0 is periodic, even D (a consistent red-black colouring);
    else None (the general ``_program``).
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) != 3:
        return None
    nbr, ext = neighbour_table(shape, boundary)
    D, H, W = ext
    if H % 2 or W % 2 or (boundary.periodic and D % 2):
        return None
    h = W // 2
    rw = h + 1                                   # slots per row: h cells + one ghost
    per = D * H * rw                             # slots per colour

    def left_ghost(col, d, i):                   # row (d, i) of colour col is read by
        return ((d + i + 1 - col) & 1) == 0      # p = 0 readers: ghost on the left

    def slot(col, d, i, k):                      # k in -1..h (ghost at -1 or h)
        return col * per + (d * H + i) * rw + k + (1 if left_ghost(col, d, i) else 0)

    coords = cell_coordinates(shape, boundary)
    dd, ii, jj = coords
    colour = (dd + ii + jj) & 1
    cslot = np.array([slot(c, d, i, j // 2) for c, d, i, j in zip(colour, dd, ii, jj)],
                     dtype=np.int64)
    mirror = not boundary.periodic

    def across(col, d, i, step):                 # neighbour row along axis 0
        e = d + step
        if 0 <= e < D:
            return slot(1 - col, e, i, 0)
        if mirror:                               # the face cell is its own neighbour
            return slot(col, d, i, 0)
        return slot(1 - col, e % D, i, 0)

    rows = []
    for col in (0, 1):
        o = 1 - col
        for d in range(D):                       # ghosts of the rows this colour reads
            for i in range(H):
                if left_ghost(o, d, i):
                    rows.append((1, slot(o, d, i, -1), slot(o, d, i, h - 1), 0, 0, 0, 0, 0, 1))
                else:
                    rows.append((1, slot(o, d, i, h), slot(o, d, i, 0), 0, 0, 0, 0, 0, 1))
        n = 0
        for d in range(D):
            upd = []
            for i in range(H):
                p = (d + i + col) & 1            # cell j = 2k + p
                upd.append((0, slot(col, d, i, 0), slot(o, d, (i - 1) % H, 0),
                            slot(o, d, (i + 1) % H, 0), slot(o, d, i, p - 1), slot(o, d, i, p),
                            across(col, d, i, -1), across(col, d, i, 1), h))
            for group in lanes.row_pairs(H):          # rows i, i + 2 in one loop (``_sweeps``)
                for r, kind in zip(group, (3, 4) if len(group) == 2 else (0,)):
                    rows.append((kind, *upd[r][1:]))
                    n += 1
                    if n % 8 == 0 and kind != 3:  # flush the float32 partial step sums
                        rows.append((2, 0, 0, 0, 0, 0, 0, 0, 0))
    prog = np.array(rows, dtype=np.int64)
    return (np.ascontiguousarray(nbr), cslot, prog, 2 * per, h)


def lane_count(ncells: int, itemsize: int = 4) -> int:
    """Grids per lane group: LANE_BYTES / (ncells x itemsize) as a power of two, in LANES."""
    lanes = 1 << max(0, int(LANE_BYTES // max(ncells * itemsize, 1)).bit_length() - 1)
    return int(min(max(lanes, LANES[0]), LANES[1]))


_last_stats: dict = {}


def last_stats() -> dict:
    """Counters of the last ``solve`` call (lane_sweeps, polish_lane_sweeps, polished,
    redone, stalled, capped, runs: rows of the sweep program, sweeps_per_point)."""
    return dict(_last_stats)


def solve(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, threads=None,
          boundary: Boundary = PERIODIC, progress=None) -> np.ndarray:
    """Sums of the converged density over each grid's own cells, (N, P) float64.

    grids: (N, D, H, W) (or (N, H, W)) 0/1, 1 = pore, every axis >= 3; mus: (P,) in
    schedule order; ``w_ff = -2 mu_sat / c`` with c = 2 * rank (the caller's job).
    dtype "float32" (default, error <= 1e-5 per pore cell) or "float64" (exact mode).
    tol: bound on the estimated remaining error of the mean density per pore cell.
    boundary: periodic (default) or a reservoir (``boundary.Boundary``).
    progress(n): called with the number of grids done after each internal chunk.
    """
    g = np.asarray(grids)
    if g.ndim not in (3, 4):
        raise ValueError(f"grids must be (N,D,H,W) or (N,H,W), got shape {g.shape}")
    if min(g.shape[1:], default=0) < 3:
        raise ValueError(f"every grid axis must be at least 3, got {g.shape[1:]}")
    lanes.precision(dtype, np.zeros(1), 0.0, 0.0, NB)   # a bad dtype fails before any work
    lay = (*_program(g.shape[1:], boundary), int(np.prod(g.shape[1:])))
    chunks = ((c0, cell_order(g[c0:c0 + lanes.CHUNK], boundary))
              for c0 in range(0, len(g), lanes.CHUNK))
    single = dtype in ("float32", np.float32)
    if tol is None and single:
        tol = TOL32
    out, stats = lanes.solve_cells(chunks, len(g), mus, beta, w_ff, y, lay, dtype=dtype,
                                    tol=tol, threads=threads, maxlanes=lane_count(lay[-1], 4 if single else 8),
                                    label="lattice DFT 3-D", progress=progress)
    _last_stats.clear()
    _last_stats.update(stats, runs=int((lay[2][:, 0] == 0).sum()))
    return out
