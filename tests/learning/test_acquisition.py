"""invtoolkit acquire: committee disagreement picks the grids that get exact DFT labels."""

import json

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.learning.acquisition import Acquirer, AcquisitionSettings, pool_members
from invtoolkit.cli import main
from invtoolkit.datasets.dataset import Dataset
from invtoolkit.errors import InputError
from invtoolkit.core.symmetry import canonical_hash

from conftest import labelled_dataset

SMALL_ARCH = {"conv": "iso", "channels": 6, "dilations": [1, 1, 2], "kernel": 3, "embed": 8, "hidden": 16}
FAMS = ("fam-slit", "fam-random")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A labelled store of 60 grids, a 2-member model and a 1-member model trained on it."""
    from invtoolkit_plugins.cnn import train_cnn

    root = tmp_path_factory.mktemp("acq")
    labelled_dataset(root / "store.zarr", 60, seed=3)
    quiet = dict(epochs=1, batch_size=16, arch=SMALL_ARCH, progress=False, log=lambda m: None, threads=1,
                 val_fraction=0.2)
    train_cnn(root / "store.zarr", root / "pair", ensemble=2, seed=1, **quiet)
    train_cnn(root / "store.zarr", root / "single", ensemble=1, seed=7, lr=5e-3, **quiet)
    return root


def settings(root, **kw):
    base = dict(models=[str(root / "pair"), str(root / "single")], pool=150, take=8, control=12, seed=5,
                held_out=4, held_out_samplers=FAMS, threads=1)
    return AcquisitionSettings(**{**base, **kw})


def member_predictions(model_dirs, grids):
    """Every member's prediction, member by member (independent of the code under test)."""
    import torch

    preds = []
    for d in model_dirs:
        sur = registry.create("surrogate", "cnn", model=str(d))
        with torch.no_grad():
            for net in sur.net.members:
                preds.append(net(torch.as_tensor(grids, dtype=torch.float32)).numpy().astype(np.float64))
    return np.stack(preds)


def expected_taken(scores, hashes, exclude, take):
    out, seen = [], set()
    for i in np.argsort(-scores, kind="stable"):
        if hashes[i] not in exclude and hashes[i] not in seen:
            seen.add(hashes[i])
            out.append(i)
    return np.array(out[:take])


def test_pooling_members_of_models_is_the_std_over_all_members(rng):
    preds = rng.random((5, 7, 3))  # 5 members: a model of 3, one of 2
    a, b = preds[:3], preds[3:]
    mean, std = pool_members([a.mean(0), b.mean(0)], [a.std(0), b.std(0)], [3, 2])
    np.testing.assert_allclose(mean, preds.mean(0), atol=1e-12)
    np.testing.assert_allclose(std, preds.std(0), atol=1e-12)


