"""The cnn surrogate: constraints by construction, exact symmetry, model files, CLI, training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from invtoolkit.learning import modelio
from invtoolkit.hooks import registry
from invtoolkit.cli import main
from invtoolkit.errors import InputError
from invtoolkit.core.symmetry import transform
from invtoolkit_plugins import cnn
from invtoolkit_plugins.cnn.network import IsothermCNN

SMALL_ARCH = {"conv": "iso", "channels": 6, "dilations": [1, 1, 2], "kernel": 3, "embed": 8, "hidden": 16}
PARAMS = {"T": 298.0, "TC": 647.0, "y": 1.5, "steps": 40, "normalization": "pore"}


def random_grids(n, shape=(20, 20), seed=0, porosity=0.6):
    rng = np.random.default_rng(seed)
    g = (rng.random((n, *shape)) < porosity).astype(np.uint8)
    g[:, 0, 0] = 1  # at least one pore
    return g


def make_model(path, seed=0, members=1, shape=(20, 20), arch=SMALL_ARCH, params=PARAMS):
    """A model directory with random weights (big enough to give non-trivial curves)."""
    states = []
    for k in range(members):
        torch.manual_seed(seed + k)
        net = IsothermCNN({**arch, "steps": params["steps"]})
        with torch.no_grad():  # spread the logits so the head's constraints are exercised
            net.mlp[-1].weight.mul_(30.0)
            net.mlp[-1].bias.normal_(0.0, 3.0)
        states.append(net.state_dict())
    config = {"plugin": "cnn", "architecture": arch, "simulator": "lattice-dft", "simulator_params": params,
              "grid_shape": list(shape), "training": {}}
    modelio.save_model(path, config, states)
    return path


@pytest.fixture
def model_dir(tmp_path):
    return make_model(tmp_path / "model")


# ------------------------------------------------------------------ by construction
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loop_constraints_hold_for_random_weights(seed, tmp_path):
    arch = {**SMALL_ARCH, "conv": ["iso", "p4m", "plain"][seed], "channels": 2 if seed == 1 else 6}
    sur = registry.create("surrogate", "cnn", model=make_model(tmp_path / "m", seed=seed, arch=arch))
    curves = sur.simulate(random_grids(64, seed=seed, porosity=0.3 + 0.2 * seed))
    ads = curves[:, :41]
    des = curves[:, 40:][:, ::-1]  # desorption at RH = 0, 1/40, ..., 1 (ends on the turning point)
    assert curves.shape == (64, 81)
    assert curves.min() >= 0.0 and curves.max() <= 1.0
    assert np.all(np.diff(ads, axis=1) >= -1e-7), "adsorption must be non-decreasing"
    assert np.all(des >= ads - 1e-7), "desorption must never be below adsorption"
    assert np.all(np.diff(des, axis=1) >= -1e-7), "desorption must fall as pressure falls"
    assert np.allclose(des[:, 0], ads[:, 0]), "the loop closes at RH = 0"
    assert np.ptp(curves) > 0.1  # not a degenerate constant


def test_invariant_under_torus_symmetries_to_float_precision(model_dir):
    sur = registry.create("surrogate", "cnn", model=model_dir)
    grids = random_grids(16, seed=3)
    base = sur.simulate(grids)
    rng = np.random.default_rng(0)
    for d in range(8):
        dy, dx = rng.integers(20, size=2)
        moved = sur.simulate(np.ascontiguousarray(transform(grids, d, int(dy), int(dx))))
        assert np.abs(moved - base).max() < 1e-5


@pytest.mark.parametrize("conv", ["p4m", "plain"])
def test_group_and_plain_kernels_are_invariant_too(conv, tmp_path):
    """p4m: group convolutions (exact by construction); plain: averaged over the 8 views."""
    arch = {**SMALL_ARCH, "conv": conv, "channels": 2 if conv == "p4m" else 6}
    sur = registry.create("surrogate", "cnn", model=make_model(tmp_path / "m", arch=arch))
    grids = random_grids(8, seed=4)
    base = sur.simulate(grids)
    assert np.ptp(base) > 0.1
    for d in range(1, 8):
        assert np.abs(sur.simulate(np.ascontiguousarray(transform(grids, d, 3, 7))) - base).max() < 1e-5


def test_forward_torch_is_differentiable_and_matches_simulate(model_dir):
    sur = registry.create("surrogate", "cnn", model=model_dir, normalization="site", adsorption_only=True)
    grids = random_grids(4, seed=5)
    x = torch.tensor(grids, dtype=torch.float32, requires_grad=True)
    out = sur.forward_torch(x)
    assert out.shape == (4, 41)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert np.allclose(out.detach().numpy(), sur.simulate(grids), atol=1e-6)


def test_frozen_fast_path_matches_the_eager_network(model_dir, monkeypatch):
    monkeypatch.setattr(cnn, "JIT_MIN_GRIDS", 8)
    sur = registry.create("surrogate", "cnn", model=model_dir)
    grids = random_grids(16, seed=11)
    fast = sur.simulate(grids)
    assert sur._frozen is not None
    eager = sur.forward_torch(torch.tensor(grids, dtype=torch.float32)).detach().numpy()
    assert np.abs(fast - eager).max() < 1e-5


def test_batch_parallel_inference_matches_serial_and_keeps_order(model_dir):
    grids = random_grids(200, seed=12)
    serial = registry.create("surrogate", "cnn", model=model_dir, threads=1, batch_size=8).simulate(grids)
    par = registry.create("surrogate", "cnn", model=model_dir, threads=2, batch_size=8)
    assert par._workers(len(grids)) == 2
    assert np.array_equal(par.simulate(grids), serial)  # same batches, same order: bit-identical
    mean, std = par.predict_with_uncertainty(grids)
    assert np.abs(mean - serial).max() < 1e-5 and np.all(std == 0)
    assert torch.get_num_threads() == 2  # the workers' one-thread setting is not left behind


def test_site_normalization_is_pore_times_porosity(model_dir):
    grids = random_grids(10, seed=6)
    pore = registry.create("surrogate", "cnn", model=model_dir).simulate(grids)
    site = registry.create("surrogate", "cnn", model=model_dir, normalization="site").simulate(grids)
    assert np.allclose(site, pore * grids.mean((1, 2))[:, None], atol=1e-7)


# ------------------------------------------------------------------ model files
def test_save_load_round_trip_gives_identical_outputs(model_dir, tmp_path):
    sur = registry.create("surrogate", "cnn", model=model_dir)
    grids = random_grids(20, seed=7)
    sur.save(tmp_path / "copy")
    again = registry.create("surrogate", "cnn", model=tmp_path / "copy")
    assert np.array_equal(sur.simulate(grids), again.simulate(grids))
    assert json.loads((tmp_path / "copy" / "config.json").read_text())["simulator_params"] == PARAMS


def test_refuses_model_for_other_parameters_or_grid_size(model_dir):
    with pytest.raises(InputError, match="T=298"):
        registry.create("surrogate", "cnn", model=model_dir, T=300)
    with pytest.raises(InputError, match="steps"):
        registry.create("surrogate", "cnn", model=model_dir, steps=20)
    sur = registry.create("surrogate", "cnn", model=model_dir, T=298, steps=40)
    with pytest.raises(InputError, match="20x20 grids, not 10x12"):
        sur.simulate(random_grids(2, shape=(10, 12)))


def test_weights_file_never_unpickles_objects(model_dir):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    torch.save({"members": [Evil()]}, model_dir / "weights.pt")
    with pytest.raises(InputError, match="corrupt or unsafe"):
        registry.create("surrogate", "cnn", model=model_dir)


def test_corrupt_weights_file_is_one_line_exit_2(model_dir, tmp_path, capsys):
    grids = tmp_path / "g.npy"
    np.save(grids, random_grids(3))
    data = (model_dir / "weights.pt").read_bytes()
    (model_dir / "weights.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(SystemExit) as exc:
        main(["predict", str(grids), "-o", str(tmp_path / "out.npy"), "--model", str(model_dir)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error:") and "weights.pt" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.npy").exists()


def test_missing_default_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(cnn, "DEFAULT_MODEL", tmp_path / "nothing")
    with pytest.raises(InputError, match="no default cnn model"):
        registry.create("surrogate", "cnn")


# ------------------------------------------------------------------ CLI and ensembles
def test_predict_cli_contract(model_dir, tmp_path, capsys):
    grids = random_grids(5, seed=8)
    np.save(tmp_path / "g.npy", grids)
    expected = registry.create("surrogate", "cnn", model=model_dir).simulate(grids)
    with pytest.raises(SystemExit) as exc:
        main(["predict", str(tmp_path / "g.npy"), "-o", str(tmp_path / "out.npy"), "--model", str(model_dir)])
    assert exc.value.code == 0
    assert np.allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-7)
    text = "\n\n".join("\n".join("".join(map(str, row)) for row in g) for g in grids[:2])
    (tmp_path / "g.txt").write_text(text + "\n")
    with pytest.raises(SystemExit) as exc:
        main(["predict", str(tmp_path / "g.txt"), "-o", str(tmp_path / "out.csv"), "--model", str(model_dir),
              "--adsorption-only"])
    assert exc.value.code == 0
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert len(lines) == 3 and len(lines[0].split(",")) == 41 and float(lines[0].split(",")[-1]) == 1.0
    assert np.allclose(np.loadtxt(tmp_path / "out.csv", delimiter=",", skiprows=1), expected[:2, :41], atol=1e-6)


def test_ensemble_mean_and_uncertainty(tmp_path):
    single = [registry.create("surrogate", "cnn", model=make_model(tmp_path / f"s{k}", seed=k)) for k in (0, 1)]
    both = registry.create("surrogate", "cnn", model=make_model(tmp_path / "e", seed=0, members=2))
    grids = random_grids(6, seed=9)
    a, b = (s.simulate(grids) for s in single)
    mean, std = both.predict_with_uncertainty(grids)
    assert np.allclose(mean, (a + b) / 2, atol=1e-6)
    assert np.allclose(std, np.abs(a - b) / 2, atol=1e-6)
    assert np.allclose(both.simulate(grids), mean, atol=1e-6)


# ------------------------------------------------------------------ training
def synthetic_dataset(path, n=600, shape=(8, 8), seed=0):
    """Learnable loops (not DFT): filling driven by porosity and wall contacts."""
    from invtoolkit.datasets.dataset import Dataset
    from invtoolkit.core.pressure import PressureSchedule

    rng = np.random.default_rng(seed)
    grids = (rng.random((n, *shape)) < rng.uniform(0.3, 1.0, (n, 1, 1))).astype(np.uint8)
    grids[:, 0, 0] = 1
    walls = sum(np.roll(1 - grids, s, axis=a) for s in (1, -1) for a in (1, 2)) * grids
    contact = walls.sum((1, 2)) / grids.sum((1, 2)) / 4.0
    p = PressureSchedule(40).adsorption
    centre = 0.95 - 0.8 * contact
    ads = 1.0 / (1.0 + np.exp(-(p[None] - centre[:, None]) / 0.05))
    des = np.maximum(ads, 1.0 / (1.0 + np.exp(-(p[None] - centre[:, None] + 0.2) / 0.05)))
    des[:, 0] = ads[:, 0]
    curves = np.concatenate([ads, des[:, -2::-1]], axis=1).astype(np.float32)
    ds = Dataset.create(path, shape=shape, simulator_name="lattice-dft", simulator_params=PARAMS,
                        pressures=PressureSchedule(40).pressures)
    ds.append(grids, curves)
    return grids, curves


def test_tiny_training_run_learns_and_resumes(tmp_path):
    data = tmp_path / "data.zarr"
    grids, curves = synthetic_dataset(data)
    logs = []
    summary = cnn.train_cnn(data, tmp_path / "m", epochs=5, batch_size=16, lr=3e-3, seed=1, threads=1,
                            arch=SMALL_ARCH, progress=False, log=logs.append, val_fraction=0.2)
    baseline = np.abs(curves - curves.mean(0)).mean()  # the best constant curve
    assert summary["val_mae"] < 0.5 * baseline
    for name in ("config.json", "weights.pt", "learning_curve.png", "checkpoint.pt"):
        assert (tmp_path / "m" / name).exists()
    sur = registry.create("surrogate", "cnn", model=tmp_path / "m")
    assert sur.grid_shape == (8, 8)
    assert np.abs(sur.simulate(grids) - curves).mean() < 0.5 * baseline
    # resume after the run: nothing left to do, same model
    again = cnn.train_cnn(data, tmp_path / "m", epochs=5, batch_size=16, lr=3e-3, seed=1, threads=1,
                          arch=SMALL_ARCH, progress=False, log=logs.append, val_fraction=0.2, resume=True)
    assert again["val_mae"] == pytest.approx(summary["val_mae"])


def test_warm_start_takes_the_architecture_and_weights_and_keeps_the_first_recipe(tmp_path):
    data = tmp_path / "data.zarr"
    grids, curves = synthetic_dataset(data)
    base = cnn.train_cnn(data, tmp_path / "base", epochs=3, batch_size=16, lr=3e-3, seed=1, threads=1,
                         arch=SMALL_ARCH, progress=False, log=lambda m: None, val_fraction=0.2)
    # lr 0: the warm-started model is the base model, whatever architecture default applies
    tuned = cnn.train_cnn(data, tmp_path / "tuned", epochs=1, batch_size=16, lr=0.0, seed=1, threads=1,
                          init=tmp_path / "base", progress=False, log=lambda m: None, val_fraction=0.2)
    assert tuned["val_mae"] == pytest.approx(base["val_mae"], abs=1e-6)
    a = registry.create("surrogate", "cnn", model=tmp_path / "base").simulate(grids)
    b = registry.create("surrogate", "cnn", model=tmp_path / "tuned").simulate(grids)
    assert np.abs(a - b).max() < 1e-6
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["architecture"] == json.loads((tmp_path / "base" / "config.json").read_text())["architecture"]
    assert config["training"]["init"] == str(tmp_path / "base")
    assert config["training"]["init_training"]["lr"] == 3e-3  # the base model's recipe travels along


def test_train_cli_writes_model_and_records_command(tmp_path, capsys):
    data = tmp_path / "data.zarr"
    synthetic_dataset(data, n=200)
    with pytest.raises(SystemExit) as exc:
        main(["train", "surrogate", str(data), "-o", str(tmp_path / "m"), "--epochs", "1", "--batch-size", "32",
              "--threads", "1", "--arch", "channels=4", "--arch", "dilations=1,2", "--arch", "embed=8",
              "--arch", "hidden=16", "--no-progress"])
    assert exc.value.code == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["architecture"]["dilations"] == [1, 2]
    assert config["training"]["command"].startswith("invtoolkit ")
    assert config["simulator_params"]["T"] == 298.0 and config["grid_shape"] == [8, 8]
    assert "validation MAE" in capsys.readouterr().err


def test_train_cli_rejects_missing_dataset(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "surrogate", str(tmp_path / "none.zarr"), "-o", str(tmp_path / "m"), "--no-progress"])
    assert exc.value.code == 2
    assert "no such dataset" in capsys.readouterr().err
