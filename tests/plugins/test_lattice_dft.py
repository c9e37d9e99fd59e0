"""The lattice DFT plugin against independent facts (docs/physics.md)."""

import math

import numpy as np
import pytest

from invtoolkit.core.descriptors import torus_cluster_masks
from invtoolkit.errors import InputError
from invtoolkit_plugins.lattice_dft import LatticeDFT
from conftest import square_pore

KB, T, TC, Y = 0.0019872041, 298.0, 647.0, 1.5
BETA = 1 / (KB * T)
MU_SAT = -2 * KB * TC
W_FF = -2 * MU_SAT / 4


def scalar_reference(grid, steps=40):
    """Plain cell-by-cell fixed-point loop in pure Python floats, written from the spec."""
    h, w = len(grid), len(grid[0])
    rh = [i / steps for i in range(steps + 1)]
    rh = rh + rh[-2::-1]
    rho = [[float(grid[i][j]) for j in range(w)] for i in range(h)]
    pores = sum(map(sum, grid))
    out = []
    for p in rh:
        mu = MU_SAT + KB * T * math.log(p) if p > 0 else -90.0
        while True:
            new = [[0.0] * w for _ in range(h)]
            for i in range(h):
                for j in range(w):
                    if not grid[i][j]:
                        continue
                    total = 0.0
                    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                        a, b = (i + di) % h, (j + dj) % w
                        total += rho[a][b] + Y * (1 - grid[a][b])
                    new[i][j] = 1 / (1 + math.exp(-BETA * (mu + W_FF * total)))
            change = max(abs(new[i][j] - rho[i][j]) for i in range(h) for j in range(w))
            rho = new
            if change < 1e-15:
                break
        out.append(sum(map(sum, rho)) / pores)
    return np.array(out)


SMALL_GRIDS = [
    np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], np.uint8),
    np.array([[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], np.uint8),
    np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]], np.uint8),
]


@pytest.mark.parametrize("grid", SMALL_GRIDS, ids=["3x3", "4x4-pore", "4x4-checker"])
def test_small_grids_match_scalar_loop(grid):
    expected = scalar_reference(grid.tolist(), steps=10)
    for solver in ("reference", "auto"):
        sim = LatticeDFT(steps=10, precision="float64", solver=solver)
        got = sim.simulate(grid)[0]
        assert np.max(np.abs(got - expected)) < 1e-9, solver


def test_float32_mode_within_1e5_of_scalar_loop():
    grid = SMALL_GRIDS[1]
    expected = scalar_reference(grid.tolist(), steps=10)
    got = LatticeDFT(steps=10).simulate(grid)[0]
    assert np.max(np.abs(got - expected)) < 1e-5


def test_all_pore_grid_is_the_uniform_scalar_fixed_point():
    """With no walls every cell is equal: rho = sigmoid(beta*(mu + 4*w_ff*rho))."""
    sim = LatticeDFT(steps=8, precision="float64")
    got = sim.simulate(np.ones((5, 5), np.uint8))[0]
    rho, expected = 1.0, []
    for p in sim.pressures:
        mu = MU_SAT + KB * T * math.log(p) if p > 0 else -90.0
        for _ in range(100000):
            rho = 1 / (1 + math.exp(-BETA * (mu + W_FF * 4 * rho)))
        expected.append(rho)
    assert np.allclose(got, expected, atol=1e-9)


def all_torus_symmetries(g):
    for k in range(4):
        r = np.rot90(g, k)
        for f in (r, r[:, ::-1]):
            for dy in range(0, g.shape[0], 3):
                for dx in range(0, g.shape[1], 4):
                    yield np.roll(f, (dy, dx), axis=(0, 1))


def test_invariant_under_torus_symmetries(rng):
    g = (rng.random((10, 10)) < 0.55).astype(np.uint8)
    images = np.array(list(all_torus_symmetries(g)))
    curves = LatticeDFT(steps=20, precision="float64").simulate(images)
    assert np.max(np.abs(curves - curves[0])) < 1e-9


def test_isotherm_is_the_sum_of_its_pore_clusters(rng):
    # pores joined only through walls do not interact (a wall's density is 0), so the
    # amount per site is the sum over the clusters, each simulated alone, on every
    # branch: a large pore's hysteresis loop and the small pores' early filling together
    g = (rng.random((12, 12)) < 0.35).astype(np.uint8)
    g[2:8, 3:9] = 1                       # a pore that condenses late, with a loop
    g[1, :], g[8, :], g[:, 2], g[:, 9] = 0, 0, 0, 0
    parts = torus_cluster_masks(g)
    assert len(parts) >= 5 and parts.sum(0).tolist() == g.tolist()
    sim = LatticeDFT(steps=20, normalization="site", precision="float64")
    whole, alone = sim.simulate(g)[0], sim.simulate(parts)
    assert np.max(np.abs(whole - alone.sum(0))) < 1e-9
    n_ads = sim.schedule.steps + 1
    assert np.max(whole[n_ads - 1:][::-1] - whole[:n_ads]) > 0.05   # the loop is there


def test_physical_limits(rng):
    grids = (rng.random((30, 12, 12)) < rng.uniform(0.2, 0.9, (30, 1, 1))).astype(np.uint8)
    grids[:, 0, 0] = 1
    sim = LatticeDFT(steps=20)
    curves = sim.simulate(grids)
    n_ads = sim.schedule.steps + 1
    ads, des = curves[:, :n_ads], curves[:, n_ads - 1 :][:, ::-1]
    assert curves.min() >= 0 and curves.max() <= 1
    assert np.all(curves[:, 0] < 1e-6) and np.all(curves[:, -1] < 1e-6)
    assert np.all(np.diff(ads, axis=1) >= -1e-6)
    assert np.all(des >= ads - 1e-6)
    assert np.all(ads[:, -1] > 0.9)  # saturation fills the pores


def test_large_square_pore_condenses_with_hysteresis():
    sim = LatticeDFT()
    curve = sim.simulate(square_pore(20, 12))[0]
    ads, des = curve[:41], curve[40:][::-1]
    assert np.max(np.diff(ads)) > 0.3  # capillary condensation: one big step
    assert np.max(des - ads) > 0.3  # and desorption stays filled below it: a loop
    assert 0.3 < sim.pressures[np.argmax(np.diff(ads)) + 1] < 1


def test_site_normalization_carries_porosity():
    g = square_pore(10, 4)
    pore = LatticeDFT(steps=10).simulate(g)[0]
    site = LatticeDFT(steps=10, normalization="site").simulate(g)[0]
    assert np.allclose(site, pore * g.mean(), atol=1e-7)


def test_adsorption_only_is_the_prefix_of_the_loop(rng):
    g = (rng.random((3, 8, 8)) < 0.6).astype(np.uint8)
    full = LatticeDFT(steps=10).simulate(g)
    ads = LatticeDFT(steps=10, adsorption_only=True).simulate(g)
    assert ads.shape == (3, 11)
    assert np.allclose(ads, full[:, :11], atol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((5, 5), np.uint8), "no pore"),
        (np.full((5, 5), 2, np.uint8), "0"),
        (np.ones((2, 5), np.uint8), "3x3"),
        (np.ones((2, 2, 2, 2), np.uint8), "shape"),
    ],
)
def test_bad_grids_are_refused(bad, message):
    with pytest.raises(InputError, match=message):
        LatticeDFT().simulate(bad)
