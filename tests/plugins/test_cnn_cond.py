"""The conditioned surrogate cnn-cond (issue 31 part 2): FiLM on (T/TC, log y), any path.

Independent facts checked: the numba kernel computes the torch network; predictions are
invariant under the torus translations and the 8 symmetries of the square at any
condition; the loop guarantees hold for random weights at any condition and on any path;
the warm start (FiLM at identity) is exactly cnn-fast; the path maps reproduce the internal
loop on the internal path and lattice-dft's own answer on a measured-like path within the
interpolation bound; conditions outside the trained box are an InputError; training reads
stores of several (T, TC, y), is seeded and resumes to the same weights.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cnn import random_grids, synthetic_dataset
from test_cnn_fast import make_fast_model

from invtoolkit.core.pressure import PressurePath, PressureSchedule
from invtoolkit.core.symmetry import transform
from invtoolkit.errors import InputError
from invtoolkit.hooks import registry
from invtoolkit_plugins.cnn_cond import kernels
from invtoolkit_plugins.cnn_cond.network import CondCNN, from_fast
from invtoolkit_plugins.cnn_cond.paths import anchor_pressures, apply_maps, low_ratio, path_maps
from invtoolkit_plugins.cnn_cond.training import load_cond_stores, save_cond, train_cond

TINY = {"channels": 4, "stem_dilations": [1, 2], "dilations": [1, 2], "embed": 8, "hidden": 16}
ARCH = {**TINY, "film_hidden": 8, "steps": 40}
# an unequally spaced loop that turns at 1, like a measured file's
FILE_LIKE = PressurePath([0.002, 0.01, 0.05, 0.12, 0.3, 0.42, 0.61, 0.77, 0.9, 0.97, 1.0, 0.93, 0.8, 0.55, 0.31,
                          0.1, 0.03], 11)


def make_cond_model(path, seed=0):
    """A cnn-cond model directory with random weights, the FiLM layers far from identity."""
    torch.manual_seed(seed)
    net = CondCNN(ARCH)
    with torch.no_grad():
        net.mlp[-1].weight.mul_(30.0)
        net.film[-1].weight.normal_(0.0, 0.5)
        net.mlp[0].weight[:, -2:].normal_(0.0, 1.0)
    save_cond(path, ARCH, 40, (20, 20), {"note": "test"}, net.state_dict())
    return path


@pytest.fixture(scope="module")
def cond(tmp_path_factory):
    return registry.create("surrogate", "cnn-cond", model=make_cond_model(tmp_path_factory.mktemp("c") / "m"),
                           T=0.7 * 647.0, y=3.0, threads=1)


@pytest.fixture(scope="module")
def grids():
    return np.concatenate([random_grids(5, seed=32, porosity=p) for p in (0.5, 0.8, 0.95)])


def test_kernel_computes_the_torch_network(cond, grids):
    tops = np.linspace(0.0, 1.0, len(grids)).astype(np.float32)
    ref = cond.net(torch.from_numpy(grids).float(), torch.from_numpy(tops),
                   torch.from_numpy(cond.conditions(len(grids)))).numpy()
    assert np.abs(cond._predict_cpu(grids, tops) - ref).max() < 1e-5
    other = cond.with_options(T=0.45 * 647.0, y=0.7)
    assert np.abs(other._predict_cpu(grids, tops) - ref).max() > 1e-2  # the condition matters


def test_invariant_under_translations_and_point_group(cond, grids):
    base = cond.simulate(grids)
    for d in range(8):
        for shift in ((0, 0), (3, 7), (11, 2)):
            assert np.abs(cond.simulate(transform(grids, d, *shift)) - base).max() < 1e-5, (d, shift)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), porosity=st.floats(0.05, 1.0), t=st.floats(0.4, 0.8), y=st.floats(0.5, 4.0))
def test_loop_guarantees_hold_at_any_condition(cond, seed, porosity, t, y):
    loop = cond.with_options(T=t * 647.0, y=y).simulate(random_grids(3, seed=seed, porosity=porosity))
    ads, des = loop[:, :41], loop[:, 40:][:, ::-1]
    assert np.all(np.diff(ads, axis=1) >= 0.0) and np.all(des >= ads)
    assert np.all((loop >= 0.0) & (loop <= 1.0))
    assert np.array_equal(des[:, 0], ads[:, 0])


def random_path(seed, turn, n):
    """n rising points ending at ``turn``, then n // 2 + 1 falling ones below it."""
    rng = np.random.default_rng(seed)
    up = np.sort(rng.uniform(0.0, turn, n))
    up[-1] = turn
    return up, np.sort(rng.uniform(0.0, turn, n // 2 + 1))[::-1]


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), turn=st.floats(0.3, 1.0), n=st.integers(2, 30))
def test_path_guarantees_hold_on_any_path(cond, seed, turn, n):
    up, down = random_path(seed, turn, n)
    g = random_grids(3, seed=seed, porosity=0.7)
    out = cond.with_options(path=PressurePath(np.concatenate([up, down]), n)).simulate(g)
    ads, des = out[:, :n], out[:, n:]
    assert np.all(np.diff(ads, axis=1) >= 0.0) and np.all(np.diff(des, axis=1) <= 1e-12)
    assert np.all(des <= ads[:, -1:] + 1e-12) and np.all((out >= 0.0) & (out <= 1.0))
    only = cond.with_options(path=PressurePath(up)).simulate(g)
    assert np.allclose(only, ads)  # adsorption values do not depend on the rest of the path


