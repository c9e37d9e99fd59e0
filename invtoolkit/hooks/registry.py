"""Plugin discovery and the registry of named implementations per role.

Plugins come from the ``invtoolkit`` entry-point group (built-ins included, through
this distribution's own entry points). ``INVTOOLKIT_LOAD_PLUGINS`` (comma-separated
entry-point names; empty string = none) limits which ones load. A plugin that fails
to import is recorded in :data:`plugin_infos` and the others keep working. Asking for
one implementation by name (:func:`entry`, :func:`create`) loads the entry point of that
name first and the rest only when it does not register the name (issue 30: `simulate`
imports no other plugin); every other question loads them all.

Registration checks the role: a factory that is a class must subclass the role's
base class in :mod:`invtoolkit.core.roles` (a plain function factory is trusted). A
rejected factory is not registered; its plugin is listed as failed and asking for it
by name raises the same :class:`PluginError`. A simulator's declared options are
checked against their typed contract (:mod:`invtoolkit.hooks.contracts`). Two plugins
registering one name for one role are both refused, with an error naming both.

A plugin may declare its implementation the default of its role
(``register(name, factory, description, default=True)``): the core asks
:func:`default` (``invtoolkit predict`` without ``--surrogate``, ...) instead of
writing a concrete plugin's name. Two plugins declaring different defaults for one
role make that role's default an error naming both.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable

import pluggy

from invtoolkit.core import roles
from invtoolkit.errors import PluginError
from invtoolkit.hooks import contracts, hookspecs
from invtoolkit.hooks.options import OptionInfo, declared_options

ENTRY_POINT_GROUP = "invtoolkit"
ROLES = ("simulator", "surrogate", "generator", "optimizer", "sampler", "target_reader", "objective")
# Roles whose factories (when classes) must subclass a base class; readers are functions.
ROLE_BASES = {"simulator": roles.Simulator, "surrogate": roles.Surrogate, "generator": roles.Generator,
              "optimizer": roles.Optimizer, "sampler": roles.Sampler}
_HOOK_FOR_ROLE = {role: f"register_{role}s" for role in ROLES}

pm = pluggy.PluginManager("invtoolkit")
pm.add_hookspecs(hookspecs)


@dataclass
class PluginInfo:
    """What ``invtoolkit plugins`` shows about one loaded or failed plugin."""

    name: str
    package: str
    error: str | None = None


@dataclass
class Entry:
    """One registered implementation."""

    role: str
    name: str
    factory: Callable[..., Any]
    plugin: str
    description: str = ""


def check_role(role: str, name: str, factory, plugin: str) -> None:
    """PluginError unless a class ``factory`` subclasses the base class of ``role``."""
    base = ROLE_BASES.get(role)
    if base is not None and isinstance(factory, type) and not issubclass(factory, base):
        raise PluginError(f"plugin '{plugin}' registers {role} '{name}' as {factory.__qualname__}, "
                          f"which does not subclass invtoolkit.core.roles.{base.__name__}")


@dataclass
class Registry:
    """Named implementations per role, and the ones refused at registration."""

    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    rejected: dict[tuple[str, str], str] = field(default_factory=dict)
    defaults: dict[str, Entry] = field(default_factory=dict)  # role -> the entry declared its default
    default_clash: dict[str, str] = field(default_factory=dict)  # role -> why it has no default

    def names(self, role: str) -> list[str]:
        return sorted(name for (r, name) in self.entries if r == role)

    def default(self, role: str) -> str:
        """The name a plugin declared the default of ``role`` (the only one registered when
        none is declared); PluginError when two plugins declare different ones or none fits."""
        if role in self.default_clash:
            raise PluginError(self.default_clash[role])
        declared = self.defaults.get(role)
        if declared is not None and (role, declared.name) in self.entries:
            return declared.name
        names = self.names(role)
        if len(names) == 1:
            return names[0]
        raise PluginError(f"no default {role}: no plugin declares one (available: {', '.join(names) or 'none'}); "
                          f"name one")

    def _declare_default(self, entry: Entry) -> None:
        first = self.defaults.get(entry.role)
        if first is not None and first.name != entry.name:
            self.default_clash[entry.role] = (
                f"two defaults for {entry.role}: '{first.name}' (plugin '{first.plugin}') and '{entry.name}' "
                f"(plugin '{entry.plugin}'); name one, or disable a plugin (INVTOOLKIT_LOAD_PLUGINS)")
        self.defaults.setdefault(entry.role, entry)

    def entry(self, role: str, name: str) -> Entry:
        try:
            return self.entries[(role, name)]
        except KeyError:
            if (role, name) in self.rejected:
                raise PluginError(self.rejected[(role, name)]) from None
            known = ", ".join(self.names(role)) or "none"
            raise PluginError(f"unknown {role} '{name}' (available: {known})") from None

    def add(self, role: str, name: str, factory, plugin: str, description: str = "", default: bool = False) -> None:
        """Register ``factory`` after the role and contract checks; a refused one is recorded
        in ``rejected``. A name a plugin already registered for ``role`` is refused for both.
        ``default``: the plugin declares it the default of ``role``."""
        try:
            self._check_duplicate(role, name, plugin)
            check_role(role, name, factory, plugin)
            contracts.check_declared(role, name, factory, plugin)
        except PluginError as exc:
            self.rejected[(role, name)] = str(exc)
            raise
        self.entries[(role, name)] = Entry(role, name, factory, plugin, description)
        if default:
            self._declare_default(self.entries[(role, name)])

    def _check_duplicate(self, role: str, name: str, plugin: str) -> None:
        first = self.entries.get((role, name))
        if first is None and (role, name) in self.rejected and "registered by both" in self.rejected[(role, name)]:
            raise PluginError(self.rejected[(role, name)])  # a third provider: keep the first message
        if first is not None:
            del self.entries[(role, name)]  # refused for both: which one wins would depend on load order
            message = (f"{role} '{name}' is registered by both plugin '{first.plugin}' "
                       f"({_package(first.plugin)}) and plugin '{plugin}' ({_package(plugin)}); "
                       "uninstall or disable one (INVTOOLKIT_LOAD_PLUGINS)")
            plugin_infos.setdefault(first.plugin, PluginInfo(first.plugin, "?")).error = message
            raise PluginError(message)

    def options(self, name: str) -> list[tuple[str, list[OptionInfo]]]:
        """(role, declared options) of every implementation called ``name``."""
        found = [(role, declared_options(entry.factory)) for (role, n), entry in sorted(self.entries.items())
                 if n == name]
        if not found:
            raise PluginError(f"no registered implementation called '{name}' (see 'invtoolkit plugins')")
        return found

    def create(self, role: str, name: str, **options):
        return instantiate(self.entry(role, name), options)


def instantiate(entry: Entry, options: dict):
    """``entry.factory(**options)`` after the typed contract check of ``options``."""
    contracts.check_given(entry.role, entry.name, entry.factory, options)
    try:
        return entry.factory(**options)
    except TypeError as exc:
        raise PluginError(f"{entry.role} '{entry.name}': bad options {options}: {exc}") from None


_loaded = False
_registry: Registry | None = None
_partial: Registry | None = None  # the plugins loaded by name, before all are (see entry)
_tried: set[str] = set()  # names whose entry point entry() has looked for
plugin_infos: dict[str, PluginInfo] = {}


def _package(plugin: str) -> str:
    """The distribution (or module) that provides ``plugin``, for error messages."""
    info = plugin_infos.get(plugin)
    return f"from {info.package}" if info else "not loaded through an entry point"


def _allowed_names() -> set[str] | None:
    value = os.environ.get("INVTOOLKIT_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _entry_points() -> list:
    """The group's entry points that ``INVTOOLKIT_LOAD_PLUGINS`` allows."""
    allowed = _allowed_names()
    return [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if allowed is None or ep.name in allowed]


