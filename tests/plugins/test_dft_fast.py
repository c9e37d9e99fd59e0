"""Tests of the fast lattice-DFT solvers (numba and torch) against independent facts."""
from __future__ import annotations

import math

import numpy as np
import pytest

from invtoolkit_plugins.lattice_dft import _dft_numba

KB = 0.0019872041
T = 298.0
TC = 647.0
Y = 1.5
BETA = 1.0 / (KB * T)
MU_SAT = -2.0 * KB * TC
W_FF = -2.0 * MU_SAT / 4.0
KW = dict(beta=BETA, w_ff=W_FF, y=Y)


def schedule(npts=41, loop=True):
    rh = np.linspace(0.0, 1.0, npts)
    if loop:
        rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        mu = MU_SAT + KB * T * np.log(rh)
    mu[rh == 0] = -90.0
    return mu


MUS = schedule()


def scalar_reference(grid, mus, tol=1e-14, max_sweeps=2_000_000):
    """Plain scalar Gauss-Seidel in Python floats, iterated to a tight fixed point."""
    H, W = grid.shape
    s = [[float(grid[i][j]) for j in range(W)] for i in range(H)]
    rho = [row[:] for row in s]
    out = []
    for mu in mus:
        prev = None
        for _ in range(max_sweeps):
            d = 0.0
            for i in range(H):
                for j in range(W):
                    if not s[i][j]:
                        continue
                    acc = 0.0
                    for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                        a %= H
                        b %= W
                        acc += rho[a][b] + Y * (1.0 - s[a][b])
                    x = BETA * (mu + W_FF * acc)
                    new = 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
                    d = max(d, abs(new - rho[i][j]))
                    rho[i][j] = new
            if d == 0.0:
                break
            if prev is not None and d < prev:
                r = d / prev
                if d * r / (1.0 - r) < tol:
                    break
            prev = d
        out.append(sum(map(sum, rho)))
    return np.array(out)


def random_grids(n, h, w, seed, p=0.5):
    rng = np.random.default_rng(seed)
    g = (rng.random((n, h, w)) < p).astype(np.uint8)
    g[g.reshape(n, -1).sum(1) == 0, 0, 0] = 1
    return g


def square_pore(size=20, a=14):
    g = np.zeros((1, size, size), dtype=np.uint8)
    g[0, :a, :a] = 1
    return g


@pytest.fixture(scope="module")
def tiny():
    grids = np.stack([
        np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=np.uint8),
        np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=np.uint8),
    ])
    g4 = np.array([[1, 1, 0, 0], [1, 1, 0, 1], [0, 0, 0, 1], [1, 0, 1, 1]], dtype=np.uint8)
    ref3 = np.stack([scalar_reference(g, MUS) for g in grids])
    ref4 = scalar_reference(g4, MUS)[None]
    return grids, ref3, g4[None], ref4


@pytest.mark.parametrize("dtype,bound", [("float64", 1e-6), ("float32", 1e-5)])
def test_tiny_against_scalar_loop(tiny, dtype, bound):
    grids, ref3, g4, ref4 = tiny
    for g, ref in ((grids, ref3), (g4, ref4)):
        out = _dft_numba.solve(g, MUS, **KW, dtype=dtype)
        assert out.shape == ref.shape and out.dtype == np.float64
        npore = g.reshape(len(g), -1).sum(1)[:, None]
        assert np.abs(out - ref).max() / npore.min() <= bound
    if dtype == "float64":
        assert np.abs(_dft_numba.solve(grids, MUS, **KW, dtype=dtype) - ref3).max() < 1e-8


def test_hysteresis_large_square_pore():
    g = square_pore(20, 14)
    out = _dft_numba.solve(g, MUS, **KW)[0] / g.sum()
    ads, des = out[:41], out[40:][::-1]
    assert np.all(des >= ads - 1e-6)
    assert (des - ads).max() > 0.3  # a real hysteresis loop
    assert np.diff(ads).max() > 0.3  # capillary condensation is a step
    assert out[0] == pytest.approx(0.0, abs=1e-12) and out[40] > 0.95


def test_adsorption_branch_monotone():
    g = np.concatenate([random_grids(20, 20, 20, 3), square_pore(20, 12)])
    ads = schedule(41, loop=False)
    out = _dft_numba.solve(g, ads, **KW)
    assert np.all(np.diff(out, axis=1) >= -1e-6 * g[0].size)
    # adsorption only == the first 41 points of the loop
    loop = _dft_numba.solve(g, MUS, **KW)
    np.testing.assert_allclose(out, loop[:, :41], atol=1e-5 * g[0].size)


