"""The Python API examples run on small sizes and give physically sensible answers."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from gemmi import cif

from invtoolkit.hooks import registry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_custom_chain_example(capsys):
    result = runpy.run_path(str(EXAMPLES / "custom_chain_api.py"))["main"](size=10, time_limit=3.0)
    stages = [s.stage.split("[")[0] for s in result.stages]
    assert stages == ["random", "mutate-best", "steepest"]
    assert result.stages[1].evaluations > 0
    # each stage starts from the previous best, so the best error never rises along the chain
    errors = [s.best_error for s in result.stages]
    assert errors == sorted(errors, reverse=True)
    assert "mutate-best" not in registry.registry().names("optimizer")  # the example cleans up
    assert "verified best MAE" in capsys.readouterr().out


def test_aif_target_example(tmp_path):
    target, fit, out = runpy.run_path(str(EXAMPLES / "aif_target_api.py"))["main"](
        workdir=tmp_path, size=10, time_limit=3.0
    )
    assert target.has_desorption and target.unit == "mmol/g" and target.fluid.name == "water"
    assert target.amounts.max() > 10  # kept in mmol/g: the fit supplies the capacity
    block = cif.read_file(str(out)).sole_block()
    assert cif.as_string(block.find_value("_units_loading")) == "mmol/g"
    amounts = np.array([cif.as_number(v) for v in block.find_loop("_adsorp_amount")])
    assert len(amounts) == target.n_adsorption and amounts.max() > 10  # the model in mmol/g (saturation ~14)
    assert np.isfinite(fit.relative_mae) and fit.relative_mae < 0.1


def test_train_surrogate_example(tmp_path):
    if "cnn" not in registry.registry().names("surrogate"):
        pytest.skip("the cnn surrogate plugin is not installed")
    summary, test_mae, result = runpy.run_path(str(EXAMPLES / "train_surrogate_api.py"))["main"](
        workdir=tmp_path, n=128, epochs=2, size=10, time_limit=3.0, threads=1
    )
    assert (tmp_path / "tiny.zarr").is_dir() and (tmp_path / "cnn-tiny" / "config.json").exists()
    assert 0 <= test_mae < 0.5 and 0 <= summary["val_mae"] < 0.5
    assert [s.evaluator for s in result.stages] == ["cnn", "lattice-dft"]
    # the reported error is the exact DFT's, whatever the surrogate thought
    grid = result.population.grids[0]
    exact = registry.create("simulator", "lattice-dft", adsorption_only=True).simulate(grid[None])[0]
    assert abs(result.best_error - np.abs(exact - result.target.values).mean()) < 1e-6
