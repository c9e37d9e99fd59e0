"""The deconv generator's diversity term and the active-learning acceptance rule."""

from pathlib import Path

import numpy as np
import pytest
import torch
from test_generator import SMALL, TinySurrogate, tiny_surrogate_plugin  # noqa: F401 (fixture)

from invtoolkit.hooks import registry
from invtoolkit.learning.active_learning import accept_generator
from invtoolkit.learning.generation import mean_symmetric_hamming
from invtoolkit.core.symmetry import distinct_up_to_symmetry, transform
from invtoolkit_plugins.deconv.network import diversity_penalty, symmetric_distance
from conftest import labelled_dataset


def _t(*grids):
    return torch.tensor(np.stack(grids), dtype=torch.float32)


# ------------------------------------------------------------------ the penalty
def test_symmetric_distance_is_the_hamming_distance_up_to_torus_symmetry(rng):
    a = (rng.random((20, 20)) < 0.4).astype(np.uint8)
    moved = np.ascontiguousarray(transform(a, 6, 7, 2))  # a reflection and a shift of a
    one_off = a.copy()
    one_off[3, 9] ^= 1
    other = (rng.random((20, 20)) < 0.4).astype(np.uint8)
    d = symmetric_distance(_t(a, a, a, a), _t(moved, one_off, other, 1 - a)).numpy() * 400
    assert d[0] == pytest.approx(0, abs=1e-3)
    assert d[1] == pytest.approx(1, abs=1e-3)
    for k, b in ((2, other), (3, 1 - a)):  # agrees with the numpy metric of the evaluation
        assert d[k] == pytest.approx(mean_symmetric_hamming(np.stack([a, b])), abs=1e-3)
    # symmetric in its arguments; non-square grids use their 4 point-group elements
    assert symmetric_distance(_t(other), _t(a)).item() * 400 == pytest.approx(d[2], abs=1e-3)
    r = (rng.random((6, 10)) < 0.5).astype(np.uint8)
    assert symmetric_distance(_t(r), _t(np.ascontiguousarray(transform(r, 3, 2, 5)))).item() == pytest.approx(0, abs=1e-6)


def test_diversity_penalty_is_zero_beyond_the_margin_and_positive_inside_it(rng):
    a = np.zeros((20, 20), np.uint8)
    a[::4, ::4] = 1  # a regular lattice of 25 isolated pores
    shifted = np.roll(a, (1, 2), axis=(0, 1))  # the same structure: distance 0
    near = a.copy()
    near[2, 2] = 1  # 1 cell of 400 differs
    far = a.copy()
    far[2, 2::4] = 1  # 5 cells differ
    pen = diversity_penalty(_t(a, a, a), _t(shifted, near, far), margin=4 / 400).numpy()
    assert pen[0] == pytest.approx(4 / 400, abs=1e-6)  # a symmetric copy costs the whole margin
    assert pen[1] == pytest.approx(3 / 400, abs=1e-6)
    assert pen[2] == 0
    # its gradient pushes a close pair apart: a small step along -grad raises the distance
    x = _t(a, near).requires_grad_(True)
    diversity_penalty(x[:1], x[1:], margin=4 / 400).sum().backward()
    stepped = (x - 0.05 * x.grad / x.grad.abs().max()).detach()
    assert symmetric_distance(stepped[:1], stepped[1:]).item() > symmetric_distance(x[:1], x[1:]).item()


