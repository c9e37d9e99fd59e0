"""The one plugin surface (issue 28): duplicate names refused naming both providers,
typed option contracts checked at registration and at creation, and the surface
exports what a plugin needs."""

from __future__ import annotations

import numpy as np
import pytest

import invtoolkit.plugin as surface
from invtoolkit.errors import PluginError
from invtoolkit.hooks import registry
from invtoolkit.plugin import Simulator, hookimpl


class ConstSim(Simulator):
    def __init__(self, normalization: str = "pore"):
        self.normalization = normalization

    def simulate(self, grids, progress=False):
        return np.zeros((len(grids), len(self.pressures)))


class OtherConstSim(ConstSim):
    pass


class BadDefaultSim(ConstSim):
    def __init__(self, steps="40"):  # a string where the contract wants an int
        super().__init__()


class Provider:
    def __init__(self, factory, name="dup-sim"):
        self.factory, self.name = factory, name

    @hookimpl
    def register_simulators(self, register):
        register(self.name, self.factory, "test")


@pytest.fixture
def plugins():
    names = []

    def add(obj, name):
        registry.register_plugin(obj, name=name)
        names.append(name)

    yield add
    for name in names:
        registry.unregister_plugin(name)


def test_a_name_registered_by_two_plugins_is_refused_naming_both(plugins):
    plugins(Provider(ConstSim), "first-provider")
    assert isinstance(registry.create("simulator", "dup-sim"), ConstSim)  # alone: fine
    plugins(Provider(OtherConstSim), "second-provider")
    with pytest.raises(PluginError, match="simulator 'dup-sim' is registered by both plugin '(first|second)-provider'"
                                          ".* and plugin '(first|second)-provider'"):
        registry.create("simulator", "dup-sim")
    errors = {row["plugin"]: row["error"] for row in registry.describe() if row["error"]}
    assert "registered by both" in errors["first-provider"] and "registered by both" in errors["second-provider"]
    assert "lattice-dft" in registry.registry().names("simulator")  # the others keep working


def test_one_name_in_two_roles_is_not_a_duplicate(plugins):
    class Both(Provider):
        @hookimpl
        def register_samplers(self, register):
            register("dup-sim", surface.Sampler, "test")  # abstract base: never created here

    plugins(Both(ConstSim), "two-roles")
    assert "dup-sim" in registry.registry().names("simulator")
    assert "dup-sim" in registry.registry().names("sampler")


def test_a_declared_option_with_an_invalid_default_is_refused_at_registration(plugins):
    plugins(Provider(BadDefaultSim, "bad-default"), "bad-default-plugin")
    with pytest.raises(PluginError, match="plugin 'bad-default-plugin' registers simulator 'bad-default' "
                                          "with steps='40' by default.*positive int"):
        registry.create("simulator", "bad-default")


def test_a_contract_option_the_factory_lacks_is_named(plugins):
    plugins(Provider(ConstSim, "const-sim"), "const-plugin")
    assert registry.create("simulator", "const-sim", normalization="site").normalization == "site"
    with pytest.raises(PluginError, match="simulator 'const-sim' does not take option.*T, y .*declares: normalization"):
        registry.create("simulator", "const-sim", T=300.0, y=1.5)


def test_accepts_reads_options_signature_and_kwargs():
    def any_options(**options):
        return options

    assert surface.accepts(ConstSim, "normalization") and not surface.accepts(ConstSim, "steps")
    assert surface.accepts(any_options, "T")
    lattice = registry.registry().entry("simulator", "lattice-dft").factory
    assert all(surface.accepts(lattice, name) for name in ("normalization", "steps", "path", "T", "TC", "y",
                                                          "boundary", "precision", "adsorption_only"))


def test_the_surface_exports_what_it_lists():
    missing = [name for name in surface.__all__ if not hasattr(surface, name)]
    assert not missing
    assert surface.InputError is __import__("invtoolkit.errors", fromlist=["InputError"]).InputError
