"""The lane worker shared by the 2-D and 3-D lattice-DFT kernels (docs/physics.md).

For every grid ``s`` (1 = pore) and chemical potential ``mu`` of a schedule, find

    rho_i = s_i * sigmoid(beta * (mu + w_ff * sum_j (rho_j + y * (1 - s_j))))

the first point from ``rho = s``, every later one from the previous point's converged
state, and return ``sum(rho)`` over the grid's own cells per grid and point.  The
lattice comes as a *layout* ``(nbr, cslot, prog, nslots, seg, nown)``: the neighbour
table of the cells (for the wall term), the slot of each cell in the state, the sweep
program of ``_sweeps`` (its width picks the 4- or 6-neighbour stencil), the slots of the
state, the longest run, and how many cells are the grid's own (the rest: a reservoir).
``_dft_numba`` (2-D) and ``dft3d.numba3d`` (3-D, reservoirs) only build layouts.

* Red-black Gauss-Seidel from the previous state: plain, un-relaxed, un-mixed sweeps of
  a monotone map, so every point lands on the branch the physics asks for (the least
  fixed point above the previous state when mu rises, the greatest below it when mu
  falls).  No over-relaxation, no extrapolation between points, no mixing: they can
  jump branches.  Stopping early never changes the branch either: an unconverged state
  of a monotone iteration lies between the previous fixed point and this one, and the
  next point reaches the same least (greatest) fixed point from there.
* SIMD over grids: ``L`` grids per worker, interleaved (slot, lane); each lane walks the
  schedule on its own and takes the next job of its worker's queue when it is done
  (worker t: jobs t, t+T, ...; numba ``prange`` over workers).  Wall cells get a huge
  negative constant, so rho = 0 there to 1e-38 without a mask multiply; the per-cell
  constant is loaded once per grid, beta*mu kept per lane (a new point costs O(1)).
* Stopping rule per lane and point on ``d_k = |sum of the steps of sweep k| / pores``
  (monotone iteration: all steps of a point have one sign, so this is the mean |step|,
  for one subtract and one add per update; the output is the start sum plus all step
  sums, float64).  With ``r = max(d_k/d_{k-1}, r_clean)`` (``r_clean``: the last ratio
  measured while the steps were well above rounding level) stop when ``d_k <= tol`` and
  the geometric tail ``d_k r/(1-r) <= tol`` once the ratio has settled, else only when a
  mode hidden at R_PESS would be converged too.  64 sweeps at float32 rounding level end
  a point (and mark it for polishing) if their signed sum is noise-sized (a front
  creeping one way through a reservoir at rounding-level steps left 4e-3 errors);
  MAX_SWEEPS caps it with a warning.  ``pores`` counts the grid's own pore cells (with
  a reservoir the sums include its steps, all of one sign: a conservative bound).
* Precision: ``float64`` sweeps only (exact mode, tol 1e-10); ``float32`` sweeps, then
  points whose clean contraction ratio is >= R_HARD (or that stalled) re-converged in
  float64 from their saved state (near condensation the float32 fixed point is biased
  by rounding amplified ~1/(1-lambda)).  Grids run in chunks so the saved states stay
  bounded; a chunk that overflows its buffer is redone in float64.
"""
from __future__ import annotations

import warnings

import numba
import numpy as np
from numba import njit, prange

from ._sweeps import sweep
from .sigmoid import X_MAX32

__all__ = ["solve_cells", "precision", "row_pairs"]

