"""training/edge17.py: condensation pressure past saturation, and the boundary mutants."""

import numpy as np
import pytest
from conftest import training_module

from invtoolkit.hooks import registry


@pytest.fixture(scope="module")
def edge17():
    return training_module("edge17")


def slit(width, size=20):
    g = np.zeros((size, size), np.uint8)
    g[:width] = 1
    return g


def test_condensation_pressure_rises_with_slit_width(edge17):
    # Kelvin: a wider slit condenses at a higher p/p0; slits up to 6 wide condense in one jump (width 6 just past p0)
    dft = registry.create("simulator", "lattice-dft", threads=1)
    pc, jump = edge17.condensation_pressure(dft, np.stack([slit(w) for w in (1, 2, 3, 4, 6)]))
    assert np.all(np.diff(pc) > 0)
    assert np.all(jump > 0.3)


def test_condensation_pressure_is_invariant_under_torus_symmetry(edge17):
    dft = registry.create("simulator", "lattice-dft", threads=1)
    g = registry.create("sampler", "fam-dense").sample(1, (20, 20), np.random.default_rng(3))[0]
    views = np.stack([g, np.roll(g, (5, 11), axis=(0, 1)), g.T, g[::-1]])
    pc, jump = edge17.condensation_pressure(dft, views)
    assert np.all(pc == pc[0]) and np.allclose(jump, jump[0], atol=1e-4)


def test_mutants_move_one_or_two_wall_cells(edge17):
    rng = np.random.default_rng(0)
    grids = registry.create("sampler", "fam-random").sample(5, (20, 20), rng)
    out = edge17.mutants(grids, 4, np.random.default_rng(1))
    assert out.shape == (20, 20, 20) and out.dtype == grids.dtype
    parents = np.repeat(grids, 4, axis=0)
    assert np.array_equal(out.reshape(20, -1).sum(1), parents.reshape(20, -1).sum(1))  # porosity kept
    moved = (out != parents).reshape(20, -1).sum(1)
    assert set(moved) <= {0, 2, 4} and (moved > 0).mean() > 0.8  # a move flips a wall and a pore
