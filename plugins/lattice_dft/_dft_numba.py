"""Fast CPU solver for the lattice mean-field DFT (DESIGN.md section 1).

For every grid ``s`` (periodic, 1 = pore) and every chemical potential ``mu`` of a
schedule, find the fixed point

    rho_i = s_i * sigmoid(beta * (mu + w_ff * sum_j (rho_j + y * (1 - s_j))))

starting at the first point from ``rho = s`` and at every later point from the
previous point's converged state, and return ``sum(rho)`` per grid and point.

Design
------
* Red-black Gauss-Seidel, started from the previous state.  The map is monotone,
  so this plain (un-relaxed, un-mixed) iteration lands on the branch the physics
  asks for: the least fixed point above the previous state when mu increases and
  the greatest one below it when mu decreases.  No over-relaxation, no Anderson
  mixing, no extrapolation between points (they can jump branches).
* SIMD over grids: the states of ``L`` grids are stored interleaved, (slots, L), so
  the lanes of one cell are contiguous.  For even H and W the two colours are stored
  apart, row by row with periodic ghost slots (``_layout``): a row of one colour and
  the rows of its four neighbours are then contiguous runs of (W/2)*L values, so the
  innermost loop is one long vectorised loop per row (the vectoriser's alias checks
  are paid per row, not per cell).  Unsigned indices (no wrap-around code, no
  gathers), ``error_model='numpy'``, fastmath without reassociation, and a
  hand-written vectorisable ``exp`` (range reduction by the magic-number trick +
  polynomial; ``math.exp`` is a libm call LLVM does not vectorise).
  Each lane walks through the schedule on its own; when it finishes it takes the
  next job of its worker's queue.  Wall cells get a huge negative constant term,
  so their rho is 0 to 1e-38 without a mask multiply.
* Threads: numba ``prange`` over workers; worker ``t`` takes jobs t, t+T, ...
* Stopping rule, per lane and point, on the mean step per pore cell, ``d_k =
  |sum of the steps of sweep k| / pores`` (the output is a mean, and the slow modes
  are usually a few cells of a small cluster, so the max-norm rule it replaced swept
  ~25% more for nothing).  The iteration is monotone (every cell moves the same way
  at a point; at the turn from adsorption to desorption only within the previous
  point's tolerance), so this equals the mean |step| but costs one subtract and one
  add per update (|step| sums cost ~12% more); the float32 sums of steps are small numbers, so they keep full relative
  precision even for tiny steps (a sum of the new values would not).  The output
  sum(rho) is the lane's start sum plus all its step sums (float64).  With
  ``r = max(d_k/d_{k-1}, r_clean)`` (``r_clean``: the last ratio measured while the
  steps were well above rounding level, so ulp noise cannot fake a fast contraction),
  stop when ``d_k <= tol``, ``r < 1`` and the geometric tail ``d_k*r/(1-r) <= tol``
  (monotone iteration: all steps have one sign, so this bounds the remaining error of
  the sum, and the remaining change of the output is exactly the tail of the step
  sums) -- but only once the ratio has settled; while it is still rising (a slow
  mode emerging from under a fast transient) only a step small enough for a hidden
  mode contracting at R_PESS passes.  A sweep that changes nothing is a fixed point.
  float32 steps that stay at a few ulp for 64 sweeps (rounding noise, r ~ 1) end the
  point too (and mark it for polishing).  Huge cap: MAX_SWEEPS per point, with a
  warning if ever hit.  Stopping early never changes the branch: an unconverged state
  of a monotone iteration lies between the previous fixed point and this one, and
  from there the next point reaches the same least (greatest) fixed point.
* The per-cell constant (solid neighbours) is loaded once per grid; beta*mu is kept
  per lane, so moving a lane to its next point costs O(1), not a pass over the grid.
* Precision.  ``dtype="float64"``: float64 sweeps only (exact mode, tol 1e-10).
  ``dtype="float32"``: float32 sweeps with the constants split in hi+lo float32
  parts (the rounding of beta*mu and beta*w_ff is the same for all interior cells,
  a systematic error that the slow mode amplifies), then a float64 polish of the
  ill-conditioned points.  Near capillary condensation (a half-filled pore) the
  float32 fixed point is biased by rounding amplified ~1/(1-lambda): up to 1e-5
  measured.  Points whose clean contraction ratio is >= R_HARD, or that stalled,
  are saved (float32 state) and re-converged in float64 from that state in a
  second pass; the float32 walk continues unpolished (its later points contract
  the small error away).  Grids are processed in internal chunks so the saved
  states stay bounded (if a chunk overflows its buffer it is redone in float64).
"""
from __future__ import annotations

