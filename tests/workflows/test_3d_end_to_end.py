"""3-D lattices end to end (issue 21): the simulate CLI against the float64 reference,
the reservoir option of lattice-dft, 3-D samplers, datasets, symmetries and pictures."""
import numpy as np
import pytest
import torch

from invtoolkit.hooks import registry
from invtoolkit.core import symmetry as S
from invtoolkit.cli import main
from invtoolkit.errors import InputError
from invtoolkit.results.plots3d import views
from invtoolkit_plugins.dft3d import reference
from invtoolkit_plugins.dft3d.boundary import Boundary

KB = 0.0019872041
BETA = 1.0 / (KB * 298.0)
MU_SAT = -2.0 * KB * 647.0


def reference_curves(grids, boundary=Boundary()):
    """Pore-normalised 81-point isotherms from the independent numpy float64 solver."""
    rh = np.linspace(0.0, 1.0, 41)
    rh = np.concatenate([rh, rh[-2::-1]])
    with np.errstate(divide="ignore"):
        mus = np.where(rh > 0, MU_SAT + KB * 298.0 * np.log(rh), -90.0)
    rank = grids.ndim - 1
    sums = reference.solve(grids, mus, BETA, -2.0 * MU_SAT / (2 * rank), 1.5, boundary=boundary)
    return sums / grids.reshape(len(grids), -1).sum(1)[:, None]


def run(args):
    """The CLI in this process; its exit code (0 on success)."""
    with pytest.raises(SystemExit) as done:
        main(args)
    return done.value.code


def mixed_grids():
    """Random grids, a slab, a channel and a large box near condensation (8^3)."""
    rng = np.random.default_rng(5)
    g = [(rng.random((8, 8, 8)) < p).astype(np.uint8) for p in (0.4, 0.7)]
    slab, chan, box = (np.zeros((8, 8, 8), np.uint8) for _ in range(3))
    slab[:, :, 1:6] = 1
    chan[:, 1:6, 2:7] = 1
    box[1:7, 1:7, 1:7] = 1
    return np.stack(g + [slab, chan, box])


@pytest.fixture(scope="module")
def grids_and_reference():
    g = mixed_grids()
    return g, reference_curves(g)


@pytest.mark.parametrize("precision,tol", [(None, 1e-5), ("float64", 1e-6)])
def test_simulate_cli_of_a_3d_batch_matches_the_reference(tmp_path, grids_and_reference, precision, tol, capsys):
    grids, ref = grids_and_reference
    np.save(tmp_path / "g.npy", grids)
    args = ["simulate", str(tmp_path / "g.npy"), "-o", str(tmp_path / "c.npy"), "--no-progress"]
    assert run(args + (["--precision", precision] if precision else [])) == 0
    curves = np.load(tmp_path / "c.npy")
    assert curves.shape == (len(grids), 81)
    assert np.abs(curves - ref).max() <= tol
    assert "8x8x8" in capsys.readouterr().err
    assert curves[4, 40] > 0.9 and curves[4, 10] < 0.5  # the box condenses late, fills by RH = 1


def test_reservoir_option_matches_the_reference_and_changes_desorption(tmp_path):
    # ink bottle: a 4^3 cavity behind a 2x2 neck open to the last face of axis 0
    g = np.zeros((1, 8, 7, 7), np.uint8)
    g[0, 1:5, 1:5, 1:5] = 1
    g[0, 5:, 2:4, 2:4] = 1
    ref = reference_curves(g, Boundary("reservoir", 4))
    sim = registry.create("simulator", "lattice-dft", boundary="reservoir", precision="float64")
    assert sim.params["boundary"] == "reservoir" and sim.params["reservoir"] == 4
    assert "boundary" not in registry.create("simulator", "lattice-dft").params
    assert sim.with_options(y=1.5).boundary == "reservoir"
    assert np.abs(sim.simulate(g) - ref).max() <= 1e-6
    periodic = registry.create("simulator", "lattice-dft", precision="float64").simulate(g)
    assert np.abs(periodic - ref).max() > 1e-3  # the open face matters
    np.save(tmp_path / "g.npy", g)
    assert 0 == run(["simulate", str(tmp_path / "g.npy"), "-o", str(tmp_path / "c.npy"), "--boundary", "reservoir",
          "--reservoir", "4", "--precision", "float64", "--no-progress"])
    assert np.abs(np.load(tmp_path / "c.npy") - ref).max() <= 1e-6
    with pytest.raises(InputError):
        registry.create("simulator", "lattice-dft", boundary="open")