TOL32 = 1e-6          # float32 pass: bound on the remaining mean error per pore cell
TOL64 = 1e-10         # float64 mode (same measure)
TOL_POLISH = 1e-7     # float64 polish of hard float32 points
R_HARD = 0.98         # clean contraction ratio above which a float32 point is polished
R_PESS = 0.9          # contraction assumed for a mode hidden under a fast transient
STALL32 = 4.8e-7      # float32 rounding-level step (8 ulp at 1)
STALL64 = 1e-14
DCLEAN32 = 1e-6       # mean steps above this give a trustworthy contraction ratio
DCLEAN64 = 1e-13
NSTALL = 64           # sweeps in a row at rounding level that end a point
STALL_DRIFT = 8.0     # ... if their signed sum is <= this * STALL (sqrt(64): random signs)
MAX_SWEEPS = 5_000_000
CHUNK = 4096          # grids per internal chunk (bounds the saved polish states)
POLISH_LANES = 8      # lanes of the polish pass: few, long jobs -> keep idle lanes cheap
HARD_PER_GRID = 8     # polish buffer capacity per grid of a chunk
_WALL_BIAS = -1.0e4


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
def _load_lane(whi, rho, grid, nbr, cslot, B, l, L, reset):
    """Set one lane's per-cell constant (B * solid neighbours, or the wall bias); float32:
    Bhi * solid neighbours (Bhi = B on the 2**-10 grid; the sweep adds Blo's share)."""
    for c in range(grid.shape[0]):
        i = cslot[c] * L + l
        if grid[c]:
            ns = 0
            for q in range(nbr.shape[1]):
                ns += 1 - grid[nbr[c, q]]
            if whi.itemsize == 4:
                whi[i] = _split(B)[0] * ns
            else:
                whi[i] = B * ns
            if reset:
                rho[i] = 1.0
        else:
            whi[i] = _WALL_BIAS
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
def _start_job(jobs, states, j, grids, nbr, cslot, bmus, B, whi, mhi, mlo, rho, l, L):
    g = jobs[j, 0]
    p0 = jobs[j, 1]
    srow = jobs[j, 3]
    _load_lane(whi, rho, grids[g], nbr, cslot, B, l, L, srow < 0)
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


@njit(cache=True)
def _extent(job, gid, region, L):
    """(rows, run length) a sweep must cover: the largest region of the active lanes."""
    rmax = 0
    nmax = 0
    for l in range(job.shape[0]):
        if job[l] >= 0:
            rmax = max(rmax, region[gid[l], 0])
            nmax = max(nmax, region[gid[l], 1])
    return rmax, np.uint64(nmax * L)


# ---------------------------------------------------------------- worker
@njit(cache=True)
def _worker(grids, jobs, states, bmus, K, Klo, Kb, B, nbr, cslot, nown, prog, prow, region,
            L, tol, stall_d, dclean, r_hard, t, nworkers, out, stats, ptsweeps, hard_gp, hard_st,
            nhard, rho, whi, mhi, mlo, acc):
    """Worker t: runs jobs t, t+nworkers, ... in L lanes (see the module doc).

    region[g] = (rows, run length in slots) holding all of grid g's pores: a sweep only
    updates the rows and run prefixes that some active lane needs."""
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
        rho[c] = 0.0
    for l in range(L):
        if nxt < J:
            job[l] = nxt
            gid[l], pt[l], lsum[l] = _start_job(jobs, states, nxt, grids, nbr, cslot, bmus,
                                                B, whi, mhi, mlo, rho, l, L)
            inv_np[l] = 1.0 / max(1, grids[gid[l], :nown].astype(np.int64).sum())
            nxt += nw
            active += 1
    rmax, nmax = _extent(job, gid, region, L)
    while active > 0:
        for l in range(L):
            sums[l] = 0.0
        sweep(rho, whi, prog, mhi, mlo, acc, sums, K, Klo, Kb, prow, rmax, nmax)
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
                                                    bmus, B, whi, mhi, mlo, rho, l, L)
                inv_np[l] = 1.0 / max(1, grids[gid[l], :nown].astype(np.int64).sum())
                nxt += nw
            else:
                job[l] = -1
                active -= 1
                for c in range(NC):
                    i = cslot[c] * L + l
                    whi[i] = _WALL_BIAS
                    rho[i] = 0.0
            rmax, nmax = _extent(job, gid, region, L)
    stats[t, 0] += nsweeps * L
    stats[t, 1] += ncap
    stats[t, 2] += nstalls
    stats[t, 3] += noverflow
    nhard[t] = nh


