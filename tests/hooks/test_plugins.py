"""Plugin discovery through entry points, broken plugins, objects registered in tests."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from invtoolkit.hooks import registry
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.errors import PluginError
from invtoolkit.core.roles import Generator, Simulator


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "invtoolkit.cli", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
    )


def test_builtin_simulator_is_found_through_entry_points():
    assert "lattice-dft" in registry.registry().names("simulator")
    entry = registry.registry().entry("simulator", "lattice-dft")
    assert entry.plugin == "lattice-dft"
    assert registry.plugin_infos["lattice-dft"].package == "invtoolkit"


def test_plugins_command_lists_lattice_dft_as_json():
    out = run_cli("plugins", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {"name": "lattice-dft", "role": "simulator"}.items() <= next(r for r in rows if r["name"] == "lattice-dft").items()


@pytest.fixture
def fake_distribution(tmp_path):
    """A third-party distribution on sys.path with one broken and one good plugin."""
    (tmp_path / "good_plugin.py").write_text(textwrap.dedent("""
        from invtoolkit.hooks.hookspecs import hookimpl
        from invtoolkit.core.roles import Optimizer

        class Halve(Optimizer):
            def run(self, problem, population, *, rng, deadline=None, progress=False):
                return population

        @hookimpl
        def register_optimizers(register):
            register("do-nothing", Halve, "third-party test optimizer")
    """))
    (tmp_path / "broken_plugin.py").write_text("raise ImportError('needs a missing library')\n")
    dist = tmp_path / "fake_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[invtoolkit]\ngood = good_plugin\nbroken = broken_plugin\n"
    )
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_broken_plugin_is_reported_and_harmless(fake_distribution):
    out = run_cli("plugins", "--json", env=fake_distribution)
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert "needs a missing library" in rows["broken"]["error"]
    assert rows["do-nothing"]["role"] == "optimizer" and rows["do-nothing"]["package"] == "fake-plugins"
    assert rows["lattice-dft"]["error"] is None
    # the rest of the CLI still works
    assert run_cli("--help", env=fake_distribution).returncode == 0


def test_load_plugins_env_limits_what_loads(fake_distribution):
    env = {**fake_distribution, "INVTOOLKIT_LOAD_PLUGINS": "good"}
    rows = {r["name"] for r in json.loads(run_cli("plugins", "--json", env=env).stdout)}
    assert "do-nothing" in rows and "lattice-dft" not in rows and "broken" not in rows


class ConstantSimulator:
    """A test plugin object: registers a simulator whose curve is the porosity."""

    @hookimpl
    def register_simulators(self, register):
        register("porosity-sim", PorositySimulator, "test")


class PorositySimulator(Simulator):
    name = "porosity-sim"

    def simulate(self, grids, progress=False):
        return np.repeat(grids.reshape(len(grids), -1).mean(1, keepdims=True), 3, axis=1)


def test_registered_object_appears_in_registry_and_cli(capsys):
    registry.register_plugin(ConstantSimulator(), name="test-constant")
    try:
        assert "porosity-sim" in registry.registry().names("simulator")
        sim = registry.create("simulator", "porosity-sim")
        assert sim.simulate(np.ones((2, 4, 4), np.uint8)).shape == (2, 3)
        from invtoolkit.cli import main

        with pytest.raises(SystemExit) as exit_info:
            main(["plugins"])
        assert exit_info.value.code == 0
        assert "porosity-sim" in capsys.readouterr().out
    finally:
        registry.unregister_plugin("test-constant")
    assert "porosity-sim" not in registry.registry().names("simulator")


def test_unknown_plugin_name_is_a_plugin_error():
    with pytest.raises(PluginError, match="unknown simulator 'nope'.*lattice-dft"):
        registry.create("simulator", "nope")


# ------------------------------------------------------------------ declared roles and options
class NotAGenerator:
    """Has ``generate`` but does not subclass Generator: must be refused."""

    def generate(self, targets, n, *, seed=0):
        return np.ones((len(targets), n, 3, 3), np.uint8)


class WrongRolePlugin:
    @hookimpl
    def register_generators(self, register):
        register("impostor", NotAGenerator, "not a Generator")


def test_a_factory_of_the_wrong_role_is_refused_with_its_plugin_named():
    registry.register_plugin(WrongRolePlugin(), name="wrong-role")
    try:
        assert "impostor" not in registry.registry().names("generator")
        with pytest.raises(PluginError, match="plugin 'wrong-role' registers generator 'impostor' as "
                                              "NotAGenerator, which does not subclass invtoolkit.core.roles.Generator"):
            registry.create("generator", "impostor")
        rows = {r["name"]: r for r in registry.describe()}
        assert "does not subclass" in rows["wrong-role"]["error"]
        assert rows["lattice-dft"]["error"] is None  # the others are unaffected
    finally:
        registry.unregister_plugin("wrong-role")


class Porous(Generator):
    """A generator whose options are its signature: two with defaults, one required."""

    def __init__(self, width, *, porosity=0.5, seed=0):
        self.width, self.porosity, self.seed = width, porosity, seed

    def generate(self, targets, n, *, seed=0):
        return np.ones((len(targets), n, self.width, self.width), np.uint8)


class PorousPlugin:
    @hookimpl
    def register_generators(self, register):
        register("porous", Porous, "test")


def test_plugins_options_lists_a_signature_with_defaults(capsys):
    from invtoolkit.cli import main

    registry.register_plugin(PorousPlugin(), name="porous-plugin")
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["plugins", "--options", "porous"])
        assert exit_info.value.code == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "porous (generator):"
        assert [line.split()[:3] for line in lines[1:]] == [["width", "(required)"], ["porosity", "=", "0.5"],
                                                            ["seed", "=", "0"]]
    finally:
        registry.unregister_plugin("porous-plugin")


def test_plugins_options_of_the_cnn_come_from_its_dataclass_with_help():
    out = run_cli("plugins", "--options", "cnn", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    options = {o["name"]: o for o in row["options"]}
    assert row["role"] == "surrogate"
    assert options["normalization"]["default"] == "pore" and options["adsorption_only"]["default"] is False
    assert options["model"]["default"] is None and "shipped" in options["model"]["help"]
    assert all(o["help"] for o in row["options"])


def test_options_of_an_unknown_name_is_one_line_error():
    out = run_cli("plugins", "--options", "nope")
    assert out.returncode == 2 and "no registered implementation called 'nope'" in out.stderr
    assert "Traceback" not in out.stderr


def test_options_parser_reads_numbers_words_json_and_lists():
    from invtoolkit.errors import InputError
    from invtoolkit.hooks.options import parse_options

    assert parse_options(["T=298", "y= 1.5", "fast=true", "model=none", "porosity=[0.2,0.8]",
                          'weights={"slit": 0.5}', "dilations=1,1,2", "name=slit", "pair=1,b"]) == {
        "T": 298, "y": 1.5, "fast": True, "model": None, "porosity": [0.2, 0.8], "weights": {"slit": 0.5},
        "dilations": [1, 1, 2], "name": "slit", "pair": "1,b"}
    with pytest.raises(InputError, match="--arch 'channels': expected key=value"):
        parse_options(["channels"], flag="--arch")
