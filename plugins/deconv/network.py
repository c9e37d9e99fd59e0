"""Networks of the ``deconv`` generator (torch; imported lazily by ``deconv.py``).

Generator: (adsorption isotherm, latent code z) -> MLP -> small feature map ->
two stride-2 transposed convolutions -> circular 3x3 convolutions (periodic grids)
-> logits -> binary sigmoid -> exactly 0/1 grid.

Recognition head: (grid, isotherm) -> estimate of z. It sees the grid only through
circular convolutions and global pooling (blind to translations) and, in training, in
a random rotation/reflection per batch (so orientation carries no information; in eval
the 8 views are averaged). The generator therefore cannot "encode" z by merely
shifting or rotating one grid: it has to make grids that differ up to symmetry.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from invtoolkit.plugin import binary_sigmoid


def curve_features(curves: torch.Tensor) -> torch.Tensor:
    """The isotherm plus its steps (capillary condensation shows as a large step)."""
    return torch.cat([curves, 4.0 * torch.diff(curves, dim=1)], dim=1)


def d4_transforms(x: torch.Tensor) -> list[torch.Tensor]:
    """The 8 rotations/reflections of (..., H, W) tensors (H == W) or the 4 that keep shape."""
    square = x.shape[-1] == x.shape[-2]
    out = []
    for flip in (False, True):
        y = torch.flip(x, dims=(-1,)) if flip else x
        for k in range(4 if square else 2):
            out.append(torch.rot90(y, 2 * k if not square else k, dims=(-2, -1)))
    return out


class GridGenerator(nn.Module):
    def __init__(self, n_points: int, latent_dim: int, grid_shape: tuple[int, int], width: int = 64,
                 hidden: int = 256, temperature: float = 1.0):
        super().__init__()
        self.grid_shape = tuple(grid_shape)
        self.latent_dim = latent_dim
        self.temperature = temperature
        h, w = self.grid_shape
        self.base = (math.ceil(h / 4), math.ceil(w / 4))
        self.width = width
        n_in = 2 * n_points - 1 + latent_dim
        # Per-sample normalisation keeps the logits at unit scale: without it the
        # default init shrinks them to ~0.01 and whole grids flip sign at once.
        self.mlp = nn.Sequential(
            nn.Linear(n_in, hidden), nn.LayerNorm(hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.SiLU(),
            nn.Linear(hidden, width * self.base[0] * self.base[1]),
        )
        circ = dict(kernel_size=3, padding=1, padding_mode="circular")
        c1, c2 = width // 2, width // 4
        self.up = nn.Sequential(
            nn.GroupNorm(8, width), nn.SiLU(),
            nn.ConvTranspose2d(width, c1, 4, stride=2, padding=1), nn.GroupNorm(8, c1), nn.SiLU(),
            nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1), nn.GroupNorm(4, c2), nn.SiLU(),
            nn.Conv2d(c2, c2, **circ), nn.GroupNorm(4, c2), nn.SiLU(),
            nn.Conv2d(c2, c2, **circ), nn.GroupNorm(4, c2), nn.SiLU(),
            nn.Conv2d(c2, 1, **circ),
        )

    def logits(self, curves: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        h, w = self.grid_shape
        x = self.mlp(torch.cat([curve_features(curves), z], dim=1))
        x = self.up(x.view(len(x), self.width, *self.base))
        return x[:, 0, :h, :w]

    def forward(self, curves: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """(B,P) isotherms, (B,latent) codes -> (B,H,W) grids, exactly 0/1."""
        return binary_sigmoid(self.logits(curves, z), self.temperature)


class Recognition(nn.Module):
    """(grid, isotherm) -> z estimate, invariant to the torus symmetries."""

    def __init__(self, n_points: int, latent_dim: int, channels: int = 24):
        super().__init__()
        circ = dict(kernel_size=3, padding=1, padding_mode="circular")
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, **circ), nn.SiLU(),
            nn.Conv2d(channels, channels, **circ), nn.SiLU(),
            nn.Conv2d(channels, 2 * channels, **circ), nn.SiLU(),
        )
        self.head = nn.Sequential(
            nn.Linear(4 * channels + 2 * n_points - 1, 128), nn.SiLU(), nn.Linear(128, latent_dim)
        )

    def features(self, grids: torch.Tensor) -> torch.Tensor:
        x = self.conv(grids[:, None])
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)

    def forward(self, grids: torch.Tensor, curves: torch.Tensor) -> torch.Tensor:
        views = d4_transforms(grids)
        if self.training:
            feats = self.features(views[int(torch.randint(len(views), ()))])
        else:
            feats = torch.stack([self.features(v) for v in views]).mean(0)
        return self.head(torch.cat([feats, curve_features(curves)], dim=1))


class DeconvModel(nn.Module):
    """Generator + recognition head, saved together."""

    def __init__(self, n_points: int, latent_dim: int, grid_shape, width: int = 64, hidden: int = 256,
                 temperature: float = 1.0):
        super().__init__()
        self.generator = GridGenerator(n_points, latent_dim, grid_shape, width, hidden, temperature)
        self.recognition = Recognition(n_points, latent_dim)


def symmetric_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per pair, the fraction of cells where grid ``a`` differs from the closest torus
    symmetry of grid ``b`` (every translation x rotation/reflection): (B,H,W) x2 -> (B,).

    Zero iff the two 0/1 grids are the same up to symmetry, so a diversity penalty on it
    cannot be fooled by merely shifting or rotating one grid. For 0/1 inputs
    |a - b| = a + b - 2ab, so the distance at every shift at once is a circular
    cross-correlation (FFT); it is differentiable (through the binary sigmoid's
    straight-through gradient) with respect to both grids.
    """
    h, w = a.shape[-2:]
    fa = torch.fft.rfft2(a)
    size_a = a.flatten(1).sum(1)
    best = None
    for view in d4_transforms(b):
        corr = torch.fft.irfft2(torch.conj(fa) * torch.fft.rfft2(view), s=(h, w))
        differ = size_a[:, None] + view.flatten(1).sum(1)[:, None] - 2 * corr.flatten(1)
        nearest = differ.amin(1)
        best = nearest if best is None else torch.minimum(best, nearest)
    return best.clamp_min(0) / (h * w)


def diversity_penalty(a: torch.Tensor, b: torch.Tensor, margin: float) -> torch.Tensor:
    """Per pair relu(margin - symmetric_distance(a, b)): zero once two grids made for one
    target from two codes differ by more than ``margin`` (a fraction of the cells)."""
    return torch.relu(margin - symmetric_distance(a, b))
