"""Fast CPU solver of the lattice mean-field DFT for rank-3 grids (DESIGN.md section 1).

For every grid ``s`` (1 = pore) and chemical potential ``mu`` of a schedule, find

    rho_i = s_i * sigmoid(beta * (mu + w_ff * sum_j (rho_j + y * (1 - s_j))))

over the 6 neighbours j (periodic, or the reservoir boundary of ``boundary.py``), the
first point from ``rho = s``, every later one from the previous point's converged state,
and return ``sum(rho)`` over the grid's own cells per grid and point.  Rank-2 grids work
too (two neighbour slots then read a block of zeros); the 2-D plugin has its own kernel.

Design (the 2-D kernel's, ``lattice_dft/_dft_numba.py``, on a general cell table)
------
* Red-black Gauss-Seidel from the previous state: plain, un-relaxed, un-mixed sweeps of
  a monotone map, so every point lands on the branch the physics asks for (the least
  fixed point above the previous state when mu rises, the greatest below it when mu
  falls).  No over-relaxation, no extrapolation between points, no mixing: they can
  jump branches.  Stopping early never changes the branch either: an unconverged state
  of a monotone iteration lies between the previous fixed point and this one, and the
  next point reaches the same least (greatest) fixed point from there.
* SIMD over grids: ``L`` grids per worker, stored interleaved (slot, lane).  Cells get
  slots colour by colour in row-major order; a sweep program (``_program``) merges runs
  of consecutive slots whose 6 neighbour slots are consecutive too, so the inner loop
  is one long contiguous loop per run (a row of one colour splits in two runs at the
  periodic seam of W: no ghost slots needed).  Any boundary is just another neighbour
  table: a mirror face makes a cell its own neighbour (that term is then Jacobi, still
  monotone), odd periodic sizes make same-colour neighbours (plain Gauss-Seidel order,
  still valid).  Wall cells get a huge negative constant, so rho = 0 there to 1e-38.
* Stopping rule per lane and point, exactly the 2-D kernel's: ``d_k = |sum of the
  steps of sweep k| / pores`` (monotone iteration: all steps of a point have one sign,
  so this is the mean |step|); with ``r = max(d_k/d_{k-1}, r_clean)`` stop when
  ``d_k <= tol`` and the geometric tail ``d_k r/(1-r) <= tol`` once the ratio has
  settled, else only when a mode hidden at R_PESS would be converged too; 64 sweeps at
  float32 rounding level end a point (and mark it for polishing) if their signed sum is
  noise-sized (a 2-D kernel rule, made stricter here: a front creeping one way through
  a reservoir at rounding-level steps left 4e-3 errors); MAX_SWEEPS caps it
  with a warning.  With a reservoir, ``pores`` counts the grid's own pore cells only
  (the sums include the reservoir's steps, all of one sign: a conservative bound).
* Precision: ``float64`` sweeps only (exact mode, tol 1e-10); ``float32`` with the
  constants split in hi + lo float32 parts, then points whose clean contraction ratio
  is >= R_HARD (or that stalled) are re-converged in float64 from their saved state.
"""
from __future__ import annotations

import warnings

import numba
import numpy as np
from numba import njit, prange

from invtoolkit_plugins.lattice_dft.sigmoid import FASTMATH as _FM
from invtoolkit_plugins.lattice_dft.sigmoid import X_MAX32, sigmoid32, sigmoid64
from .boundary import PERIODIC, Boundary, cell_coordinates, cell_order, neighbour_table

__all__ = ["solve", "last_stats", "LANES"]

LANES = 32            # max grids per lane group (16^3 x 32 lanes x 3 arrays fits in L2)
TOL32 = 1e-6          # float32 pass: bound on the remaining mean error per pore cell
TOL64 = 1e-10         # float64 mode (same measure)
TOL_POLISH = 1e-7     # float64 polish of hard float32 points
R_HARD = 0.95         # clean contraction ratio above which a float32 point is polished
R_PESS = 0.9          # contraction assumed for a mode hidden under a fast transient
STALL32 = 4.8e-7      # float32 rounding-level step (8 ulp at 1)
STALL64 = 1e-14
DCLEAN32 = 1e-6       # mean steps above this give a trustworthy contraction ratio
DCLEAN64 = 1e-13
NSTALL = 64           # sweeps in a row at rounding level that end a point
STALL_DRIFT = 8.0     # ... if their signed sum is <= this * STALL (sqrt(64): random signs)
MAX_SWEEPS = 5_000_000
CHUNK = 4096          # grids per internal chunk (bounds the saved polish states)
POLISH_LANES = 8
HARD_PER_GRID = 8     # polish buffer capacity per grid of a chunk
NB = 6                # neighbour columns of the sweep program
_WALL_BIAS = -1.0e4