def test_rounds_take_the_most_disputed_grids_with_exact_labels_and_resume(setup, tmp_path):
    st = settings(setup)
    acq = Acquirer(tmp_path / "w", setup / "store.zarr", st, log=lambda m: None)
    rounds = acq.run(2)
    ds = Dataset.open(tmp_path / "w" / "data.zarr")
    assert len(ds) == 60 + 2 * 8 and len(Dataset.open(setup / "store.zarr")) == 60  # the user's store untouched
    grids, curves = ds.load()
    dft = registry.create("simulator", "lattice-dft")
    np.testing.assert_allclose(curves[60:], dft.simulate(grids[60:]), atol=1e-6)
    held = canonical_hash(np.load(tmp_path / "w" / "held_out.npz")["grids"]).tolist()
    for k, entry in zip((1, 2), rounds):
        pool = registry.create("sampler", "families-mixed").sample(150, (20, 20), np.random.default_rng([5, k]))
        preds = member_predictions([setup / "pair", setup / "single"], pool)
        scores = preds.std(0).mean(1)
        exclude = set(canonical_hash(grids[: 60 + 8 * (k - 1)]).tolist()) | set(held)
        want = expected_taken(scores, canonical_hash(pool).tolist(), exclude, 8)
        np.testing.assert_array_equal(grids[60 + 8 * (k - 1): 60 + 8 * k], pool[want])
        assert entry["score"]["taken_mean"] == pytest.approx(scores[want].mean(), rel=1e-4)
        assert entry["score"]["pool_mean"] == pytest.approx(scores.mean(), rel=1e-4)
        true_err = np.abs(preds.mean(0)[want] - dft.simulate(pool[want])).mean(1)
        assert entry["committee_mae"]["taken"]["mean"] == pytest.approx(true_err.mean(), rel=1e-4)
        single_err = np.abs(preds[2][want] - dft.simulate(pool[want])).mean(1)  # the 1-member model alone
        assert entry["model_mae"][str(setup / "single")]["taken"]["mean"] == pytest.approx(single_err.mean(),
                                                                                          rel=1e-4)
        assert entry["members"] == 3 and entry["take"] == 8 and entry["control"] == 12
        assert sum(b["n"] for b in entry["porosity_bands"]["taken"]) == 8
        assert set(entry["held_out"]["committee_mean"]) == set(FAMS)
        assert entry["data_length"] == 60 + 8 * k
    # resume: finished rounds are not redone; an interrupted round is recomputed, not appended twice
    assert len(Acquirer(tmp_path / "w", setup / "store.zarr", st, log=lambda m: None).run(2)) == 2
    saved = json.loads((tmp_path / "w" / "rounds.json").read_text())
    (tmp_path / "w" / "rounds.json").write_text(json.dumps(saved[:1]))  # killed after round 2's append
    again = Acquirer(tmp_path / "w", setup / "store.zarr", st, log=lambda m: None).run(2)
    assert len(Dataset.open(tmp_path / "w" / "data.zarr")) == 60 + 16
    assert {k: v for k, v in again[1].items() if k != "seconds"} == {k: v for k, v in saved[1].items()
                                                                     if k != "seconds"}
    with pytest.raises(InputError, match="other settings"):
        Acquirer(tmp_path / "w", setup / "store.zarr", settings(setup, take=9), log=lambda m: None)


def test_training_makes_the_round_model_the_first_member(setup, tmp_path):
    acq = Acquirer(tmp_path / "w", setup / "store.zarr", settings(setup, train_minutes=0.01, worst=1.0,
                                                                   sampler="fam-slit:1,fam-rect:1"),
                   log=lambda m: None)
    (entry,) = acq.run(3)  # worst 1.0: every family within it after round 1, so the run stops
    assert entry["trained_model"] == str(tmp_path / "w" / "round_1") and entry["stopped"]
    assert json.loads((tmp_path / "w" / "round_1" / "config.json").read_text())["members"] == 2
    assert entry["init"] == str(setup / "pair")
    assert acq.committee_specs() == ([str(tmp_path / "w" / "round_1"), str(setup / "single")],
                                     str(tmp_path / "w" / "round_1"))
    assert set(entry["held_out_trained"]) == set(FAMS)
    assert sum(entry["families"]["taken"].values()) == 8
    assert set(entry["families"]["pool"]) == {"fam-slit", "fam-rect"}


def test_a_one_member_committee_and_bad_input_are_refused(setup, tmp_path, capsys):
    with pytest.raises(InputError, match="1 member cannot disagree"):
        Acquirer(tmp_path / "w", setup / "store.zarr", settings(setup, models=[str(setup / "single")]),
                 log=lambda m: None)
    for args, message in ((["missing.zarr", "--model", str(setup / "pair")], "no such dataset"),
                          ([str(setup / "store.zarr"), "--model", str(setup / "nope")], "no such model"),
                          ([str(setup / "store.zarr"), "--model", str(setup / "pair"), "--take", "10",
                            "--pool", "5"], "larger than the pool")):
        with pytest.raises(SystemExit) as exit_info:
            main(["acquire", *args, "-o", str(tmp_path / "c"), "--no-progress"])
        err = capsys.readouterr().err
        assert exit_info.value.code != 0 and message in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "c").exists()  # refused before anything is written
    with pytest.raises(SystemExit):
        main(["acquire", "--help"])
    assert "disagree" in capsys.readouterr().out
