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
* SIMD over grids: the state of ``LANES`` grids is stored interleaved, shape
  (H*W, LANES), so the innermost loop runs over lanes (grids) and vectorises
  (AVX2 / AVX-512).  Each lane walks through the pressure schedule on its own;
  when a lane finishes its last point it takes the next grid of the thread's
  queue.  The sigmoid uses a hand-written, vectorisable ``exp`` (Cephes-style
  range reduction + polynomial), because ``math.exp`` is a libm call that LLVM
  does not vectorise.
* Threads: numba ``prange`` over workers; worker ``t`` takes grids t, t+T, ...
* Stopping rule, per lane and point: with ``d_k`` the max-norm change of sweep k
  and ``r = d_k / d_{k-1}``, stop when ``k >= 3``, ``d_k <= tol``, ``r < 1`` and
  ``d_k * r / (1 - r) <= tol`` holds for two consecutive sweeps, i.e. the
  estimated REMAINING error (geometric tail) is below ``tol``, not just the last
  step.  Also stop when a sweep changes nothing (exact fixed point in floating
  point).  In float32 the iteration can stall at rounding level with ``r``
  hovering around 1; such a lane (``d`` within a few ulp for many sweeps) is
  finished in float64 instead (see below).
* Mixed precision: in ``dtype="float32"`` every point is solved in float32 and
  then polished in float64 on the same lane (the float64 copy of the state is
  only used for a handful of sweeps per point, because the float32 state is
  already within rounding of the answer).  This removes the float32 fixed-point
  bias, which near capillary condensation is amplified by 1/(1-r) and can exceed
  1e-5.  ``dtype="float64"`` runs float64 sweeps only (exact mode).
