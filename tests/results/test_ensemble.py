"""The ensemble: tolerance window, distinctness up to symmetry, families, summary, order."""

import numpy as np
import pytest

from invtoolkit.core.descriptors import grid_descriptors
from invtoolkit.results.ensemble import build_ensemble, family_labels, psd_spread
from invtoolkit.errors import InputError


def slit(width, n=12):
    g = np.zeros((n, n), np.uint8)
    g[:width] = 1
    return g


def square(side, n=12):
    g = np.zeros((n, n), np.uint8)
    g[:side, :side] = 1
    return g


def test_window_is_best_plus_tolerance_and_symmetric_copies_count_once():
    grids = np.stack([slit(3), np.roll(slit(3), 5, axis=0), slit(3).T, slit(4), square(6), slit(8)])
    errors = np.array([0.010, 0.010, 0.011, 0.012, 0.0125, 0.05])
    ens = build_ensemble(grids, errors, tolerance=0.0025)
    # the rolled and transposed slits are the same grid up to torus symmetry
    assert list(ens.index) == [0, 3, 4]
    np.testing.assert_allclose(ens.errors, [0.010, 0.012, 0.0125])
    assert ens.candidates == 4  # four distinct grids offered (slit 3, 4, 8 and the square)
    assert len(build_ensemble(grids, errors, tolerance=0.0)) == 1


def test_order_and_input_order_do_not_matter():
    grids = np.stack([slit(8), square(6), slit(3), slit(4)])
    errors = np.array([0.03, 0.02, 0.01, 0.011])
    ens = build_ensemble(grids, errors, tolerance=0.1)
    assert list(ens.index) == [2, 3, 1, 0]  # sorted by error
    assert ens.order()[0] == 2  # the best grid first


def test_families_split_structurally_different_grids():
    # a grid with one extra cell stays in its family; a 7-square is far from a 3-slit
    # (porosity 0.34 vs 0.25, width 7 vs 3) and from an 8-square (porosity 0.44)
    near = slit(3).copy()
    near[3, 0] = 1
    bump = square(7).copy()
    bump[7, 0] = 1
    grids = np.stack([slit(3), near, square(7), bump, square(8)])
    errors = np.array([0.001, 0.002, 0.003, 0.004, 0.005])
    ens = build_ensemble(grids, errors, tolerance=1.0)
    assert list(ens.labels) == [0, 0, 1, 1, 2]
    assert list(ens.representatives()) == [0, 2, 4]
    assert list(ens.order()) == [0, 2, 4]
    assert list(ens.order(limit=1)) == [0]


def test_family_labels_complete_linkage_bounds_every_pair():
    rng = np.random.default_rng(3)
    grids = (rng.random((30, 10, 10)) < rng.uniform(0.2, 0.8, (30, 1, 1))).astype(np.uint8)
    descriptors = [grid_descriptors(g) for g in grids]
    labels = family_labels(descriptors)
    assert labels[0] == 0
    for f in np.unique(labels):
        por = np.array([descriptors[i]["porosity"] for i in np.flatnonzero(labels == f)])
        assert por.max() - por.min() <= 0.05 + 1e-12  # within a family: one porosity scale
    # families are numbered by their best member
    firsts = [int(np.flatnonzero(labels == f)[0]) for f in range(labels.max() + 1)]
    assert firsts == sorted(firsts)


def test_summary_ranges_and_psd_spread_are_hand_checkable():
    grids = np.stack([slit(2), slit(4), square(6)])
    errors = np.array([0.001, 0.002, 0.003])
    s = build_ensemble(grids, errors, tolerance=0.01).summary(rows=np.array([0, 2]))
    assert s["count"] == 3 and s["tolerance"] == 0.01 and s["best_error"] == 0.001
    assert s["descriptors"]["porosity"] == pytest.approx({"min": 24 / 144, "max": 48 / 144, "mean": 108 / 432})
    assert s["descriptors"]["dominant_width"] == {"min": 2.0, "max": 6.0, "mean": 4.0}
    assert s["descriptors"]["percolating"]["mean"] == pytest.approx(2 / 3)
    assert s["psd"] == [[2, 0.0, pytest.approx(1 / 3), 1.0], [4, 0.0, pytest.approx(1 / 3), 1.0],
                        [6, 0.0, pytest.approx(1 / 3), 1.0]]
    assert sum(c["size"] for c in s["clusters"]) == 3
    assert s["clusters"][0]["best_row"] == 0 and s["clusters"][0]["error"] == 0.001


def test_psd_spread_of_one_grid_is_its_psd():
    d = grid_descriptors(np.pad(np.ones((3, 3), np.uint8), ((0, 5), (0, 1))) | slit(1, 8)[:, :4])
    assert [[w, f] for w, f, _, _ in psd_spread([d])] == d["psd"]


def test_3d_grids_and_bad_input():
    g = np.zeros((2, 6, 6, 6), np.uint8)
    g[0, :2, :2, :2] = 1
    g[1, :3, :3, :3] = 1
    ens = build_ensemble(g, np.array([0.01, 0.02]), tolerance=0.1, rank=3)
    assert [d["dominant_width"] for d in ens.descriptors] == [2, 3]
    with pytest.raises(InputError):
        build_ensemble(g, np.array([np.inf, np.nan]), rank=3)
    with pytest.raises(InputError):
        build_ensemble(g, np.array([0.1, 0.2]), tolerance=-1, rank=3)


def test_invert_writes_the_ensemble_and_best_npy_matches_its_descriptors(tmp_path, capsys):
    import json

    from invtoolkit.hooks import registry
    from invtoolkit.cli import main

    truth = np.zeros((6, 6), np.uint8)
    truth[1:3] = 1
    truth[4, 4] = 1
    sim = registry.create("simulator", "lattice-dft", steps=10, normalization="site")
    path = tmp_path / "site.npy"
    np.save(path, sim.simulate(truth[None])[0])
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["invert", "--target", str(path), "--time-limit", "3", "--steps", "10", "--grid-size", "6",
              "--normalization", "site", "--keep", "4", "--ensemble", "0.01", "--chain", "ga[pop_size=16] | steepest",
              "--no-progress", "-o", str(out)])
    assert exit_info.value.code == 0, capsys.readouterr().err
    best, members = np.load(out / "best.npy"), np.load(out / "ensemble.npy")
    report = json.loads((out / "report.json").read_text())
    ens = report["ensemble"]
    assert ens["tolerance"] == 0.01 and ens["count"] == len(members) >= 1
    # every reported descriptor is the one recomputed from the written grids
    assert [g["descriptors"] for g in report["grids"]] == [grid_descriptors(g) for g in best]
    # best.npy: the best grid, then one representative per other family (at most --keep)
    assert (best[0] == members[0]).all()
    assert len(best) == min(4, len(ens["clusters"]))
    assert [c["best_row"] for c in ens["clusters"]][: len(best)] == list(range(len(best)))
    maes = [g["mae"] for g in report["grids"]]
    assert maes[0] == min(maes) and all(m <= maes[0] + 0.01 + 1e-9 for m in maes)
    por = [grid_descriptors(g)["porosity"] for g in members]
    assert ens["descriptors"]["porosity"]["min"] == min(por) and ens["descriptors"]["porosity"]["max"] == max(por)
    for name in ("psd.png", "clusters.png"):
        assert (out / name).stat().st_size > 0