def _load(ep) -> None:
    """Import and register one entry point (once); a failure is recorded, not raised."""
    if pm.get_plugin(ep.name) is not None or ep.name in plugin_infos:
        return
    package = ep.dist.name if ep.dist is not None else "?"
    try:
        module = ep.load()
        pm.register(module, name=ep.name)
    except Exception as exc:  # a broken plugin must not break the others
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        plugin_infos[ep.name] = PluginInfo(ep.name, package, error=last)
        return
    plugin_infos[ep.name] = PluginInfo(ep.name, package)


def load_plugins() -> None:
    """Import and register every entry point of the group (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in _entry_points():
        _load(ep)
    invalidate()


def register_plugin(plugin: object, name: str) -> None:
    """Register a plugin object directly (tests, notebooks, embedding code)."""
    load_plugins()
    pm.register(plugin, name=name)
    plugin_infos[name] = PluginInfo(name, package=getattr(plugin, "__module__", "?") or "?")
    invalidate()


def unregister_plugin(name: str) -> None:
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)
    plugin_infos.pop(name, None)
    invalidate()


def invalidate() -> None:
    global _registry, _partial
    _registry = _partial = None


def registry() -> Registry:
    """The registry built from every registered plugin's hooks."""
    global _registry
    load_plugins()
    if _registry is None:
        _registry = _build()
    return _registry


