"""Sampler plugins: valid grids, seeded reproducibility, the structures they promise."""

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit_plugins.samplers import CorrelatedSampler, MixedSampler, RandomSampler, RectSampler, SlitSampler

NAMES = ["random", "correlated", "slit", "rect", "mixed"]


def test_all_builtin_samplers_are_registered():
    assert set(NAMES) <= set(registry.registry().names("sampler"))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(20, 20), (3, 3), (5, 8), (12, 7)])
def test_grids_are_binary_with_a_pore(name, shape):
    grids = registry.create("sampler", name).sample(2000, shape, np.random.default_rng(3))
    assert grids.dtype == np.uint8 and grids.shape == (2000, *shape)
    assert np.isin(grids, (0, 1)).all()
    assert grids.reshape(len(grids), -1).max(1).min() == 1  # every grid has a pore


@pytest.mark.parametrize("name", NAMES)
def test_seeded_reproducibility(name):
    sampler = registry.create("sampler", name)
    a = sampler.sample(300, (20, 20), np.random.default_rng(7))
    b = sampler.sample(300, (20, 20), np.random.default_rng(7))
    c = sampler.sample(300, (20, 20), np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_options_are_input_errors():
    for make in (lambda: RandomSampler(porosity=(0.8, 0.2)), lambda: RandomSampler(porosity="a,b"),
                 lambda: CorrelatedSampler(anisotropy=0.5), lambda: SlitSampler(rough=2),
                 lambda: RectSampler(counts=[-1, 1])):
        with pytest.raises(InputError):
            make()
    assert RandomSampler(porosity="0.2,0.3").porosity == (0.2, 0.3)


def test_random_porosity_spans_the_requested_range():
    grids = RandomSampler(porosity=(0.05, 0.95)).sample(5000, (20, 20), np.random.default_rng(0))
    porosity = grids.mean((1, 2))
    assert porosity.min() < 0.1 and porosity.max() > 0.9
    assert 0.4 < np.median(porosity) < 0.6
    narrow = RandomSampler(porosity=(0.3, 0.4)).sample(2000, (20, 20), np.random.default_rng(0)).mean((1, 2))
    assert 0.2 < narrow.min() and narrow.max() < 0.5


def test_correlated_porosity_is_exact_and_lengths_matter():
    sampler = CorrelatedSampler(porosity=(0.2, 0.8))
    grids = sampler.sample(3000, (20, 20), np.random.default_rng(0))
    porosity = grids.mean((1, 2))
    assert porosity.min() >= 0.2 - 1 / 400 and porosity.max() <= 0.8 + 1 / 400
    assert porosity.min() < 0.25 and porosity.max() > 0.75

    def wall_pore_contacts(g):  # per cell: how often a neighbour differs (periodic)
        return ((g != np.roll(g, 1, 1)).mean() + (g != np.roll(g, 1, 2)).mean()) / 2

    short = CorrelatedSampler(lengths=(0.6, 0.7), porosity=(0.5, 0.5)).sample(500, (20, 20), np.random.default_rng(1))
    long = CorrelatedSampler(lengths=(5, 6), porosity=(0.5, 0.5)).sample(500, (20, 20), np.random.default_rng(1))
    # smooth fields give compact pores: far fewer wall/pore interfaces than a fine mesh
    assert wall_pore_contacts(long) < 0.5 * wall_pore_contacts(short)


def test_slits_are_uniform_bands():
    grids = SlitSampler(rough=0.0).sample(2000, (20, 20), np.random.default_rng(0))
    i, j = np.meshgrid(np.arange(20), np.arange(20), indexing="ij")
    for g in grids:
        # constant along rows, columns, or one of the diagonals
        assert any(
            all(len(np.unique(g[coord == v])) == 1 for v in np.unique(coord))
            for coord in (i, j, (i + j) % 20, (i - j) % 20)
        )
    widths = [g[:, 0].sum() for g in grids if (g == g[:, :1]).all()]  # horizontal ones
    assert min(widths) == 1 and max(widths) >= 15


def test_single_rectangles_are_rectangles():
    grids = RectSampler(counts=(1.0,), inverted=0.0).sample(2000, (12, 9), np.random.default_rng(0))
    rows = grids.any(2).sum(1)
    cols = grids.any(1).sum(1)
    assert np.array_equal(grids.sum((1, 2)), rows * cols)
    assert rows.min() == 1 and rows.max() == 11 and cols.max() == 8


def test_mixed_uses_every_component_and_checks_weights():
    only_slits = MixedSampler(weights={n: 0 for n in MixedSampler().names} | {"slit": 1})
    assert np.allclose(only_slits.weights, [1 if n == "slit" else 0 for n in only_slits.names])
    with pytest.raises(InputError, match="unknown"):
        MixedSampler(weights={"nope": 1})
    grids = MixedSampler().sample(5000, (20, 20), np.random.default_rng(0))
    porosity = grids.mean((1, 2))
    assert porosity.min() < 0.05 and porosity.max() > 0.95