# ------------------------------------------------------------------ training with it
def _isolated_pore_curves(n, seed):
    """Toy targets that very many grids share: 20 isolated pore cells (4 wall neighbours)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.nonzero(np.add.outer(np.arange(20), np.arange(20)) % 2 == 0)
    grids = np.zeros((n, 20, 20), np.uint8)
    for g in grids:
        pick = rng.choice(len(ys), 20, replace=False)
        g[ys[pick], xs[pick]] = 1
    return TinySurrogate().simulate(grids)


def _collapsed_generator():
    gen = registry.create("generator", "deconv", **SMALL)
    with torch.no_grad():  # blind to the code: every code gives the same grid
        gen.model.generator.mlp[0].weight[:, -gen.latent_dim:] = 0
    return gen


def test_training_with_the_diversity_term_undoes_a_collapse():
    torch.set_num_threads(1)
    curves, val = _isolated_pore_curves(32, 0), _isolated_pore_curves(8, 1)
    distinct = {}
    for weight in (0.0, 1.0):
        gen = _collapsed_generator()
        assert all(distinct_up_to_symmetry(g) == 1 for g in gen.generate(val, 8, seed=5))
        history = gen.fit(TinySurrogate(), curves, val_targets=val, epochs=3, batch_size=32, lr=3e-3, seed=0,
                          info_weight=0.0, diversity_weight=weight, diversity_margin=0.02)
        distinct[weight] = [distinct_up_to_symmetry(g) for g in gen.generate(val, 8, seed=5)]
        assert len(history["diversity"]) == 3
    assert min(distinct[1.0]) >= 6, distinct
    assert sum(distinct[1.0]) > sum(distinct[0.0]), distinct


def test_fine_tuning_continues_the_diversity_settings_the_model_was_trained_with(tmp_path):
    curves = _isolated_pore_curves(8, 0)
    gen = registry.create("generator", "deconv", **SMALL)
    gen.fit(TinySurrogate(), curves, epochs=1, batch_size=8, seed=0)
    assert gen.fit_settings == {"diversity_weight": 0.3, "diversity_margin": 0.0025, "best_of": 1}  # plugin defaults
    gen.save(tmp_path / "g", extra={"training": {"diversity_weight": 0.5, "diversity_margin": 0.01}})
    again = registry.create("generator", "deconv", model=str(tmp_path / "g"))
    again.fit(TinySurrogate(), curves, epochs=1, batch_size=8, seed=0)
    assert again.fit_settings == {"diversity_weight": 0.5, "diversity_margin": 0.01, "best_of": 1}  # its own recipe
    again.fit(TinySurrogate(), curves, epochs=1, batch_size=8, seed=0, diversity_margin=0.02)
    assert again.fit_settings["diversity_margin"] == 0.02  # an explicit value wins


# ------------------------------------------------------------------ acceptance rule
def test_a_fine_tuned_generator_is_accepted_only_if_it_beats_the_previous_one():
    old = {"median": 0.020, "mean": 0.03, "distinct4": 0.95}
    assert accept_generator(old, {"median": 0.019, "mean": 0.04, "distinct4": 0.95})
    assert accept_generator(old, {"median": 0.019, "mean": 0.02, "distinct4": 1.0})
    assert not accept_generator(old, {"median": 0.020, "mean": 0.02, "distinct4": 1.0})  # not lower
    assert not accept_generator(old, {"median": 0.021, "mean": 0.02, "distinct4": 1.0})
    assert not accept_generator(old, {"median": 0.010, "mean": 0.01, "distinct4": 0.90})  # less diverse


def test_active_learning_records_the_acceptance_and_keeps_held_out_sets_apart(tmp_path, tiny_surrogate_plugin):
    import json

    from invtoolkit.cli import main

    labelled_dataset(tmp_path / "data.zarr", 32, seed=4)
    registry.create("generator", "deconv", **SMALL).save(tmp_path / "g")
    TinySurrogate().save(tmp_path / "s")
    with pytest.raises(SystemExit) as exc:
        main(["active-learn", "--data", str(tmp_path / "data.zarr"), "--surrogate-model", str(tmp_path / "s"),
              "--generator-model", str(tmp_path / "g"), "--targets", "4", "-n", "4", "--surrogate-epochs", "1",
              "--generator-epochs", "2", "--seed", "2", "--rounds", "2", "-o", str(tmp_path / "al"),
              "--no-progress"])
    assert exc.value.code == 0
    work = tmp_path / "al"
    evals, vals = np.load(work / "eval_targets.npy"), np.load(work / "val_targets.npy")
    assert len(evals) == len(vals) == 8  # a quarter of the 32 curves each
    assert not {r.tobytes() for r in evals} & {r.tobytes() for r in vals}
    rounds = json.loads((work / "rounds.json").read_text())
    previous = str(tmp_path / "g")
    for r in rounds[:-1]:
        assert r["generator_accepted"] == accept_generator(r["val_before"], r["val_after"])
        # the kept epoch is the best of the DFT validation scores recorded per epoch
        scores = [v for v in r["val_by_epoch"] if v is not None]
        assert len(r["val_by_epoch"]) == 2 and r["val_after"]["median"] == pytest.approx(min(scores))
        kept = str(work / f"round_{r['round'] + 1}" / ("generator" if r["generator_accepted"] else "generator_rejected"))
        assert Path(kept, "weights.pt").exists()
        # a rejected generator is not used further: the next round starts from the previous one
        assert r["models"][1] == (kept if r["generator_accepted"] else previous)
        previous = r["models"][1]
    # with the same codes, a round whose generator was rejected measures the same error
    for before, after in zip(rounds, rounds[1:]):
        if not before["generator_accepted"]:
            assert after["dft_median_best_of_n"] == before["dft_median_best_of_n"]


def test_held_out_split_draws_what_active_learn_will_and_writes_only_the_rest(tmp_path, monkeypatch):
    import runpy
    import sys

    from invtoolkit.learning.active_learning import ActiveLearner

    labelled_dataset(tmp_path / "data.zarr", 40, seed=6)
    script = Path(__file__).resolve().parents[2] / "training" / "held_out_split.py"
    monkeypatch.setattr(sys, "argv", [str(script), str(tmp_path / "al"), str(tmp_path / "data.zarr"),
                                      str(tmp_path / "rest.npy"), "--seed", "3", "--eval-count", "6",
                                      "--val-count", "5"])
    runpy.run_path(str(script), run_name="__main__")
    rest = np.load(tmp_path / "rest.npy")
    held = {r.tobytes() for r in np.load(tmp_path / "al" / "eval_targets.npy").astype(np.float32)}
    held |= {r.tobytes() for r in np.load(tmp_path / "al" / "val_targets.npy").astype(np.float32)}
    assert len(held) == 11 and len(rest) == 40 - 11
    assert not {r.tobytes() for r in rest} & held
    # a fresh learner with the same seed and counts on the same data draws the same sets
    again = ActiveLearner(tmp_path / "again", tmp_path / "data.zarr", None, None, eval_count=6, val_count=5, seed=3)
    assert np.array_equal(again.eval_targets, np.load(tmp_path / "al" / "eval_targets.npy"))
    assert np.array_equal(again.val_targets, np.load(tmp_path / "al" / "val_targets.npy"))
