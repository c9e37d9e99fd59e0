"""Role defaults declared by plugins (``register(..., default=True)``): the core asks the
registry which surrogate and generator to use, and ``--help`` shows the answer."""

import numpy as np
import pytest
from click.testing import CliRunner

from invtoolkit.core.roles import Generator
from invtoolkit.errors import PluginError
from invtoolkit.hooks import registry
from invtoolkit.hooks.hookspecs import hookimpl


class Flat(Generator):
    def generate(self, targets, n, *, seed=0):
        return np.ones((len(targets), n, 3, 3), np.uint8)


class ClaimsDefault:
    @hookimpl
    def register_generators(self, register):
        register("flat", Flat, "test", default=True)


def test_the_builtin_plugins_declare_the_defaults():
    assert registry.default("surrogate") == "cnn"
    assert registry.default("generator") == "deconv"
    assert str(registry.RoleDefault("surrogate")) == registry.RoleDefault("surrogate")() == "cnn"


def test_a_role_with_one_implementation_defaults_to_it_and_an_empty_role_has_none():
    reg = registry.Registry()
    with pytest.raises(PluginError, match="no default generator: no plugin declares one \\(available: none\\)"):
        reg.default("generator")
    reg.add("generator", "only", Flat, "p")
    assert reg.default("generator") == "only"
    reg.add("generator", "second", Flat, "q")
    with pytest.raises(PluginError, match="available: only, second"):
        reg.default("generator")


def test_two_declared_defaults_are_an_error_naming_both_plugins():
    registry.register_plugin(ClaimsDefault(), name="claims-default")
    try:
        assert "flat" in registry.names("generator")  # registered all the same
        with pytest.raises(PluginError, match="two defaults for generator: 'deconv' \\(plugin 'deconv'\\) and "
                                              "'flat' \\(plugin 'claims-default'\\)"):
            registry.default("generator")
        assert str(registry.RoleDefault("generator")).startswith("none")
        assert registry.default("surrogate") == "cnn"  # other roles unaffected
    finally:
        registry.unregister_plugin("claims-default")
    assert registry.default("generator") == "deconv"


@pytest.mark.parametrize("command, option, value", [
    (["predict"], "--surrogate", "cnn"), (["generate"], "--generator", "deconv"),
    (["generate"], "--surrogate", "cnn"), (["train", "surrogate"], "--surrogate", "cnn"),
    (["train", "generator"], "--generator", "deconv"), (["active-learn"], "--generator", "deconv"),
    (["active-learn"], "--surrogate-model", "cnn"),
])
def test_help_shows_the_declared_default(command, option, value):
    from invtoolkit.cli import build_cli

    out = CliRunner().invoke(build_cli(command), [*command, "--help"], terminal_width=200).output
    line = next(row for row in out.splitlines() if row.strip().startswith(option + " "))
    block = out[out.index(line):].split("\n  -")[0]
    assert f"[default: {value}]" in " ".join(block.split())


def test_active_learning_settings_ask_the_registry():
    from invtoolkit.learning.active_learning import ActiveLearningSettings

    assert ActiveLearningSettings().generator is None  # resolved through registry.default("generator")
