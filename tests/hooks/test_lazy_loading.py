"""Plugins and the plugin surface load on demand (issue 30: `simulate` start-up): asking
for an implementation loads the entry point of that name first, and only when it does
not register it every plugin; `invtoolkit.plugin` imports a name's module on first use.
Each case runs in a fresh interpreter, where nothing is loaded yet."""

import json
import os
import subprocess
import sys
import textwrap

import pytest


def fresh(code, env=None):
    """Run ``code`` in a new interpreter; it prints one JSON line, returned parsed."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


STATE = """
import json, sys
from invtoolkit.hooks import registry
{ask}
print(json.dumps({{"loaded_all": registry._loaded, "plugins": sorted(registry.plugin_infos),
                  "factory": factory, "search": "invtoolkit.search" in sys.modules}}))
"""


def test_asking_for_a_named_implementation_loads_only_its_entry_point():
    got = fresh(STATE.format(ask="factory = registry.entry('simulator', 'lattice-dft').factory.__name__"))
    assert got == {"loaded_all": False, "plugins": ["lattice-dft"], "factory": "LatticeDFT", "search": False}


def test_create_takes_the_same_path_and_still_checks_the_options():
    got = fresh(STATE.format(ask="factory = type(registry.create('simulator', 'lattice-dft', steps=4)).__name__"))
    assert got["plugins"] == ["lattice-dft"] and got["factory"] == "LatticeDFT"
    code = """
        import json
        from invtoolkit.errors import PluginError
        from invtoolkit.hooks import registry
        try:
            registry.create('simulator', 'lattice-dft', nope=1)
        except PluginError as exc:
            print(json.dumps(str(exc)))
    """
    assert "simulator 'lattice-dft'" in fresh(code) and "nope" in fresh(code)


def test_a_name_without_its_own_entry_point_loads_every_plugin():
    # 'slit' is registered by the 'samplers' entry point
    got = fresh(STATE.format(ask="factory = registry.entry('sampler', 'slit').plugin"))
    assert got["loaded_all"] and got["factory"] == "samplers" and "lattice-dft" in got["plugins"]


def test_an_unknown_name_still_lists_what_is_available():
    code = """
        import json
        from invtoolkit.errors import PluginError
        from invtoolkit.hooks import registry
        try:
            registry.entry('simulator', 'nope')
        except PluginError as exc:
            print(json.dumps(str(exc)))
    """
    assert "unknown simulator 'nope' (available: " in fresh(code) and "lattice-dft" in fresh(code)


def test_the_load_plugins_variable_still_limits_the_named_load():
    code = """
        import json
        from invtoolkit.errors import PluginError
        from invtoolkit.hooks import registry
        try:
            registry.entry('simulator', 'lattice-dft')
            print(json.dumps("found"))
        except PluginError as exc:
            print(json.dumps(str(exc)))
    """
    assert "unknown simulator 'lattice-dft'" in fresh(code, env={"INVTOOLKIT_LOAD_PLUGINS": "samplers"})


def test_the_surface_imports_a_module_on_first_use_only():
    code = """
        import json, sys
        import invtoolkit.plugin as surface
        before = "invtoolkit.search" in sys.modules
        from invtoolkit.plugin import Algorithm
        print(json.dumps({"before": before, "after": "invtoolkit.search" in sys.modules,
                          "same": Algorithm is sys.modules["invtoolkit.search"].Algorithm,
                          "dir": sorted(set(surface.__all__) - set(dir(surface))), "torch": "torch" in sys.modules}))
    """
    assert fresh(code) == {"before": False, "after": True, "same": True, "dir": [], "torch": False}


def test_the_surface_names_an_unknown_attribute():
    import invtoolkit.plugin as surface

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        surface.nope


def test_the_package_still_offers_its_names_and_subpackages():
    code = """
        import json, sys
        import invtoolkit
        eager = "invtoolkit.search" in sys.modules
        print(json.dumps({"eager": eager, "chain": invtoolkit.Chain.__module__,
                          "search": invtoolkit.search.__name__, "roles": invtoolkit.Simulator.__module__}))
    """
    assert fresh(code) == {"eager": False, "chain": "invtoolkit.search.chain", "search": "invtoolkit.search",
                           "roles": "invtoolkit.core.roles"}


def test_repeated_lookups_by_name_reuse_what_they_loaded():
    code = """
        import json
        from unittest import mock
        from invtoolkit.hooks import registry
        first = registry.entry('simulator', 'lattice-dft')
        with mock.patch.object(registry, "entry_points", side_effect=AssertionError("scanned again")):
            again = [registry.entry('simulator', 'lattice-dft') for _ in range(3)]
            made = registry.create('simulator', 'lattice-dft', steps=4)
        print(json.dumps({"same": all(e is first for e in again), "steps": made.schedule.steps,
                          "loaded_all": registry._loaded}))
    """
    assert fresh(code) == {"same": True, "steps": 4, "loaded_all": False}
