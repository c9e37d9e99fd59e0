"""Differentiable lattice DFT (adsorption branch) by implicit differentiation.

Forward: for every grid ``s`` walk up the adsorption schedule with red-black
Gauss-Seidel from the previous state (the physics' branch rule, docs/physics.md),
keeping the converged density ``rho_k`` of every point. Nothing of the iterations
is recorded for autograd.

Backward: each ``rho_k`` is a fixed point ``rho = F(rho, s)`` with
``F_i = s_i a_i``, ``a_i = sigmoid(beta mu_k + K sum_{j~i} rho_j + B sum_{j~i} (1 - s_j))``
(``K = beta w_ff``, ``B = K y``). By the implicit function theorem
``d rho / d s = (I - J)^{-1} dF/ds`` with ``J = diag(c) A``, ``c = K s a (1 - a)``, ``A`` the
periodic neighbour sum. The adjoint ``v = (I - J^T)^{-1} g`` is solved by conjugate
gradients on the symmetric form ``(I - C^1/2 A C^1/2) u = C^1/2 g`` (positive definite at
a stable fixed point), ``v = g + A C^1/2 u``; then
``dL/ds = v * a - (B/K) A(c v)``, plus the pore-normalisation term. The cost of the
backward pass does not grow with the number of forward sweeps (no unrolling).
"""

from __future__ import annotations

import numpy as np
import torch

from invtoolkit.plugin import PressureSchedule, Surrogate

KB = 0.0019872041
MU_AT_ZERO = -90.0


def _nsum(x: torch.Tensor) -> torch.Tensor:
    return torch.roll(x, 1, -2) + torch.roll(x, -1, -2) + torch.roll(x, 1, -1) + torch.roll(x, -1, -1)


def _checkerboard(h: int, w: int) -> torch.Tensor:
    return (torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2 == 0


def adsorption_states(s: torch.Tensor, beta_mus, K: float, B: float, *, tol: float = 1e-9,
                      max_sweeps: int = 200_000) -> torch.Tensor:
    """Converged densities (P, N, H, W) along the schedule (float64, red-black GS).

    Stops per point when the estimated remaining max-norm error d*r/(1-r) <= tol.
    Red-black needs even H and W to be a proper two-colouring of the torus; for odd
    sizes it is still a valid (ordered) Gauss-Seidel sweep of a monotone map.
    """
    s = s.to(torch.float64)
    h, w = s.shape[-2:]
    red = _checkerboard(h, w)
    black = ~red
    field = B * _nsum(1.0 - s)
    rho = s.clone()
    out = []
    for bm in beta_mus:
        prev_d = None
        for sweep in range(max_sweeps):
            old = rho
            for mask in (red, black):
                new = s * torch.sigmoid(bm + K * _nsum(rho) + field)
                rho = torch.where(mask, new, rho)
            d = (rho - old).abs().amax().item()
            if d == 0.0:
                break
            if prev_d is not None and sweep >= 2:
                r = d / prev_d
                if r < 1 and d <= tol * 1e3 and d * r / (1 - r) <= tol:
                    break
            prev_d = d
        out.append(rho)
    return torch.stack(out)


def _adjoint(g: torch.Tensor, c: torch.Tensor, *, tol: float = 1e-6, max_iter: int = 1000) -> torch.Tensor:
    """Solve (I - A C) v = g for v (batched over leading dims) by CG on the symmetric form."""
    sc = c.clamp_min(0).sqrt()

    def op(u):  # (I - C^1/2 A C^1/2) u
        return u - sc * _nsum(sc * u)

    b = sc * g
    u = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    dims = tuple(range(-2, 0))
    rs = (r * r).sum(dims, keepdim=True)
    bnorm = rs.clamp_min(1e-300)
    for _ in range(max_iter):
        ap = op(p)
        alpha = rs / (p * ap).sum(dims, keepdim=True).clamp_min(1e-300)
        u = u + alpha * p
        r = r - alpha * ap
        rs_new = (r * r).sum(dims, keepdim=True)
        if (rs_new / bnorm).max().item() < tol**2:
            break
        p = r + (rs_new / rs.clamp_min(1e-300)) * p
        rs = rs_new
    return g + _nsum(sc * u)


class _ImplicitAdsorption(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s, beta_mus, K, B, site):
        s64 = s.detach().to(torch.float64)
        rho = adsorption_states(s64, beta_mus.tolist(), K, B)  # (P,N,H,W)
        denom = torch.full((s.shape[0],), float(s.shape[-1] * s.shape[-2]), dtype=torch.float64) if site \
            else s64.flatten(1).sum(1).clamp_min(1.0)
        amounts = rho.flatten(2).sum(2).T / denom[:, None]  # (N,P)
        ctx.save_for_backward(s64, rho, denom, amounts, beta_mus)
        ctx.K, ctx.B, ctx.site = K, B, site
        return amounts.to(s.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        s, rho, denom, amounts, beta_mus = ctx.saved_tensors
        K, B = ctx.K, ctx.B
        g_amount = grad_out.to(torch.float64)  # (N,P)
        # dL/drho_k = g_k / denom on every cell
        g = (g_amount.T / denom[None])[:, :, None, None].expand_as(rho).contiguous()
        a = torch.sigmoid(beta_mus[:, None, None, None] + K * _nsum(rho) + B * _nsum(1.0 - s)[None])
        c = K * s[None] * a * (1 - a)
        v = _adjoint(g, c)
        grad_s = (v * a - (B / K) * _nsum(c * v)).sum(0)
        if not ctx.site:  # amounts = sum(rho) / sum(s)
            grad_s = grad_s - ((g_amount * amounts).sum(1) / denom)[:, None, None]
        return grad_s.to(grad_out.dtype), None, None, None, None


class ImplicitDFT(Surrogate):
    """The exact lattice DFT's adsorption branch as a differentiable torch function.

    A drop-in "surrogate" for training generators directly against the physics:
    ``forward_torch`` gives the adsorption branch (steps + 1 points) and its exact
    gradient w.r.t. the cells by implicit differentiation of the fixed points.
    """

    name = "dft-implicit"

    def __init__(self, T: float = 298.0, TC: float = 647.0, y: float = 1.5, steps: int = 40,
                 normalization: str = "pore", **_ignored):
        self.T, self.TC, self.y = float(T), float(TC), float(y)
        self.schedule = PressureSchedule(int(steps), adsorption_only=True)
        self.normalization = normalization
        beta = 1.0 / (KB * self.T)
        mu_sat = -2.0 * KB * self.TC
        w_ff = -2.0 * mu_sat / 4.0
        rh = self.schedule.pressures
        with np.errstate(divide="ignore"):
            mu = np.where(rh > 0, mu_sat + KB * self.T * np.log(rh), MU_AT_ZERO)
        self.beta_mus = torch.tensor(beta * mu, dtype=torch.float64)
        self.K = beta * w_ff
        self.B = self.K * self.y

    @property
    def params(self) -> dict:
        return {"T": self.T, "TC": self.TC, "y": self.y, "steps": self.schedule.steps,
                "normalization": self.normalization}

    def forward_torch(self, grids):
        return _ImplicitAdsorption.apply(grids, self.beta_mus, self.K, self.B, self.normalization == "site")

    def simulate(self, grids, *, progress: bool = False) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(grids), dtype=torch.float64)
            return self.forward_torch(x[None] if x.ndim == 2 else x).numpy()

    def save(self, path) -> None:
        raise NotImplementedError("dft-implicit has no weights to save")