import warnings

import numba
import numpy as np
from numba import njit, prange

from .sigmoid import FASTMATH as _FM  # fastmath without reassoc
from .sigmoid import X_MAX32
from .sigmoid import sigmoid32 as _sigmoid32
from .sigmoid import sigmoid64 as _sigmoid64

__all__ = ["solve", "last_stats", "LANES"]

LANES = 64            # max grids per lane group (innermost, vectorised loop)
TOL32 = 1e-6          # float32 pass: bound on the remaining mean error per pore cell
TOL64 = 1e-10         # float64 mode (same measure)
TOL_POLISH = 1e-7     # float64 polish of hard float32 points
R_HARD = 0.95         # clean GS contraction ratio above which a float32 point is polished
R_PESS = 0.9          # contraction assumed for a mode hidden under a fast transient
STALL32 = 4.8e-7      # float32 rounding-level step (8 ulp at 1)
STALL64 = 1e-14
DCLEAN32 = 1e-6       # mean steps above this give a trustworthy contraction ratio (float32)
DCLEAN64 = 1e-13
NSTALL = 64           # sweeps in a row at rounding level that end a point
MAX_SWEEPS = 5_000_000  # per point; a point hitting it is reported by a warning
CHUNK = 4096          # grids per internal chunk (bounds the saved polish states)
POLISH_LANES = 8      # lanes of the polish pass: few, long jobs -> keep idle lanes cheap
HARD_PER_GRID = 8     # polish buffer capacity per grid of a chunk
_WALL_BIAS = -1.0e4


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep32(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo):
    """One red-black Gauss-Seidel sweep over all cells of all lanes (float32).

    rho, whi, wlo: (slots*L,) interleaved state and per-cell constant (beta*w_ff*y*solid
    neighbours, or a huge negative number on wall cells so their rho stays ~1e-38).
    Constants are float32 hi + lo pairs with the hi parts on a 2**-10 grid, so whi + mhi
    is exact (the rounding of beta*mu would otherwise be a bias shared by all cells,
    amplified near condensation).  prog: (n, 7) uint64 rows, offsets in units of lanes
    (see ``_layout``): kind 0 updates the run dst..dst+n from the runs a, b, u, v of its
    neighbours; kind 1 copies a..a+n to dst (periodic ghost slots).  Runs are whole rows
    of one colour, so the innermost loop is long and contiguous: the vectoriser's alias
    checks are paid once per row, not once per cell.  mhi, mlo: (SEG*L,) beta*mu of
    each lane repeated along the longest run (a new point stays O(SEG) per lane).
    acc: (SEG*L,) accumulator of the steps (new - old), flushed into the float64 sums
    (L,) by kind-2 rows every 8 rows: the sum of the steps of every lane is all the
    stopping rule and the output need (see ``_stop_test`` and the module doc), and
    replaces |step| sums plus a pass over the state whenever a lane finishes a point
    (~20% of the time together).  Unsigned indices: no wrap-around code.
    """
    for q in range(prog.shape[0]):
        c = prog[q, 1]
        a = prog[q, 2]
        n = prog[q, 6]
        if prog[q, 0] == 1:
            for m in range(n):
                m = np.uint64(m)
                rho[c + m] = rho[a + m]
            continue
        if prog[q, 0] == 2:
            _reduce_acc(acc, sums)
            continue
        b = prog[q, 3]
        u = prog[q, 4]
        v = prog[q, 5]
        for m in range(n):
            m = np.uint64(m)
            S = (rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])
            x = ((whi[c + m] + mhi[m]) + K * S) + ((wlo[c + m] + mlo[m]) + Klo * S)
            new = _sigmoid32(x)
            acc[m] += new - rho[c + m]
            rho[c + m] = new
    _reduce_acc(acc, sums)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep64(rho, whi, prog, mhi, acc, sums, K):
    """One red-black Gauss-Seidel sweep over all cells of all lanes (float64)."""
    for q in range(prog.shape[0]):
        c = prog[q, 1]
        a = prog[q, 2]
        n = prog[q, 6]
        if prog[q, 0] == 1:
            for m in range(n):
                m = np.uint64(m)
                rho[c + m] = rho[a + m]
            continue
        if prog[q, 0] == 2:
            _reduce_acc(acc, sums)
            continue
        b = prog[q, 3]
        u = prog[q, 4]
        v = prog[q, 5]
        for m in range(n):
            m = np.uint64(m)
            x = (whi[c + m] + mhi[m]) + K * ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m]))
            new = _sigmoid64(x)
            acc[m] += new - rho[c + m]
            rho[c + m] = new
    _reduce_acc(acc, sums)


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


