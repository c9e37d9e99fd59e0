"""training/lofo.py: the union store and the leave-one-family-out model list."""

import numpy as np
import pytest
from conftest import training_module

from invtoolkit.datasets.dataset import Dataset
from invtoolkit.errors import InputError


@pytest.fixture(scope="module")
def lofo():
    return training_module("lofo")


def make_store(path, rows, seed, *, y=1.5, chunk=7):
    rng = np.random.default_rng(seed)
    ds = Dataset.create(path, shape=(4, 5), simulator_name="lattice-dft",
                        simulator_params={"T": 298.0, "y": y, "steps": 2}, pressures=[0, 0.5, 1, 0.5, 0],
                        sampler=f"s{seed}", seed=seed, chunk_size=chunk)
    grids = rng.integers(0, 2, (rows, 4, 5), dtype=np.uint8)
    curves = rng.random((rows, 5), dtype=np.float32)
    ds.append(grids, curves)
    return grids, curves


def test_union_rows_are_the_parts_in_order(lofo, tmp_path):
    parts = [make_store(tmp_path / f"p{i}.zarr", rows, i) for i, rows in enumerate((23, 5, 41))]
    out = lofo.build_union([tmp_path / f"p{i}.zarr" for i in range(3)], tmp_path / "u.zarr", block=10)
    assert len(out) == 23 + 5 + 41
    grids, curves = out.load()
    np.testing.assert_array_equal(grids, np.concatenate([g for g, _ in parts]))
    np.testing.assert_array_equal(curves, np.concatenate([c for _, c in parts]))
    assert [r["rows"] for r in out.attrs["union_of"]] == [23, 5, 41]
    assert out.attrs["sampler"] == "s0+s1+s2"
    assert not list(tmp_path.glob(".u.zarr*"))  # no temporary store left


def test_union_is_kept_when_complete_and_refused_when_other(lofo, tmp_path):
    for i in range(3):
        make_store(tmp_path / f"p{i}.zarr", 6, i)
    paths = [tmp_path / f"p{i}.zarr" for i in range(3)]
    lofo.build_union(paths[:2], tmp_path / "u.zarr")
    assert len(lofo.build_union(paths[:2], tmp_path / "u.zarr")) == 12
    with pytest.raises(InputError, match="not the union"):
        lofo.build_union(paths, tmp_path / "u.zarr")


def test_union_refuses_other_simulator_parameters(lofo, tmp_path):
    make_store(tmp_path / "a.zarr", 6, 0)
    make_store(tmp_path / "b.zarr", 6, 1, y=2.0)
    with pytest.raises(InputError, match="simulator_params"):
        lofo.build_union([tmp_path / "a.zarr", tmp_path / "b.zarr"], tmp_path / "u.zarr")
    assert not (tmp_path / "u.zarr").exists()


def test_each_family_left_out_exactly_once(lofo):
    names = lofo.model_names()
    assert names[0] == "all" and lofo.kept_families("all") == lofo.FAMILIES
    assert len(lofo.FAMILIES) == 7 and len(names) == 8
    for family in lofo.FAMILIES:
        kept = lofo.kept_families(f"minus-{family}")
        assert family not in kept and sorted(kept + [family]) == sorted(lofo.FAMILIES)
    with pytest.raises(ValueError):
        lofo.kept_families("minus-fam-nothing")
