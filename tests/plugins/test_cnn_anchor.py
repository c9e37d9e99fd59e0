"""Anchored cnn models (arch anchor=top): the exact top adsorption point is an input.

Independent facts: the top point of an anchored model's loop equals lattice-dft's on the
full ramp; a zero-weight anchor input leaves the unanchored network's logits unchanged,
so the anchored adsorption is the unanchored one rescaled to the exact top; the loop
constraints and torus invariance hold as for the unanchored model.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_cnn import PARAMS, SMALL_ARCH, make_model, random_grids, synthetic_dataset

from invtoolkit.hooks import registry
from invtoolkit.core.symmetry import transform
from invtoolkit_plugins import cnn
from invtoolkit_plugins.cnn.network import IsothermCNN, LoopHead

ANCHORED = {**SMALL_ARCH, "anchor": "top"}


@pytest.fixture(scope="module")
def anchored(tmp_path_factory):
    return registry.create("surrogate", "cnn", model=make_model(tmp_path_factory.mktemp("a") / "m", arch=ANCHORED))


@pytest.fixture(scope="module")
def dft_loops():
    # from filled at the top (0.7) over the knife edge (0.95) to unfilled (0.98)
    grids = np.concatenate([random_grids(8, seed=21, porosity=p) for p in (0.7, 0.95, 0.98)])
    return grids, registry.create("simulator", "lattice-dft").simulate(grids)


def test_head_fixes_the_top_point_and_keeps_the_loop_order():
    torch.manual_seed(0)
    head = LoopHead(10)
    logits = 4 * torch.randn(50, head.n_logits)
    top = torch.rand(50)
    loop = head(logits, top)
    ads, des = loop[:, :11], torch.cat([loop[:, 10:11], loop[:, 11:]], 1).flip(1)
    assert torch.allclose(ads[:, -1], top, atol=1e-6)
    assert (ads.diff(dim=1) >= -1e-7).all() and (des >= ads - 1e-7).all()
    assert torch.allclose(des[:, 0], ads[:, 0])


def test_top_point_is_lattice_dfts_on_the_full_ramp(anchored, dft_loops):
    grids, truth = dft_loops
    pred = anchored.simulate(grids)
    assert np.abs(pred[:, 40] - truth[:, 40]).max() < 2e-5
    assert np.ptp(truth[:, 40]) > 0.2  # the grids do not all fill alike: the check has teeth


def test_anchored_loop_keeps_constraints_and_torus_invariance(anchored):
    grids = random_grids(12, seed=22, porosity=0.8)
    base = anchored.simulate(grids)
    ads, des = base[:, :41], base[:, 40:][:, ::-1]
    assert np.all(np.diff(ads, axis=1) >= -1e-6) and np.all(des >= ads - 1e-6)
    for d in (1, 5, 7):
        moved = anchored.simulate(np.ascontiguousarray(transform(grids, d, 4, 9)))
        assert np.abs(moved - base).max() < 1e-5


def test_warm_start_adds_a_zero_anchor_column_that_only_rescales_adsorption(dft_loops):
    grids, truth = dft_loops
    torch.manual_seed(3)
    plain = IsothermCNN({**SMALL_ARCH, "steps": 40})
    warm = IsothermCNN({**ANCHORED, "steps": 40})
    warm.load_state_dict(warm.load_warm(plain.state_dict()))
    x, top = torch.from_numpy(grids).float(), torch.from_numpy(truth[:, 40]).float()
    with torch.no_grad():
        before, after = plain(x), warm(x, top)
    rescaled = before[:, :41] / before[:, 40:41] * top[:, None]
    assert torch.allclose(after[:, :41], rescaled, atol=1e-5)


def test_forward_torch_and_simulate_agree_and_the_model_needs_its_anchor(anchored, dft_loops):
    grids, _ = dft_loops
    x = torch.tensor(grids[:6], dtype=torch.float32, requires_grad=True)
    out = anchored.forward_torch(x)
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert np.allclose(out.detach().numpy(), anchored.simulate(grids[:6]), atol=1e-5)
    with pytest.raises(ValueError, match="anchored model needs top"):
        anchored.net.members[0](x.detach())


def test_frozen_fast_path_of_an_anchored_model_matches_eager(anchored, monkeypatch):
    monkeypatch.setattr(cnn, "JIT_MIN_GRIDS", 8)
    fresh = anchored.with_options()
    fresh._frozen = None
    grids = random_grids(16, seed=23)
    fast = fresh.simulate(grids)
    eager = fresh.forward_torch(torch.tensor(grids, dtype=torch.float32)).detach().numpy()
    assert fresh._frozen is not None and np.abs(fast - eager).max() < 1e-5


def test_training_an_anchored_model_from_an_unanchored_one(tmp_path):
    data = tmp_path / "data.zarr"
    grids, curves = synthetic_dataset(data, n=300)
    base = cnn.train_cnn(data, tmp_path / "base", epochs=1, batch_size=16, seed=1, threads=1, arch=SMALL_ARCH,
                         progress=False, log=lambda m: None, val_fraction=0.2)
    runs = {}
    for name, arch in (("tuned", {"anchor": "top"}), ("plain", None)):
        runs[name] = cnn.train_cnn(data, tmp_path / name, epochs=2, batch_size=16, seed=1, threads=1, arch=arch,
                                   init=tmp_path / "base", progress=False, log=lambda m: None, val_fraction=0.2)
    assert runs["tuned"]["val_mae"] < runs["plain"]["val_mae"] < base["val_mae"]  # the exact top point helps
    model = registry.create("surrogate", "cnn", model=tmp_path / "tuned")
    assert model.net.anchor == "top" and model.params["T"] == PARAMS["T"]