@njit(cache=True)
def _stop_test(d, dprev, rprev, k, tol, rcl):
    """Return (converged, ratio) for one lane after its k-th sweep at this point.

    d: |mean step| per pore cell.  With r = max(d/dprev, rcl), the geometric tail
    ``d*r/(1-r)`` bounds the remaining error of the mean (hence of the output) once
    the iteration is in its asymptotic regime.  After a fast transient a slow mode can
    hide under it (ratios 0.1, 0.3, 0.7, 0.88, ... while the mean step already looks
    tiny), so the bound is trusted only when the ratio has settled (not rising by more
    than 10% since the last sweep); otherwise only a step small enough for a hidden mode
    contracting at R_PESS passes.  A sweep that changes nothing is an exact fixed point.
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


@njit(cache=True)
def _split(v):
    """float64 v -> (hi on a 2**-10 grid, lo = v - hi); hi + hi' stays exact in float32."""
    hi = np.floor(v * 1024.0 + 0.5) / 1024.0
    return hi, v - hi


@njit(cache=True)
def _load_lane(whi, wlo, rho, grid, nbr, cslot, B, l, L, reset):
    """Set one lane's per-cell constant for a new grid (and rho = s if reset).

    beta*w_ff*y*(number of solid neighbours) on pore cells, a huge negative number
    on wall cells (their rho is then 0 to within 1e-38).
    """
    HW = grid.shape[0]
    for c in range(HW):
        i = cslot[c] * L + l
        if grid[c]:
            ns = 0
            for q in range(4):
                ns += 1 - grid[nbr[c, q]]
            if whi.itemsize == 4:
                whi[i], wlo[i] = _split(B * ns)
            else:  # float64 state: one exact-enough constant
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
    """beta*mu of lane l, repeated along a run (see _sweep32)."""
    hi, lo = _split(beta_mu)
    if mhi.itemsize != 4:  # float64 state: one exact-enough constant
        hi, lo = beta_mu, 0.0
    for k in range(mhi.shape[0] // L):
        mhi[k * L + l] = hi
        mlo[k * L + l] = lo


@njit(cache=True)
def _sweep(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo):
    if rho.itemsize == 4:
        _sweep32(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo)
    else:
        _sweep64(rho, whi, prog, mhi, acc, sums, K)


@njit(parallel=True, cache=True)
def _solve_all(grids, jobs, states, bmus, K, B, nbr, cslot, prog, seg, single, L, tol, stall_d,
               dclean, r_hard, nworkers, out, stats, ptsweeps, hard_gp, hard_st, nhard):
    """Run all jobs; worker t takes jobs t, t+nworkers, ...

    grids: (N, HW) uint8; jobs: (J, 4) int64 rows (grid, first point, end point,
    state row or -1 for rho = s); states: (*, HW) float32 start states; bmus: (P,)
    beta*mu; nbr: (HW, 4) neighbours; cslot, prog, seg: state layout and sweep program
    (see ``_layout``); single:
    float32 state (else float64); out: (N, P) sums.  stats: (nworkers, 4) sweeps,
    capped points, stalled points, hard-buffer overflows; ptsweeps: (nworkers, P)
    lane-sweeps per point.  Hard float32 points (clean ratio >= r_hard or stalled)
    are saved in hard_gp (nworkers, cap, 2) / hard_st (nworkers, cap, HW), counts
    in nhard (nworkers,), when r_hard < 1.
    """
    NS = (prog[:, 1] + prog[:, 6]).max()   # slots of the state layout
    progL = (prog * L).astype(np.uint64)
    progL[:, 0] = prog[:, 0]
    for t in prange(nworkers):
        if single:
            _worker(grids, jobs, states, bmus, np.float32(K), np.float32(K - np.float64(np.float32(K))),
                    B, nbr, cslot, progL, L, tol, stall_d, dclean, r_hard, t, nworkers, out, stats,
                    ptsweeps, hard_gp, hard_st, nhard,
                    np.zeros(NS * L, dtype=np.float32), np.zeros(NS * L, dtype=np.float32),
                    np.zeros(NS * L, dtype=np.float32), np.zeros(seg * L, dtype=np.float32),
                    np.zeros(seg * L, dtype=np.float32), np.zeros(seg * L, dtype=np.float32))
        else:
            _worker(grids, jobs, states, bmus, K, 0.0, B, nbr, cslot, progL, L, tol, stall_d,
                    dclean, r_hard, t, nworkers, out, stats, ptsweeps, hard_gp, hard_st, nhard,
                    np.zeros(NS * L), np.zeros(NS * L), np.zeros(NS * L), np.zeros(seg * L),
                    np.zeros(seg * L), np.zeros(seg * L))
    return 0


@njit(cache=True)
def _start_job(jobs, states, j, grids, nbr, cslot, bmus, B, whi, wlo, mhi, mlo, rho, l, L):
    g = jobs[j, 0]
    p0 = jobs[j, 1]
    srow = jobs[j, 3]
    _load_lane(whi, wlo, rho, grids[g], nbr, cslot, B, l, L, srow < 0)
    _set_mu(mhi, mlo, l, L, bmus[p0])
    if srow >= 0:
        HW = grids.shape[1]
        for c in range(HW):
            if grids[g, c]:
                rho[cslot[c] * L + l] = states[srow, c]
            else:
                rho[cslot[c] * L + l] = 0.0
    s0 = 0.0                               # sum(rho) of the start state
    for c in range(grids.shape[1]):
        s0 += rho[cslot[c] * L + l]
    return g, p0, s0


@njit(cache=True)
def _worker(grids, jobs, states, bmus, K, Klo, B, nbr, cslot, prog, L, tol, stall_d, dclean,
            r_hard, t, nworkers, out, stats, ptsweeps, hard_gp, hard_st, nhard,
            rho, whi, wlo, mhi, mlo, acc):
    J = jobs.shape[0]
    HW = grids.shape[1]
    cap = hard_gp.shape[1]
    job = np.full(L, -1, dtype=np.int64)   # job in lane, -1 = idle
    gid = np.zeros(L, dtype=np.int64)      # its grid
    pt = np.zeros(L, dtype=np.int64)       # its current point
    ksw = np.zeros(L, dtype=np.int64)      # sweeps at this point
    dprev = np.zeros(L)
    rcl = np.zeros(L)                      # last contraction ratio seen above rounding
    rprev = np.zeros(L)                    # contraction ratio of the previous sweep
    nstall = np.zeros(L, dtype=np.int64)   # sweeps in a row at rounding level
    inv_np = np.zeros(L)                   # 1 / pore count of the lane's grid
    sums = np.zeros(L)                     # sum of the steps of the last sweep per lane
    lsum = np.zeros(L)                     # sum(rho) per lane (start sum + all steps)
    nxt = np.int64(t)                      # next job of this worker's queue
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
            inv_np[l] = 1.0 / max(1, grids[gid[l]].astype(np.int64).sum())
            nxt += nw
            active += 1
    while active > 0:
        for l in range(L):
            sums[l] = 0.0
        _sweep(rho, whi, wlo, prog, mhi, mlo, acc, sums, K, Klo)   # sums = sum of steps
        nsweeps += 1
        for l in range(L):
            j = job[l]
            if j < 0:
                continue
            d = abs(sums[l]) * inv_np[l]     # |mean step| per pore cell
            lsum[l] += sums[l]                 # running sum(rho) of the lane
            k = ksw[l] + 1
            ksw[l] = k
            ptsweeps[t, pt[l]] += 1
            if d >= dclean and dprev[l] >= dclean:
                rcl[l] = d / dprev[l]
            conv, rk = _stop_test(d, dprev[l], rprev[l], k, tol, rcl[l])
            stalled = False
            if not conv:
                # float32 can stall at rounding level with r ~ 1: steps of a few ulp
                # for many sweeps in a row mean the state is as good as float32 gets
                if d <= stall_d:
                    nstall[l] += 1
                    if nstall[l] >= NSTALL:
                        conv = True
                        stalled = True
                        nstalls += 1
                else:
                    nstall[l] = 0
                if k >= MAX_SWEEPS:
                    conv = True
                    ncap += 1
            if not conv:
                dprev[l] = d
                rprev[l] = rk
                continue
            # point done
            g = gid[l]
            p = pt[l]
            out[g, p] = lsum[l]
            if r_hard < 1.0 and (stalled or rcl[l] >= r_hard):
                if nh < cap:
                    hard_gp[t, nh, 0] = g
                    hard_gp[t, nh, 1] = p
                    for c in range(HW):
                        hard_st[t, nh, c] = rho[cslot[c] * L + l]
                    nh += 1
                else:
                    noverflow += 1
            ksw[l] = 0
            dprev[l] = 0.0
            rcl[l] = 0.0
            rprev[l] = 0.0
            nstall[l] = 0
            p += 1
            if p < jobs[j, 2]:
                pt[l] = p
                _set_mu(mhi, mlo, l, L, bmus[p])
                continue
            # job done: next job of the queue, or idle
            if nxt < J:
                job[l] = nxt
                gid[l], pt[l], lsum[l] = _start_job(jobs, states, nxt, grids, nbr, cslot,
                                                    bmus, B, whi, wlo, mhi, mlo, rho, l, L)
                inv_np[l] = 1.0 / max(1, grids[gid[l]].astype(np.int64).sum())
                nxt += nw
            else:
                job[l] = -1
                active -= 1
                for c in range(HW):
                    i = cslot[c] * L + l
                    whi[i] = _WALL_BIAS
                    wlo[i] = 0.0
                    rho[i] = 0.0
    stats[t, 0] += nsweeps * L
    stats[t, 1] += ncap
    stats[t, 2] += nstalls
    stats[t, 3] += noverflow
    nhard[t] = nh


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
    """State layout and sweep program: (nbr, cslot, prog, seg).

    nbr: (HW,4) neighbours; cslot: (HW,) slot of each cell in the state array (a slot
    holds the L lanes of one cell); prog: (n,7) int64 rows (kind, dst, a, b, u, v, len)
    in slots, run by ``_sweep32``; seg: the longest update run.

    For even H and W the two colours are stored apart, row by row, each row with a
    ghost slot at both ends and each colour with a ghost row above and below (periodic
    copies): then a row of one colour is a contiguous run whose 4 neighbour runs
    (up, down, left, right) are contiguous too, and one sweep is 2H long loops.  The
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
        prog = np.insert(prog, np.arange(8, H * W, 8), (2, 0, 0, 0, 0, 0, 0), axis=0)
        return nbr, np.arange(H * W, dtype=np.int64), prog, 1
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
                prog.append((1, slot(o, i, h), slot(o, i, 0), 0, 0, 0, 1))
            else:
                prog.append((1, slot(o, i, -1), slot(o, i, h - 1), 0, 0, 0, 1))
        prog.append((1, slot(o, -1, -1), slot(o, H - 1, -1), 0, 0, 0, rw))
        prog.append((1, slot(o, H, -1), slot(o, 0, -1), 0, 0, 0, rw))
        for i in range(H):
            # cell (i, j = 2k + p): its left neighbour is the other colour's k + p - 1,
            # its right one k + p, up and down the other colour's k in rows i -+ 1
            p = (i + col) & 1
            prog.append((0, slot(col, i, 0), slot(o, i - 1, 0), slot(o, i + 1, 0),
                         slot(o, i, p - 1), slot(o, i, p), h))
            if i % 8 == 7:          # flush the float32 partial sums of the new values
                prog.append((2, 0, 0, 0, 0, 0, 0))
    return nbr, cslot, np.array(prog, dtype=np.int64), h


_last_stats: dict = {}


def last_stats() -> dict:
    """Counters of the last ``solve`` call in this process (for benchmarks/profiling).

    lane_sweeps: lane-sweeps of the main pass (cost = lane_sweeps * H*W cell updates,
    idle lanes included); polish_lane_sweeps: same for the float64 polish pass;
    polished: points re-converged in float64; stalled, capped: see the module doc;
    sweeps_per_point: mean lane-sweeps per grid at each point (active lanes only).
    """
    return dict(_last_stats)


def _lanes(njobs: int, nworkers: int) -> int:
    """Lane count: LANES, or fewer (multiple of 8) when there are few jobs per worker."""
    per = -(-njobs // max(nworkers, 1))
    return int(min(LANES, max(8, -(-per // 8) * 8)))


def _run(g8, jobs, states, bmus, K, B, lay, single, tol, stall_d, dclean, r_hard,
         nthreads, out, acc, P, cap, maxlanes=LANES):
    HW = g8.shape[1]
    nworkers = max(1, min(nthreads, len(jobs)))
    L = min(_lanes(len(jobs), nworkers), maxlanes)
    stats = np.zeros((nworkers, 4), dtype=np.int64)
    ptsweeps = np.zeros((nworkers, P), dtype=np.int64)
    hard_gp = np.zeros((nworkers, cap, 2), dtype=np.int64)
    hard_st = np.zeros((nworkers, cap, HW), dtype=np.float32)
    nhard = np.zeros(nworkers, dtype=np.int64)
    _solve_all(g8, jobs, states, bmus, K, B, *lay, single, L, tol, stall_d, dclean,
               r_hard, nworkers, out, stats, ptsweeps, hard_gp, hard_st, nhard)
    acc["sweeps"] += stats[:, 0].sum()
    acc["capped"] += int(stats[:, 1].sum())
    acc["stalled"] += int(stats[:, 2].sum())
    acc["ptsweeps"] += ptsweeps.sum(0)
    gp = np.concatenate([hard_gp[t, :nhard[t]] for t in range(nworkers)])
    st = np.concatenate([hard_st[t, :nhard[t]] for t in range(nworkers)])
    return gp, st, int(stats[:, 3].sum())


def solve(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, threads=None) -> np.ndarray:
    """Sums of the converged density for every grid and chemical potential.

    grids: (N,H,W) 0/1 (1 = pore), periodic, H, W >= 3; mus: (P,) chemical
    potentials in schedule order (the first point starts from rho = s, every later
    one from the previous point's state); returns float64 (N,P), ``sum(rho)`` over
    each grid at each point.  dtype "float32" (default, fast; error <= 1e-5 after
    dividing by the pore count, typically ~1e-6) or "float64" (exact, ~1e-9).
    tol: bound on the estimated remaining error of the mean density per pore cell
    (float32 pass, or float64 mode).  threads: worker threads (default: all numba threads).
    """
    g = np.asarray(grids)
    if g.ndim != 3:
        raise ValueError(f"grids must be (N,H,W), got shape {g.shape}")
    N, H, W = g.shape
    if H < 3 or W < 3:
        raise ValueError(f"grid size must be at least 3x3, got {H}x{W}")
    mus = np.ascontiguousarray(np.asarray(mus, dtype=np.float64).ravel())
    P = mus.shape[0]
    out = np.zeros((N, P), dtype=np.float64)
    if N == 0 or P == 0:
        return out
    if dtype in ("float32", np.float32):
        single = True
    elif dtype in ("float64", np.float64):
        single = False
    else:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    beta = float(beta)
    K = beta * float(w_ff)
    B = beta * float(w_ff) * float(y)
    bmus = beta * mus
    if single and bmus.max() + 4.0 * max(K, B, 0.0) > X_MAX32:
        single = False  # outside the float32 kernel's range (see _sigmoid32): exact mode
    lay = _layout(H, W)
    maxthreads = numba.config.NUMBA_NUM_THREADS
    nthreads = maxthreads if threads is None else max(1, min(int(threads), maxthreads))
    acc = dict(sweeps=0, polish_sweeps=0, capped=0, stalled=0, polished=0, redone=0,
               ptsweeps=np.zeros(P, dtype=np.int64))
    nostate = np.zeros((0, H * W), dtype=np.float32)
    old = numba.get_num_threads()
    numba.set_num_threads(nthreads)
    try:
        for c0 in range(0, N, CHUNK):
            g8 = np.ascontiguousarray((g[c0:c0 + CHUNK] != 0).reshape(-1, H * W), dtype=np.uint8)
            n = g8.shape[0]
            o = out[c0:c0 + n]
            jobs = np.zeros((n, 4), dtype=np.int64)
            jobs[:, 0] = np.arange(n)
            jobs[:, 2] = P
            jobs[:, 3] = -1
            if not single:
                _run(g8, jobs, nostate, bmus, K, B, lay, False,
                     TOL64 if tol is None else float(tol), STALL64, DCLEAN64, 1.0,
                     nthreads, o, acc, P, 1)
                continue
            cap = -(-HARD_PER_GRID * n // max(1, min(nthreads, n))) + 16
            gp, st, overflow = _run(g8, jobs, nostate, bmus, K, B, lay, True,
                                    TOL32 if tol is None else float(tol), STALL32, DCLEAN32,
                                    R_HARD, nthreads, o, acc, P, cap)
            if overflow:  # too many ill-conditioned points: redo the chunk in float64
                acc["redone"] += n
                _run(g8, jobs, nostate, bmus, K, B, lay, False, TOL_POLISH, STALL64,
                     DCLEAN64, 1.0, nthreads, o, acc, P, 1)
                continue
            if len(gp):
                pj = np.zeros((len(gp), 4), dtype=np.int64)
                pj[:, 0] = gp[:, 0]
                pj[:, 1] = gp[:, 1]
                pj[:, 2] = gp[:, 1] + 1
                pj[:, 3] = np.arange(len(gp))
                s0 = acc["sweeps"]
                _run(g8, pj, st, bmus, K, B, lay, False, TOL_POLISH, STALL64, DCLEAN64,
                     1.0, nthreads, o, acc, P, 1, POLISH_LANES)
                acc["polish_sweeps"] += acc["sweeps"] - s0
                acc["sweeps"] = s0
                acc["polished"] += len(gp)
    finally:
        numba.set_num_threads(old)
    _last_stats.clear()
    _last_stats.update(lane_sweeps=int(acc["sweeps"]), polish_lane_sweeps=int(acc["polish_sweeps"]),
                       polished=acc["polished"], redone=acc["redone"], stalled=acc["stalled"],
                       capped=acc["capped"], dtype="float32" if single else "float64",
                       sweeps_per_point=acc["ptsweeps"] / N)
    if acc["capped"]:
        warnings.warn(f"lattice DFT: {acc['capped']} point(s) hit the cap of {MAX_SWEEPS} "
                      "sweeps; their values may be inaccurate", RuntimeWarning, stacklevel=2)
    return out
