"""The ``cnn-cond`` network: the cnn-fast trunk with FiLM conditioning on (t = T/TC, log y).

A small MLP of the normalized condition (u, v) gives a per-channel scale and shift
(h <- h * (1 + gamma) + beta) after the stem and after each block, and (u, v) enter the
head MLP. The same affine map on every cell keeps the exact torus symmetry of cnn-fast;
the ``LoopHead`` and the exact top point (the anchor) are unchanged. With the FiLM output
layer and the new head columns at zero the network is exactly the cnn-fast network it was
warm-started from, at every condition (``from_fast``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from invtoolkit_plugins.cnn_cond.turning import TurningHead
from invtoolkit_plugins.cnn_fast.network import FastCNN, iso_kernel, patch_codes

T_RANGE = (0.40, 0.80)
Y_RANGE = (0.5, 4.0)


def normalize_conditions(cond: torch.Tensor) -> torch.Tensor:
    """(N, 2) (t, y) -> (N, 2) (u, v) in [-1, 1] over the trained box (t linear, y logarithmic)."""
    lo, hi = math.log(Y_RANGE[0]), math.log(Y_RANGE[1])
    u = (cond[:, 0] - 0.5 * sum(T_RANGE)) / (0.5 * (T_RANGE[1] - T_RANGE[0]))
    v = (torch.log(cond[:, 1]) - 0.5 * (lo + hi)) / (0.5 * (hi - lo))
    return torch.stack([u, v], 1)


class CondCNN(FastCNN):
    """``arch``: the cnn-fast keys plus ``film_hidden`` (width of the FiLM MLP) and, in
    models with a turning-point head, ``turning_hidden`` (its width)."""

    def __init__(self, arch: dict):
        super().__init__(arch)
        c, e, h = int(arch["channels"]), int(arch["embed"]), int(arch["hidden"])
        self.n_film = 1 + len(self.dilations)  # after the stem and after each block
        f = int(arch.get("film_hidden", 32))
        self.film = nn.Sequential(nn.Linear(2, f), nn.Tanh(), nn.Linear(f, f), nn.Tanh(),
                                  nn.Linear(f, 2 * c * self.n_film))
        self.mlp[0] = nn.Linear(2 * e + 4, h)
        # desorption from a turning point below 1 (turning.py); None in models without one
        self.turn = TurningHead(int(arch["steps"]), int(arch["turning_hidden"])) if arch.get("turning_hidden") else None

    def film_params(self, uv: torch.Tensor) -> torch.Tensor:
        """(N, 2) normalized conditions -> (N, n_film, 2, C): (gamma, beta) per layer."""
        return self.film(uv).reshape(len(uv), self.n_film, 2, -1)

    def cells(self, grids, uv):
        """(N,H,W), (N,2) -> per-cell embedding (N,E,H,W); FiLM after the stem and each block."""
        fp = self.film_params(uv)[..., None, None]  # (N, L, 2, C, 1, 1)
        h = self.stem_bias
        for t, d in enumerate(self.stem_dilations):
            h = h + self.tables[t][self.orbit[patch_codes(grids, d)]]
        h = F.relu(h).permute(0, 3, 1, 2).contiguous()
        h = h * (1 + fp[:, 0, 0]) + fp[:, 0, 1]
        for k, (w, b, d) in enumerate(zip(self.block_w, self.block_b, self.dilations)):
            h = h + F.relu(F.conv2d(F.pad(h, (d, d, d, d), mode="circular"), iso_kernel(w), b, dilation=d))
            h = h * (1 + fp[:, k + 1, 0]) + fp[:, k + 1, 1]
        return F.relu(F.conv2d(h, self.embed.weight[:, :, None, None], self.embed.bias))

    def forward(self, grids, top, cond):
        """grids (N,H,W) 0/1, top (N,) exact top point, cond (N,2) raw (t, y) -> loop (N, 2*steps+1)."""
        uv = normalize_conditions(cond.to(top.dtype))
        e = self.cells(grids, uv)
        x = grids.to(e.dtype)
        porosity = x.mean((1, 2))
        mean_all = e.mean((2, 3))
        mean_pore = (e * x.unsqueeze(1)).mean((2, 3)) / porosity.clamp_min(1e-6)[:, None]
        feats = torch.cat([mean_all, mean_pore, porosity[:, None], top[:, None], uv], 1)
        return self.head(self.mlp(feats), top)


def from_fast(fast_state: dict, net: CondCNN) -> dict:
    """State dict for ``net`` that computes exactly the cnn-fast network ``fast_state`` (same
    widths) at every condition: FiLM output layer at zero (scale 1, shift 0), zero head
    columns for (u, v); the FiLM hidden layers keep ``net``'s initialisation, so they learn."""
    new = {k: v.detach().clone() for k, v in net.state_dict().items()}
    for k, v in fast_state.items():
        if k == "mlp.0.weight":
            new[k].zero_()
            new[k][:, : v.shape[1]] = v
        elif k in new:
            if new[k].shape != v.shape:
                raise ValueError(f"{k}: cnn-fast shape {tuple(v.shape)} != {tuple(new[k].shape)}")
            new[k] = v.detach().clone()
    last = f"film.{len(net.film) - 1}"
    new[f"{last}.weight"].zero_()
    new[f"{last}.bias"].zero_()
    return new
