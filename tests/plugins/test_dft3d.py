"""3-D lattice DFT (plugins/dft3d): fast solver vs the float64 reference, symmetries,
hand-solved cases, physical limits and the reservoir boundary."""
import numpy as np
import pytest
from scipy.optimize import brentq, root

from invtoolkit_plugins.dft3d import numba3d, reference
from invtoolkit_plugins.dft3d.boundary import Boundary, neighbour_table

KB = 0.0019872041
T, TC, Y = 298.0, 647.0, 1.5
BETA = 1.0 / (KB * T)
MU_SAT = -2.0 * KB * TC
W3 = -2.0 * MU_SAT / 6.0     # c = 6 in 3-D
W2 = -2.0 * MU_SAT / 4.0
RES = Boundary("reservoir", 4)


def schedule(steps=40):
    rh = np.linspace(0.0, 1.0, steps + 1)
    rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        return rh, np.where(rh > 0, MU_SAT + KB * T * np.log(rh), -90.0)


RH, MUS = schedule()
RH10, MUS10 = schedule(10)


def pores(g):
    return g.reshape(len(g), -1).sum(1)[:, None].astype(float)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def test_neighbour_table_of_a_torus_and_a_mirror():
    nbr, ext = neighbour_table((3, 4, 5))
    assert ext == (3, 4, 5) and nbr.shape == (60, 6)
    assert (np.sort(np.bincount(nbr.ravel())) == 6).all()  # each cell is 6 cells' neighbour
    nbr, ext = neighbour_table((3, 4, 5), Boundary("reservoir", 2))
    assert ext == (5, 4, 5)
    assert nbr[0, 0] == 0        # cell (0,0,0): across the mirror face it sees itself
    assert nbr[0, 1] == 20       # and (1,0,0) behind it


def _mixed_grids(rng):
    """Random grids, a slab, a channel and a large box (late condensation) at 8^3."""
    g = [(rng.random((8, 8, 8)) < p).astype(np.uint8) for p in (0.35, 0.55, 0.75)]
    slab = np.zeros((8, 8, 8), np.uint8)
    slab[:, :, 2:6] = 1
    chan = np.zeros((8, 8, 8), np.uint8)
    chan[:, 1:5, 2:6] = 1
    box = np.zeros((8, 8, 8), np.uint8)
    box[1:7, 1:7, 1:7] = 1
    return np.stack(g + [slab, chan, box])


@pytest.fixture(scope="module")
def mixed():
    g = _mixed_grids(np.random.default_rng(3))
    return g, reference.solve(g, MUS, BETA, W3, Y)


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-6)])
def test_fast_solver_matches_the_reference_on_mixed_grids(mixed, dtype, tol):
    g, ref = mixed
    fast = numba3d.solve(g, MUS, BETA, W3, Y, dtype=dtype)
    err = np.abs(fast - ref) / pores(g)
    assert err.max() <= tol
    assert (ref[:, :41] / pores(g)).min() < 0.2 and (ref / pores(g)).max() > 0.9  # a real loop


def test_uniform_along_depth_equals_a_direct_2d_solution():
    """A grid uniform along D has a D-uniform solution: a 2-D map with two self terms."""
    rng = np.random.default_rng(5)
    s2 = (rng.random((5, 6)) < 0.6).astype(float)
    g = np.repeat(s2[None], 4, 0)[None].astype(np.uint8)

    def nsum(a):
        return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1)

    wall = Y * nsum(1.0 - s2)
    rho, direct = s2.copy(), []
    for mu in MUS10:
        for _ in range(100_000):
            new = s2 * sigmoid(BETA * (mu + W3 * (2 * rho + nsum(rho) + wall)))
            done = np.abs(new - rho).max() < 1e-14
            rho = new
            if done:
                break
        direct.append(4 * rho.sum())
    fast = numba3d.solve(g, MUS10, BETA, W3, Y, dtype="float64")[0]
    assert np.abs(fast - direct).max() / g.sum() < 1e-7


def test_axis_permutations_and_rolls_give_the_same_curve():
    rng = np.random.default_rng(7)
    g = (rng.random((6, 7, 8)) < 0.6).astype(np.uint8)
    variants = [g.transpose(2, 0, 1), g.transpose(1, 2, 0)[::-1], np.roll(g, (2, 3, 5), (0, 1, 2))]
    base = numba3d.solve(g[None], MUS, BETA, W3, Y, dtype="float64")[0]
    for v in variants:
        other = numba3d.solve(v[None], MUS, BETA, W3, Y, dtype="float64")[0]
        assert np.abs(other - base).max() / g.sum() < 1e-7


def _bulk_branch(mu, start):
    """Homogeneous fixed point rho = sigmoid(beta (mu + 6 w rho)) reached from ``start``."""
    f = lambda r: sigmoid(BETA * (mu + 6 * W3 * r)) - r  # noqa: E731
    # a monotone map from start converges to the nearest root in the direction f(start)
    if f(start) == 0:
        return start
    lo, hi = (start, 1.0) if f(start) > 0 else (0.0, start)
    grid = np.linspace(lo, hi, 20001)
    vals = f(grid)
    sign = np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))
    i = sign[0] if f(start) > 0 else sign[-1]
    return brentq(f, grid[i], grid[i + 1], xtol=1e-15)


