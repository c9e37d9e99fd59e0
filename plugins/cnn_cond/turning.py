"""Desorption from a turning point below 1: a small learned head on the predicted loop.

A path that turns at p_t < 1 leaves the pores that condense above p_t empty. Their vapour
lets filled pores nearby empty earlier than on the full loop, so the old mapping
(the full-loop desorption capped at A(p_t), ``paths.py``) lies above the DFT: by up to
0.027 at the measured files' turning points (0.83-0.993), even with the exact loop.

The head gives, per internal desorption node k/S (k = 0..S-1), the share phi in [0, 1]
of the old mapping's hysteresis gap that stays:

    D_t(p) = A(p) + phi(p) * (min(D(p), A(p_t)) - A(p))

from the predicted loop, the condition (u, v) and p_t. phi in [0, 1] keeps D_t between
A(p) and the old value; a running maximum along the path keeps it non-increasing as the
pressure falls. At p_t = 1 the head is not used: the internal loop is the answer there.
Trained on frozen loops of the shipped network (``training/cond_turn.py``).
"""

from __future__ import annotations

import torch
from torch import nn


def turning_features(loops: torch.Tensor, uv: torch.Tensor, pt: torch.Tensor) -> torch.Tensor:
    """(N, 2S+1) loops, (N, 2) conditions in [-1, 1], (N,) turning points -> head input."""
    gap = -torch.log10((1.0 - pt).clamp_min(1e-3))     # 0.6 (p_t 0.75) .. 2.7 (p_t 0.998)
    return torch.cat([loops, uv, (pt[:, None] - 0.9) * 10.0, (gap[:, None] - 1.65)], 1)


class TurningHead(nn.Module):
    """(loops, uv, p_t) -> phi (N, S) at the internal desorption nodes k/S, k = 0..S-1."""

    def __init__(self, steps: int, hidden: int):
        super().__init__()
        self.steps = int(steps)
        self.mlp = nn.Sequential(nn.Linear(2 * self.steps + 1 + 4, hidden), nn.Tanh(),
                                 nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, self.steps))

    def forward(self, loops, uv, pt):
        return torch.sigmoid(self.mlp(turning_features(loops, uv, pt)))


def gap_init_bias(head: TurningHead, value: float = 2.0) -> None:
    """Start near the old mapping (phi = sigmoid(2) = 0.88 everywhere; higher saturates and learns slowly)."""
    with torch.no_grad():
        head.mlp[-1].weight.zero_()
        head.mlp[-1].bias.fill_(value)
