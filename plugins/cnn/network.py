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

Anchored models (``arch["anchor"] = "top"``) are given the exact adsorption at the top
point (p/p0 = 1; one lattice-DFT point, ~30x cheaper than the loop): it enters the MLP
and fixes a_S, so a_k = top * cumsum(softmax)_k. Whether the top point fills decides the
whole desorption branch, and it is a knife edge for grids that condense near
saturation (docs/surrogate-notes.md): the anchor takes that decision out of the network.
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


def d4_elements() -> list[torch.Tensor]:
    """The 8 symmetries of the square as 2x2 integer matrices acting on (row, col) offsets."""
    rot = torch.tensor([[0, -1], [1, 0]])
    flip = torch.tensor([[1, 0], [0, -1]])
    out = []
    for m in range(2):
        f = flip if m else torch.eye(2, dtype=torch.long)
        r = torch.eye(2, dtype=torch.long)
        for _ in range(4):
            out.append(r @ f)
            r = rot @ r
    return out


def _element_index(elements, matrix) -> int:
    return next(i for i, e in enumerate(elements) if torch.equal(e, matrix))


def p4m_tables(k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Index tables of the regular-representation group convolution.

    ``inv_mul[g, h]`` = index of g^-1 h; ``offset[g, p]`` = flat index of g^-1 p for every
    flat kernel offset p, so that the filter of output orientation g is
    ``psi[..., inv_mul[g], offset[g]]``: spatially transformed by g, input orientations permuted.
    """
    els = d4_elements()
    r = k // 2
    inv_mul = torch.empty(8, 8, dtype=torch.long)
    offset = torch.empty(8, k * k, dtype=torch.long)
    for gi, g in enumerate(els):
        g_inv = g.T  # orthogonal
        for hi, h in enumerate(els):
            inv_mul[gi, hi] = _element_index(els, g_inv @ h)
        for i in range(k):
            for j in range(k):
                src = g_inv @ torch.tensor([i - r, j - r])
                offset[gi, i * k + j] = (src[0] + r) * k + (src[1] + r)
    return inv_mul, offset


class CircularConv(nn.Module):
    """Stride-1 convolution with circular padding.

    ``mode``: "plain" (free kernels), "iso" (kernels tied over D4 orbits of offsets: every
    feature map is invariant), or "p4m" (group convolution: each of ``cout`` fields has 8
    orientation channels; ``lift=True`` for scalar input channels). All three commute
    with translations; "iso" and "p4m" also with the 8 rotations/reflections.
    """

    def __init__(self, cin: int, cout: int, k: int = 3, dilation: int = 1, mode: str = "iso", lift: bool = False):
        super().__init__()
        self.k, self.dilation, self.mode, self.lift = k, dilation, mode, lift
        self.cout = cout
        if mode == "iso":
            idx, n = orbit_index(k)
            self.register_buffer("orbit", idx, persistent=False)
            shape, fan_in = (cout, cin, n), cin * k * k
        elif mode == "p4m":
            inv_mul, offset = p4m_tables(k)
            self.register_buffer("offset", offset, persistent=False)
            # flat index into (h, p) of the base filter for every (g, h, p) of the full one
            gather = inv_mul[:, :, None] * (k * k) + offset[:, None, :]
            self.register_buffer("gather", gather, persistent=False)
            shape = (cout, cin, k * k) if lift else (cout, cin, 8, k * k)
            fan_in = cin * k * k * (1 if lift else 8)
        else:
            shape, fan_in = (cout, cin, k, k), cin * k * k
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(cout))
        nn.init.normal_(self.weight, std=(2.0 / fan_in) ** 0.5)

    def full_weight(self) -> torch.Tensor:
        k = self.k
        if self.mode == "iso":
            return self.weight[..., self.orbit]
        if self.mode == "p4m":
            w = self.weight
            if self.lift:  # (co, ci, p) -> (co, g, ci, p)
                full = w[:, :, self.offset].permute(0, 2, 1, 3)
                return full.reshape(self.cout * 8, -1, k, k)
            # (co, ci, h, p) -> (co, g, ci, h', p') with h' = g^-1 h, p' = g^-1 p
            full = w.flatten(2)[:, :, self.gather]  # (co, ci, g, h, p)
            full = full.permute(0, 2, 1, 3, 4)
            return full.reshape(self.cout * 8, -1, k, k)
        return self.weight

    def full_bias(self) -> torch.Tensor:
        return self.bias.repeat_interleave(8) if self.mode == "p4m" else self.bias

    def forward(self, x):
        p = self.dilation * (self.k // 2)
        if p:
            x = F.pad(x, (p, p, p, p), mode="circular")
        return F.conv2d(x, self.full_weight(), self.full_bias(), dilation=self.dilation)


class LoopHead(nn.Module):
    """Logits -> (adsorption, desorption) loop with the order constraints built in."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps
        self.n_logits = (steps + 2) + (steps - 1)

    def forward(self, logits, top=None):
        """``top`` (N,): the exact top adsorption point, or None (then the last of the
        S+2 softmax slots is "never filled")."""
        s = self.steps
        if top is None:
            ads = torch.softmax(logits[:, : s + 2], dim=1)[:, : s + 1].cumsum(1)
        else:
            ads = torch.softmax(logits[:, : s + 1], dim=1).cumsum(1) * top[:, None]
        keep = torch.sigmoid(logits[:, s + 2:])  # s_1..s_{S-1}
        des = [ads[:, s]]
        for k in range(s - 1, 0, -1):
            a = ads[:, k]
            des.append(a + keep[:, k - 1] * (des[-1] - a))
        des.append(ads[:, 0])
        return torch.cat([ads, torch.stack(des[1:], dim=1)], dim=1).clamp(0.0, 1.0)


class IsothermCNN(nn.Module):
    """Circular conv trunk -> per-cell embedding -> pooled means -> MLP -> loop head.

    ``arch`` keys: conv ("iso"|"p4m"|"plain"; for p4m, channels and embed count fields of
    8 orientation channels each), channels, dilations (one per conv layer, the
    first is the stem), kernel, embed, hidden, steps, anchor (None or "top").
    """

    def __init__(self, arch: dict):
        super().__init__()
        self.arch = dict(arch)
        c, k, mode = int(arch["channels"]), int(arch.get("kernel", 3)), arch.get("conv", "iso")
        if mode not in ("iso", "p4m", "plain"):
            raise ValueError(f"conv must be iso, p4m or plain, got {mode!r}")
        self.mode = mode
        dil = list(arch["dilations"])
        self.stem = CircularConv(1, c, k, dil[0], mode, lift=True)
        self.blocks = nn.ModuleList([CircularConv(c, c, k, d, mode) for d in dil[1:]])
        e = int(arch["embed"])
        self.embed = CircularConv(c, e, 1, 1, mode)
        h = int(arch["hidden"])
        self.head = LoopHead(int(arch["steps"]))
        self.anchor = arch.get("anchor")
        if self.anchor not in (None, "top"):
            raise ValueError(f"anchor must be None or 'top', got {self.anchor!r}")
        self.mlp = nn.Sequential(
            nn.Linear(2 * e + 1 + (self.anchor is not None), h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, self.head.n_logits)
        )
        self.symmetrize = mode == "plain"  # free kernels: average the 8 transforms to be exact

    def features(self, x):
        """(N,1,H,W) -> pooled invariant features (N, 2E+1)."""
        h = F.relu(self.stem(x))
        for conv in self.blocks:
            h = h + F.relu(conv(h))
        e = F.relu(self.embed(h))
        if self.mode == "p4m":  # pool the 8 orientation channels of every field too
            n, _, hh, ww = e.shape
            e = e.view(n, -1, 8, hh, ww)
            dims = (2, 3, 4)
            xm = x.unsqueeze(2)
        else:
            dims, xm = (2, 3), x
        porosity = x.mean((2, 3))
        mean_all = e.mean(dims)
        mean_pore = (e * xm).mean(dims) / porosity.clamp_min(1e-6)
        return torch.cat([mean_all, mean_pore, porosity], 1)

    def forward(self, grids, top=None):
        """grids (N,H,W) float in [0,1] -> pore-normalized loop (N, 2*steps+1); an
        anchored model also needs ``top`` (N,), the exact pore-normalized top point."""
        if (top is None) != (self.anchor is None):
            raise ValueError("an anchored model needs top=, an unanchored one takes none")
        x = grids.unsqueeze(1)
        if self.symmetrize and not self.training:
            views = d4_views(x)
            feats = self.features(torch.cat(views, 0)).view(len(views), len(x), -1).mean(0)
        else:
            feats = self.features(x)
        if top is not None:
            feats = torch.cat([feats, top[:, None]], 1)
        return self.head(self.mlp(feats), top)

    def load_warm(self, state: dict) -> dict:
        """``state`` of an unanchored model made to fit this anchored one: the MLP's new
        input column starts at zero, so the anchor enters the features gently."""
        w = state["mlp.0.weight"]
        need = self.mlp[0].in_features
        if self.anchor is None or w.shape[1] == need:
            return state
        pad = torch.zeros(w.shape[0], need - w.shape[1], dtype=w.dtype)
        return {**state, "mlp.0.weight": torch.cat([w, pad], 1)}


def anchor_inputs(net, curves) -> dict:
    """The anchor keyword of ``net`` (a model or an Ensemble) taken from exact loops
    (N, 2*steps+1): for training and validation, where the labels hold the top point."""
    return {} if net.anchor is None else {"top": curves[:, (curves.shape[1] - 1) // 2]}


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

    @property
    def anchor(self):
        return self.members[0].anchor

    def forward(self, grids, top=None):
        if len(self.members) == 1:
            return self.members[0](grids, top)
        return torch.stack([m(grids, top) for m in self.members]).mean(0)

    def mean_std(self, grids, top=None):
        preds = torch.stack([m(grids, top) for m in self.members])
        std = preds.std(0, unbiased=False) if len(self.members) > 1 else torch.zeros_like(preds[0])
        return preds.mean(0), std
