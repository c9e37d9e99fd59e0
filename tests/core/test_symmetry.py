"""Torus symmetries: canonical forms against brute force, dedupe, augmentation."""

import itertools

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.core import symmetry as S


def brute_orbit(grid) -> set[bytes]:
    """Every transform of one grid, independently of the module: np.rot90/flip/roll."""
    h, w = grid.shape
    if h == w:
        bases = [np.rot90(g, k) for g in (grid, grid.T) for k in range(4)]
    else:
        bases = [grid, grid[::-1], grid[:, ::-1], grid[::-1, ::-1]]
    return {np.roll(b, (dy, dx), (0, 1)).tobytes() for b in bases for dy in range(h) for dx in range(w)}


def all_grids(h, w):
    cells = np.array(list(itertools.product((0, 1), repeat=h * w)), np.uint8)
    return cells.reshape(-1, h, w)


def test_group_sizes():
    assert S.n_symmetries((20, 20)) == 8 * 400
    assert S.n_symmetries((4, 6)) == 4 * 24
    assert len(S.all_transforms(np.zeros((5, 5)))) == 200


@pytest.mark.parametrize("shape", [(3, 3), (3, 4), (2 + 2, 2 + 2)])
def test_classes_match_brute_force_on_every_small_grid(shape):
    grids = all_grids(*shape)
    if len(grids) > 2000:
        grids = grids[np.random.default_rng(0).choice(len(grids), 2000, replace=False)]
    orbit_id, brute_class = {}, []
    for g in grids:
        brute_class.append(orbit_id.setdefault(min(brute_orbit(g)), len(orbit_id)))
    keys = S.canonical_keys(grids)
    # same canonical form <=> same brute-force orbit
    _, ours = np.unique(keys, axis=0, return_inverse=True)
    pairs = set(zip(ours.ravel().tolist(), brute_class))
    assert len(pairs) == len(set(ours.ravel().tolist())) == len(orbit_id)
    assert S.distinct_up_to_symmetry(grids) == len(orbit_id)


def test_canonical_is_the_smallest_transform_and_invariant():
    rng = np.random.default_rng(1)
    for shape in [(5, 5), (4, 7), (6, 6)]:
        for g in (rng.random((10, *shape)) < 0.5).astype(np.uint8):
            orbit = S.all_transforms(g)
            assert {t.tobytes() for t in orbit} == brute_orbit(g)
            smallest = min(orbit.reshape(len(orbit), -1).tolist())
            assert S.canonical(g).ravel().tolist() == smallest
            assert (S.canonical(orbit) == S.canonical(g)).all()


def test_dedupe_and_hash_on_20x20():
    rng = np.random.default_rng(2)
    base = (rng.random((300, 20, 20)) < rng.uniform(0.2, 0.8, (300, 1, 1))).astype(np.uint8)
    moved = S.random_transform(base, rng)
    assert not np.array_equal(moved, base)
    assert np.array_equal(S.canonical(moved), S.canonical(base))
    assert np.array_equal(S.canonical_hash(moved), S.canonical_hash(base))
    assert len(np.unique(S.canonical_hash(base))) == 300
    both = np.concatenate([base, moved])
    unique, index = S.dedupe(both, return_index=True)
    assert np.array_equal(index, np.arange(300)) and np.array_equal(unique, base)
    assert S.distinct_up_to_symmetry(both) == 300


def test_random_transform_reaches_many_transforms():
    g = np.zeros((1, 5, 5), np.uint8)
    g[0, 0, :3] = 1
    g[0, 1, 0] = 1  # no symmetry: 200 different images
    images = S.random_transform(np.repeat(g, 4000, 0), np.random.default_rng(0))
    assert len({x.tobytes() for x in images}) > 190


def test_augment_torch_gives_equivalent_grids():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grids = (rng.random((64, 8, 8)) < 0.4).astype(np.uint8)
    x = torch.from_numpy(grids).float()
    for args in [dict(), dict(per_sample=False)]:
        y = S.augment_torch(x, torch.Generator().manual_seed(0), **args)
        y2 = S.augment_torch(x, torch.Generator().manual_seed(0), **args)
        assert torch.equal(y, y2)
        assert np.array_equal(S.canonical_keys(y.numpy().astype(np.uint8)), S.canonical_keys(grids))
    # channel dimension, non-square grids
    g = (rng.random((32, 1, 5, 7)) < 0.5).astype(np.uint8)
    y = S.augment_torch(torch.from_numpy(g).float(), torch.Generator().manual_seed(1))
    assert y.shape == g.shape
    assert np.array_equal(S.canonical_keys(y[:, 0].numpy().astype(np.uint8)), S.canonical_keys(g[:, 0]))
    # per sample: copies of one asymmetric grid end up in different positions
    one = torch.from_numpy(np.repeat(grids[:1], 50, 0)).float()
    y = S.augment_torch(one, torch.Generator().manual_seed(2))
    assert len({bytes(t.numpy().astype(np.uint8)) for t in y}) > 40


def test_simulator_curve_is_invariant_under_symmetries():
    sim = registry.create("simulator", "lattice-dft", steps=10, solver="reference")  # the spec solver
    rng = np.random.default_rng(4)
    grids = (rng.random((4, 6, 6)) < 0.5).astype(np.uint8)
    grids[:, 0, 0] = 1
    moved = S.random_transform(np.repeat(grids, 3, 0), rng)
    base_curves = np.repeat(sim.simulate(grids), 3, 0)
    assert np.abs(sim.simulate(moved) - base_curves).max() < 1e-4


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_population_unique_with_a_limit_is_the_first_of_the_whole_dedup(limit):
    """Keyed in chunks of 4 x limit, the limited dedup keeps exactly the first ``limit``
    grids the whole dedup keeps (translated copies are dropped across chunk borders)."""
    from invtoolkit.core.population import Population

    rng = np.random.default_rng(9)
    base = (rng.random((10, 5, 5)) < 0.5).astype(np.uint8)
    grids = np.concatenate([base, np.roll(base, 2, axis=-1), np.roll(base[::-1], 1, axis=-2)])
    pop = Population(grids, np.arange(len(grids), dtype=float))
    whole = pop.unique(S.canonical_keys)
    limited = pop.unique(S.canonical_keys, limit=limit)
    np.testing.assert_array_equal(limited.grids, whole.grids[:limit])
    assert len(whole) == 10
