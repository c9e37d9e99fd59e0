"""invtoolkit: find pore structures whose sorption isotherm matches a target.

The core knows roles (Simulator, Surrogate, Generator, Optimizer, Sampler) and the
plugin machinery; concrete implementations are plugins found through the
``invtoolkit`` entry-point group.
"""

from invtoolkit.core.portable import pin_numba_target
from invtoolkit.errors import InvToolkitError

pin_numba_target()  # before any numba code compiles: the same bytes on every x86-64 CPU

__version__ = "0.1.0"

# Imported on first use (PEP 562): every `import invtoolkit.x` runs this file, and the
# search package behind Chain is not needed to simulate (issue 30: start-up).
_WHERE = {"PressureSchedule": "invtoolkit.core.pressure", "Population": "invtoolkit.core.population",
          "Problem": "invtoolkit.core.problem", "Chain": "invtoolkit.search.chain",
          **dict.fromkeys(("Generator", "Optimizer", "Sampler", "Simulator", "Surrogate"), "invtoolkit.core.roles")}


def __getattr__(name: str):
    import importlib
    import importlib.util

    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:  # `invtoolkit.search` without importing it,
        value = importlib.import_module(f"{__name__}.{name}")        # as when this file imported it eagerly
    else:
        raise AttributeError(f"module 'invtoolkit' has no attribute '{name}'")
    globals()[name] = value
    return value


__all__ = [
    "InvToolkitError",
    "PressureSchedule",
    "Population",
    "Problem",
    "Simulator",
    "Surrogate",
    "Generator",
    "Optimizer",
    "Sampler",
    "Chain",
]
