"""training/eval_families.py: family names, the unseen families and the record it writes."""

from __future__ import annotations

import json

import numpy as np
from conftest import training_module
from test_cnn import make_model


def test_unseen_stands_for_the_four_families_nothing_was_trained_on():
    ev = training_module("eval_families")
    assert ev.family_names("fam-slit,unseen") == ["fam-slit", "disks", "diagonal", "array", "walk"]


def test_unseen_grids_are_binary_seeded_and_not_all_alike():
    ev = training_module("eval_families")
    a = ev.draw("disks", 6, (20, 20), np.random.default_rng(4))
    b = ev.draw("disks", 6, (20, 20), np.random.default_rng(4))
    assert a.shape == (6, 20, 20) and set(np.unique(a)) <= {0, 1}
    assert np.array_equal(a, b) and len({g.tobytes() for g in a}) > 1


def test_record_holds_every_family_and_errors_against_lattice_dft(tmp_path):
    ev = training_module("eval_families")
    out = tmp_path / "r.json"
    result = ev.main(["--model", str(make_model(tmp_path / "m")), "--families", "fam-slit,walk", "--n", "6",
                      "--speed-n", "64", "--threads", "1", "--json", str(out)])
    assert [r["family"] for r in result["per_family"]] == ["fam-slit", "walk"]
    assert json.loads(out.read_text())["overall"]["n"] == 12
    assert 0 < result["overall"]["mae_mean"] <= result["overall"]["mae_worst"] <= 1  # random weights: wrong
