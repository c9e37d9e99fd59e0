"""Typed option contracts: the options the core may pass a factory of a role, by name.

A command hands a simulator the normalization, the number of steps, ``adsorption_only``,
a pressure ``path``, the fluid's ``T`` and ``TC``, the wall strength ``y``, a boundary,
a precision... but only the options the factory declares (its ``Options`` dataclass or
its signature, :func:`~invtoolkit.hooks.options.declared_options`): :func:`accepts`
asks. The contract says what each name means and which values are valid; the registry
checks a factory's declared defaults against it when the plugin registers (a plugin
whose ``steps`` defaults to ``"40"`` is refused at start-up, not in the middle of a
run), and :func:`check_given` names an option the core passes that a factory lacks.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from invtoolkit.core.pressure import PressurePath
from invtoolkit.errors import PluginError
from invtoolkit.hooks.options import REQUIRED, declared_options, option


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _one_of(*choices) -> Callable[[Any], bool]:
    return lambda value: value in choices


# name -> (valid value?, what a valid value is); a None default is always valid (the factory decides)
VALID: dict[str, tuple[Callable[[Any], bool], str]] = {
    "normalization": (_one_of("pore", "site"), "'pore' or 'site'"),
    "steps": (_positive_int, "a positive int"),
    "adsorption_only": (lambda v: isinstance(v, bool), "a bool"),
    "path": (lambda v: v is None or isinstance(v, PressurePath), "None or a PressurePath"),
    "T": (_positive, "a positive temperature in K"),
    "TC": (_positive, "a positive critical temperature in K"),
    "y": (_number, "a number (wall-fluid / fluid-fluid attraction)"),
    "boundary": (lambda v: isinstance(v, str), "a str"),
    "precision": (_one_of("float32", "float64"), "'float32' or 'float64'"),
    "device": (lambda v: isinstance(v, str), "a str"),
    "threads": (lambda v: v is None or _positive_int(v), "None or a positive int"),
}


@dataclass(frozen=True)
class SimulatorOptions:
    """The options the core may pass a simulator or surrogate factory. Each is passed
    only to a factory that declares it; a declared one must default to a valid value
    or to None (the factory decides, e.g. a trained model's own steps)."""

    normalization: str = option("pore", "'pore': filled fraction of pore cells; 'site': per lattice site")
    steps: int = option(40, "uniform schedule: RH = 0, 1/steps, ..., 1 (and back)")
    adsorption_only: bool = option(False, "simulate the adsorption branch only")
    path: PressurePath | None = option(None, "simulate on this pressure path instead of the schedule")
    T: float = option(298.0, "temperature, K (measured files)")
    TC: float = option(647.0, "the adsorbate's critical temperature, K (measured files)")
    y: float = option(1.5, "wall-fluid / fluid-fluid attraction")
    boundary: str = option("periodic", "how the grid's edges continue (3-D: periodic, slab, ...)")
    precision: str = option("float32", "'float32' or 'float64'")
    device: str = option("cpu", "torch device of a torch solver")
    threads: int | None = option(None, "worker threads (None: the solver's default)")


CONTRACTS: dict[str, type] = {"simulator": SimulatorOptions, "surrogate": SimulatorOptions}


def contract_names(role: str) -> set[str]:
    contract = CONTRACTS.get(role)
    return {f.name for f in dataclasses.fields(contract)} if contract else set()


def _parameters(factory) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return []


def accepts(factory, name: str) -> bool:
    """Whether ``factory(**{name: ...})`` is declared: by its ``Options``, its signature
    or ``**kwargs``."""
    params = _parameters(factory)
    return (any(p.kind is inspect.Parameter.VAR_KEYWORD or p.name == name for p in params)
            or name in {o.name for o in declared_options(factory)})


def check_declared(role: str, name: str, factory, plugin: str) -> None:
    """PluginError naming the plugin, the option and the valid values when a contract
    option the factory declares defaults to an invalid value."""
    known = contract_names(role)
    for info in declared_options(factory):
        if info.name not in known or info.default is REQUIRED or info.default is None:
            continue  # None: the factory decides (e.g. a model's own steps)
        valid, wanted = VALID[info.name]
        if not valid(info.default):
            raise PluginError(f"plugin '{plugin}' registers {role} '{name}' with {info.name}={info.default!r} "
                              f"by default; the contract (invtoolkit.plugin.SimulatorOptions) wants {wanted}")


def check_given(role: str, name: str, factory, options: dict) -> None:
    """PluginError naming the contract options in ``options`` the factory does not take."""
    lacking = sorted(k for k in options if k in contract_names(role) and not accepts(factory, k))
    if lacking:
        declared = ", ".join(o.name for o in declared_options(factory)) or "none"
        raise PluginError(f"{role} '{name}' does not take option(s) {', '.join(lacking)} "
                          f"(it declares: {declared})")
