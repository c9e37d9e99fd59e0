"""The conformance kit (invtoolkit.testing) over every registered plugin: what a
third-party author runs on theirs, run here on the built-ins."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from invtoolkit.errors import InputError
from invtoolkit.hooks import registry
from invtoolkit.testing import check_optimizer, check_reader, check_sampler, check_simulator

ROOT = Path(__file__).resolve().parents[2]
AIF = ROOT / "examples" / "data" / "measured" / "DUT-67_DUT67_1_Garching_MeOH_298K.aif"
SLOW_SIMULATORS = {"dft-implicit"}  # implicit differentiation: minutes per batch, checked in test_generator


def names(role):
    return registry.registry().names(role)


@pytest.mark.parametrize("name", names("simulator") + [n for n in names("surrogate") if n not in SLOW_SIMULATORS])
def test_every_simulator_and_surrogate_conforms(name):
    role = "simulator" if name in names("simulator") else "surrogate"
    try:
        sim = registry.create(role, name)
    except InputError as exc:  # a surrogate whose default model is not in this checkout
        pytest.skip(str(exc))
    curves = check_simulator(sim, n=2)
    if role == "simulator":  # exact: filled fractions
        assert curves.min() >= -1e-9 and curves.max() <= 1 + 1e-9


@pytest.mark.parametrize("name", names("optimizer"))
def test_every_optimizer_conforms(name):
    check_optimizer(registry.create("optimizer", name), budget=200)


@pytest.mark.parametrize("name", names("sampler"))
def test_every_sampler_conforms(name):
    check_sampler(registry.create("sampler", name))


def sample_file(suffix: str, folder: Path) -> Path:
    """A valid file of each suffix the built-in readers take."""
    if suffix in (".aif", ".cif"):
        return Path(shutil.copy(AIF, folder / f"sample{suffix}"))
    if suffix == ".csv":
        return ROOT / "examples" / "data" / "target.csv"
    if suffix == ".npy":
        return ROOT / "examples" / "data" / "target_loop.npy"
    if suffix == ".json":
        rh = np.linspace(0.05, 0.95, 10)
        path = folder / "sample.json"
        path.write_text(json.dumps({"pressure_mode": "relative", "adsorbate": "water", "temperature": 298.15,
                                    "isotherm_data": {"pressure": rh.tolist(), "loading": (0.5 * rh).tolist()}}))
        return path
    pytest.skip(f"no sample file for readers of {suffix}")


@pytest.mark.parametrize("suffix", names("target_reader"))
def test_every_target_reader_conforms(suffix, tmp_path):
    reader = registry.registry().entry("target_reader", suffix).factory
    check_reader(reader, sample_file(suffix, tmp_path))