def test_symmetries_give_same_sums():
    g = random_grids(6, 12, 12, 7)
    ref = _dft_numba.solve(g, MUS, **KW, dtype="float64")
    variants = [np.roll(g, (3, -5), (1, 2)), np.transpose(g, (0, 2, 1)), g[:, ::-1, :],
                g[:, :, ::-1], np.rot90(g, 1, (1, 2))]
    for v in variants:
        out = _dft_numba.solve(np.ascontiguousarray(v), MUS, **KW, dtype="float64")
        np.testing.assert_allclose(out, ref, atol=1e-7)


@pytest.mark.parametrize("shape", [(3, 5), (7, 7), (5, 3)])
def test_odd_sizes(shape):
    g = random_grids(3, *shape, seed=11, p=0.6)
    ref = np.stack([scalar_reference(x, MUS, tol=1e-12) for x in g])
    npore = g.reshape(3, -1).sum(1)[:, None]
    for dtype, bound in (("float64", 1e-6), ("float32", 1e-5)):
        out = _dft_numba.solve(g, MUS, **KW, dtype=dtype)
        assert (np.abs(out - ref) / npore).max() <= bound


def test_float32_matches_float64_random_and_late_condensing():
    g = np.concatenate([random_grids(40, 20, 20, 5), square_pore(20, 16), square_pore(20, 12)])
    slit = np.zeros((1, 20, 20), dtype=np.uint8)
    slit[0, :6] = 1
    g = np.concatenate([g, slit])
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    r64 = _dft_numba.solve(g, MUS, **KW, dtype="float64")
    r32 = _dft_numba.solve(g, MUS, **KW, dtype="float32")
    assert (np.abs(r32 - r64) / npore).max() <= 1e-5
    # thread count (hence lane layout, vector vs scalar remainder code) changes only
    # rounding, within the float32 error bound
    r1 = _dft_numba.solve(g, MUS, **KW, dtype="float32", threads=1)
    assert (np.abs(r1 - r64) / npore).max() <= 1e-5


def test_edge_cases():
    g = random_grids(2, 5, 5, 1)
    assert _dft_numba.solve(g[:0], MUS, **KW).shape == (0, len(MUS))
    assert _dft_numba.solve(g, MUS[:0], **KW).shape == (2, 0)
    one = _dft_numba.solve(g, MUS[20:21], **KW)  # schedule of one point starts from rho = s
    assert one.shape == (2, 1)
    with pytest.raises(ValueError):
        _dft_numba.solve(np.ones((1, 2, 5), np.uint8), MUS, **KW)
    with pytest.raises(ValueError):
        _dft_numba.solve(g, MUS, **KW, dtype="float16")


def test_torch_agrees_with_numba():
    pytest.importorskip("torch")
    from invtoolkit_plugins.lattice_dft import _dft_torch

    g = np.concatenate([random_grids(6, 10, 10, 2), random_grids(2, 10, 10, 3, p=0.8)])
    g = np.concatenate([g, square_pore(10, 7)])
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    ref = _dft_numba.solve(g, MUS, **KW, dtype="float64")
    for dtype, bound in (("float64", 1e-6), ("float32", 1e-5)):
        out = _dft_torch.solve_torch(g, MUS, **KW, dtype=dtype, device="cpu")
        assert out.shape == ref.shape
        assert (np.abs(out - ref) / npore).max() <= bound


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (4, 5), (5, 4)])
def test_non_square_and_mixed_parity_sizes(shape):
    # even H and W use the split-colour row layout, mixed parity the per-cell fallback
    g = random_grids(3, *shape, seed=13, p=0.6)
    ref = np.stack([scalar_reference(x, MUS, tol=1e-12) for x in g])
    npore = g.reshape(3, -1).sum(1)[:, None]
    for dtype, bound in (("float64", 1e-6), ("float32", 1e-5)):
        out = _dft_numba.solve(g, MUS, **KW, dtype=dtype)
        assert (np.abs(out - ref) / npore).max() <= bound


