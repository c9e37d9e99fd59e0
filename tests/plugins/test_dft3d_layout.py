"""The row layout of the 3-D kernel (numba3d._row_program) against the general cell table
and the float64 reference, and the worker loop shared by the 2-D and 3-D kernels."""
import numpy as np
import pytest

from invtoolkit_plugins.dft3d import numba3d, reference
from invtoolkit_plugins.dft3d.boundary import PERIODIC, Boundary, cell_order
from invtoolkit_plugins.lattice_dft import _dft_numba

KB = 0.0019872041
T, TC, Y = 298.0, 647.0, 1.5
BETA = 1.0 / (KB * T)
MU_SAT = -2.0 * KB * TC
W3 = -2.0 * MU_SAT / 6.0
W2 = -2.0 * MU_SAT / 4.0


def schedule(steps):
    rh = np.linspace(0.0, 1.0, steps + 1)
    rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        return np.where(rh > 0, MU_SAT + KB * T * np.log(rh), -90.0)


MUS = schedule(40)
MUS10 = schedule(10)


def pores(g):
    return g.reshape(len(g), -1).sum(1)[:, None].astype(float)


def family_grids(shape, seed):
    """Random grids, a slab, a channel and a box of the given (even) shape."""
    rng = np.random.default_rng(seed)
    D, H, W = shape
    g = [(rng.random(shape) < p).astype(np.uint8) for p in (0.4, 0.6)]
    slab = np.zeros(shape, np.uint8)
    slab[:, :, 1:W // 2 + 1] = 1
    chan = np.zeros(shape, np.uint8)
    chan[:, 1:H // 2 + 1, 1:W // 2 + 1] = 1
    box = np.zeros(shape, np.uint8)
    box[1:D - 1, 1:H - 1, 1:W - 1] = 1
    return np.stack(g + [slab, chan, box])


def test_row_layout_is_used_exactly_for_even_lattices():
    res = Boundary("reservoir", 3)
    assert numba3d._row_program((6, 8, 4), PERIODIC) is not None
    assert numba3d._row_program((5, 8, 4), res) is not None        # mirror axis: any D
    assert numba3d._row_program((5, 8, 4), PERIODIC) is None       # odd periodic D
    assert numba3d._row_program((6, 7, 4), PERIODIC) is None       # odd H
    assert numba3d._row_program((8, 6), res) is None               # rank 2


def test_row_layout_slots_are_distinct_and_every_cell_is_updated_once_per_sweep():
    for shape, bnd in (((4, 6, 8), PERIODIC), ((3, 4, 6), Boundary("reservoir", 2, far="reservoir"))):
        nbr, cslot, prog, nslots, seg = numba3d._row_program(shape, bnd)
        assert len(np.unique(cslot)) == len(cslot) and cslot.max() < nslots
        upd = prog[np.isin(prog[:, 0], (0, 3, 4))]                  # single rows and pairs
        written = np.concatenate([np.arange(r[1], r[1] + r[8]) for r in upd])
        assert np.array_equal(np.sort(written), np.sort(cslot))      # each cell once, no ghost
        q = np.flatnonzero(prog[:, 0] == 3)                          # pair: row 2's up run is
        assert len(q) and (prog[q + 1, 0] == 4).all()                # row 1's down run
        assert (prog[q + 1, 2] == prog[q, 3]).all()


def _general(shape, boundary):
    """numba3d.solve with the general cell table instead of the row layout."""
    saved = numba3d._row_program
    numba3d._row_program = lambda *a: None
    try:
        return numba3d._program(shape, boundary)
    finally:
        numba3d._row_program = saved


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-6)])
def test_row_layout_matches_the_reference_on_structure_families(dtype, tol):
    g = family_grids((6, 8, 8), 4)
    ref = reference.solve(g, MUS, BETA, W3, Y)
    fast = numba3d.solve(g, MUS, BETA, W3, Y, dtype=dtype)
    assert (np.abs(fast - ref) / pores(g)).max() <= tol
    f = ref / pores(g)
    assert f[:, :41].min() < 0.2 and (f[:, 40] > 0.9).sum() >= 3       # real loops