@njit(parallel=True, cache=True)
def _solve_all(grids, jobs, states, bmus, K, B, nbr, cslot, nown, prog, prow, region, nslots,
               seg, single, L, tol, stall_d, dclean, r_hard, nworkers, out, stats, ptsweeps,
               hard_gp, hard_st, nhard):
    """Run all jobs in parallel workers (prange); worker t takes jobs t, t+nworkers, ...

    grids: (N, ncells) uint8 in cell order; jobs: (J, 4) rows (grid, first point, end
    point, state row or -1 for rho = s); states: (*, ncells) float32 start states;
    prog: sweep program in slots (``_sweeps``), prow its rows' row indices; region:
    (grids, 2) rows and run length holding each grid's pores; nslots: slots of the state.
    """
    progL = (prog * L).astype(np.uint64)
    progL[:, 0] = prog[:, 0]
    for t in prange(nworkers):
        if single:
            K32 = np.float32(K)
            f32 = np.float32
            bhi, blo = _split(B)             # whi = bhi * solid neighbours; lo = Kb * whi
            Kb = blo / bhi if bhi != 0.0 else 0.0
            _worker(grids, jobs, states, bmus, K32, f32(K - np.float64(K32)), f32(Kb), B, nbr,
                    cslot, nown, progL, prow, region, L, tol, stall_d, dclean, r_hard, t, nworkers, out, stats, ptsweeps,
                    hard_gp, hard_st, nhard, np.zeros(nslots * L, dtype=f32),
                    np.zeros(nslots * L, dtype=f32), np.zeros(seg * L, dtype=f32),
                    np.zeros(seg * L, dtype=f32), np.zeros(seg * L, dtype=f32))
        else:
            _worker(grids, jobs, states, bmus, K, 0.0, 0.0, B, nbr, cslot, nown, progL, prow,
                    region, L, tol, stall_d, dclean, r_hard, t, nworkers, out, stats, ptsweeps,
                    hard_gp, hard_st, nhard, np.zeros(nslots * L), np.zeros(nslots * L),
                    np.zeros(seg * L), np.zeros(seg * L), np.zeros(seg * L))
    return 0



def row_pairs(H: int):
    """Rows of one colour in sweep order, as pairs (i, i + 2) -- the first row's down run
    is the second's up run -- and single rows where no partner is left: (0, 2), (1, 3),
    (4, 6), (5, 7), ...; a pair is one loop of ``_sweeps`` (kinds 3 and 4)."""
    out = []
    for base in range(0, H, 4):
        for i in (base, base + 1):
            if i >= H:
                continue
            out.append((i, i + 2) if i + 2 < H else (i,))
    seen = {r for g in out for r in g}
    return out + [(i,) for i in range(H) if i not in seen]