def test_reservoir_in_2d_matches_the_reference():
    g = (np.random.default_rng(2).random((3, 6, 7)) < 0.6).astype(np.uint8)
    sim = registry.create("simulator", "lattice-dft", boundary="reservoir", reservoir=2)
    assert np.abs(sim.simulate(g) - reference_curves(g, Boundary("reservoir", 2))).max() <= 1e-5


@pytest.mark.parametrize("name", ["random", "correlated", "slit", "rect", "mixed"])
def test_samplers_make_seeded_3d_grids(name):
    sampler = registry.create("sampler", name)
    a = sampler.sample(400, (6, 7, 8), np.random.default_rng(1))
    assert a.dtype == np.uint8 and a.shape == (400, 6, 7, 8) and np.isin(a, (0, 1)).all()
    assert a.reshape(400, -1).any(1).all()
    assert np.array_equal(a, sampler.sample(400, (6, 7, 8), np.random.default_rng(1)))
    assert not np.array_equal(a, sampler.sample(400, (6, 7, 8), np.random.default_rng(2)))


def _uniform_axes(g):
    return [a for a in range(3) if (g == np.take(g, [0], axis=a)).all()]


def test_3d_slits_are_slabs_or_channels_and_rects_are_boxes():
    from invtoolkit_plugins.samplers import RectSampler, SlitSampler

    grids = SlitSampler(counts=(1.0,), rough=0.0).sample(300, (8, 8, 8), np.random.default_rng(0))
    kinds = {len(_uniform_axes(g)) for g in grids if 0 < g.mean() < 1}
    assert kinds == {1, 2}  # channels are uniform along one axis, slabs along two
    boxes = RectSampler(counts=(1.0,), inverted=0.0).sample(300, (8, 8, 8), np.random.default_rng(0))
    sides = [boxes.any(axis=(2, 3)).sum(1), boxes.any(axis=(1, 3)).sum(1), boxes.any(axis=(1, 2)).sum(1)]
    assert np.array_equal(boxes.sum((1, 2, 3)), sides[0] * sides[1] * sides[2])  # one box each


def test_dataset_generate_of_3d_grids(tmp_path):
    out = tmp_path / "d.zarr"
    assert 0 == run(["dataset", "generate", "-o", str(out), "--n", "6", "--grid-size", "5x5x5", "--sampler", "rect",
          "--param", "steps=10", "--no-progress"])
    import zarr

    store = zarr.open(str(out), mode="r")
    grids, curves = np.asarray(store["grids"]), np.asarray(store["curves"])
    assert grids.shape[1:] == (5, 5, 5) and curves.shape == (len(grids), 21) and len(grids) >= 1
    assert run(["dataset", "generate", "-o", str(tmp_path / "e.zarr"), "--n", "2", "--grid", "5x5x"]) == 2


def test_3d_transforms_keep_the_isotherm_and_the_canonical_form():
    g = (np.random.default_rng(3).random((1, 4, 4, 5)) < 0.5).astype(np.uint8)
    orbit = S.all_transforms(g[0])
    assert S.point_group_size((4, 4, 5)) == 16 and orbit.shape == (16 * 80, 4, 4, 5)  # 2 perms x 8 flips
    canon = S.canonical(g)
    assert all(np.array_equal(S.canonical(t[None]), canon) for t in orbit[::37])
    moved = S.transform(g, 9, 1, 2, 3)
    sim = registry.create("simulator", "lattice-dft", steps=10)
    assert np.abs(sim.simulate(moved) - sim.simulate(g)).max() < 1e-5
    x = torch.from_numpy(np.repeat(g, 6, 0)).float()[:, None]  # (N, C, D, H, W)
    y = S.augment_torch(x, torch.Generator().manual_seed(0), rank=3)[:, 0].numpy().astype(np.uint8)
    assert (S.canonical(y) == canon).all() and len({t.tobytes() for t in y}) > 1


def test_views_are_the_middle_slices_and_the_depth_projection(tmp_path):
    g = np.zeros((6, 6, 6), np.uint8)
    g[:, 1:3, 2:5] = 1  # a channel along depth: projection 1 inside, 0 outside
    (t0, a), (t1, b), (t2, c), (t3, p) = views(g)
    assert "d=3" in t0 and np.array_equal(a, g[3]) and np.array_equal(b, g[:, 3]) and np.array_equal(c, g[:, :, 3])
    assert np.array_equal(p, g[0].astype(float))
    from invtoolkit.results.plots3d import plot_grids_3d

    plot_grids_3d(tmp_path / "g.png", g[None], np.array([0.01]))
    assert (tmp_path / "g.png").stat().st_size > 1000
