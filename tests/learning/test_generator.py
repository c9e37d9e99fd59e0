"""The deconv generator: binary sigmoid, latent codes, training, files, CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from invtoolkit.hooks import registry
from invtoolkit.core.binary import binary_sigmoid
from invtoolkit.cli import main
from invtoolkit.learning.generation import mean_symmetric_hamming
from invtoolkit.errors import InputError
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.roles import Surrogate
from invtoolkit.core.symmetry import transform
from conftest import labelled_dataset

SMALL = dict(model=None, width=16, hidden=32, latent_dim=4, seed=0)


class TinySurrogate(Surrogate):
    """Toy isotherm: a pore cell fills above RH = 1 - step * (walls among its 4 neighbours).

    ``step`` (0.2) is a trainable parameter, saved to and loaded from a model directory.
    """

    name = "tiny"

    def __init__(self, steps=40, normalization="pore", adsorption_only=False, model=None, **_):
        self.schedule = PressureSchedule(steps, adsorption_only)
        self.normalization = normalization
        self.p = torch.tensor(self.schedule.pressures, dtype=torch.float32)
        self.net = torch.nn.Module()
        self.net.step = torch.nn.Parameter(torch.tensor(0.2))
        if model is not None:
            self.net.load_state_dict(torch.load(f"{model}/weights.pt", weights_only=True))

    def forward_torch(self, x):
        walls = 1 - x
        near = sum(torch.roll(walls, s, d) for s in (1, -1) for d in (1, 2))
        filled = torch.sigmoid((self.p[None, :, None, None] - (1 - self.net.step * near)[:, None]) * 20)
        return (x[:, None] * filled).flatten(2).sum(2) / x.flatten(1).sum(1, keepdim=True).clamp_min(1)

    def simulate(self, grids, *, progress=False):
        with torch.no_grad():
            return self.forward_torch(torch.as_tensor(np.asarray(grids), dtype=torch.float32)).double().numpy()

    def save(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        torch.save(self.net.state_dict(), Path(path) / "weights.pt")
        (Path(path) / "config.json").write_text(json.dumps({"plugin": "tiny"}))


class TinyPlugin:
    @hookimpl
    def register_surrogates(self, register):
        register("tiny", TinySurrogate, "toy surrogate for tests")


@pytest.fixture
def tiny_surrogate_plugin():
    registry.register_plugin(TinyPlugin(), "tiny-test")
    yield
    registry.unregister_plugin("tiny-test")


def realisable_curves(n, seed=0):
    rng = np.random.default_rng(seed)
    grids = (rng.random((n, 20, 20)) < rng.uniform(0.3, 0.9, (n, 1, 1))).astype(np.uint8)
    return TinySurrogate().simulate(grids)


# ------------------------------------------------------------------ binary sigmoid
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_binary_sigmoid_forward_is_exactly_binary_and_backward_is_sigmoid_derivative(temperature):
    x = torch.linspace(-3, 3, 61, dtype=torch.float64).requires_grad_(True)
    y = binary_sigmoid(x, temperature)
    assert set(y.detach().unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(y.detach(), (x.detach() > 0).double())
    w = torch.randn(61, dtype=torch.float64)
    (grad,) = torch.autograd.grad((y * w).sum(), x)
    xs = x.detach().clone().requires_grad_(True)
    (expected,) = torch.autograd.grad((torch.sigmoid(xs / temperature) * w).sum(), xs)
    assert torch.allclose(grad, expected, rtol=1e-12, atol=0)
    # sigma'(0) / T = 1 / (4 T): the gradient is largest at the threshold and never zero
    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (g0,) = torch.autograd.grad(binary_sigmoid(z, temperature).sum(), z)
    assert g0.item() == pytest.approx(0.25 / temperature)
    assert (grad.abs() > 0).all()


def test_binary_sigmoid_rejects_bad_temperature():
    with pytest.raises(ValueError):
        binary_sigmoid(torch.zeros(3), 0.0)


# ------------------------------------------------------------------ generation
def test_generate_shape_dtype_and_latent_code_determinism():
    gen = registry.create("generator", "deconv", **SMALL)
    targets = realisable_curves(3)[:, :41]
    out = gen.generate(targets, 5, seed=7)
    assert out.shape == (3, 5, 20, 20) and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 1}
    assert out.reshape(15, -1).any(1).all()  # never an all-wall grid
    assert np.array_equal(out, gen.generate(targets, 5, seed=7))  # same seed, same grids
    # every target gets the same codes: one target alone gives its slice of the batch
    assert np.array_equal(out[1], gen.generate(targets[1:2], 5, seed=7)[0])
    # different codes give different grids
    assert len({g.tobytes() for g in out[0]}) == 5
    assert not np.array_equal(out, gen.generate(targets, 5, seed=8))


def test_full_loop_target_uses_its_adsorption_branch():
    gen = registry.create("generator", "deconv", **SMALL)
    loops = realisable_curves(2)
    assert loops.shape[1] == 81
    assert np.array_equal(gen.generate(loops, 3, seed=1), gen.generate(loops[:, :41], 3, seed=1))
    with pytest.raises(InputError, match="40 points"):
        gen.generate(loops[:, :40], 3)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        gen.generate(loops[:, :41] + 2, 3)
    with pytest.raises(InputError):
        gen.generate(loops[:, :41], 0)


# ------------------------------------------------------------------ training
def test_training_through_a_tiny_surrogate_reduces_the_error(tmp_path):
    torch.set_num_threads(1)
    surrogate = TinySurrogate()
    curves = realisable_curves(192, seed=1)
    val = realisable_curves(48, seed=2)
    gen = registry.create("generator", "deconv", **SMALL)
    codes = gen.latent_codes(len(val), seed=3)
    before = gen.surrogate_mae(surrogate, torch.tensor(val[:, :41], dtype=torch.float32), codes)
    history = gen.fit(surrogate, curves, val_targets=val, epochs=4, batch_size=32, lr=2e-3, seed=0,
                      checkpoint=tmp_path / "ckpt")
    after = gen.surrogate_mae(surrogate, torch.tensor(val[:, :41], dtype=torch.float32), codes)
    assert len(history["epoch"]) == 4
    assert after < 0.6 * before, (before, after)
    # training leaves the surrogate's own state alone and the generator in eval mode
    assert not gen.model.training
    # the checkpoint resumes: asking for the same epochs again trains nothing more
    again = gen.fit(surrogate, curves, val_targets=val, epochs=4, batch_size=32, seed=0, checkpoint=tmp_path / "ckpt")
    assert again["epoch"] == history["epoch"]


# ------------------------------------------------------------------ files
def test_model_save_load_round_trip_and_refusals(tmp_path):
    gen = registry.create("generator", "deconv", **SMALL)
    targets = realisable_curves(2)
    gen.save(tmp_path / "m")
    loaded = registry.create("generator", "deconv", model=str(tmp_path / "m"))
    assert np.array_equal(gen.generate(targets, 4, seed=2), loaded.generate(targets, 4, seed=2))
    # a config that does not match the weights is refused with a one-line error
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["architecture"]["width"] = 32
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="do not fit"):
        registry.create("generator", "deconv", model=str(tmp_path / "m"))
    cfg["plugin"] = "cnn"
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="not a 'deconv'"):
        registry.create("generator", "deconv", model=str(tmp_path / "m"))
    with pytest.raises(InputError, match="no such model"):
        registry.create("generator", "deconv", model=str(tmp_path / "nothing"))


# ------------------------------------------------------------------ diversity metric
def test_symmetric_hamming_ignores_torus_symmetries(rng):
    a = (rng.random((20, 20)) < 0.5).astype(np.uint8)
    moved = transform(a, 5, 3, 11)
    flipped = a.copy()
    flipped[4, 7] ^= 1
    assert mean_symmetric_hamming(np.stack([a, moved])) == 0
    assert mean_symmetric_hamming(np.stack([a, flipped])) == 1
    assert mean_symmetric_hamming(np.stack([a, 1 - a])) > 0


# ------------------------------------------------------------------ CLI
def test_generate_cli_writes_grids_curves_and_report(tmp_path, tiny_surrogate_plugin):
    gen = registry.create("generator", "deconv", **SMALL)
    gen.save(tmp_path / "m")
    target = realisable_curves(1, seed=5)[0, :41]
    np.save(tmp_path / "t.npy", target)
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--target", str(tmp_path / "t.npy"), "-n", "4", "-o", str(tmp_path / "out"),
              "--model", str(tmp_path / "m"), "--surrogate", "tiny", "--seed", "3"])
    assert exc.value.code == 0
    out = tmp_path / "out"
    grids = np.load(out / "grids.npy")
    assert grids.shape == (4, 20, 20) and grids.dtype == np.uint8
    assert np.array_equal(grids, gen.generate(target[None], 4, seed=3)[0])
    verified = np.load(out / "verified.npy")
    assert verified.shape == (4, 81) and np.load(out / "predicted.npy").shape == (4, 81)
    report = json.loads((out / "report.json").read_text())
    dft = [g["dft_mae"] for g in report["grids"]]
    assert dft == pytest.approx(np.abs(verified[:, :41] - target).mean(1))
    assert report["best_dft_mae"] == pytest.approx(min(dft))
    assert all(g["predicted_mae"] is not None for g in report["grids"])
    assert (out / "isotherms.png").stat().st_size > 0


@pytest.mark.parametrize("case", ["missing", "points", "n"])
def test_generate_cli_bad_input_exits_2(tmp_path, capsys, case):
    np.save(tmp_path / "bad.npy", np.linspace(0, 1, 30))
    np.save(tmp_path / "ok.npy", np.linspace(0, 1, 41))
    target = {"missing": tmp_path / "nope.npy", "points": tmp_path / "bad.npy", "n": tmp_path / "ok.npy"}[case]
    n = "0" if case == "n" else "4"
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--target", str(target), "-n", n, "-o", str(tmp_path / "out"), "--surrogate", "none"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ active learning
def test_active_learning_rounds_are_reported_and_resumable(tmp_path, tiny_surrogate_plugin):
    from invtoolkit.datasets.dataset import Dataset

    labelled_dataset(tmp_path / "data.zarr", 24, seed=3)
    gen = registry.create("generator", "deconv", **SMALL)
    gen.save(tmp_path / "g")
    TinySurrogate().save(tmp_path / "s")
    args = ["active-learn", "--data", str(tmp_path / "data.zarr"), "--surrogate-model", str(tmp_path / "s"),
            "--generator-model", str(tmp_path / "g"), "--targets", "4", "-n", "3", "--surrogate-epochs", "2",
            "--generator-epochs", "1", "--seed", "1", "-o", str(tmp_path / "al"), "--no-progress"]
    with pytest.raises(SystemExit) as exc:
        main(args + ["--rounds", "1"])
    assert exc.value.code == 0
    rounds = json.loads((tmp_path / "al" / "rounds.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1]
    assert rounds[0]["new_pairs"] == 12 and rounds[0]["data_length"] == 24 + 12
    assert Dataset.open(tmp_path / "data.zarr").__len__() == 24  # the user's dataset is untouched
    assert len(Dataset.open(tmp_path / "al" / "data.zarr")) == 36
    # the surrogate was fine-tuned where it was wrong: the toy is far from the DFT
    assert rounds[0]["wrong_pairs"] > 0
    assert rounds[0]["surrogate_mae_after"] < rounds[0]["surrogate_mae_before"]
    # resuming with more rounds redoes only the final measurement, then continues
    with pytest.raises(SystemExit) as exc:
        main(args + ["--rounds", "2"])
    assert exc.value.code == 0
    again = json.loads((tmp_path / "al" / "rounds.json").read_text())
    assert [r["round"] for r in again] == [0, 1, 2]
    assert again[0] == rounds[0]
    assert len(Dataset.open(tmp_path / "al" / "data.zarr")) == 48
    for r in again:
        assert 0 <= r["dft_median_best_of_n"] <= 1
        # the surrogate picks one of the n grids: never better than the best of them
        assert r["dft_median_surrogate_pick"] >= r["dft_median_best_of_n"]
    # each round after the first is compared with the one before on the same targets
    assert "vs_previous" not in again[0]
    for prev, r in zip(again, again[1:]):
        assert r["vs_previous"]["median_change"] == pytest.approx(r["dft_median_best_of_n"]
                                                                   - prev["dft_median_best_of_n"])


def test_paired_change_of_per_target_errors():
    from invtoolkit.learning.active_learning import paired_change

    before = np.linspace(0.01, 0.05, 40)
    after = before - 0.002  # every target better by the same amount
    after[:4] = before[:4] + 0.001  # ... but four worse
    ch = paired_change(before, after)
    assert ch["mean_change"] == pytest.approx((36 * -0.002 + 4 * 0.001) / 40)
    assert ch["improved"] == pytest.approx(0.9) and ch["worse"] == pytest.approx(0.1)
    assert ch["wilcoxon_p"] < 1e-6  # 36 of 40 one way: no doubt
    same = paired_change(before, before)  # a rejected generator: nothing changed, no evidence
    assert same["mean_change"] == 0 and same["wilcoxon_p"] == 1.0
    worse = paired_change(before, before + 0.001)
    assert worse["wilcoxon_p"] > 0.99  # the test is one-sided: lower errors only


# ------------------------------------------------------------------ differentiable DFT
def test_implicit_dft_matches_lattice_dft_and_finite_differences(rng):
    grids = (rng.random((3, 6, 6)) < 0.6).astype(np.uint8)
    grids[0] = 0
    grids[0, 1:5, 1:5] = 1  # a square pore: condenses late, the hard case
    implicit = registry.create("surrogate", "dft-implicit", steps=10)
    exact = registry.create("simulator", "lattice-dft", steps=10, adsorption_only=True, precision="float64")
    assert np.abs(implicit.simulate(grids) - exact.simulate(grids)).max() < 1e-7
    weights = torch.tensor(rng.random((3, 11)))
    s = torch.tensor(grids, dtype=torch.float64, requires_grad=True)
    (implicit.forward_torch(s) * weights).sum().backward()
    for n, i, j in [(0, 2, 2), (0, 0, 3), (1, 4, 1), (2, 5, 5)]:
        step = torch.zeros_like(s)
        step[n, i, j] = 1e-5
        up = (implicit.forward_torch(s.detach() + step) * weights).sum().item()
        down = (implicit.forward_torch(s.detach() - step) * weights).sum().item()
        assert s.grad[n, i, j].item() == pytest.approx((up - down) / 2e-5, rel=1e-4, abs=1e-7)


def test_training_ignores_a_cached_torchscript_copy_of_the_surrogate():
    """A surrogate may cache a frozen TorchScript copy of its network for fast inference
    (no train mode): freezing for generator training and fine-tuning must skip it."""
    from invtoolkit.learning.active_learning import fine_tune_surrogate

    torch.set_num_threads(1)
    surrogate = TinySurrogate()
    surrogate._frozen = torch.jit.freeze(torch.jit.script(torch.nn.Linear(2, 2)).eval())
    curves = realisable_curves(16, seed=1)
    gen = registry.create("generator", "deconv", **SMALL)
    gen.fit(surrogate, curves, epochs=1, batch_size=8, seed=0)
    assert surrogate.net.step.requires_grad  # the surrogate's own state is restored
    grids = (np.random.default_rng(0).random((8, 20, 20)) < 0.6).astype(np.uint8)
    before = surrogate.net.step.item()
    fine_tune_surrogate(surrogate, grids, np.zeros((8, 81)), epochs=1, seed=0, lr=1e-2)
    assert surrogate.net.step.item() != before


def test_surrogate_pick_takes_the_dft_error_of_the_grid_the_surrogate_ranks_first():
    from invtoolkit.learning.active_learning import surrogate_pick_errors

    class Fixed:  # predicts given curves for the 2 targets x 3 grids
        def simulate(self, flat):
            return np.array([[0.0, 0.0], [0.5, 0.5], [0.9, 0.9], [0.2, 0.2], [0.1, 0.1], [0.6, 0.6]])

    targets = np.array([[0.5, 0.5], [0.1, 0.1]])
    dft_mae = np.array([[0.01, 0.30, 0.02], [0.05, 0.40, 0.00]])  # the DFT disagrees with the surrogate
    picked = surrogate_pick_errors(Fixed(), np.zeros((6, 2, 2), np.uint8), dft_mae, targets)
    assert picked.tolist() == [0.30, 0.40]  # grid 1 of each target looks perfect to the surrogate
