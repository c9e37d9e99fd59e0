"""Networks of the ``cnn`` surrogate (torch; imported lazily by ``cnn.py``).

Grid (N,H,W) in [0,1] -> isotherm loop (N, 2*steps+1) in pore normalization.

Symmetries, exactly and at the cost of one pass:
* translations of the torus: every convolution is stride 1 with circular padding and
  the features are pooled by means over the whole grid;
* the 8 rotations/reflections: with ``conv="iso"`` every kernel is D4-symmetric
  (one weight per orbit of kernel offsets: centre, edge, corner, ...), so each feature
  map rotates with the input and the pooled features are invariant.
``conv="plain"`` (free kernels) is kept for comparison; it is made invariant by
averaging over the 8 transforms (8x the cost).

Physics in the head:
* adsorption a_0..a_S is the cumulative sum of a softmax over S+2 slots (the last slot
  is "never filled"), so it is non-decreasing and in [0,1] by construction;
* desorption from the top: d_S = a_S and d_k = a_k + s_k (d_{k+1} - a_k) with
  s_k = sigmoid(.) in [0,1] and s_0 = 0, so a_k <= d_k <= d_{k+1} (never below
  adsorption, non-decreasing in pressure) and the loop closes at RH = 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def orbit_index(k: int) -> tuple[torch.Tensor, int]:
    """Orbit id of every offset of a k x k kernel under the 8 symmetries of the square."""
    r = k // 2
    keys = {}
    idx = torch.empty(k, k, dtype=torch.long)
    for i in range(k):
        for j in range(k):
            a, b = sorted((abs(i - r), abs(j - r)))
            idx[i, j] = keys.setdefault((a, b), len(keys))
    return idx, len(keys)


class CircularConv(nn.Module):
    """Stride-1 convolution with circular padding; ``iso`` ties weights to D4 orbits."""

    def __init__(self, cin: int, cout: int, k: int = 3, dilation: int = 1, iso: bool = True):
        super().__init__()
        self.k, self.dilation, self.iso = k, dilation, iso
        if iso:
            idx, n = orbit_index(k)
            self.register_buffer("orbit", idx, persistent=False)
            shape = (cout, cin, n)
        else:
            shape = (cout, cin, k, k)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(cout))
        fan_in = cin * k * k
        nn.init.normal_(self.weight, std=(2.0 / fan_in) ** 0.5)

    def full_weight(self) -> torch.Tensor:
        return self.weight[..., self.orbit] if self.iso else self.weight

    def forward(self, x):
        p = self.dilation * (self.k // 2)
        x = F.pad(x, (p, p, p, p), mode="circular")
        return F.conv2d(x, self.full_weight(), self.bias, dilation=self.dilation)


class LoopHead(nn.Module):
    """Logits -> (adsorption, desorption) loop with the order constraints built in."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps
        self.n_logits = (steps + 2) + (steps - 1)

    def forward(self, logits):
        s = self.steps
        ads = torch.softmax(logits[:, : s + 2], dim=1)[:, : s + 1].cumsum(1)
        keep = torch.sigmoid(logits[:, s + 2:])  # s_1..s_{S-1}
        des = [ads[:, s]]
        for k in range(s - 1, 0, -1):
            a = ads[:, k]
            des.append(a + keep[:, k - 1] * (des[-1] - a))
        des.append(ads[:, 0])
        return torch.cat([ads, torch.stack(des[1:], dim=1)], dim=1).clamp(0.0, 1.0)


class IsothermCNN(nn.Module):
    """Circular conv trunk -> per-cell embedding -> pooled means -> MLP -> loop head.

    ``arch`` keys: conv ("iso"|"plain"), channels, dilations (one per conv layer, the
    first is the stem), kernel, embed, hidden, steps.
    """

    def __init__(self, arch: dict):
        super().__init__()
        self.arch = dict(arch)
        c, k, iso = int(arch["channels"]), int(arch.get("kernel", 3)), arch.get("conv", "iso") == "iso"
        dil = list(arch["dilations"])
        self.stem = CircularConv(1, c, k, dil[0], iso)
        self.blocks = nn.ModuleList([CircularConv(c, c, k, d, iso) for d in dil[1:]])
        e = int(arch["embed"])
        self.embed = nn.Conv2d(c * (1 + len(self.blocks)), e, 1)
        h = int(arch["hidden"])
        self.head = LoopHead(int(arch["steps"]))
        self.mlp = nn.Sequential(
            nn.Linear(2 * e + 1, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, self.head.n_logits)
        )
        self.symmetrize = not iso  # free kernels: average the 8 transforms to be exact

    def features(self, x):
        """(N,1,H,W) -> pooled invariant features (N, 2E+1)."""
        h = F.relu(self.stem(x))
        taps = [h]
        for conv in self.blocks:
            h = h + F.relu(conv(h))
            taps.append(h)
        e = F.relu(self.embed(torch.cat(taps, 1)))
        porosity = x.mean((2, 3))
        mean_all = e.mean((2, 3))
        mean_pore = (e * x).mean((2, 3)) / porosity.clamp_min(1e-6)
        return torch.cat([mean_all, mean_pore, porosity], 1)

    def forward(self, grids):
        """grids (N,H,W) float in [0,1] -> pore-normalized loop (N, 2*steps+1)."""
        x = grids.unsqueeze(1)
        if self.symmetrize and not self.training:
            views = d4_views(x)
            feats = self.features(torch.cat(views, 0)).view(len(views), len(x), -1).mean(0)
        else:
            feats = self.features(x)
        return self.head(self.mlp(feats))


def d4_views(x):
    """The rotations/reflections of (..., H, W) that keep the shape (8 if square, else 4)."""
    views = []
    for flip in (False, True):
        y = torch.flip(x, dims=(-1,)) if flip else x
        if x.shape[-1] == x.shape[-2]:
            views += [torch.rot90(y, r, dims=(-2, -1)) for r in range(4)]
        else:
            views += [y, torch.flip(y, dims=(-2,))]
    return views


class Ensemble(nn.Module):
    """K members: mean prediction and per-point standard deviation."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, grids):
        if len(self.members) == 1:
            return self.members[0](grids)
        return torch.stack([m(grids) for m in self.members]).mean(0)

    def mean_std(self, grids):
        preds = torch.stack([m(grids) for m in self.members])
        std = preds.std(0, unbiased=False) if len(self.members) > 1 else torch.zeros_like(preds[0])
        return preds.mean(0), std
