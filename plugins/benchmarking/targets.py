"""Target structures the evaluations share: the chain benchmarks' structure families
(random, smooth, slit, square, pair; ``large``: wide slits and large squares) and the
four UNSEEN families no model, store or bank was built from (disks, diagonal channels,
pore arrays, random walks: numpy only), all on 20 x 20 grids, seeded.

Used by ``benchmarks/chain_families.py``, ``chain_default.py``, ``chain_bank.py`` and the
training evaluations (:mod:`.families`).
"""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import PressureSchedule, create

STRUCTURES = ("random", "smooth", "slit", "square", "pair")  # benchmarks/chain_families.py's families
# Families no model or bank was built from (numpy only): disks, diagonal channels, a
# periodic array of small pores, channels carved by a random walk.
UNSEEN = ("disks", "diagonal", "array", "walk")
SHAPE = (20, 20)
STEPS = 40


def _box(side_rows: int, side_cols: int, rng) -> np.ndarray:
    grid = np.zeros(SHAPE, np.uint8)
    grid[:side_rows, :side_cols] = 1
    return np.roll(grid, (rng.integers(SHAPE[0]), rng.integers(SHAPE[1])), axis=(0, 1))


def family_grid(family: str, k: int, rng) -> np.ndarray:
    """Target grid ``k`` of a family (even k: the family's large-pore case where it has one)."""
    if family == "random":
        return create("sampler", "fam-random", porosity=(0.3, 0.95)).sample(1, SHAPE, rng)[0]
    if family == "smooth":
        return create("sampler", "fam-smooth").sample(1, SHAPE, rng)[0]
    if family == "slit" and k % 2 == 0:
        grid = _box(int(rng.integers(6, 11)), SHAPE[1], rng)
        return grid if rng.random() < 0.5 else np.ascontiguousarray(grid.T)
    if family == "slit":
        return create("sampler", "fam-slit").sample(1, SHAPE, rng)[0]
    if family == "square":
        side = int(rng.integers(8, 13)) if k % 2 == 0 else int(rng.integers(1, SHAPE[0]))
        return _box(side, side, rng)
    return create("sampler", "fam-pair").sample(1, SHAPE, rng)[0]


def structure_targets(n: int, seed: int, loop: bool, tag: str) -> list[dict]:
    """``n`` targets per family: id, family, grid and DFT isotherm (seeded, fresh draws)."""
    dft = create("simulator", "lattice-dft", steps=STEPS, adsorption_only=not loop)
    out = []
    for f, family in enumerate(STRUCTURES):
        rng = np.random.default_rng([seed, f, int(loop)])
        for k in range(n):
            grid = family_grid(family, k, rng)
            curve = dft.simulate(grid[None])[0]
            out.append({"id": f"{tag}-{family}-{k}", "family": family, "grid": grid, "curve": curve,
                        "schedule": PressureSchedule(STEPS, adsorption_only=not loop)})
    return out


def unseen_grid(family: str, rng) -> np.ndarray:
    """One grid of an UNSEEN family (periodic, at a random offset)."""
    h, w = SHAPE
    yy, xx = np.mgrid[:h, :w]
    if family == "disks":                     # 1-3 disks of radius 2-6
        g = np.zeros(SHAPE, bool)
        for _ in range(int(rng.integers(1, 4))):
            cy, cx, r = rng.integers(h), rng.integers(w), rng.uniform(2, 6)
            dy, dx = np.minimum(abs(yy - cy), h - abs(yy - cy)), np.minimum(abs(xx - cx), w - abs(xx - cx))
            g |= dy ** 2 + dx ** 2 <= r ** 2
    elif family == "diagonal":                # channels along a diagonal, width 1-5
        period, width = int(rng.choice([5, 10, 20])), int(rng.integers(1, 6))
        g = (yy + xx) % period < min(width, period - 1)
    elif family == "array":                   # a square array of a x a pores, spacing s
        s = int(rng.choice([4, 5, 10]))
        a = int(rng.integers(1, s))
        g = (yy % s < a) & (xx % s < a)
    else:                                     # a random walk of 40-200 steps, 1-2 wide
        g = np.zeros(SHAPE, bool)
        y, x, width = int(rng.integers(h)), int(rng.integers(w)), int(rng.integers(1, 3))
        for _ in range(int(rng.integers(40, 201))):
            g[np.ix_((y + np.arange(width)) % h, (x + np.arange(width)) % w)] = True
            dy, dx = [(0, 1), (0, -1), (1, 0), (-1, 0)][int(rng.integers(4))]
            y, x = (y + dy) % h, (x + dx) % w
    g = np.roll(g.astype(np.uint8), (rng.integers(h), rng.integers(w)), axis=(0, 1))
    return g if g.any() else np.pad(np.ones((1, 1), np.uint8), ((0, h - 1), (0, w - 1)))


def family_grids(family: str, n: int, rng) -> np.ndarray:
    """``n`` target grids of a family (an UNSEEN one, ``large``: wide slits and large squares
    alternating, or any sampler plugin)."""
    if family in UNSEEN:
        return np.stack([unseen_grid(family, rng) for _ in range(n)])
    if family == "large":
        return np.stack([family_grid("slit" if k % 2 == 0 else "square", 0, rng) for k in range(n)])
    return create("sampler", family).sample(n, SHAPE, rng)
