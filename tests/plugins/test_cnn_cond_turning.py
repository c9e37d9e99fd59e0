"""The turning-point head of cnn-cond: desorption from a turning point below 1.

Independent facts checked: the head leaves every path that turns at 1 exactly as it was
(the internal loop is the answer there); on any path the guarantees hold with a head far
from identity (adsorption non-decreasing, desorption non-increasing, between the
adsorption at the same pressure and the amount at the turning point); the numpy and torch
maps agree; training is seeded and brings the desorption from a turning point closer to
lattice-dft's than the old mapping on conditions it did not train on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cnn import random_grids
from test_cnn_cond import ARCH, FILE_LIKE, make_cond_model, random_path

from invtoolkit.core.pressure import PressurePath
from invtoolkit.hooks import registry
from invtoolkit_plugins.cnn_cond.network import CondCNN
from invtoolkit_plugins.cnn_cond.paths import apply_maps, node_weights, path_maps
from invtoolkit_plugins.cnn_cond.training import save_cond
from invtoolkit_plugins.cnn_cond.turning_training import fit_head

ROOT = Path(__file__).resolve().parents[2]
TURNING = PressurePath([0.01, 0.1, 0.3, 0.5, 0.7, 0.85, 0.7, 0.5, 0.3, 0.1, 0.01], 6)


def make_turning_model(path, seed=0):
    """A cnn-cond model with a random turning head far from identity (phi spread over (0, 1))."""
    make_cond_model(path / "base", seed)
    torch.manual_seed(seed)
    net = CondCNN({**ARCH, "turning_hidden": 8})
    state = torch.load(path / "base" / "weights.pt", weights_only=True)["members"][0]
    net.load_state_dict({**state, **{k: v for k, v in net.state_dict().items() if k.startswith("turn.")}})
    with torch.no_grad():
        net.turn.mlp[-1].weight.normal_(0.0, 3.0)
    save_cond(path / "turn", {**ARCH, "turning_hidden": 8}, 40, (20, 20), {"note": "test"}, net.state_dict())
    return path / "base", path / "turn"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    base, turn = make_turning_model(tmp_path_factory.mktemp("turn"))
    opts = {"T": 0.6 * 647.0, "y": 1.2, "threads": 1}
    return (registry.create("surrogate", "cnn-cond", model=base, **opts),
            registry.create("surrogate", "cnn-cond", model=turn, **opts))


def test_paths_turning_at_one_are_unchanged(models):
    base, turn = models
    g = random_grids(6, seed=3, porosity=0.7)
    for path in (None, FILE_LIKE):  # the internal loop, an unequal loop turning at 1
        b = base if path is None else base.with_options(path=path)
        t = turn if path is None else turn.with_options(path=path)
        assert np.array_equal(b.simulate(g), t.simulate(g))
    new, old = turn.with_options(path=TURNING).simulate(g), base.with_options(path=TURNING).simulate(g)
    assert np.array_equal(new[:, :6], old[:, :6])  # adsorption does not move
    assert np.all(new[:, 6:] <= old[:, 6:] + 1e-12) and (old - new).max() > 1e-6  # a share of the gap


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), turn_at=st.floats(0.3, 0.999), n=st.integers(2, 30))
def test_guarantees_hold_with_the_head_on_any_path(models, seed, turn_at, n):
    up, down = random_path(seed, turn_at, n)
    path = PressurePath(np.concatenate([up, down]), n)
    g = random_grids(3, seed=seed, porosity=0.7)
    out = models[1].with_options(path=path).simulate(g)
    ads, des = out[:, :n], out[:, n:]
    floor = models[1].with_options(path=PressurePath(np.sort(down))).simulate(g)[:, ::-1]
    assert np.all(np.diff(ads, axis=1) >= 0.0) and np.all(np.diff(des, axis=1) <= 1e-12)
    assert np.all(des <= ads[:, -1:] + 1e-12) and np.all(des >= floor - 1e-6)  # floor: another anchor path


def test_numpy_and_torch_maps_agree(models):
    turn = models[1].with_options(path=TURNING)
    g = random_grids(5, seed=9, porosity=0.6)
    tops, ratio = turn.anchor(g)
    loops = turn.internal_loops(g, tops).astype(np.float64)
    phi = turn.turning_shares(loops)
    assert phi.shape == (5, 40) and 0.0 < phi.min() and phi.max() < 1.0
    ref = apply_maps(loops, turn._maps, ratio, phi)
    tl = torch.from_numpy(loops)
    got = apply_maps(tl, turn._maps, ratio, turn.turning_shares(tl.float()).double()).numpy()
    assert np.abs(got - ref).max() < 1e-6
    assert np.abs(node_weights([0.0, 0.0125, 0.5, 0.99], 40).sum(0) - 1.0).max() < 1e-12


def _turning_data(folder, conditions, n=40):
    sys.path.insert(0, str(ROOT / "training"))
    from cond_turn import label_condition

    from invtoolkit.plugin import GridSpace, create

    folder.mkdir(parents=True, exist_ok=True)
    for i, (t, y, pt) in enumerate(conditions):
        grids = create("sampler", "families-mixed").sample(n, GridSpace((20, 20)), np.random.default_rng(50 + i))
        labels, top = label_condition(t, y, pt, grids)
        np.savez(folder / f"turn{i:04d}.npz", grids=grids, t=t, y=y, pt=pt, labels=labels, top=top)


def test_training_is_seeded_and_beats_the_old_mapping_off_its_conditions(tmp_path):
    """The shipped network, frozen; a head trained on 11 conditions, scored on the 12th."""
    rng = np.random.default_rng(5)  # the middle of the box, where the old mapping is furthest off
    train = [(rng.uniform(0.52, 0.68), np.exp(rng.uniform(np.log(0.8), np.log(1.7))), rng.uniform(0.8, 0.97))
             for _ in range(12)]
    _turning_data(tmp_path / "data", train, n=150)
    shipped = ROOT / "plugins" / "models" / "cnn-cond"
    a = fit_head(tmp_path / "data", shipped, tmp_path / "a", epochs=20, seed=1, batch=64)
    b = fit_head(tmp_path / "data", shipped, tmp_path / "b", epochs=20, seed=1, batch=64)
    assert a == b
    assert (tmp_path / "a" / "weights.pt").read_bytes() == (tmp_path / "b" / "weights.pt").read_bytes()
    assert a["val"] < 0.9 * a["old"]  # on the validation conditions (not trained on), against lattice-dft
    model = registry.create("surrogate", "cnn-cond", model=tmp_path / "a")
    assert model.net.turn is not None and model.config["turning_training"]["val_node_mae"] == a["val"]