# ---------------------------------------------------------------- sweeps
@njit(fastmath=_FM, error_model="numpy", cache=True)
def _reduce_acc(acc, sums):
    """sums[l] += sum of acc over the run positions of lane l (float64); acc = 0."""
    L = np.uint64(sums.shape[0])
    for k in range(acc.shape[0] // L):
        o = np.uint64(k) * L
        for l in range(L):
            l = np.uint64(l)
            sums[l] += np.float64(acc[o + l])
            acc[o + l] = 0.0


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep32(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo):
    """One Gauss-Seidel sweep of all cells of all lanes, float32 (see the module doc).

    prog rows (kind, dst, n0..n5, len) in units of lanes: kind 0 updates the run
    dst..dst+len from its 6 neighbour runs, kind 2 flushes the float32 step sums acc
    into the float64 sums.  Constants are hi + lo pairs, the hi parts on a 2**-10 grid,
    so whi + mhi is exact (a rounding of beta*mu shared by all cells would be a bias
    amplified near condensation).
    """
    for q in range(prog.shape[0]):
        if prog[q, 0] == 2:
            _reduce_acc(acc, sums)
            continue
        c = prog[q, 1]
        a = prog[q, 2]
        if prog[q, 0] == 1:                # ghost slots: periodic copies
            for m in range(prog[q, 8]):
                m = np.uint64(m)
                rho[c + m] = rho[a + m]
            continue
        b = prog[q, 3]
        u = prog[q, 4]
        v = prog[q, 5]
        e = prog[q, 6]
        f = prog[q, 7]
        n = prog[q, 8]
        for m in range(n):
            m = np.uint64(m)
            S = ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])) + (rho[e + m] + rho[f + m])
            x = ((whi[c + m] + mhi[m]) + K * S) + ((wlo[c + m] + mlo[m]) + Klo * S)
            new = sigmoid32(x)
            acc[m] += new - rho[c + m]
            rho[c + m] = new
    _reduce_acc(acc, sums)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep64(rho, whi, prog, mhi, acc, sums, K):
    """One Gauss-Seidel sweep of all cells of all lanes (float64)."""
    for q in range(prog.shape[0]):
        if prog[q, 0] == 2:
            _reduce_acc(acc, sums)
            continue
        c = prog[q, 1]
        a = prog[q, 2]
        if prog[q, 0] == 1:                # ghost slots: periodic copies
            for m in range(prog[q, 8]):
                m = np.uint64(m)
                rho[c + m] = rho[a + m]
            continue
        b = prog[q, 3]
        u = prog[q, 4]
        v = prog[q, 5]
        e = prog[q, 6]
        f = prog[q, 7]
        n = prog[q, 8]
        for m in range(n):
            m = np.uint64(m)
            S = ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])) + (rho[e + m] + rho[f + m])
            new = sigmoid64((whi[c + m] + mhi[m]) + K * S)
            acc[m] += new - rho[c + m]
            rho[c + m] = new
    _reduce_acc(acc, sums)


@njit(cache=True)
def _sweep(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo):
    if rho.itemsize == 4:
        _sweep32(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo)
    else:
        _sweep64(rho, whi, prog, mhi, acc, sums, K)


# ---------------------------------------------------------------- stopping rule
@njit(cache=True)
def _stop_test(d, dprev, rprev, k, tol, rcl):
    """Return (converged, ratio) for one lane after its k-th sweep at this point.

    The 2-D kernel's rule: with r = max(d/dprev, rcl) the tail d*r/(1-r) bounds the
    remaining error of the mean once the ratio has settled (not rising by more than 10%
    since the last sweep); before that only a step small enough for a hidden mode
    contracting at R_PESS passes.  A sweep that changes nothing is a fixed point.
    """
    if d == 0.0:
        return True, 0.0
    if dprev <= 0.0 or k < 2:
        return False, 0.0
    rk = d / dprev
    if d > tol:
        return False, rk
    r = max(rk, rcl)
    settled = rk <= 1.1 * rprev
    if settled and r < 1.0 and d * r <= tol * (1.0 - r):
        return True, rk
    rp = max(r, R_PESS)
    return rp < 1.0 and d * rp <= tol * (1.0 - rp), rk