def test_warm_start_at_identity_is_exactly_cnn_fast(tmp_path, grids):
    fast_dir = make_fast_model(tmp_path / "fast", arch=TINY)
    fast = registry.create("surrogate", "cnn-fast", model=fast_dir, threads=1)
    net = CondCNN(ARCH)
    net.load_state_dict(from_fast(fast.net.state_dict(), net))
    save_cond(tmp_path / "cond", ARCH, 40, (20, 20), {}, net.state_dict())
    warm = registry.create("surrogate", "cnn-cond", model=tmp_path / "cond", threads=1)  # 298 K, 647 K, 1.5
    assert np.array_equal(warm.simulate(grids), fast.simulate(grids))
    g, top = torch.from_numpy(grids).float(), torch.rand(len(grids))
    for t, y in ((0.4, 0.5), (0.8, 4.0), (0.61, 2.2)):  # identity at every condition
        cond = torch.tensor([[t, y]]).expand(len(grids), 2)
        assert torch.equal(net(g, top, cond), fast.net(g, top))


def test_path_maps_reproduce_the_internal_loop_and_the_dft_on_a_path(cond, grids):
    loops = cond.internal_loops(grids).astype(np.float64)  # valid loops: the clamps do nothing
    assert np.array_equal(apply_maps(loops, path_maps(PressureSchedule(40), 40)), loops)
    dft = registry.create("simulator", "lattice-dft", T=0.6 * 647.0, y=2.0, threads=1)
    loops = dft.simulate(grids)
    for path in (FILE_LIKE, PressurePath(FILE_LIKE.pressures[:11])):  # a loop, adsorption only
        maps = path_maps(path, 40)
        anchor = dft.with_options(path=PressurePath(anchor_pressures(maps))).simulate(grids)
        est = apply_maps(loops, maps, low_ratio(anchor, maps))
        exact = dft.with_options(path=path).simulate(grids)
        assert np.abs(est[:, :2] - exact[:, :2]).max() < 1e-5  # below the first step: the anchor's shape
        assert np.abs(est - exact).mean() < 0.01  # linear interpolation between 0.025 steps


def test_options_paths_normalization_and_forward_torch(cond, grids):
    assert cond.simulate(grids).shape == (len(grids), 81)
    assert cond.with_options(adsorption_only=True).simulate(grids).shape == (len(grids), 41)
    assert cond.with_options(steps=10).simulate(grids).shape == (len(grids), 21)
    on_path = cond.with_options(path=FILE_LIKE)
    pore = on_path.simulate(grids)
    assert pore.shape == (len(grids), len(FILE_LIKE)) and on_path.params["T"] == pytest.approx(0.7 * 647.0)
    site = on_path.with_options(normalization="site").simulate(grids)
    assert np.allclose(site, pore * grids.mean((1, 2))[:, None])
    assert np.abs(on_path.forward_torch(torch.from_numpy(grids).float()).numpy() - pore).max() < 1e-5


def test_top_point_is_lattice_dfts_at_the_condition(cond, grids):
    top = registry.create("simulator", "lattice-dft", T=0.7 * 647.0, y=3.0).simulate(grids)[:, 40]
    assert np.abs(cond.simulate(grids)[:, 40] - top).max() < 2e-5


@pytest.mark.parametrize("options, match", [({"T": 200.0}, "T/TC = 0.309"), ({"T": 600.0}, "outside the trained"),
                                            ({"y": 0.0}, "positive"), ({"y": -1.0}, "positive"),
                                            ({"y": 6.0}, "y = 6"), ({"TC": -5.0}, "positive"),
                                            ({"normalization": "x"}, "normalization"), ({"bogus": 1}, "bogus")])
