"""The cnn-fast surrogate (issue 31): lookup stem, isotropic blocks, fused numba kernel.

Independent facts checked: the lookup stem is a plain 3x3 convolution + ReLU on 0/1 grids;
the numba kernel computes the torch network's function; predictions are invariant under the
torus translations and the 8 symmetries of the square; adsorption is non-decreasing,
desorption never below it, every point in [0, 1] and the top point is lattice-dft's;
save/load round trips bit-identically; training is reproducible with a seed and a killed
run resumes to the same weights as an unbroken one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cnn import random_grids, synthetic_dataset

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.symmetry import transform
from invtoolkit_plugins.cnn_fast import kernels
from invtoolkit_plugins.cnn_fast.network import FastCNN, conv_as_table, patch_codes, patch_orbits
from invtoolkit_plugins.cnn_fast.training import DEFAULT_ARCH, save_fast, train_fast

PARAMS = {"T": 298.0, "TC": 647.0, "y": 1.5}
TINY = {"channels": 4, "stem_dilations": [1, 2], "dilations": [1, 2], "embed": 8, "hidden": 16}


def make_fast_model(path, seed=0, arch=DEFAULT_ARCH):
    """A cnn-fast model directory with random weights (logits spread so the head's order
    constraints are exercised)."""
    torch.manual_seed(seed)
    net = FastCNN({**arch, "steps": 40})
    with torch.no_grad():
        net.mlp[-1].weight.mul_(30.0)
    save_fast(path, {**arch, "steps": 40}, PARAMS, 40, (20, 20), {"note": "test"}, net.state_dict())
    return path


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    return registry.create("surrogate", "cnn-fast", model=make_fast_model(tmp_path_factory.mktemp("f") / "m"))


@pytest.fixture(scope="module")
def grids():
    return np.concatenate([random_grids(6, seed=31, porosity=p) for p in (0.5, 0.8, 0.95)])


def test_lookup_stem_equals_a_plain_conv_on_binary_grids():
    torch.manual_seed(1)
    weight, bias = torch.randn(5, 1, 3, 3), torch.randn(5)
    g = torch.from_numpy(random_grids(4, seed=2)).float()
    conv = F.relu(F.conv2d(F.pad(g[:, None], (1, 1, 1, 1), mode="circular"), weight, bias))
    lookup = conv_as_table(weight, bias)[patch_codes(g, 1)]  # (N,H,W,C)
    assert torch.allclose(lookup.permute(0, 3, 1, 2), conv, atol=1e-5)


def test_patch_orbits_are_the_102_d4_classes():
    orbit = patch_orbits()
    assert int(orbit.max()) + 1 == 102
    # a single pore cell at any of the 4 edges is one class, at any of the 4 corners another
    assert len({int(orbit[1 << b]) for b in (1, 3, 5, 7)}) == 1
    assert len({int(orbit[1 << b]) for b in (0, 2, 6, 8)}) == 1
    assert orbit[1 << 1] != orbit[1 << 0] != orbit[1 << 4]


def test_kernel_computes_the_torch_network(fast, grids):
    tops = np.linspace(0.0, 1.0, len(grids)).astype(np.float32)
    with torch.no_grad():
        ref = fast.net(torch.from_numpy(grids).float(), torch.from_numpy(tops)).numpy()
    args = kernels.kernel_args(fast.net, (20, 20))
    assert np.abs(kernels.predict(args, grids, tops) - ref).max() < 1e-5
    assert np.ptp(ref) > 0.3  # not a constant network: the comparison has teeth


def test_invariant_under_translations_and_point_group(fast, grids):
    base = fast.simulate(grids)
    for d in range(8):
        for shift in ((0, 0), (3, 7), (11, 2)):
            assert np.abs(fast.simulate(transform(grids, d, *shift)) - base).max() < 1e-5, (d, shift)


def test_loop_order_range_and_exact_top(fast, grids):
    loop = fast.simulate(grids)
    ads, des = loop[:, :41], loop[:, 40:][:, ::-1]
    assert np.all(np.diff(ads, axis=1) >= 0.0) and np.all(des >= ads)
    assert loop.min() >= 0.0 and loop.max() <= 1.0
    assert np.allclose(des[:, 0], ads[:, 0])
    top = registry.create("simulator", "lattice-dft").simulate(grids)[:, 40]
    assert np.abs(loop[:, 40] - top).max() < 2e-5


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), porosity=st.floats(0.05, 1.0))
def test_loop_constraints_hold_for_any_grid(fast, seed, porosity):
    loop = fast.simulate(random_grids(3, seed=seed, porosity=porosity))
    ads, des = loop[:, :41], loop[:, 40:][:, ::-1]
    assert np.all(np.diff(ads, axis=1) >= 0.0) and np.all(des >= ads)
    assert np.all((loop >= 0.0) & (loop <= 1.0))


def test_save_load_round_trip_is_bit_identical(fast, grids, tmp_path):
    fast.save(tmp_path / "copy")
    again = registry.create("surrogate", "cnn-fast", model=tmp_path / "copy")
    assert np.array_equal(again.simulate(grids), fast.simulate(grids))


def test_site_normalization_and_adsorption_only(fast, grids):
    pore = fast.simulate(grids)
    site = fast.with_options(normalization="site").simulate(grids)
    assert np.allclose(site, pore * grids.mean((1, 2))[:, None])
    assert fast.with_options(adsorption_only=True).simulate(grids).shape == (len(grids), 41)


def test_bad_input_is_an_input_error(fast, tmp_path):
    with pytest.raises(InputError, match="20x20"):
        fast.simulate(random_grids(2, shape=(16, 16)))
    with pytest.raises(InputError, match="no such model"):
        registry.create("surrogate", "cnn-fast", model=tmp_path / "missing")
    with pytest.raises(InputError, match="y"):
        registry.create("surrogate", "cnn-fast", model=fast.model_path, y=2.0)


def test_forward_torch_matches_simulate(fast, grids):
    x = torch.from_numpy(grids).float()
    assert np.abs(fast.forward_torch(x).numpy() - fast.simulate(grids)).max() < 1e-5


def test_training_is_seeded_and_resumes_to_the_same_weights(tmp_path):
    data = tmp_path / "d.zarr"
    synthetic_dataset(data, n=240, seed=3)
    kw = {"epochs": 2, "seed": 5, "batch_size": 32, "val_n": 40, "arch": TINY, "log": lambda m: None}
    train_fast([data], tmp_path / "a", **kw)
    train_fast([data], tmp_path / "b", **kw)
    assert train_fast([data], tmp_path / "c", max_epochs_now=1, **kw) is None  # "killed" after epoch 1
    train_fast([data], tmp_path / "c", **kw)  # resumes
    a, b, c = (torch.load(tmp_path / k / "weights.pt", weights_only=True)["members"][0] for k in "abc")
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)
    train_fast([data], tmp_path / "e", **{**kw, "seed": 6})
    e = torch.load(tmp_path / "e" / "weights.pt", weights_only=True)["members"][0]
    assert not all(torch.equal(a[k], e[k]) for k in a)


def test_shipped_model_loads_and_tracks_the_dft():
    shipped = registry.create("surrogate", "cnn-fast")
    g = random_grids(16, seed=41, porosity=0.7)
    truth = registry.create("simulator", "lattice-dft").simulate(g)
    pred = shipped.simulate(g)
    assert np.abs(pred - truth).mean() < 0.05  # a trained model, not random weights
    assert np.abs(pred[:, 40] - truth[:, 40]).max() < 2e-5  # the anchor


def test_isotropic_conv_is_one_matrix_product_of_centre_edge_and_corner_sums():
    from invtoolkit_plugins.cnn_fast.network import iso_kernel, iso_sums

    torch.manual_seed(3)
    h, w, b = torch.randn(2, 20, 20, 4), torch.randn(12, 4), torch.randn(4)
    for d in (1, 2, 4):
        conv = F.conv2d(F.pad(h.permute(0, 3, 1, 2), (d, d, d, d), mode="circular"), iso_kernel(w), b, dilation=d)
        assert torch.allclose(iso_sums(h, d) @ w + b, conv.permute(0, 2, 3, 1), atol=1e-4)


def test_widening_keeps_the_function_and_the_new_units_learn(tmp_path):
    from invtoolkit_plugins.cnn_fast.network import widen_state

    torch.manual_seed(7)
    narrow = FastCNN({**TINY, "steps": 40})
    with torch.no_grad():
        narrow.mlp[-1].weight.mul_(30.0)
    wide_arch = {**TINY, "channels": 6, "embed": 12, "hidden": 24, "steps": 40}
    wide = FastCNN(wide_arch)
    wide.load_state_dict(widen_state(narrow.state_dict(), TINY, wide))
    g, top = torch.from_numpy(random_grids(8, seed=9)).float(), torch.rand(8)
    assert torch.equal(narrow(g, top), wide(g, top))  # zeros on every new -> old path: exact
    opt, target = torch.optim.SGD(wide.parameters(), lr=0.1), torch.rand(8, 81)
    for _ in range(2):  # step 1 opens the zero output columns, then gradients reach the trunk
        opt.zero_grad()
        (wide(g, top) - target).abs().mean().backward()
        assert wide.mlp[4].weight.grad[:, 16:].abs().sum() > 0  # new hidden units learn
        opt.step()
    assert wide.block_w.grad[:, :, 4:].abs().sum() > 0  # new channels are not dead
    with pytest.raises(ValueError, match="widen"):
        widen_state(wide.state_dict(), wide_arch, narrow)


def test_training_from_a_narrower_model_starts_at_its_function(tmp_path):
    data = tmp_path / "d.zarr"
    synthetic_dataset(data, n=240, seed=3)
    kw = {"seed": 5, "batch_size": 32, "val_n": 40, "log": lambda m: None}
    train_fast([data], tmp_path / "a", epochs=1, arch=TINY, **kw)
    wide = {**TINY, "channels": 6, "hidden": 24}
    summary = train_fast([data], tmp_path / "b", epochs=1, arch=wide, init=tmp_path / "a", **kw)
    assert summary["init"] == str(tmp_path / "a")
    assert registry.create("surrogate", "cnn-fast", model=tmp_path / "b").net.arch["channels"] == 6
    with pytest.raises(InputError, match="widen"):
        train_fast([data], tmp_path / "c", epochs=1, arch={**TINY, "channels": 2}, init=tmp_path / "a", **kw)
