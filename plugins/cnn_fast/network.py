"""The ``cnn-fast`` network (torch, for training and gradients).

Grid (N,H,W) in {0,1} -> pore-normalized loop (N, 2*steps+1), anchored on the exact top point.

Built so that a fused CPU kernel (``kernels.py``, numba) evaluates it cheaply:
* stem = lookup: the 3x3 patch of 0/1 cells around every cell (dilation d) is a 9-bit code
  (integer convolution with weights 1, 2, 4, ..., 256, circular); its orbit under the 8
  symmetries of the square (102 orbits) indexes a learned table (one table per stem
  dilation, summed, then ReLU). On 0/1 input any 3x3 convolution + ReLU is such a table
  (``conv_as_table``), so the lookup is a plain first conv layer made free;
* blocks h <- h + relu(iso(h)) where an isotropic 3x3 kernel at dilation d is
  w0*centre + w1*(sum of the 4 edge neighbours) + w2*(sum of the 4 corners): one
  (3C -> C) matrix product per cell instead of 9C x C;
* 1x1 embedding, means over all cells and over pore cells, porosity and the exact top
  point -> MLP -> ``LoopHead`` of the cnn (adsorption non-decreasing in [0, top],
  desorption between adsorption and the point above).
Circular shifts + D4-invariant stem + isotropic kernels + global means: the output is
exactly invariant under the torus translations and the 8 rotations/reflections.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invtoolkit_plugins.cnn.network import LoopHead, d4_elements

N_ORBITS = 102  # D4 orbits of the 512 binary 3x3 patches


def patch_orbits() -> torch.Tensor:
    """(512,) dense orbit id of every 9-bit 3x3 patch code (bit 3*i+j = cell (i-1, j-1))."""
    els = d4_elements()
    canon = torch.empty(512, dtype=torch.long)
    for code in range(512):
        best = 512
        for g in els:
            c2 = 0
            for b in range(9):
                if code >> b & 1:
                    src = g @ torch.tensor([b // 3 - 1, b % 3 - 1])
                    c2 |= 1 << int((src[0] + 1) * 3 + src[1] + 1)
            best = min(best, c2)
        canon[code] = best
    _, dense = torch.unique(canon, return_inverse=True)
    return dense


def patch_codes(g: torch.Tensor, d: int) -> torch.Tensor:
    """(N,H,W) 0/1 -> (N,H,W) long 9-bit code of the circular 3x3 patch at dilation d."""
    gi = (g > 0.5).long()
    code = torch.zeros_like(gi)
    for i in range(3):
        for j in range(3):
            code += torch.roll(gi, ((1 - i) * d, (1 - j) * d), (1, 2)) << (3 * i + j)
    return code


def iso_sums(h: torch.Tensor, d: int) -> torch.Tensor:
    """(N,H,W,C) -> (N,H,W,3C): centre, sum of the 4 edge and of the 4 corner neighbours at d."""
    v = torch.roll(h, d, 1) + torch.roll(h, -d, 1)
    s = torch.roll(h, d, 2) + torch.roll(h, -d, 2)
    k = torch.roll(v, d, 2) + torch.roll(v, -d, 2)
    return torch.cat([h, v + s, k], -1)


def iso_kernel(w: torch.Tensor) -> torch.Tensor:
    """(3C, C) (centre, edge, corner) weights -> (C, C, 3, 3) isotropic conv kernel."""
    c = w.shape[1]
    w0, w1, w2 = w[:c].T, w[c:2 * c].T, w[2 * c:].T
    rows = [torch.stack([w2, w1, w2], -1), torch.stack([w1, w0, w1], -1), torch.stack([w2, w1, w2], -1)]
    return torch.stack(rows, -2)


class FastCNN(nn.Module):
    """``arch`` keys: channels C, stem_dilations, dilations (blocks), embed E, hidden, steps."""

    def __init__(self, arch: dict):
        super().__init__()
        self.arch = dict(arch)
        c, e, h = int(arch["channels"]), int(arch["embed"]), int(arch["hidden"])
        self.stem_dilations = [int(d) for d in arch["stem_dilations"]]
        self.dilations = [int(d) for d in arch["dilations"]]
        self.register_buffer("orbit", patch_orbits(), persistent=False)
        self.tables = nn.Parameter(torch.randn(len(self.stem_dilations), N_ORBITS, c) * 0.5)
        self.stem_bias = nn.Parameter(torch.zeros(c))
        self.block_w = nn.Parameter(torch.randn(len(self.dilations), 3 * c, c) * (2.0 / (9 * c)) ** 0.5)
        self.block_b = nn.Parameter(torch.zeros(len(self.dilations), c))
        self.embed = nn.Linear(c, e)
        self.head = LoopHead(int(arch["steps"]))
        self.anchor = "top"
        self.mlp = nn.Sequential(nn.Linear(2 * e + 2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                                 nn.Linear(h, self.head.n_logits))

    def cells(self, grids):
        """(N,H,W) -> per-cell embedding (N,E,H,W). The blocks run as 3x3 convolutions
        (NCHW, circular padding) built from the (centre, edge, corner) weights: the same
        function as ``iso_sums(h, d) @ w + b``, faster to train."""
        h = self.stem_bias
        for t, d in enumerate(self.stem_dilations):
            h = h + self.tables[t][self.orbit[patch_codes(grids, d)]]
        h = F.relu(h).permute(0, 3, 1, 2).contiguous()
        for w, b, d in zip(self.block_w, self.block_b, self.dilations):
            h = h + F.relu(F.conv2d(F.pad(h, (d, d, d, d), mode="circular"), iso_kernel(w), b, dilation=d))
        return F.relu(F.conv2d(h, self.embed.weight[:, :, None, None], self.embed.bias))

    def forward(self, grids, top):
        """grids (N,H,W) 0/1, top (N,) exact pore-normalized top point -> loop (N, 2*steps+1)."""
        e = self.cells(grids)
        x = grids.to(e.dtype)  # 0/1: the pore mask (differentiable, unlike the patch codes)
        porosity = x.mean((1, 2))
        mean_all = e.mean((2, 3))
        mean_pore = (e * x.unsqueeze(1)).mean((2, 3)) / porosity.clamp_min(1e-6)[:, None]
        feats = torch.cat([mean_all, mean_pore, porosity[:, None], top[:, None]], 1)
        return self.head(self.mlp(feats), top)


def conv_as_table(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """(512, C) table of relu(conv3x3(x) + b) for every binary patch code: a plain first
    conv layer with weight (C,1,3,3) on 0/1 grids, as a lookup (bit 3*i+j = weight[:, 0, i, j])."""
    bits = ((torch.arange(512)[:, None] >> torch.arange(9)) & 1).to(weight.dtype)
    return F.relu(bits @ weight.reshape(len(weight), 9).T + bias)


def widen_state(old: dict, old_arch: dict, net: FastCNN) -> dict:
    """State dict for ``net`` (wider: channels, embed, hidden >= ``old_arch``'s, same
    dilations) computing exactly the old network's function: old weights in the leading
    slices, zeros on every path from a new unit into an old one, ``net``'s own random
    initialisation elsewhere (so the new units are alive and learn). A warm start that
    spends more capacity without losing the trained model."""
    import torch

    new = {k: v.detach().clone() for k, v in net.state_dict().items()}
    c0, e0, h0 = (int(old_arch[k]) for k in ("channels", "embed", "hidden"))
    c, e, h = (int(net.arch[k]) for k in ("channels", "embed", "hidden"))
    same = all([int(d) for d in old_arch[k]] == getattr(net, k) for k in ("stem_dilations", "dilations"))
    if not (same and c >= c0 and e >= e0 and h >= h0):
        raise ValueError(f"cannot widen {old_arch} into {net.arch}: same dilations and no narrower layer")
    new["tables"][:, :, :c0] = old["tables"]
    new["stem_bias"][:c0], new["stem_bias"][c0:] = old["stem_bias"], 0.0
    for k in range(3):  # (centre, edge, corner) row blocks of the (3C, C) block weights
        new["block_w"][:, k * c:(k + 1) * c, :c0] = 0.0
        new["block_w"][:, k * c:k * c + c0, :c0] = old["block_w"][:, k * c0:(k + 1) * c0]
    new["block_b"][:, :c0], new["block_b"][:, c0:] = old["block_b"], 0.0
    new["embed.weight"][:e0] = 0.0
    new["embed.weight"][:e0, :c0] = old["embed.weight"]
    new["embed.bias"][:e0] = old["embed.bias"]
    cols = torch.cat([torch.arange(e0), e + torch.arange(e0), torch.tensor([2 * e, 2 * e + 1])])
    new["mlp.0.weight"][:h0] = 0.0
    new["mlp.0.weight"][:h0, cols] = old["mlp.0.weight"]
    new["mlp.0.bias"][:h0] = old["mlp.0.bias"]
    new["mlp.2.weight"][:h0] = 0.0
    new["mlp.2.weight"][:h0, :h0] = old["mlp.2.weight"]
    new["mlp.2.bias"][:h0] = old["mlp.2.bias"]
    new["mlp.4.weight"][:] = 0.0
    new["mlp.4.weight"][:, :h0] = old["mlp.4.weight"]
    new["mlp.4.bias"] = old["mlp.4.bias"].clone()
    return new