"""
from __future__ import annotations

import math
import os
import warnings

import numba
import numpy as np
from numba import njit, prange

__all__ = ["solve", "LANES"]

LANES = 16  # grids per SIMD group (one AVX-512 float32 register, two AVX2 ones)

# default tolerances on the estimated remaining max-norm error per cell
TOL32 = 2e-6    # float32 pre-solve, before the float64 polish
TOL64 = 1e-10   # exact mode / polish target in float64 mode
TOL_POLISH = 2e-8  # float64 polish target in float32 mode
MAX_SWEEPS = 5_000_000  # per point; a point hitting it is reported by a warning

_FM = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}  # fastmath without reassoc

# ---------------------------------------------------------------- float32 exp
_F32 = np.float32
_LOG2E32 = _F32(1.4426950408889634)
_HALF32 = _F32(0.5)
_ONE32 = _F32(1.0)
_ZLO32 = _F32(-87.0)
_ZHI32 = _F32(87.0)
_C1_32 = _F32(0.693359375)
_C2_32 = _F32(-2.12194440e-4)
_P0_32 = _F32(1.9875691500e-4)
_P1_32 = _F32(1.3981999507e-3)
_P2_32 = _F32(8.3334519073e-3)
_P3_32 = _F32(4.1665795894e-2)
_P4_32 = _F32(1.6666665459e-1)
_P5_32 = _F32(5.0000001201e-1)

# ---------------------------------------------------------------- float64 exp
_LOG2E64 = 1.4426950408889634
_ZLO64 = -700.0
_ZHI64 = 700.0
_C1_64 = 6.93145751953125e-1
_C2_64 = 1.42860682030941723212e-6
_T = [1.0 / math.factorial(k) for k in range(13)]
_T2, _T3, _T4, _T5, _T6, _T7 = _T[2], _T[3], _T[4], _T[5], _T[6], _T[7]
_T8, _T9, _T10, _T11, _T12 = _T[8], _T[9], _T[10], _T[11], _T[12]


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _sigmoid32(x):
    """1/(1+exp(-x)) in float32, vectorisable (about 1-2 ulp)."""
    z = -x
    z = min(max(z, _ZLO32), _ZHI32)
    n = np.floor(z * _LOG2E32 + _HALF32)
    f = z - n * _C1_32
    f = f - n * _C2_32
    p = _P0_32 * f + _P1_32
    p = p * f + _P2_32
    p = p * f + _P3_32
    p = p * f + _P4_32
    p = p * f + _P5_32
    e = p * f * f + f + _ONE32
    sc = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    return _ONE32 / (_ONE32 + e * sc)


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _sigmoid64(x):
    """1/(1+exp(-x)) in float64, vectorisable (a few ulp)."""
    z = -x
    z = min(max(z, _ZLO64), _ZHI64)
    n = np.floor(z * _LOG2E64 + 0.5)
    f = z - n * _C1_64
    f = f - n * _C2_64
    p = _T12 * f + _T11
    p = p * f + _T10
    p = p * f + _T9
    p = p * f + _T8
    p = p * f + _T7
    p = p * f + _T6
    p = p * f + _T5
    p = p * f + _T4
    p = p * f + _T3
    p = p * f + _T2
    e = p * f * f + f + 1.0
    sc = np.int64((np.int64(n) + np.int64(1023)) << np.int64(52)).view(np.float64)
    return 1.0 / (1.0 + e * sc)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep32(rho, s, bias, tab, dmax, K):
    """One red-black Gauss-Seidel sweep over all cells of all lanes (float32)."""
    L = dmax.shape[0]
    for k in range(tab.shape[0]):
        c = tab[k, 0]
        a = tab[k, 1]
        b = tab[k, 2]
        u = tab[k, 3]
        v = tab[k, 4]
        for l in range(L):
            x = bias[c + l] + K * ((rho[a + l] + rho[b + l]) + (rho[u + l] + rho[v + l]))
            new = s[c + l] * _sigmoid32(x)
            d = abs(new - rho[c + l])
            dmax[l] = max(dmax[l], d)
            rho[c + l] = new


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _sweep64(rho, s, bias, tab, dmax, K):
    """One red-black Gauss-Seidel sweep over all cells of all lanes (float64)."""
    L = dmax.shape[0]
    for k in range(tab.shape[0]):
        c = tab[k, 0]
        a = tab[k, 1]
        b = tab[k, 2]
        u = tab[k, 3]
        v = tab[k, 4]
        for l in range(L):
            x = bias[c + l] + K * ((rho[a + l] + rho[b + l]) + (rho[u + l] + rho[v + l]))
            new = s[c + l] * _sigmoid64(x)
            d = abs(new - rho[c + l])
            dmax[l] = max(dmax[l], d)
            rho[c + l] = new


@njit(cache=True)
def _stop_test(d, dprev, okprev, k, tol):
    """Return (converged, ok) for one lane after its k-th sweep at this point.

    ``ok`` says whether this sweep alone satisfies the tail bound; convergence needs
    it on two consecutive sweeps (guards against a ratio spoiled by fast modes).
    """
    if d == 0.0:
        return True, True
    ok = False
    if d <= tol and dprev > 0.0 and k >= 2:
        r = d / dprev
        if r < 1.0 and d * r <= tol * (1.0 - r):
            ok = True
    return (ok and okprev and k >= 3), ok


@njit(cache=True)
def _load_bias(bias, s, grid, nbr, beta_mu, B, l, L):
    """bias[c] = beta*mu + beta*w_ff*y*(number of solid neighbours), for one lane."""
    HW = grid.shape[0]
    for c in range(HW):
        ns = 0
        for q in range(4):
            ns += 1 - grid[nbr[c, q]]
        bias[c * L + l] = beta_mu + B * ns


@njit(parallel=True, cache=True)
def _solve_all(grids, bmus, K, B, nbr, tab, mode, tol_lo, tol_hi, max_sweeps,
               nworkers, out, stats, ptsweeps):
    """Solve all grids.

    grids: (N, HW) uint8; bmus: (P,) beta*mu (float64); nbr: (HW, 4) neighbour cells;
    tab: (HW, 5) sweep table (cell, 4 neighbours) in red-black order, NOT yet scaled
    by the lane count.  mixed: float32 pre-solve + float64 polish (else float64 only).
    out: (N, P) float64 sums.  stats: (nworkers, 4) int64: float32 sweeps, float64
    sweeps, points that hit max_sweeps, float32 stalls handed to float64.
    """
    N = grids.shape[0]
    P = bmus.shape[0]
    for t in prange(nworkers):
        _worker(grids, bmus, K, B, nbr, tab, mode, tol_lo, tol_hi, max_sweeps,
                t, nworkers, out, stats, ptsweeps)
    return 0


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _worker(grids, bmus, K, B, nbr, tab, mode, tol_lo, tol_hi, max_sweeps,
            t, nworkers, out, stats, ptsweeps):
    N = grids.shape[0]
    HW = grids.shape[1]
    P = bmus.shape[0]
    L = LANES
    tabL = tab * L
    # float64 state (exact mode, polish) and float32 state (pre-solve)
    rho64 = np.zeros(HW * L)
    s64 = np.zeros(HW * L)
    bias64 = np.zeros(HW * L)
    rho32 = np.zeros(HW * L, dtype=np.float32)
    s32 = np.zeros(HW * L, dtype=np.float32)
    bias32 = np.zeros(HW * L, dtype=np.float32)
    dmax32 = np.zeros(L, dtype=np.float32)
    dmax64 = np.zeros(L)
    K32 = np.float32(K)

    gid = np.full(L, -1, dtype=np.int64)   # grid in lane, -1 idle
    pt = np.zeros(L, dtype=np.int64)       # point index
    phase = np.zeros(L, dtype=np.int64)    # 0 = float32 sweeps, 1 = float64 sweeps
    ksw = np.zeros(L, dtype=np.int64)      # sweeps at this point (this phase)
    ktot = np.zeros(L, dtype=np.int64)     # sweeps at this point (all phases)
    dprev = np.zeros(L)
    okprev = np.zeros(L, dtype=np.bool_)
    nstall = np.zeros(L, dtype=np.int64)   # float32 sweeps near rounding level
    nxt = np.int64(t)                      # next grid of this worker's queue
    nworkers = np.int64(nworkers)
    active = 0
    n32 = 0
    n64 = 0
    ncap = 0
    nstalls = 0

    # lanes that are idle keep s = 0: their rows stay exactly 0 and cost nothing extra
    for l in range(L):
        if nxt < N:
            g = nxt
            nxt += nworkers
            gid[l] = g
            active += 1
            _start_lane(grids, g, bmus, B, nbr, l, L, mode, rho64, s64, bias64,
                        rho32, s32, bias32)
            pt[l] = 0
            phase[l] = 1 if mode == 1 else 0
            ksw[l] = 0
            ktot[l] = 0
            dprev[l] = 0.0
            okprev[l] = False
            nstall[l] = 0

    while active > 0:
        # which precisions are needed this round
        need32 = False
        need64 = False
        for l in range(L):
            if gid[l] >= 0:
                if phase[l] == 0:
                    need32 = True
                else:
                    need64 = True
        if need32:
            for l in range(L):
                dmax32[l] = 0.0
            _sweep32(rho32, s32, bias32, tabL, dmax32, K32)
            n32 += 1
        if need64:
            for l in range(L):
                dmax64[l] = 0.0
            _sweep64(rho64, s64, bias64, tabL, dmax64, K)
            n64 += 1
        for l in range(L):
            g = gid[l]
            if g < 0:
                continue
            ph = phase[l]
            if ph == 0:
                d = np.float64(dmax32[l])
                tol = tol_lo
            else:
                d = dmax64[l]
                tol = tol_hi
            ksw[l] += 1
            ktot[l] += 1
            ptsweeps[t, pt[l]] += 1
            conv, ok = _stop_test(d, dprev[l], okprev[l], ksw[l], tol)
            if ph == 0 and not conv:
                # float32 stalls at rounding level (ratio ~ 1, steps of a few ulp):
                # hand the point to float64, which resolves it
                if d <= 4.8e-7:
                    nstall[l] += 1
                    if nstall[l] >= 64:
                        conv = True
                        nstalls += 1
                else:
                    nstall[l] = 0
            if not conv and ktot[l] >= max_sweeps:
                conv = True
                ncap += 1
            dprev[l] = d
            okprev[l] = ok
            if not conv:
                continue
            ksw[l] = 0
            dprev[l] = 0.0
            okprev[l] = False
            nstall[l] = 0
            if ph == 0 and mode == 2:
                # float32 done: copy to float64 and polish
                for c in range(HW):
                    rho64[c * L + l] = rho32[c * L + l]
                phase[l] = 1
                continue
            # point done
            acc = 0.0
            if ph == 0:
                for c in range(HW):
                    acc += rho32[c * L + l]
            else:
                for c in range(HW):
                    acc += rho64[c * L + l]
            p = pt[l]
            out[g, p] = acc
            ktot[l] = 0
            p += 1
            if p < P:
                pt[l] = p
                _load_bias(bias64, s64, grids[g], nbr, bmus[p], B, l, L)
                if mode != 1:
                    for c in range(HW):
                        bias32[c * L + l] = np.float32(bias64[c * L + l])
                    if mode == 2:
                        for c in range(HW):
                            rho32[c * L + l] = np.float32(rho64[c * L + l])
                    phase[l] = 0
                continue
            # grid done: next grid of the queue, or idle
            if nxt < N:
                g = nxt
                nxt += nworkers
                gid[l] = g
                _start_lane(grids, g, bmus, B, nbr, l, L, mode, rho64, s64, bias64,
                            rho32, s32, bias32)
                pt[l] = 0
                phase[l] = 1 if mode == 1 else 0
            else:
                gid[l] = -1
                active -= 1
                for c in range(HW):
                    s64[c * L + l] = 0.0
                    rho64[c * L + l] = 0.0
                    s32[c * L + l] = 0.0
                    rho32[c * L + l] = 0.0
    stats[t, 0] = n32
    stats[t, 1] = n64
    stats[t, 2] = ncap
    stats[t, 3] = nstalls


@njit(cache=True)
def _start_lane(grids, g, bmus, B, nbr, l, L, mode, rho64, s64, bias64,
                rho32, s32, bias32):
    grid = grids[g]
    HW = grid.shape[0]
    for c in range(HW):
        v = np.float64(grid[c])
        s64[c * L + l] = v
        rho64[c * L + l] = v
        s32[c * L + l] = np.float32(v)
        rho32[c * L + l] = np.float32(v)
    _load_bias(bias64, s64, grid, nbr, bmus[0], B, l, L)
    if mode != 1:
        for c in range(HW):
            bias32[c * L + l] = np.float32(bias64[c * L + l])


def _tables(H: int, W: int):
    """Neighbour table (HW,4) and red-black sweep table (HW,5) of an HxW torus."""
    idx = np.arange(H * W).reshape(H, W)
    nbr = np.stack([np.roll(idx, 1, 0), np.roll(idx, -1, 0),
                    np.roll(idx, 1, 1), np.roll(idx, -1, 1)], axis=-1).reshape(H * W, 4)
    ii, jj = np.divmod(np.arange(H * W), W)
    order = np.concatenate([np.flatnonzero((ii + jj) % 2 == 0),
                            np.flatnonzero((ii + jj) % 2 == 1)])
    tab = np.concatenate([order[:, None], nbr[order]], axis=1)
    return np.ascontiguousarray(nbr, dtype=np.int64), np.ascontiguousarray(tab, dtype=np.int64)


_last_stats: dict = {}


def last_stats() -> dict:
    """Counters of the last ``solve`` call (sweeps per precision, caps hit, stalls)."""
    return dict(_last_stats)


def solve(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, threads=None) -> np.ndarray:
    """Sums of the converged density for every grid and chemical potential.

    grids: (N,H,W) 0/1 (1 = pore), periodic; mus: (P,) chemical potentials in schedule
    order; returns float64 (N,P) with ``sum(rho)`` over the grid at each point.
    dtype "float32": float32 sweeps + float64 polish (error <= 1e-5 per point after
    dividing by the pore count, typically ~1e-8); "float64": float64 only (~1e-9).
    tol: stopping tolerance on the estimated remaining max-norm error per cell (for
    float32 this is the polish tolerance).  threads: worker threads (default all).
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
    g8 = np.ascontiguousarray((g != 0).reshape(N, H * W), dtype=np.uint8)
    if dtype in ("float32", np.float32):
        mode = 0
        tol_lo = TOL32 if tol is None else float(tol)
        tol_hi = tol_lo
    elif dtype == "mixed":
        mode = 2
        tol_hi = TOL_POLISH if tol is None else float(tol)
        tol_lo = max(TOL32, tol_hi)
    elif dtype in ("float64", np.float64):
        mode = 1
        tol_hi = TOL64 if tol is None else float(tol)
        tol_lo = tol_hi
    else:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    beta = float(beta)
    K = beta * float(w_ff)
    B = beta * float(w_ff) * float(y)
    bmus = beta * mus
    nbr, tab = _tables(H, W)
    maxthreads = numba.config.NUMBA_NUM_THREADS
    nthreads = maxthreads if threads is None else max(1, min(int(threads), maxthreads))
    # enough workers to fill the lanes, never more than there are grid groups
    nworkers = max(1, min(nthreads, -(-N // LANES)))
    stats = np.zeros((nworkers, 4), dtype=np.int64)
    ptsweeps = np.zeros((nworkers, P), dtype=np.int64)
    old = numba.get_num_threads()
    numba.set_num_threads(nthreads)
    try:
        _solve_all(g8, bmus, K, B, nbr, tab, mode, tol_lo, tol_hi, MAX_SWEEPS,
                   nworkers, out, stats, ptsweeps)
    finally:
        numba.set_num_threads(old)
    st = stats.sum(0)
    _last_stats.clear()
    _last_stats.update(sweeps32=int(st[0]), sweeps64=int(st[1]), capped=int(st[2]),
                       stalls32=int(st[3]), lanes=LANES, workers=nworkers,
                       lane_sweeps_per_point=ptsweeps.sum(0) / N)
    if st[2]:
        warnings.warn(f"lattice DFT: {int(st[2])} point(s) hit the cap of {MAX_SWEEPS} "
                      "sweeps; their values may be inaccurate", RuntimeWarning, stacklevel=2)
    return out