def _lanes(njobs: int, nworkers: int, maxlanes: int) -> int:
    """Lane count: maxlanes, or fewer (multiple of 8) when there are few jobs per worker."""
    per = -(-njobs // max(nworkers, 1))
    return int(min(maxlanes, max(8, -(-per // 8) * 8)))


def _run(g8, region, jobs, states, consts, lay, single, tol, stall_d, dclean, r_hard,
         nthreads, out, acc, cap, maxlanes):
    """One parallel pass over ``jobs``; returns the hard points, their states, overflows."""
    bmus, K, B = consts
    nbr, cslot, prog, nslots, seg, nown, prow = lay
    P = bmus.shape[0]
    nworkers = max(1, min(nthreads, len(jobs)))
    L = _lanes(len(jobs), nworkers, maxlanes)
    stats = np.zeros((nworkers, 4), dtype=np.int64)
    ptsweeps = np.zeros((nworkers, P), dtype=np.int64)
    hard_gp = np.zeros((nworkers, cap, 2), dtype=np.int64)
    hard_st = np.zeros((nworkers, cap, g8.shape[1]), dtype=np.float32)
    nhard = np.zeros(nworkers, dtype=np.int64)
    _solve_all(g8, jobs, states, bmus, K, B, nbr, cslot, nown, prog, prow, region, nslots, seg,
               single, L, tol, stall_d, dclean, r_hard, nworkers, out, stats, ptsweeps, hard_gp,
               hard_st, nhard)
    acc["sweeps"] += stats[:, 0].sum()
    acc["capped"] += int(stats[:, 1].sum())
    acc["stalled"] += int(stats[:, 2].sum())
    acc["ptsweeps"] += ptsweeps.sum(0)
    gp = np.concatenate([hard_gp[t, :nhard[t]] for t in range(nworkers)])
    st = np.concatenate([hard_st[t, :nhard[t]] for t in range(nworkers)])
    return gp, st, int(stats[:, 3].sum())


def _jobs(n: int, P: int) -> np.ndarray:
    """One job per grid: the whole schedule from rho = s."""
    jobs = np.zeros((n, 4), dtype=np.int64)
    jobs[:, 0] = np.arange(n)
    jobs[:, 2] = P
    jobs[:, 3] = -1
    return jobs


def _polish(g8, region, gp, st, consts, lay, nthreads, o, acc):
    """Re-converge the hard float32 points (gp: grid, point) in float64 from states st."""
    pj = np.zeros((len(gp), 4), dtype=np.int64)
    pj[:, 0] = gp[:, 0]
    pj[:, 1] = gp[:, 1]
    pj[:, 2] = gp[:, 1] + 1
    pj[:, 3] = np.arange(len(gp))
    s0 = acc["sweeps"]
    _run(g8, region, pj, st, consts, lay, False, TOL_POLISH, STALL64, DCLEAN64, 1.0, nthreads,
         o, acc, 1, POLISH_LANES)
    acc["polish_sweeps"] += acc["sweeps"] - s0
    acc["sweeps"] = s0
    acc["polished"] += len(gp)


def _solve_chunk(g8, region, consts, lay, single, tol, nthreads, o, acc, maxlanes):
    """One chunk: float64 sweeps, or float32 sweeps; returns the hard float32 points
    (grid in chunk, point) and their states, for the float64 polish."""
    P = consts[0].shape[0]
    jobs = _jobs(len(g8), P)
    nostate = np.zeros((0, g8.shape[1]), dtype=np.float32)
    if not single:
        _run(g8, region, jobs, nostate, consts, lay, False, TOL64 if tol is None else tol,
             STALL64, DCLEAN64, 1.0, nthreads, o, acc, 1, maxlanes)
        return None
    n = len(g8)
    cap = -(-HARD_PER_GRID * n // max(1, min(nthreads, n))) + 16
    gp, st, overflow = _run(g8, region, jobs, nostate, consts, lay, True,
                            TOL32 if tol is None else tol, STALL32, DCLEAN32, R_HARD, nthreads,
                            o, acc, cap, maxlanes)
    if overflow:  # too many ill-conditioned points: redo the chunk in float64
        acc["redone"] += n
        _run(g8, region, jobs, nostate, consts, lay, False, TOL_POLISH, STALL64, DCLEAN64, 1.0,
             nthreads, o, acc, 1, maxlanes)
        return None
    return gp, st


def _polish_all(hard, consts, lay, nthreads, out, acc):
    """One float64 polish pass over the hard points of all chunks (one pass, so the two
    workers share the long jobs instead of waiting at the end of every chunk).

    hard: (grids of the points, their regions, output rows, points, states) per chunk."""
    if not hard:
        return
    g8, region, rows, pts, st = (np.concatenate(x) for x in zip(*hard))
    if not len(rows):
        return
    gp = np.stack([np.arange(len(rows)), pts], axis=1)
    o = np.zeros((len(rows), out.shape[1]))
    _polish(np.ascontiguousarray(g8), np.ascontiguousarray(region), gp, st, consts, lay,
            nthreads, o, acc)
    out[rows, pts] = o[gp[:, 0], pts]


def precision(dtype, bmus, K, B, nb) -> bool:
    """True for float32 sweeps; float64 when asked, or when x = beta*mu + K*(neighbours)
    + B*(solid neighbours) could leave the float32 sigmoid's range (``X_MAX32``), or
    when B is too small for its hi part on the 2**-10 grid (the lo part is Kb * hi)."""
    if dtype in ("float32", np.float32):
        tiny = B != 0.0 and abs(B) * 1024.0 <= 0.5
        return bool(bmus.max() + nb * max(K, B, 0.0) <= X_MAX32) and not tiny
    if dtype in ("float64", np.float64):
        return False
    raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")


def _full(lay):
    """The layout with a prow of its own (-1: every run always runs), and the region
    function of a layout without one: every grid spans all rows and whole runs."""
    def full(n):
        return np.tile(np.array([[1 << 40, lay[4]]], dtype=np.int64), (n, 1))

    if len(lay) == 7:
        return lay, full
    return (*lay, np.full(lay[2].shape[0], -1, dtype=np.int64)), full


def solve_cells(chunks, N, mus, beta, w_ff, y, lay, *, dtype, tol, threads, maxlanes, label,
                progress=None):
    """Run the worker over ``chunks`` (an iterable of (start, (n, ncells) uint8 grids in
    the layout's cell order[, (n, 2) region: rows and run length in slots holding the
    grid's pores])); return (sums (N, P) float64, stats dict).

    lay: (nbr, cslot, prog, nslots, seg, nown[, prow]); without prow every run of the
    program runs for every grid.  progress(n): called with the grids done after each chunk
    (their float64 polish comes at the end)."""
    lay, full = _full(lay)
    mus = np.ascontiguousarray(np.asarray(mus, dtype=np.float64).ravel())
    P = mus.shape[0]
    out = np.zeros((N, P), dtype=np.float64)
    K = float(beta) * float(w_ff)
    consts = (float(beta) * mus, K, K * float(y))
    single = precision(dtype, consts[0], K, consts[2], lay[0].shape[1]) if P else True
    acc = dict(sweeps=0, polish_sweeps=0, capped=0, stalled=0, polished=0, redone=0,
               ptsweeps=np.zeros(P, dtype=np.int64))
    if N and P:
        maxthreads = numba.config.NUMBA_NUM_THREADS
        nthreads = maxthreads if threads is None else max(1, min(int(threads), maxthreads))
        old = numba.get_num_threads()
        numba.set_num_threads(nthreads)
        hard = []
        try:
            for c0, g8, *reg in chunks:
                region = reg[0] if reg else full(len(g8))
                h = _solve_chunk(g8, region, consts, lay, single,
                                 None if tol is None else float(tol), nthreads,
                                 out[c0:c0 + len(g8)], acc, maxlanes)
                if h is not None and len(h[0]):
                    gi = h[0][:, 0]
                    hard.append((g8[gi], region[gi], c0 + gi, h[0][:, 1], h[1]))
                if progress is not None:
                    progress(len(g8))
            _polish_all(hard, consts, lay, nthreads, out, acc)
        finally:
            numba.set_num_threads(old)
    stats = dict(lane_sweeps=int(acc["sweeps"]), polish_lane_sweeps=int(acc["polish_sweeps"]),
                 polished=acc["polished"], redone=acc["redone"], stalled=acc["stalled"],
                 capped=acc["capped"], dtype="float32" if single else "float64",
                 sweeps_per_point=acc["ptsweeps"] / max(N, 1))
    if acc["capped"]:
        warnings.warn(f"{label}: {acc['capped']} point(s) hit the cap of {MAX_SWEEPS} "
                      "sweeps; their values may be inaccurate", RuntimeWarning, stacklevel=3)
    return out, stats
