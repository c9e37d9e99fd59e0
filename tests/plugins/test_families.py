"""Structure-family samplers (plugins/families.py): shapes, seeds, coverage, geometry."""

import numpy as np
import pytest
from scipy import ndimage

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError

FAMILIES = ["fam-random", "fam-smooth", "fam-slit", "fam-rect", "fam-pair", "fam-union", "fam-dense", "families"]


def sample(name, n, shape, seed=0, **options):
    return registry.create("sampler", name, **options).sample(n, shape, np.random.default_rng(seed))


def periodic_component_sizes(grid: np.ndarray) -> list[int]:
    """Cells per connected pore component (nearest neighbours) on the torus: scipy's
    labels merged across every periodic edge by union-find."""
    labels, count = ndimage.label(grid)
    parent = list(range(count + 1))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for axis in range(grid.ndim):
        first, last = np.take(labels, 0, axis=axis), np.take(labels, -1, axis=axis)
        for a, b in zip(first.ravel(), last.ravel()):
            if a and b:
                parent[find(a)] = find(b)
    cells = np.bincount(labels.ravel(), minlength=count + 1)
    sizes: dict[int, int] = {}
    for a in range(1, count + 1):
        sizes[find(a)] = sizes.get(find(a), 0) + int(cells[a])
    return sorted(sizes.values())


def periodic_components(grid: np.ndarray) -> int:
    return len(periodic_component_sizes(grid))


def test_periodic_components_helper_on_hand_made_grids():
    g = np.zeros((5, 5), np.uint8)
    g[0, 0] = g[4, 0] = 1  # neighbours across the edge
    assert periodic_components(g) == 1
    g[2, 2] = 1
    assert periodic_components(g) == 2
    g[:, 2] = 1  # a column joins (2, 2), not the edge pair at column 0
    assert periodic_component_sizes(g) == [2, 5]


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("shape", [(20, 20), (7, 11), (3, 3), (4, 5, 6), (3, 3, 3)])
def test_shape_dtype_and_at_least_one_pore(name, shape):
    g = sample(name, 300, shape)
    assert g.shape == (300, *shape) and g.dtype == np.uint8
    assert set(np.unique(g)) <= {0, 1}
    assert g.reshape(300, -1).any(1).all()


@pytest.mark.parametrize("name", FAMILIES + ["families-mixed"])
def test_same_seed_same_grids_other_seed_other_grids(name):
    a, b, c = sample(name, 200, (20, 20), 5), sample(name, 200, (20, 20), 5), sample(name, 200, (20, 20), 6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", ["fam-random", "fam-smooth"])
def test_porosity_spans_002_to_099(name):
    p = sample(name, 3000, (20, 20)).reshape(3000, -1).mean(1)
    assert p.min() <= 0.03 and p.max() >= 0.98
    # roughly uniform: every tenth of the range gets its share
    counts = np.histogram(p, bins=10, range=(0.02, 0.99))[0]
    assert counts.min() > 0.6 * 300


def test_random_porosity_option_is_obeyed():
    p = sample("fam-random", 500, (20, 20), porosity=(0.3, 0.4)).reshape(500, -1).mean(1)
    assert p.min() >= 0.3 - 1e-9 and p.max() <= 0.4 + 1e-9


def test_dense_grids_are_nearly_full_or_nearly_empty():
    p = sample("fam-dense", 2000, (20, 20)).reshape(2000, -1).mean(1)
    assert (((p <= 0.15) | (p >= 0.85))).all()
    full = (p >= 0.85).mean()
    assert 0.65 < full < 0.75  # default full=0.7
    assert (p >= 0.98).any() and (p <= 0.02).any()


def test_slits_have_every_asked_width_and_are_one_periodic_band():
    h = 20
    g = sample("fam-slit", 2000, (h, h))
    widths = set()
    for grid in g:
        rows_equal = (grid == grid[:1]).all()  # every row the same: a band of columns
        cols_equal = (grid == grid[:, :1]).all()
        assert rows_equal or cols_equal
        line = grid[0] if rows_equal else grid[:, 0]
        width = int(line.sum())
        # one periodic interval: exactly one 0 -> 1 step around the circle
        assert int(((np.roll(line, 1) == 0) & (line == 1)).sum()) == 1
        assert periodic_components(grid) == 1
        widths.add(width)
    assert widths == set(range(1, h))


def test_rect_is_one_periodic_box_smaller_than_the_cell():
    for grid in sample("fam-rect", 500, (12, 9)):
        rows, cols = grid.any(1), grid.any(0)
        assert np.array_equal(grid.astype(bool), rows[:, None] & cols[None, :])  # a product set: a box
        assert 1 <= rows.sum() <= 11 and 1 <= cols.sum() <= 8
        assert periodic_components(grid) == 1


@pytest.mark.parametrize("shape", [(20, 20), (9, 14), (6, 7, 8)])
@pytest.mark.parametrize("squares", [0.0, 1.0])
def test_pairs_are_two_components_of_different_size(shape, squares):
    for grid in sample("fam-pair", 200, shape, squares=squares):
        sizes = periodic_component_sizes(grid)
        assert len(sizes) == 2 and sizes[0] != sizes[1]


def test_pair_on_the_smallest_grid_is_two_diagonal_cells():
    for grid in sample("fam-pair", 20, (3, 3)):
        assert periodic_component_sizes(grid) == [1, 1]


def test_long_correlation_gives_few_pores_short_gives_many():
    long = sample("fam-smooth", 200, (20, 20), porosity=(0.3, 0.3), lengths=(40, 40))
    short = sample("fam-smooth", 200, (20, 20), porosity=(0.3, 0.3), lengths=(0.5, 0.5))
    n_long = np.mean([periodic_components(g) for g in long])
    n_short = np.mean([periodic_components(g) for g in short])
    assert n_long <= 1.5 and n_short >= 10


def test_families_weights_select_a_family_and_reject_unknown_names():
    zero = {name: 0 for name in ["random", "smooth", "rect", "pair", "union", "dense"]}
    g = sample("families", 300, (10, 10), weights={**zero, "slit": 1})
    assert all((grid == grid[:1]).all() or (grid == grid[:, :1]).all() for grid in g)
    with pytest.raises(InputError):
        registry.create("sampler", "families", weights={"no-such": 1})


@pytest.mark.parametrize("shape", [(2, 5), (5,), (3, 3, 3, 3)])
def test_bad_shapes_raise_input_error(shape):
    with pytest.raises(InputError):
        sample("fam-random", 3, shape)


def test_families_mixed_fraction_one_is_the_families_mixture():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    mixed = registry.create("sampler", "families-mixed", families=1.0).sample(300, (20, 20), rng_a)
    rng_b.choice(2, size=300, p=[1.0, 0.0])  # the same draw of halves the mixture makes first
    families = registry.create("sampler", "families").sample(300, (20, 20), rng_b)
    assert np.array_equal(mixed, families)
    p = sample("families-mixed", 2000, (20, 20)).reshape(2000, -1).mean(1)
    assert p.min() < 0.02 and p.max() > 0.97