def _build() -> Registry:
    """A registry of the plugins registered so far (their hooks called now)."""
    reg = Registry()
    for role, hook_name in _HOOK_FOR_ROLE.items():
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():

            def register(name, factory, description="", *, default=False, _role=role, _plugin=impl.plugin_name):
                reg.add(_role, name, factory, _plugin, description, default=bool(default))

            try:
                impl.function(register=register)
            except PluginError as exc:  # a refused role: the message names plugin and role
                plugin_infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name, "?")).error = str(exc)
            except Exception as exc:
                info = plugin_infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name, "?"))
                info.error = f"{hook_name} failed: {type(exc).__name__}: {exc}"
    return reg


def entry(role: str, name: str) -> Entry:
    """The implementation ``name`` of ``role``. Before every plugin is loaded, the entry
    point called ``name`` is loaded alone first: when it registers ``name`` for ``role``
    the other plugins are not imported (``invtoolkit simulate`` starts without the
    search and learning packages). Otherwise, as for every other question, all load.

    The price: a second plugin registering the same name under another entry point is
    noticed only once everything loads (``invtoolkit plugins`` shows the clash)."""
    global _partial
    if not _loaded:
        if name not in _tried:  # scan the entry points once per name
            _tried.add(name)
            for ep in _entry_points():
                if ep.name == name:
                    _load(ep)
                    _partial = None
        if _partial is None:
            _partial = _build()
        found = _partial.entries.get((role, name))
        if found is not None:
            return found
    return registry().entry(role, name)


def create(role: str, name: str, **options):
    """Instantiate the implementation ``name`` of ``role`` with ``options`` (found as
    :func:`entry` finds it)."""
    return instantiate(entry(role, name), options)


def names(role: str) -> list[str]:
    """The registered names of ``role``, sorted."""
    return registry().names(role)


def default(role: str) -> str:
    """The default implementation of ``role`` that the plugins declare (see :meth:`Registry.default`)."""
    return registry().default(role)


class RoleDefault:
    """The default of a role, looked up when asked: a CLI option's default (``type=str``)
    that ``--help`` shows by name, without loading the plugins at import."""

    def __init__(self, role: str):
        self.role = role

    def __call__(self) -> str:
        return default(self.role)

    def __str__(self) -> str:
        try:
            return default(self.role)
        except PluginError:
            return f"none: no default {self.role} is declared"

    def __repr__(self) -> str:
        return f"RoleDefault({self.role!r})"


def options(name: str) -> list[tuple[str, list[OptionInfo]]]:
    """(role, declared options) of every implementation called ``name``."""
    return registry().options(name)


def describe() -> list[dict]:
    """One row per registered implementation plus one per failed plugin."""
    reg = registry()
    rows = []
    for (role, name), entry in sorted(reg.entries.items()):
        info = plugin_infos.get(entry.plugin)
        rows.append(
            {
                "name": name,
                "role": role,
                "plugin": entry.plugin,
                "package": info.package if info else "?",
                "description": entry.description,
                "error": None,
            }
        )
    for info in plugin_infos.values():
        if info.error:
            rows.append(
                {
                    "name": info.name,
                    "role": None,
                    "plugin": info.name,
                    "package": info.package,
                    "description": "",
                    "error": info.error,
                }
            )
    return rows


def add_commands(cli) -> None:
    """Let every plugin add its CLI commands; a failing one is recorded, not fatal."""
    load_plugins()
    for impl in pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:
            info = plugin_infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name, "?"))
            info.error = f"register_commands failed: {type(exc).__name__}: {exc}"
