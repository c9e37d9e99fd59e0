"""Red-black Gauss-Seidel sweeps of the lane-interleaved state, 4- and 6-neighbour stencils.

Shared by the 2-D kernel (``_dft_numba``) and the 3-D one (``dft3d.numba3d``) through
the worker of ``lanes``.  The state of ``L`` grids is stored interleaved, (slots, L),
so the lanes of one cell are contiguous; a sweep program (one row per run, offsets in
units of lanes) says what to do:

* kind 0 updates the run ``dst .. dst+len`` from its neighbour runs (4 or 6 of them);
* kind 1 copies ``a .. a+len`` to ``dst`` (periodic ghost slots);
* kind 2 flushes the float32 step accumulator into the float64 step sums of the lanes;
* kind 3 + kind 4: a pair of update rows of one colour whose second row's up run is the
  first's down run (rows i and i+2): one loop updates both, so the shared run, the lane
  constants and the accumulator are loaded once per two updates (2-D: 17% less time per
  update in the loop; same arithmetic: rows of one colour are independent).  3-D pairs
  have no row skipping (their prow is -1).

2-D rows are (kind, dst, a, b, u, v, len), 3-D rows (kind, dst, n0..n5, len): the
program's width picks the stencil.  Runs are whole rows of one colour, so the innermost
loop is long and contiguous (the vectoriser's alias checks are paid per row, not per
cell).  Unsigned indices: no wrap-around code.  float32 constants are hi + lo pairs, the
hi parts on a 2**-10 grid, so ``whi + mhi`` is exact (a rounding of beta*mu shared by
all cells would be a bias amplified near condensation): ``whi = Bhi * (solid
neighbours)`` and its lo part ``Blo * (solid neighbours) = Kb * whi`` with ``Kb =
Blo / Bhi`` (one array less to load than a per-cell lo array: 7% per update, issue 30).
``acc`` gets the steps (new - old): their sum per lane is all the stopping rule and the
output need.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .sigmoid import FASTMATH as _FM
from .sigmoid import sigmoid32, sigmoid64

__all__ = ["sweep", "reduce_acc"]


@njit(fastmath=_FM, error_model="numpy", cache=True)
def reduce_acc(acc, sums):
    """sums[l] += sum of acc over the run positions of lane l (float64); acc = 0."""
    L = np.uint64(sums.shape[0])
    for k in range(acc.shape[0] // L):
        o = np.uint64(k) * L
        for l in range(L):
            l = np.uint64(l)
            sums[l] += np.float64(acc[o + l])
            acc[o + l] = 0.0


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _copy(rho, c, a, n):
    for m in range(n):
        m = np.uint64(m)
        rho[c + m] = rho[a + m]


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run4_32(rho, whi, mhi, mlo, acc, c, a, b, u, v, n, K, Klo, Kb):
    """Update the run c..c+n from its 4 neighbour runs (2-D), float32."""
    for m in range(n):
        m = np.uint64(m)
        S = (rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])
        w = whi[c + m]
        x = ((w + mhi[m]) + K * S) + ((Kb * w + mlo[m]) + Klo * S)
        new = sigmoid32(x)
        acc[m] += new - rho[c + m]
        rho[c + m] = new


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run4x2_32(rho, whi, mhi, mlo, acc, c, a, b, u, v, c2, b2, u2, v2, n, K, Klo, Kb):
    """Update the runs c..c+n (up a, down b) and c2..c2+n (up b, down b2), float32."""
    for m in range(n):
        m = np.uint64(m)
        mh = mhi[m]
        ml = mlo[m]
        mid = rho[b + m]
        S1 = (rho[a + m] + mid) + (rho[u + m] + rho[v + m])
        S2 = (mid + rho[b2 + m]) + (rho[u2 + m] + rho[v2 + m])
        w1 = whi[c + m]
        w2 = whi[c2 + m]
        n1 = sigmoid32(((w1 + mh) + K * S1) + ((Kb * w1 + ml) + Klo * S1))
        n2 = sigmoid32(((w2 + mh) + K * S2) + ((Kb * w2 + ml) + Klo * S2))
        acc[m] += (n1 - rho[c + m]) + (n2 - rho[c2 + m])
        rho[c + m] = n1
        rho[c2 + m] = n2


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run4_64(rho, whi, mhi, acc, c, a, b, u, v, n, K):
    """Update the run c..c+n from its 4 neighbour runs (2-D), float64."""
    for m in range(n):
        m = np.uint64(m)
        x = (whi[c + m] + mhi[m]) + K * ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m]))
        new = sigmoid64(x)
        acc[m] += new - rho[c + m]
        rho[c + m] = new


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run6_32(rho, whi, mhi, mlo, acc, c, a, b, u, v, e, f, n, K, Klo, Kb):
    """Update the run c..c+n from its 6 neighbour runs (3-D), float32."""
    for m in range(n):
        m = np.uint64(m)
        S = ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])) + (rho[e + m] + rho[f + m])
        w = whi[c + m]
        x = ((w + mhi[m]) + K * S) + ((Kb * w + mlo[m]) + Klo * S)
        new = sigmoid32(x)
        acc[m] += new - rho[c + m]
        rho[c + m] = new


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run6x2_32(rho, whi, mhi, mlo, acc, c, a, b, u, v, e, f, c2, b2, u2, v2, e2, f2, n, K, Klo,
               Kb):
    """Update the runs c..c+n (up a, down b) and c2..c2+n (up b, down b2), 3-D, float32."""
    for m in range(n):
        m = np.uint64(m)
        mh = mhi[m]
        ml = mlo[m]
        mid = rho[b + m]
        S1 = ((rho[a + m] + mid) + (rho[u + m] + rho[v + m])) + (rho[e + m] + rho[f + m])
        S2 = ((mid + rho[b2 + m]) + (rho[u2 + m] + rho[v2 + m])) + (rho[e2 + m] + rho[f2 + m])
        w1 = whi[c + m]
        w2 = whi[c2 + m]
        n1 = sigmoid32(((w1 + mh) + K * S1) + ((Kb * w1 + ml) + Klo * S1))
        n2 = sigmoid32(((w2 + mh) + K * S2) + ((Kb * w2 + ml) + Klo * S2))
        acc[m] += (n1 - rho[c + m]) + (n2 - rho[c2 + m])
        rho[c + m] = n1
        rho[c2 + m] = n2


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _run6_64(rho, whi, mhi, acc, c, a, b, u, v, e, f, n, K):
    """Update the run c..c+n from its 6 neighbour runs (3-D), float64."""
    for m in range(n):
        m = np.uint64(m)
        S = ((rho[a + m] + rho[b + m]) + (rho[u + m] + rho[v + m])) + (rho[e + m] + rho[f + m])
        new = sigmoid64((whi[c + m] + mhi[m]) + K * S)
        acc[m] += new - rho[c + m]
        rho[c + m] = new


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _pair_rows(rho, whi, prog, mhi, mlo, acc, K, Klo, Kb, q, both, n):
    """A pair's rows one at a time: float64, or only its first row below rmax."""
    for r in range(q, q + 2 if both else q + 1):
        if prog.shape[1] == 9:
            if rho.itemsize == 4:
                _run6_32(rho, whi, mhi, mlo, acc, prog[r, 1], prog[r, 2], prog[r, 3],
                         prog[r, 4], prog[r, 5], prog[r, 6], prog[r, 7], n, K, Klo, Kb)
            else:
                _run6_64(rho, whi, mhi, acc, prog[r, 1], prog[r, 2], prog[r, 3], prog[r, 4],
                         prog[r, 5], prog[r, 6], prog[r, 7], n, K)
        elif rho.itemsize == 4:
            _run4_32(rho, whi, mhi, mlo, acc, prog[r, 1], prog[r, 2], prog[r, 3], prog[r, 4],
                     prog[r, 5], n, K, Klo, Kb)
        else:
            _run4_64(rho, whi, mhi, acc, prog[r, 1], prog[r, 2], prog[r, 3], prog[r, 4],
                     prog[r, 5], n, K)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def sweep(rho, whi, prog, mhi, mlo, acc, sums, K, Klo, Kb, prow, rmax, nmax):
    """One sweep of the program: the stencil from its width (7: 2-D, 9: 3-D), the
    precision from the state's dtype (float64: the lo parts Klo, Kb, mlo are not used).

    prow: the row index of each update run (-1: always run); runs of rows >= rmax are
    skipped and every run is cut to its first nmax values (2-D: the pores of every
    active lane lie in rows < rmax and in those prefixes, the rest are walls, rho = 0).
    """
    six = prog.shape[1] == 9
    single = rho.itemsize == 4
    for q in range(prog.shape[0]):
        kind = prog[q, 0]
        if kind == 2:
            reduce_acc(acc, sums)
            continue
        if kind == 4:                      # second row of a pair: done with the first
            continue
        c = prog[q, 1]
        a = prog[q, 2]
        n = prog[q, 8] if six else prog[q, 6]
        if kind == 1:
            _copy(rho, c, a, n)
            continue
        if prow[q] >= rmax:
            continue
        n = min(n, nmax)
        if kind == 3:
            if six and single:
                _run6x2_32(rho, whi, mhi, mlo, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5],
                           prog[q, 6], prog[q, 7], prog[q + 1, 1], prog[q + 1, 3],
                           prog[q + 1, 4], prog[q + 1, 5], prog[q + 1, 6], prog[q + 1, 7], n,
                           K, Klo, Kb)
                continue
            if single and not six and prow[q + 1] < rmax:
                _run4x2_32(rho, whi, mhi, mlo, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5],
                           prog[q + 1, 1], prog[q + 1, 3], prog[q + 1, 4], prog[q + 1, 5], n,
                           K, Klo, Kb)
                continue
            _pair_rows(rho, whi, prog, mhi, mlo, acc, K, Klo, Kb, q, prow[q + 1] < rmax, n)
            continue
        if six and single:
            _run6_32(rho, whi, mhi, mlo, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5],
                     prog[q, 6], prog[q, 7], n, K, Klo, Kb)
        elif six:
            _run6_64(rho, whi, mhi, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5], prog[q, 6],
                     prog[q, 7], n, K)
        elif single:
            _run4_32(rho, whi, mhi, mlo, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5], n,
                     K, Klo, Kb)
        else:
            _run4_64(rho, whi, mhi, acc, c, a, prog[q, 3], prog[q, 4], prog[q, 5], n, K)
    reduce_acc(acc, sums)