def test_float32_matches_float64_on_slits_and_squares():
    # capillary condensation steps and hysteresis loops of every width: the float32
    # kernel (and its stopping rule on step sums) must land on the same branches
    gs = []
    for w in range(2, 11):
        slit = np.zeros((20, 20), dtype=np.uint8)
        slit[:w] = 1
        gs += [np.roll(slit, w, 0), slit.T.copy()]
    for a in range(3, 19, 2):
        gs.append(np.roll(square_pore(20, a)[0], (a, 2 * a), (0, 1)))
    g = np.array(gs)
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    r64 = _dft_numba.solve(g, MUS, **KW, dtype="float64") / npore
    r32 = _dft_numba.solve(g, MUS, **KW, dtype="float32") / npore
    assert np.abs(r32 - r64).max() <= 1e-5
    loops = (r64[:, 40:][:, ::-1] - r64[:, :41]).max(1)
    assert (loops > 0.3).sum() >= 5  # the set does contain wide hysteresis loops


def test_float32_range_guard_falls_back_to_float64():
    # a low temperature makes beta*w_ff*(neighbours) exceed the float32 sigmoid's range
    g = random_grids(4, 6, 6, 2)
    kw = dict(beta=40.0, w_ff=W_FF, y=Y)
    mus = np.linspace(-3.0, -2.0, 5)
    out = _dft_numba.solve(g, mus, **kw, dtype="float32")
    assert _dft_numba.last_stats()["dtype"] == "float64"
    np.testing.assert_array_equal(out, _dft_numba.solve(g, mus, **kw, dtype="float64"))



@pytest.mark.parametrize("y", [0.37, 2.9])
def test_float32_wall_term_lo_part_at_other_wall_affinities(y):
    # the float32 wall constant is Bhi * (solid neighbours) plus Kb * that (Kb = Blo/Bhi):
    # any y must give the float64 answer within the float32 bound, loop included
    g = random_grids(12, 10, 10, 5, p=0.6)
    kw = dict(beta=BETA, w_ff=W_FF, y=y)
    ref = _dft_numba.solve(g, MUS, **kw, dtype="float64")
    out = _dft_numba.solve(g, MUS, **kw, dtype="float32")
    assert _dft_numba.last_stats()["dtype"] == "float32"
    assert (np.abs(out - ref) / g.reshape(len(g), -1).sum(1)[:, None]).max() <= 1e-5


def test_wall_affinity_below_the_float32_grid_falls_back_to_float64():
    # B = beta w_ff y under 2**-11 has no hi part on the 2**-10 grid to carry its lo part
    g = random_grids(4, 6, 6, 3)
    kw = dict(beta=BETA, w_ff=W_FF, y=1e-4)
    out = _dft_numba.solve(g, MUS, **kw, dtype="float32")
    assert _dft_numba.last_stats()["dtype"] == "float64"
    np.testing.assert_array_equal(out, _dft_numba.solve(g, MUS, **kw, dtype="float64"))

# ---------------------------------------------------------------- box packing (issue 30)
def slit(size, width, offset=0, vertical=False):
    g = np.zeros((size, size), dtype=np.uint8)
    g[[(offset + k) % size for k in range(width)], :] = 1
    return g.T.copy() if vertical else g


def mixed_boxes(seed=0):
    """Slits across the seam, small squares, a rectangle with noise and random grids:
    lanes of one worker then hold grids with very different pore boxes."""
    rng = np.random.default_rng(seed)
    grids = [slit(20, w, offset=int(rng.integers(20)), vertical=bool(w % 2)) for w in (2, 3, 5, 6, 8)]
    for a in (4, 7, 10):
        g = np.zeros((20, 20), dtype=np.uint8)
        g[:a, :a] = 1
        grids.append(np.roll(g, (int(rng.integers(20)), int(rng.integers(20))), (0, 1)))
    g = np.zeros((20, 20), dtype=np.uint8)
    g[:6, :13] = 1
    g |= (rng.random((20, 20)) < 0.05).astype(np.uint8)
    grids.append(g)
    grids.extend(random_grids(3, 20, 20, seed + 1, p=0.6))
    return np.array(grids, dtype=np.uint8)


def is_torus_image(a, b):
    """b is a translation of a, or of its transpose (square grids)."""
    for c in (a, a.T) if a.shape[0] == a.shape[1] else (a,):
        for di in range(c.shape[0]):
            for dj in range(c.shape[1]):
                if np.array_equal(np.roll(c, (di, dj), (0, 1)), b):
                    return True
    return False


def test_pack_puts_every_grids_pores_in_its_box_by_a_torus_symmetry():
    g = mixed_boxes(3)
    packed, order, region = _dft_numba._pack(g, 10)
    assert sorted(order) == list(range(len(g)))
    key = region[:, 0] * 21 + region[:, 1]
    assert np.all(np.diff(key) <= 0)                       # sorted by box, largest first
    for p, o, (rows, half) in zip(packed, order, region):
        assert is_torus_image(g[o], p)
        assert not p[rows:].any()                          # wall rows below the box
        assert not p[:, 2 * half:].any()                   # wall columns right of it
    assert region[:, 0].min() <= 3                         # thin slits pack to a few rows