def test_row_layout_equals_the_general_table_in_float64(monkeypatch):
    g = family_grids((4, 6, 8), 9)
    row = numba3d.solve(g, MUS10, BETA, W3, Y, dtype="float64")
    lay = _general(g.shape[1:], PERIODIC)
    monkeypatch.setattr(numba3d, "_program", lambda shape, boundary: lay)
    general = numba3d.solve(g, MUS10, BETA, W3, Y, dtype="float64")
    assert (np.abs(row - general) / pores(g)).max() <= 1e-8


@pytest.mark.parametrize("far", ["reflect", "reservoir"])
def test_row_layout_with_a_reservoir_matches_the_reference(far):
    b = Boundary("reservoir", 4, far=far)
    g = family_grids((5, 6, 6), 2)[[0, 1, 3]]
    ref = reference.solve(g, MUS, BETA, W3, Y, boundary=b)
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-6)):
        fast = numba3d.solve(g, MUS, BETA, W3, Y, dtype=dtype, boundary=b)
        assert (np.abs(fast - ref) / pores(g)).max() <= tol
    assert cell_order(g, b).shape[1] > g[0].size                     # the reservoir is there


def test_the_shared_worker_runs_both_stencils_against_the_reference():
    """One worker loop, two stencils: the 2-D kernel (4 neighbours) and the 3-D one on
    the same pattern repeated along D (6 neighbours) each agree with the reference."""
    rng = np.random.default_rng(8)
    s2 = (rng.random((3, 6, 8)) < 0.6).astype(np.uint8)
    g3 = np.repeat(s2[:, None], 4, 1)
    for g, w, solve in ((s2, W2, _dft_numba.solve), (g3, W3, numba3d.solve)):
        ref = reference.solve(g, MUS10, BETA, w, Y)
        for dtype, tol in (("float32", 1e-5), ("float64", 1e-6)):
            got = solve(g, MUS10, BETA, w, Y, dtype=dtype)
            assert (np.abs(got - ref) / pores(g)).max() <= tol
    assert not np.allclose(_dft_numba.solve(s2, MUS10, BETA, W2, Y) / pores(s2),
                           numba3d.solve(g3, MUS10, BETA, W3, Y) / pores(g3), atol=1e-3)


def test_lane_groups_hold_about_half_a_mebibyte_of_state():
    # 2**19 bytes / (cells x bytes per value), as a power of two within 16..128 lanes
    from invtoolkit_plugins.dft3d.numba3d import lane_count

    assert lane_count(8 ** 3) == 128           # 2**19 / 2048 = 256 -> capped at 128
    assert lane_count(16 ** 3) == 32           # 2**19 / 16384 = 32
    assert lane_count(16 ** 3, 8) == 16        # float64: half
    assert lane_count(20 * 16 * 16) == 16      # 2**19 / 20480 = 25.6 -> 16
    assert lane_count(32 ** 3) == 16           # 4 -> raised to 16


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-6), ("float64", 1e-12)])
def test_row_pairs_equal_single_rows_in_3d(monkeypatch, dtype, tol):
    # rows i and i + 2 in one loop (kinds 3 + 4) against the same program row by row
    g = (np.random.default_rng(7).random((6, 6, 8, 6)) < 0.6).astype(np.uint8)
    pores = g.reshape(len(g), -1).sum(1)[:, None]
    paired = numba3d.solve(g, MUS10, BETA, W3, Y, dtype=dtype)
    program = numba3d._row_program

    def rows_only(shape, boundary):
        out = program(shape, boundary)
        if out is None:
            return None
        prog = out[2].copy()
        prog[np.isin(prog[:, 0], (3, 4)), 0] = 0
        return (out[0], out[1], prog, *out[3:])

    monkeypatch.setattr(numba3d, "_row_program", rows_only)
    single = numba3d.solve(g, MUS10, BETA, W3, Y, dtype=dtype)
    assert (np.abs(paired - single) / pores).max() <= tol
