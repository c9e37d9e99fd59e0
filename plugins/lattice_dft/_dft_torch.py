"""Torch solver for the lattice mean-field DFT (docs/physics.md), for GPUs.

Same contract and answers as ``_dft_numba.solve``; runs on any torch device (CPU
for testing).  All grids of a batch walk through the schedule together; at every
point the batch is iterated with red-black Gauss-Seidel (``torch.roll`` on the
periodic grid) until every grid passes the stopping rule, converged grids being
frozen.  The stopping rule bounds the REMAINING error: with ``d`` the max-norm
step and ``r = max(d/d_prev, r_clean)`` (``r_clean``: last ratio measured while the
steps were above rounding level), stop when ``d <= tol``, ``r < 1`` and
``d*r/(1-r) <= tol``.  No over-relaxation or mixing (they can jump branches).

float32: constants split into hi+lo parts (their rounding is a systematic error
that the slow mode near condensation amplifies), and every point whose clean
contraction ratio is >= R_HARD, or that stalls at rounding level, is re-converged
in float64 from the float32 state (the polished state then continues in float32).
"""
from __future__ import annotations

import numpy as np
import torch

from ._checks import grids_2d

__all__ = ["solve_torch"]

TOL32 = 1e-6
TOL64 = 1e-10
TOL_POLISH = 1e-7
R_HARD = 0.95
DCLEAN32 = 1e-6
DCLEAN64 = 1e-13
STALL32 = 4.8e-7
NSTALL = 64
MAX_SWEEPS = 5_000_000
BATCH = 8192


def _nsum(a: torch.Tensor) -> torch.Tensor:
    return (torch.roll(a, 1, -2) + torch.roll(a, -1, -2)) + (torch.roll(a, 1, -1) + torch.roll(a, -1, -1))


def _converge(rho, s, bhi, blo, K, Klo, red, black, tol, dclean, stall_d):
    """Red-black GS on all grids of ``rho`` (in place) until each passes the rule.

    Returns (clean ratio per grid, stalled flag per grid, sweeps).
    """
    n = rho.shape[0]
    dev = rho.device
    active = torch.ones(n, dtype=torch.bool, device=dev)
    dprev = torch.zeros(n, dtype=torch.float64, device=dev)
    rcl = torch.zeros(n, dtype=torch.float64, device=dev)
    nstall = torch.zeros(n, dtype=torch.int64, device=dev)
    stalled = torch.zeros(n, dtype=torch.bool, device=dev)
    k = 0
    idx = torch.arange(n, device=dev)
    while idx.numel():
        r_a, s_a, bh, bl = rho[idx], s[idx], bhi[idx], blo[idx]
        old = r_a.clone()
        for colour in (red, black):
            S = _nsum(r_a)
            x = (bh + K * S) + (bl + Klo * S)
            new = s_a * torch.sigmoid(x)
            r_a = torch.where(colour, new, r_a)
        d = (r_a - old).abs().flatten(1).amax(1).double()
        rho[idx] = r_a
        k += 1
        dp = dprev[idx]
        clean = (d >= dclean) & (dp >= dclean)
        rc = torch.where(clean, d / dp.clamp_min(1e-300), rcl[idx])
        rcl[idx] = rc
        r = torch.maximum(d / dp.clamp_min(1e-300), rc)
        ok = (d <= tol) & (dp > 0) & (r < 1) & (d * r <= tol * (1 - r))
        ns = torch.where(d <= stall_d, nstall[idx] + 1, torch.zeros_like(d, dtype=torch.int64))
        nstall[idx] = ns
        st = ns >= NSTALL
        stalled[idx] |= st & ~ok
        done = ok | (d == 0) | st | torch.tensor(k >= MAX_SWEEPS, device=dev)
        dprev[idx] = d
        idx = idx[~done]
    return rcl, stalled, k


def solve_torch(grids, mus, beta, w_ff, y, *, dtype="float32", tol=None, device="cpu") -> np.ndarray:
    """Sums of the converged density, (N, P) float64; see ``_dft_numba.solve``."""
    g = grids_2d(grids)
    N, H, W = g.shape
    mus = np.asarray(mus, dtype=np.float64).ravel()
    P = len(mus)
    out = np.zeros((N, P), dtype=np.float64)
    if N == 0 or P == 0:
        return out
    if dtype not in ("float32", "float64", np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    single = dtype in ("float32", np.float32)
    dev = torch.device(device)
    K = float(beta) * float(w_ff)
    B = K * float(y)
    ii, jj = np.divmod(np.arange(H * W), W)
    red = torch.as_tensor(((ii + jj) % 2 == 0).reshape(H, W), device=dev)
    black = ~red
    for c0 in range(0, N, BATCH):
        s64 = torch.as_tensor((g[c0:c0 + BATCH] != 0).astype(np.float64), device=dev)
        ns = _nsum(1.0 - s64)
        rho64 = s64.clone()
        rho32 = s64.float()
        s32 = s64.float()
        for p, mu in enumerate(mus):
            bias = torch.where(s64 > 0, float(beta) * mu + B * ns, torch.full_like(s64, -1e4))
            if not single:
                _converge(rho64, s64, bias, torch.zeros_like(bias), K, 0.0, red, black,
                          TOL64 if tol is None else float(tol), DCLEAN64, 0.0)
                out[c0:c0 + len(s64), p] = (rho64 * s64).flatten(1).sum(1).cpu().numpy()
                continue
            bhi = bias.float()
            blo = (bias - bhi.double()).float()
            K32 = float(np.float32(K))
            rcl, stalled, _ = _converge(rho32, s32, bhi, blo, K32, K - K32, red, black,
                                        TOL32 if tol is None else float(tol), DCLEAN32, STALL32)
            sums = (rho32.double() * s64).flatten(1).sum(1)
            hard = torch.nonzero((rcl >= R_HARD) | stalled).flatten()
            if hard.numel():
                r64 = rho32[hard].double()
                _converge(r64, s64[hard], bias[hard], torch.zeros_like(r64), K, 0.0, red, black,
                          TOL_POLISH, DCLEAN64, 0.0)
                sums[hard] = (r64 * s64[hard]).flatten(1).sum(1)
                rho32[hard] = r64.float()
            out[c0:c0 + len(s64), p] = sums.cpu().numpy()
    return out