def test_all_pore_grid_is_the_mean_field_bulk_with_coexistence_at_saturation():
    g = np.ones((1, 4, 4, 4), np.uint8)
    fast = numba3d.solve(g, MUS, BETA, W3, Y, dtype="float64")[0] / 64
    rho, expect = 1.0, []
    for mu in MUS:
        rho = _bulk_branch(mu, rho)
        expect.append(rho)
    assert np.abs(fast - expect).max() < 1e-9
    # no walls: the bulk gas does not condense below saturation; at RH = 1 (mu = mu_sat)
    # gas and liquid coexist, rho_l = 1 - rho_g (particle-hole symmetry)
    assert fast[:41].max() < 0.02   # rho_g(mu_sat) = 0.0145 at T/TC = 0.46
    liquid = numba3d.solve(g, [MU_SAT], BETA, W3, Y, dtype="float64")[0, 0] / 64
    assert liquid > 0.98 and abs(liquid - (1.0 - fast[40])) < 1e-9


def test_a_wetting_box_pore_fills_before_saturation():
    g = np.zeros((1, 9, 9, 9), np.uint8)
    g[0, 2:7, 2:7, 2:7] = 1
    f = numba3d.solve(g, MUS, BETA, W3, Y)[0] / g.sum()
    assert f[0] < 0.01 and f[:40].max() > 0.95   # condensed below RH = 1 (y > 1 walls)


def _column(s, R, mus):
    """Hand-solved reservoir case: a grid uniform across the open axis is a 1-D column.

    Cells 0..L-1 of s along the open axis, then R bulk cells; mirror faces at both
    ends; 4 lateral neighbours equal to the cell itself.  Monotone iteration from the
    previous state, then scipy's root finder from there (same fixed point, to 1e-13).
    """
    s = np.concatenate([np.asarray(s, float), np.ones(R)])
    n = len(s)
    up = np.r_[0, np.arange(n - 1)]
    down = np.r_[np.arange(1, n), n - 1]

    def F(rho, mu):
        x = 4 * rho + rho[up] + rho[down] + Y * ((1 - s[up]) + (1 - s[down]))
        return s * sigmoid(BETA * (mu + W3 * x))

    rho, sums = s.copy(), []
    for mu in mus:
        for _ in range(200_000):
            new = F(rho, mu)
            if np.abs(new - rho).max() < 1e-13:
                break
            rho = new
        sol = root(lambda r: F(r, mu) - r, new, tol=1e-14)
        rho = sol.x if np.abs(sol.x - new).max() < 1e-8 else new
        sums.append(rho[: n - R].sum())
    return np.array(sums)


@pytest.mark.parametrize("solver", ["reference", "numba"])
def test_reservoir_column_equals_the_hand_solved_1d_column(solver):
    s = np.array([1, 1, 0, 1, 1, 1])               # layers along the open axis
    g = np.broadcast_to(s[:, None, None], (6, 3, 4))[None].astype(np.uint8)
    hand = _column(s, 3, MUS10)
    solve = reference.solve if solver == "reference" else numba3d.solve
    got = solve(g, MUS10, BETA, W3, Y, dtype="float64", boundary=Boundary("reservoir", 3))[0]
    assert np.abs(got / 12 - hand).max() / s.sum() < 1e-8


@pytest.mark.parametrize("far", ["reflect", "reservoir"])
def test_reservoir_fast_matches_reference_in_2d_and_3d(far):
    rng = np.random.default_rng(11)
    b = Boundary("reservoir", 3, axis=0, far=far)
    g3 = (rng.random((3, 6, 5, 6)) < 0.6).astype(np.uint8)
    g2 = (rng.random((3, 7, 6)) < 0.6).astype(np.uint8)
    for g, w in ((g3, W3), (g2, W2)):
        ref = reference.solve(g, MUS, BETA, w, Y, boundary=b)
        for dtype, tol in (("float32", 1e-5), ("float64", 1e-6)):
            fast = numba3d.solve(g, MUS, BETA, w, Y, dtype=dtype, boundary=b)
            assert np.abs(fast - ref).max() / pores(g).max() <= tol


def ink_bottle(neck, cavity=10, depth=16, side=14):
    """A cavity behind a square neck that opens on the last face of axis 0."""
    g = np.zeros((depth, side, side), np.uint8)
    c, n = (side - cavity) // 2, (side - neck) // 2
    g[1:1 + cavity, c:c + cavity, c:c + cavity] = 1
    g[1 + cavity:, n:n + neck, n:n + neck] = 1
    return g


def emptying_pressure(curve, rh, npore):
    """RH at the largest drop of the desorption branch."""
    d = curve[41:] / npore
    return rh[41 + np.argmax(d[:-1] - d[1:]) + 1]


def test_ink_bottle_empties_through_the_open_face_only_with_a_reservoir():
    g = ink_bottle(5)[None]
    per = numba3d.solve(g, MUS, BETA, W3, Y, dtype="float64")[0]
    res = numba3d.solve(g, MUS, BETA, W3, Y, dtype="float64", boundary=RES)[0]
    assert emptying_pressure(per, RH, g.sum()) == pytest.approx(0.25)   # cavitation
    assert emptying_pressure(res, RH, g.sum()) == pytest.approx(0.40)   # through the neck
    assert min(per[40], res[40]) / g.sum() > 0.95          # both filled at the top


def test_chunks_polished_in_one_pass_match_the_reference(mixed, monkeypatch):
    """Several internal chunks whose hard points are all polished at the end (issue 30)."""
    from invtoolkit_plugins.lattice_dft import lanes

    g, ref = mixed
    monkeypatch.setattr(lanes, "CHUNK", 2)                # 3 chunks of the 6 grids
    monkeypatch.setattr(lanes, "R_HARD", 0.6)             # many points to polish
    done = []
    fast = numba3d.solve(g, MUS, BETA, W3, Y, progress=done.append)
    assert done == [2, 2, 2]
    assert numba3d.last_stats()["polished"] > 6
    assert (np.abs(fast - ref) / pores(g)).max() <= 1e-5
