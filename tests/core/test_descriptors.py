"""Structure descriptors against hand-computed cases: slits, squares, wrap-around, 3-D boxes."""

import numpy as np
import pytest

from invtoolkit.core.descriptors import (batch_descriptors, batch_pore_widths, grid_descriptors, pore_widths,
                                        torus_cluster_masks)

H = 12


def slit(width, h=H, w=H + 3, start=2):
    g = np.zeros((h, w), np.uint8)
    g[(np.arange(width) + start) % h] = 1
    return g


def square(side, h=H, w=H, at=(1, 2)):
    g = np.zeros((h, w), np.uint8)
    rows = (np.arange(side) + at[0]) % h
    cols = (np.arange(side) + at[1]) % w
    g[np.ix_(rows, cols)] = 1
    return g


@pytest.mark.parametrize("width", range(1, H))
def test_slit_of_every_width_has_one_width(width):
    d = grid_descriptors(slit(width))
    assert d["psd"] == [[width, 1.0]]
    assert d["dominant_width"] == width == d["max_width"]
    assert d["porosity"] == pytest.approx(width / H)
    assert d["surface"] == pytest.approx(2 / width)  # two walls per column of the slit
    assert d["percolating"] and d["connectivity"] == 1 and d["n_pores"] == 1


@pytest.mark.parametrize("side", range(1, H))
def test_square_of_every_size(side):
    d = grid_descriptors(square(side))
    assert d["psd"] == [[side, 1.0]]
    assert d["surface"] == pytest.approx(4 * side / side**2)
    assert not d["percolating"] and d["n_pores"] == 1 and d["connectivity"] == 0


def test_square_split_across_the_periodic_boundary():
    whole, split = square(5, at=(3, 4)), square(5, at=(10, 9))  # rows 10,11,0,1,2; cols 9..11,0,1
    assert split[0, 0] == 1 and split[11, 11] == 1 and split[5, 5] == 0
    assert grid_descriptors(split) == grid_descriptors(whole)
    assert grid_descriptors(split)["n_pores"] == 1


def test_mixed_widths_are_per_cell():
    # a 2-wide slit (rows 0-1) on top of a 5-square (rows 2-6, columns 3-7): the slit cells
    # above the square lie in the 5-square of rows 0-4, the rest of the slit has width 2
    g = slit(2, start=0)
    g[2:7, 3:8] = 1
    widths = pore_widths(g)
    assert (widths[0:7, 3:8] == 5).all()
    assert (widths[0:2, 8:] == 2).all() and (widths[0:2, :3] == 2).all()
    n_pore = g.sum()
    assert n_pore == 55
    d = grid_descriptors(g)
    assert d["psd"] == [[2, pytest.approx(20 / 55)], [5, pytest.approx(35 / 55)]]
    assert d["dominant_width"] == 5 and d["mean_width"] == pytest.approx((40 + 175) / 55)


def test_tie_picks_the_larger_width():
    g = np.zeros((12, 12), np.uint8)
    g[0, 0:4] = 1  # 4 cells of width 1 (a bar one cell high)
    g[5:7, 5:7] = 1  # 4 cells of width 2
    d = grid_descriptors(g)
    assert d["psd"] == [[1, 0.5], [2, 0.5]] and d["dominant_width"] == 2 and d["n_pores"] == 2


def test_all_pore_grid_width_is_the_smallest_side():
    d = grid_descriptors(np.ones((5, 7), np.uint8))
    assert d["psd"] == [[5, 1.0]] and d["surface"] == 0.0 and d["connectivity"] == 2
    d3 = grid_descriptors(np.ones((4, 6, 5), np.uint8))
    assert d3["psd"] == [[4, 1.0]] and d3["connectivity"] == 3


def test_checkerboard_is_width_one_and_unconnected():
    g = (np.indices((8, 8)).sum(0) % 2).astype(np.uint8)
    d = grid_descriptors(g)
    assert d["psd"] == [[1, 1.0]] and d["surface"] == 4.0
    assert d["n_pores"] == 32 and not d["percolating"]


@pytest.mark.parametrize("dims", [(1, 1, 1), (2, 3, 4), (3, 3, 3), (5, 4, 6)])
def test_3d_boxes(dims):
    g = np.zeros((6, 7, 8), np.uint8)
    g[1:1 + dims[0], 2:2 + dims[1], 1:1 + dims[2]] = 1
    d = grid_descriptors(g)
    assert d["psd"] == [[min(dims), 1.0]]
    a, b, c = dims
    assert d["surface"] == pytest.approx(2 * (a * b + b * c + a * c) / (a * b * c))
    assert d["n_pores"] == 1 and not d["percolating"]