def test_bad_conditions_and_options_are_input_errors(cond, options, match):
    with pytest.raises(InputError, match=match):
        cond.with_options(**options)
    with pytest.raises(InputError, match=match):
        registry.create("surrogate", "cnn-cond", model=cond.model_path, **options)


def test_bad_grids_and_models_are_input_errors(cond, tmp_path):
    with pytest.raises(InputError, match="20x20"):
        cond.simulate(random_grids(2, shape=(16, 16)))
    with pytest.raises(InputError, match="no such model"):
        registry.create("surrogate", "cnn-cond", model=tmp_path / "missing")
    fast_dir = make_fast_model(tmp_path / "fast", arch=TINY)
    with pytest.raises(InputError, match="not a cnn-cond model"):
        registry.create("surrogate", "cnn-cond", model=fast_dir)


def test_save_load_round_trip_is_bit_identical(cond, grids, tmp_path):
    cond.save(tmp_path / "copy")
    again = registry.create("surrogate", "cnn-cond", model=tmp_path / "copy", T=0.7 * 647.0, y=3.0, threads=1)
    assert np.array_equal(again.simulate(grids), cond.simulate(grids))


def _stores(tmp_path):
    """Two small stores of different (T, y) (synthetic loops; the second store's shifted)."""
    from invtoolkit.datasets.dataset import Dataset

    paths = []
    for k, (T, y) in enumerate(((0.45 * 647.0, 0.8), (0.75 * 647.0, 3.0))):
        g, c = synthetic_dataset(tmp_path / "tmp.zarr", n=120, seed=3 + k)
        ds = Dataset.create(tmp_path / f"s{k}.zarr", shape=(8, 8), simulator_name="lattice-dft",
                            simulator_params={"T": T, "TC": 647.0, "y": y, "steps": 40, "normalization": "pore"},
                            pressures=PressureSchedule(40).pressures)
        ds.append(g, np.clip(c * (0.6 + 0.4 * k), 0, 1))
        paths.append(tmp_path / f"s{k}.zarr")
        shutil.rmtree(tmp_path / "tmp.zarr")
    return paths


def test_training_reads_conditions_is_seeded_and_resumes(tmp_path):
    stores = _stores(tmp_path)
    g, c, conds, steps = load_cond_stores(stores)
    assert steps == 40 and len(g) == 240
    assert np.allclose(conds[:120], [0.45, 0.8]) and np.allclose(conds[120:], [0.75, 3.0])
    init = make_fast_model(tmp_path / "fast", arch=TINY)
    kw = {"init": init, "epochs": 2, "seed": 5, "batch_size": 32, "val_n": 40, "log": lambda m: None}
    train_cond(stores, tmp_path / "a", **kw)
    train_cond(stores, tmp_path / "b", **kw)
    assert train_cond(stores, tmp_path / "c", max_epochs_now=1, **kw) is None  # "killed" after epoch 1
    train_cond(stores, tmp_path / "c", **kw)  # resumes
    a, b, c = (torch.load(tmp_path / k / "weights.pt", weights_only=True)["members"][0] for k in "abc")
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)
    train_cond(stores, tmp_path / "f", **{**kw, "init": tmp_path / "a", "epochs": 1, "lr": 0.0})  # a further stage
    f = torch.load(tmp_path / "f" / "weights.pt", weights_only=True)["members"][0]
    assert all(torch.equal(a[k], f[k]) for k in a)  # starts from the cnn-cond model itself
    model = registry.create("surrogate", "cnn-cond", model=tmp_path / "a", threads=1)
    g8 = random_grids(4, shape=(8, 8), seed=1)
    assert model.grid_shape == (8, 8) and model.simulate(g8).shape == (4, 81)


def test_shipped_model_tracks_the_dft_off_its_stores_and_on_a_path():
    from invtoolkit.plugin import GridSpace, create

    g = create("sampler", "families-mixed").sample(48, GridSpace((20, 20)), np.random.default_rng(41))
    shipped = registry.create("surrogate", "cnn-cond", T=77.0, TC=126.2, y=2.0, threads=1)  # N2, t 0.61
    truth = registry.create("simulator", "lattice-dft", T=77.0, TC=126.2, y=2.0, threads=1).simulate(g)
    pred = shipped.simulate(g)
    assert np.abs(pred - truth).mean() < 0.025  # a trained model (held-out conditions: ~0.01)
    assert np.abs(pred[:, 40] - truth[:, 40]).max() < 2e-5  # the anchor
    exact = registry.create("simulator", "lattice-dft", T=77.0, TC=126.2, y=2.0, path=FILE_LIKE).simulate(g)
    assert np.abs(shipped.with_options(path=FILE_LIKE).simulate(g) - exact).mean() < 0.025