# ---------------------------------------------------------------- lanes
@njit(cache=True)
def _split(v):
    """float64 v -> (hi on a 2**-10 grid, lo = v - hi); hi + hi' stays exact in float32."""
    hi = np.floor(v * 1024.0 + 0.5) / 1024.0
    return hi, v - hi


@njit(cache=True)
def _load_lane(whi, wlo, rho, grid, nbr, cslot, B, l, L, reset):
    """Set one lane's per-cell constant (B * solid neighbours, or the wall bias)."""
    for c in range(grid.shape[0]):
        i = cslot[c] * L + l
        if grid[c]:
            ns = 0
            for q in range(nbr.shape[1]):
                ns += 1 - grid[nbr[c, q]]
            if whi.itemsize == 4:
                whi[i], wlo[i] = _split(B * ns)
            else:
                whi[i] = B * ns
            if reset:
                rho[i] = 1.0
        else:
            whi[i] = _WALL_BIAS
            wlo[i] = 0.0
            if reset:
                rho[i] = 0.0


@njit(cache=True)
def _set_mu(mhi, mlo, l, L, beta_mu):
    """beta*mu of lane l, repeated along a run."""
    hi, lo = _split(beta_mu)
    if mhi.itemsize != 4:
        hi, lo = beta_mu, 0.0
    for k in range(mhi.shape[0] // L):
        mhi[k * L + l] = hi
        mlo[k * L + l] = lo


@njit(cache=True)
def _start_job(jobs, states, j, grids, nbr, cslot, bmus, B, whi, wlo, mhi, mlo, rho, l, L):
    g = jobs[j, 0]
    p0 = jobs[j, 1]
    srow = jobs[j, 3]
    _load_lane(whi, wlo, rho, grids[g], nbr, cslot, B, l, L, srow < 0)
    _set_mu(mhi, mlo, l, L, bmus[p0])
    if srow >= 0:
        for c in range(grids.shape[1]):
            rho[cslot[c] * L + l] = states[srow, c] if grids[g, c] else 0.0
    s0 = 0.0                               # sum(rho) of the start state (all cells)
    for c in range(grids.shape[1]):
        s0 += rho[cslot[c] * L + l]
    return g, p0, s0


@njit(cache=True)
def _own_sum(lsum, rho, cslot, nown, l, L):
    """sum(rho) over the grid's own cells: the lane sum minus the reservoir cells."""
    s = lsum
    for c in range(nown, cslot.shape[0]):
        s -= rho[cslot[c] * L + l]
    return s


# ---------------------------------------------------------------- worker
@njit(cache=True)
def _worker(grids, jobs, states, bmus, K, Klo, B, nbr, cslot, nown, prog, L, tol, stall_d,
            dclean, r_hard, t, nworkers, out, stats, ptsweeps, hard_gp, hard_st, nhard,
            rho, whi, wlo, mhi, mlo, acc):
    """Worker t: runs jobs t, t+nworkers, ... in L lanes (the 2-D kernel's worker)."""
    J = jobs.shape[0]
    NC = grids.shape[1]
    cap = hard_gp.shape[1]
    job = np.full(L, -1, dtype=np.int64)   # job in lane, -1 = idle
    gid = np.zeros(L, dtype=np.int64)
    pt = np.zeros(L, dtype=np.int64)
    ksw = np.zeros(L, dtype=np.int64)      # sweeps at this point
    dprev = np.zeros(L)
    rcl = np.zeros(L)                      # last contraction ratio seen above rounding
    rprev = np.zeros(L)
    nstall = np.zeros(L, dtype=np.int64)   # sweeps in a row at rounding level
    wsum = np.zeros(L)                     # signed mean steps over those sweeps
    inv_np = np.zeros(L)                   # 1 / own pore count of the lane's grid
    sums = np.zeros(L)                     # sum of the steps of the last sweep per lane
    lsum = np.zeros(L)                     # sum(rho) per lane (start sum + all steps)
    nxt = np.int64(t)
    nw = np.int64(nworkers)
    nsweeps = 0
    ncap = 0
    nstalls = 0
    noverflow = 0
    nh = 0
    active = 0
    for c in range(whi.shape[0]):          # idle lanes: all wall, rho = 0
        whi[c] = _WALL_BIAS
        wlo[c] = 0.0
        rho[c] = 0.0
    for l in range(L):
        if nxt < J:
            job[l] = nxt
            gid[l], pt[l], lsum[l] = _start_job(jobs, states, nxt, grids, nbr, cslot, bmus,
                                                B, whi, wlo, mhi, mlo, rho, l, L)
            inv_np[l] = 1.0 / max(1, grids[gid[l], :nown].astype(np.int64).sum())
            nxt += nw
            active += 1
    while active > 0:
        for l in range(L):
            sums[l] = 0.0
        _sweep(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo)
        nsweeps += 1
        for l in range(L):
            j = job[l]
            if j < 0:
                continue
            d = abs(sums[l]) * inv_np[l]
            lsum[l] += sums[l]
            k = ksw[l] + 1
            ksw[l] = k
            ptsweeps[t, pt[l]] += 1
            if d >= dclean and dprev[l] >= dclean:
                rcl[l] = d / dprev[l]
            conv, rk = _stop_test(d, dprev[l], rprev[l], k, tol, rcl[l])
            stalled = False
            if not conv:
                if d <= stall_d:           # float32 rounding noise with r ~ 1 ...
                    nstall[l] += 1
                    wsum[l] += sums[l] * inv_np[l]
                    if nstall[l] >= NSTALL:
                        # ... only if the signed steps cancel (noise); a slow drift of
                        # one sign (an interface creeping through the reservoir) goes on
                        if abs(wsum[l]) <= STALL_DRIFT * stall_d:
                            conv = True
                            stalled = True
                            nstalls += 1
                        nstall[l] = 0
                        wsum[l] = 0.0
                else:
                    nstall[l] = 0
                    wsum[l] = 0.0
                if k >= MAX_SWEEPS:
                    conv = True
                    ncap += 1
            if not conv:
                dprev[l] = d
                rprev[l] = rk
                continue
            g = gid[l]
            p = pt[l]
            out[g, p] = _own_sum(lsum[l], rho, cslot, nown, l, L)
            if r_hard < 1.0 and (stalled or rcl[l] >= r_hard):
                if nh < cap:
                    hard_gp[t, nh, 0] = g
                    hard_gp[t, nh, 1] = p
                    for c in range(NC):
                        hard_st[t, nh, c] = rho[cslot[c] * L + l]
                    nh += 1
                else:
                    noverflow += 1
            ksw[l] = 0
            dprev[l] = 0.0
            rcl[l] = 0.0
            rprev[l] = 0.0
            nstall[l] = 0
            wsum[l] = 0.0
            p += 1
            if p < jobs[j, 2]:
                pt[l] = p
                _set_mu(mhi, mlo, l, L, bmus[p])
                continue
            if nxt < J:
                job[l] = nxt
                gid[l], pt[l], lsum[l] = _start_job(jobs, states, nxt, grids, nbr, cslot,
                                                    bmus, B, whi, wlo, mhi, mlo, rho, l, L)
                inv_np[l] = 1.0 / max(1, grids[gid[l], :nown].astype(np.int64).sum())
                nxt += nw
            else:
                job[l] = -1
                active -= 1
                for c in range(NC):
                    i = cslot[c] * L + l
                    whi[i] = _WALL_BIAS
                    wlo[i] = 0.0
                    rho[i] = 0.0
    stats[t, 0] += nsweeps * L
    stats[t, 1] += ncap
    stats[t, 2] += nstalls
    stats[t, 3] += noverflow
    nhard[t] = nh


@njit(parallel=True, cache=True)
def _solve_all(grids, jobs, states, bmus, K, B, nbr, cslot, nown, prog, nslots, seg, single,
               L, tol, stall_d, dclean, r_hard, nworkers, out, stats, ptsweeps, hard_gp,
               hard_st, nhard):
    """Run all jobs in parallel workers (prange); worker t takes jobs t, t+nworkers, ...

    grids: (N, ncells) uint8 in cell order; jobs: (J, 4) rows (grid, first point, end
    point, state row or -1 for rho = s); states: (*, ncells) float32 start states;
    prog: (n, 9) sweep program in slots; nslots: slots of the state (incl. zero block).
    """
    progL = (prog * L).astype(np.uint64)
    progL[:, 0] = prog[:, 0]
    for t in prange(nworkers):
        if single:
            K32 = np.float32(K)
            _worker(grids, jobs, states, bmus, K32, np.float32(K - np.float64(K32)), B, nbr,
                    cslot, nown, progL, L, tol, stall_d, dclean, r_hard, t, nworkers, out,
                    stats, ptsweeps, hard_gp, hard_st, nhard,
                    np.zeros(nslots * L, dtype=np.float32), np.zeros(nslots * L, dtype=np.float32),
                    np.zeros(nslots * L, dtype=np.float32), np.zeros(seg * L, dtype=np.float32),
                    np.zeros(seg * L, dtype=np.float32), np.zeros(seg * L, dtype=np.float32))
        else:
            _worker(grids, jobs, states, bmus, K, 0.0, B, nbr, cslot, nown, progL, L, tol,
                    stall_d, dclean, r_hard, t, nworkers, out, stats, ptsweeps, hard_gp,
                    hard_st, nhard, np.zeros(nslots * L), np.zeros(nslots * L),
                    np.zeros(nslots * L), np.zeros(seg * L), np.zeros(seg * L), np.zeros(seg * L))
    return 0


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
            for i in range(H):
                p = (d + i + col) & 1            # cell j = 2k + p
                rows.append((0, slot(col, d, i, 0), slot(o, d, (i - 1) % H, 0),
                             slot(o, d, (i + 1) % H, 0), slot(o, d, i, p - 1), slot(o, d, i, p),
                             across(col, d, i, -1), across(col, d, i, 1), h))
                n += 1
                if n % 8 == 0:                   # flush the float32 partial step sums
                    rows.append((2, 0, 0, 0, 0, 0, 0, 0, 0))
    prog = np.array(rows, dtype=np.int64)
    return (np.ascontiguousarray(nbr), cslot, prog, 2 * per, h)


_last_stats: dict = {}


def last_stats() -> dict:
    """Counters of the last ``solve`` call (lane_sweeps, polish_lane_sweeps, polished,
    redone, stalled, capped, runs: rows of the sweep program, sweeps_per_point)."""
    return dict(_last_stats)


def _lanes(njobs: int, nworkers: int) -> int:
    """Lane count: LANES, or fewer (multiple of 8) when there are few jobs per worker."""
    per = -(-njobs // max(nworkers, 1))
    return int(min(LANES, max(8, -(-per // 8) * 8)))


def _run(g8, jobs, states, bmus, K, B, lay, single, tol, stall_d, dclean, r_hard,
         nthreads, out, acc, P, cap, maxlanes=LANES):
    nbr, cslot, prog, nslots, seg, nown = lay
    NC = g8.shape[1]
    nworkers = max(1, min(nthreads, len(jobs)))
    L = min(_lanes(len(jobs), nworkers), maxlanes)
    stats = np.zeros((nworkers, 4), dtype=np.int64)
    ptsweeps = np.zeros((nworkers, P), dtype=np.int64)
    hard_gp = np.zeros((nworkers, cap, 2), dtype=np.int64)
    hard_st = np.zeros((nworkers, cap, NC), dtype=np.float32)
    nhard = np.zeros(nworkers, dtype=np.int64)
    _solve_all(g8, jobs, states, bmus, K, B, nbr, cslot, nown, prog, nslots, seg, single, L,
               tol, stall_d, dclean, r_hard, nworkers, out, stats, ptsweeps, hard_gp, hard_st,
               nhard)
    acc["sweeps"] += stats[:, 0].sum()
    acc["capped"] += int(stats[:, 1].sum())
    acc["stalled"] += int(stats[:, 2].sum())
    acc["ptsweeps"] += ptsweeps.sum(0)
    gp = np.concatenate([hard_gp[t, :nhard[t]] for t in range(nworkers)])
    st = np.concatenate([hard_st[t, :nhard[t]] for t in range(nworkers)])
    return gp, st, int(stats[:, 3].sum())


def _jobs(n: int, P: int) -> np.ndarray:
    jobs = np.zeros((n, 4), dtype=np.int64)
    jobs[:, 0] = np.arange(n)
    jobs[:, 2] = P
    jobs[:, 3] = -1
    return jobs


def _solve_chunk(g8, bmus, K, B, lay, single, tol, nthreads, o, acc, P):
    """One chunk: float64 sweeps, or float32 then a float64 polish of the hard points."""
    jobs = _jobs(len(g8), P)
    nostate = np.zeros((0, g8.shape[1]), dtype=np.float32)
    if not single:
        _run(g8, jobs, nostate, bmus, K, B, lay, False, TOL64 if tol is None else tol,
             STALL64, DCLEAN64, 1.0, nthreads, o, acc, P, 1)
        return
    n = len(g8)
    cap = -(-HARD_PER_GRID * n // max(1, min(nthreads, n))) + 16
    gp, st, overflow = _run(g8, jobs, nostate, bmus, K, B, lay, True,
                            TOL32 if tol is None else tol, STALL32, DCLEAN32, R_HARD,
                            nthreads, o, acc, P, cap)
    if overflow:  # too many ill-conditioned points: redo the chunk in float64
        acc["redone"] += n
        _run(g8, jobs, nostate, bmus, K, B, lay, False, TOL_POLISH, STALL64, DCLEAN64, 1.0,
             nthreads, o, acc, P, 1)
        return
    if len(gp):
        pj = np.zeros((len(gp), 4), dtype=np.int64)
        pj[:, 0] = gp[:, 0]
        pj[:, 1] = gp[:, 1]
        pj[:, 2] = gp[:, 1] + 1
        pj[:, 3] = np.arange(len(gp))
        s0 = acc["sweeps"]
        _run(g8, pj, st, bmus, K, B, lay, False, TOL_POLISH, STALL64, DCLEAN64, 1.0,
             nthreads, o, acc, P, 1, POLISH_LANES)
        acc["polish_sweeps"] += acc["sweeps"] - s0
        acc["sweeps"] = s0
        acc["polished"] += len(gp)


def _single(dtype) -> bool:
    if dtype in ("float32", np.float32):
        return True
    if dtype in ("float64", np.float64):
        return False
    raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")


def solve(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, threads=None,
          boundary: Boundary = PERIODIC) -> np.ndarray:
    """Sums of the converged density over each grid's own cells, (N, P) float64.

    grids: (N, D, H, W) (or (N, H, W)) 0/1, 1 = pore, every axis >= 3; mus: (P,) in
    schedule order; ``w_ff = -2 mu_sat / c`` with c = 2 * rank (the caller's job).
    dtype "float32" (default, error <= 1e-5 per pore cell) or "float64" (exact mode).
    tol: bound on the estimated remaining error of the mean density per pore cell.
    boundary: periodic (default) or a reservoir (``boundary.Boundary``).
    """
    g = np.asarray(grids)
    if g.ndim not in (3, 4):
        raise ValueError(f"grids must be (N,D,H,W) or (N,H,W), got shape {g.shape}")
    if min(g.shape[1:], default=0) < 3:
        raise ValueError(f"every grid axis must be at least 3, got {g.shape[1:]}")
    N = g.shape[0]
    mus = np.ascontiguousarray(np.asarray(mus, dtype=np.float64).ravel())
    P = mus.shape[0]
    out = np.zeros((N, P), dtype=np.float64)
    if N == 0 or P == 0:
        return out
    single = _single(dtype)
    K = float(beta) * float(w_ff)
    B = K * float(y)
    bmus = float(beta) * mus
    if single and bmus.max() + NB * max(K, B, 0.0) > X_MAX32:
        single = False  # outside the float32 sigmoid's range: exact mode
    nown = int(np.prod(g.shape[1:]))
    lay = (*_program(g.shape[1:], boundary), nown)
    maxthreads = numba.config.NUMBA_NUM_THREADS
    nthreads = maxthreads if threads is None else max(1, min(int(threads), maxthreads))
    acc = dict(sweeps=0, polish_sweeps=0, capped=0, stalled=0, polished=0, redone=0,
               ptsweeps=np.zeros(P, dtype=np.int64))
    tol = None if tol is None else float(tol)
    old = numba.get_num_threads()
    numba.set_num_threads(nthreads)
    try:
        for c0 in range(0, N, CHUNK):
            g8 = cell_order(g[c0:c0 + CHUNK], boundary)
            _solve_chunk(g8, bmus, K, B, lay, single, tol, nthreads, out[c0:c0 + len(g8)], acc, P)
    finally:
        numba.set_num_threads(old)
    _last_stats.clear()
    _last_stats.update(lane_sweeps=int(acc["sweeps"]), polish_lane_sweeps=int(acc["polish_sweeps"]),
                       polished=acc["polished"], redone=acc["redone"], stalled=acc["stalled"],
                       capped=acc["capped"], dtype="float32" if single else "float64",
                       runs=int((lay[2][:, 0] == 0).sum()), sweeps_per_point=acc["ptsweeps"] / N)
    if acc["capped"]:
        warnings.warn(f"lattice DFT 3-D: {acc['capped']} point(s) hit the cap of {MAX_SWEEPS} "
                      "sweeps; their values may be inaccurate", RuntimeWarning, stacklevel=2)
    return out