def test_box_skipping_matches_the_float64_reference_on_slits_and_squares():
    from invtoolkit_plugins.lattice_dft import _dft_reference

    g = mixed_boxes(0)
    ref = _dft_reference.solve(g, MUS, **KW)
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    for dtype, bound in (("float32", 1e-5), ("float64", 1e-6)):
        got = _dft_numba.solve(g, MUS, **KW, dtype=dtype)
        assert (np.abs(got - ref) / npore).max() <= bound


def test_hysteresis_branches_of_slits_are_the_references():
    """Slits condense with a loop; both branches equal the plain float64 Jacobi's."""
    from invtoolkit_plugins.lattice_dft import _dft_reference

    g = np.array([slit(20, w, offset=w) for w in (4, 6, 8)], dtype=np.uint8)
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    ref = _dft_reference.solve(g, MUS, **KW) / npore
    got = _dft_numba.solve(g, MUS, **KW) / npore
    ads, des = got[:, :41], got[:, 40:][:, ::-1]
    assert (des - ads).max() > 0.2                          # a real loop to get right
    assert np.abs(got - ref).max() <= 1e-5


def test_a_batch_equals_its_grids_solved_one_by_one():
    g = mixed_boxes(1)
    batch = _dft_numba.solve(g, MUS, **KW, dtype="float64")
    alone = np.array([_dft_numba.solve(x[None], MUS, **KW, dtype="float64")[0] for x in g])
    npore = g.reshape(len(g), -1).sum(1)[:, None]
    assert (np.abs(batch - alone) / npore).max() <= 1e-8


def test_many_chunks_polish_in_one_pass_and_report_progress(monkeypatch):
    g = np.concatenate([mixed_boxes(2), square_pore(20, 10), square_pore(20, 14)])
    whole = _dft_numba.solve(g, MUS, **KW)
    done = []
    monkeypatch.setattr(_dft_numba, "CHUNK_CELLS", 400)    # chunks of 256 grids (the minimum)
    monkeypatch.setattr(_dft_numba.lanes, "R_HARD", 0.6)  # many points to polish
    small = np.concatenate([g] * 40)                          # 560 grids: 3 chunks
    got = _dft_numba.solve(small, MUS, **KW, progress=done.append)
    assert sum(done) == len(small) and len(done) == 3
    assert _dft_numba.last_stats()["polished"] >= 3 * 40     # from every chunk, in one pass
    npore = small.reshape(len(small), -1).sum(1)[:, None]
    assert (np.abs(got - np.concatenate([whole] * 40)) / npore).max() <= 1e-5


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-6)])
def test_row_pairs_equal_single_rows(monkeypatch, dtype, tol):
    # rows i and i + 2 of one colour run in one loop (kinds 3 + 4); the same program run
    # row by row (kind 0) must give the same sums, also where box skipping cuts a pair
    # (slits: rmax falls between a pair's rows) and for heights with unpaired rows
    layout = _dft_numba._layout
    for shape in ((20, 20), (10, 12), (6, 8)):
        nbr, cslot, prog, seg, prow = layout(*shape)
        q = np.flatnonzero(prog[:, 0] == 3)
        assert len(q) and (prog[q + 1, 0] == 4).all() and (prog[q, 3] == prog[q + 1, 2]).all()
    slits = np.array([slit(20, 3), slit(20, 5, offset=7)])      # rmax 5: pair (4, 6) cut
    grids = [mixed_boxes(3), slits] + [random_grids(9, h, w, 4, p=0.6) for h, w in ((10, 12), (6, 8))]
    pores = [g.reshape(len(g), -1).sum(1)[:, None] for g in grids]
    paired = [_dft_numba.solve(g, MUS, **KW, dtype=dtype) for g in grids]

    def rows_only(H, W):
        nbr, cslot, prog, seg, prow = layout(H, W)
        prog = prog.copy()
        prog[np.isin(prog[:, 0], (3, 4)), 0] = 0
        return nbr, cslot, prog, seg, prow

    monkeypatch.setattr(_dft_numba, "_layout", rows_only)
    for g, n, a in zip(grids, pores, paired):
        assert (np.abs(_dft_numba.solve(g, MUS, **KW, dtype=dtype) - a) / n).max() <= tol