def test_3d_box_across_every_boundary_and_3d_slab():
    g = np.zeros((6, 7, 8), np.uint8)
    g[np.ix_([5, 0, 1], [6, 0, 1, 2], [7, 0, 1, 2, 3])] = 1
    assert grid_descriptors(g)["psd"] == [[3, 1.0]] and grid_descriptors(g)["n_pores"] == 1
    slab = np.zeros((6, 7, 8), np.uint8)
    slab[2:4] = 1  # a 2-thick slab: percolates in two directions
    d = grid_descriptors(slab)
    assert d["psd"] == [[2, 1.0]] and d["connectivity"] == 2 and d["surface"] == pytest.approx(1.0)


def test_percolating_slit_against_isolated_square_and_wrapping_cluster():
    assert grid_descriptors(slit(1))["percolating"]
    assert not grid_descriptors(square(6))["percolating"]
    # a diagonal staircase that closes on itself only through the periodic boundary
    g = np.zeros((6, 6), np.uint8)
    for i in range(6):
        g[i, i] = g[i, (i + 1) % 6] = 1
    d = grid_descriptors(g)
    assert d["percolating"] and d["connectivity"] == 1 and d["n_pores"] == 1
    # a ring around a wall block does not wrap; a cross of two slits wraps both ways
    ring = square(5)
    ring[2:5, 3:6] = 0
    assert not grid_descriptors(ring)["percolating"]
    cross = np.zeros((H, H), np.uint8)
    cross[3] = 1
    cross[:, 5] = 1
    assert grid_descriptors(cross)["connectivity"] == 2


def test_n_pores_counts_separate_squares_and_joins_across_the_boundary():
    g = square(3, at=(1, 1)) | square(2, at=(7, 7))
    d = grid_descriptors(g)
    assert d["n_pores"] == 2 and d["largest_pore_fraction"] == pytest.approx(9 / 13)
    # two pieces touching only through the periodic edge are one pore
    g = np.zeros((8, 8), np.uint8)
    g[3:5, 0] = 1
    g[3:5, 7] = 1
    assert grid_descriptors(g)["n_pores"] == 1


def test_cluster_masks_join_across_the_boundary_and_add_up_to_the_pores():
    g = square(3, at=(1, 1)) | square(2, at=(7, 7))
    g[4:6, 0] = g[4:6, H - 1] = 1          # a third pore, in two pieces across the periodic edge
    masks = torus_cluster_masks(g)
    assert sorted(m.sum() for m in masks) == [4, 4, 9]
    assert masks.sum(0).tolist() == g.tolist()
    edge = masks[[m[4, 0] == 1 for m in masks].index(True)]
    assert edge[4, H - 1] == edge[5, H - 1] == 1 and edge.sum() == 4
    assert torus_cluster_masks(np.zeros((4, 4, 4), np.uint8)).shape == (0, 4, 4, 4)


def test_invariant_under_roll_and_transpose():
    rng = np.random.default_rng(4)
    for _ in range(10):
        g = (rng.random((9, 11)) < 0.6).astype(np.uint8)
        d = grid_descriptors(g)
        assert grid_descriptors(np.roll(g, (4, -3), axis=(0, 1))) == d
        assert grid_descriptors(g.T) == d
        assert grid_descriptors(g[::-1]) == d


def test_batch_equals_one_by_one_and_widths_never_exceed_the_box_test():
    rng = np.random.default_rng(1)
    grids = (rng.random((6, 7, 7)) < 0.7).astype(np.uint8)
    assert batch_descriptors(grids) == [grid_descriptors(g) for g in grids]
    widths = batch_pore_widths(grids)
    # brute force: the largest all-pore k-square (periodic) containing each cell
    g = grids[0]
    for i in range(7):
        for j in range(7):
            best = 0
            for k in range(1, 8):
                for a in range(i - k + 1, i + 1):
                    for b in range(j - k + 1, j + 1):
                        if g[np.ix_(np.arange(a, a + k) % 7, np.arange(b, b + k) % 7)].all():
                            best = k
            assert widths[0, i, j] == best


def test_no_pore_cell_is_refused():
    with pytest.raises(ValueError):
        grid_descriptors(np.zeros((4, 4), np.uint8))
