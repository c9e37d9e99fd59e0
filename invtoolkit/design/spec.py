"""Design spec files (TOML): constraints and objectives on isotherm properties.

::

    normalization = "pore"            # optional: pore (default) or site
    [[constraint]]
    property = "step"                 # any registered objective plugin
    min = 0.10                        # min and/or max
    max = 0.20
    [[objective]]
    property = "capacity"
    high = { rh = 0.25, branch = "adsorption" }
    low = { rh = 0.05, branch = "desorption" }
    goal = "max"                      # min or max

Every mistake is one :class:`InputError` line naming the file, the line and the
entry, e.g. ``spec.toml:9: constraint 2: unknown key 'rhh' (step takes: min, max)``.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError, PluginError
from invtoolkit.core.objective import NORMALIZATIONS
from invtoolkit.hooks.options import declared_options
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.properties import Property

TOP_KEYS = ("normalization", "constraint", "objective")
GOALS = ("min", "max")


@dataclass
class SpecEntry:
    """One constraint (bounds) or objective (goal) on one property."""

    kind: str  # "constraint" or "objective"
    index: int  # 1-based, in file order
    prop: Property
    options: dict
    min: float = -math.inf
    max: float = math.inf
    goal: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.index} ({self.prop.name})"

    def to_dict(self) -> dict:
        out = {"property": self.prop.name, **self.options}
        if self.kind == "constraint":
            out.update({k: v for k, v in (("min", self.min), ("max", self.max)) if math.isfinite(v)})
        else:
            out["goal"] = self.goal
        return out


@dataclass
class DesignSpec:
    normalization: str = "pore"
    constraints: list[SpecEntry] = field(default_factory=list)
    objectives: list[SpecEntry] = field(default_factory=list)
    source: str = "spec"

    @property
    def needs_desorption(self) -> bool:
        return any(e.prop.needs_desorption for e in self.constraints + self.objectives)

    def to_dict(self) -> dict:
        return {"normalization": self.normalization,
                "constraint": [e.to_dict() for e in self.constraints],
                "objective": [e.to_dict() for e in self.objectives]}


class _Lines:
    """Line numbers of the array-of-tables entries and their keys, for error messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, kind: str, index: int, key: str | None = None) -> int | None:
        headers = [i for i, line in enumerate(self.lines) if re.match(rf"\s*\[\[\s*{kind}\s*\]\]", line)]
        if index > len(headers):
            return None
        start = headers[index - 1]
        if key is None:
            return start + 1
        for i in range(start + 1, len(self.lines)):
            if re.match(r"\s*\[", self.lines[i]):
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[i]):
                return i + 1
        return start + 1

    def of_top(self, key: str) -> int | None:
        for i, line in enumerate(self.lines):
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return i + 1
        return None


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line else source


def property_options(name: str) -> tuple[str, ...]:
    """The options property plugin ``name`` takes (a :class:`Property` declares its
    ``option_names``; another factory's are its keyword parameters)."""
    factory = registry.registry().entry("objective", name).factory
    if isinstance(factory, type) and issubclass(factory, Property):
        return tuple(factory.option_names)
    return tuple(o.name for o in declared_options(factory)
                 if o.name not in ("schedule", "normalization", "kwargs", "common"))


def read_spec(path, *, schedule: PressureSchedule | None = None) -> DesignSpec:
    """Read and check a design spec file; properties are built on ``schedule``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such spec file")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return parse_spec(data, source=str(path), text=text, base=path.parent, schedule=schedule)


def parse_spec(data: dict, *, source: str = "spec", text: str = "", base: Path | None = None,
               schedule: PressureSchedule | None = None) -> DesignSpec:
    """Check a spec already parsed into a dict (``text`` only locates lines for messages)."""
    lines = _Lines(text)
    for key in data:
        if key not in TOP_KEYS:
            raise InputError(f"{_where(source, lines.of_top(key))}: unknown key '{key}' "
                             f"(a spec takes: {', '.join(TOP_KEYS)})")
    normalization = data.get("normalization", "pore")
    if normalization not in NORMALIZATIONS:
        raise InputError(f"{_where(source, lines.of_top('normalization'))}: normalization must be "
                         f"'pore' or 'site', got {normalization!r}")
    spec = DesignSpec(normalization=normalization, source=source)
    common = {"schedule": schedule or PressureSchedule(), "normalization": normalization}
    for kind, out in (("constraint", spec.constraints), ("objective", spec.objectives)):
        tables = data.get(kind, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{_where(source, lines.of_top(kind))}: write {kind}s as [[{kind}]] tables")
        for i, table in enumerate(tables, start=1):
            out.append(_entry(kind, i, table, common, lines, source, base))
    if not spec.objectives:
        raise InputError(f"{source}: no [[objective]] (give one, e.g. property = \"capacity\", goal = \"max\")")
    return spec


def _entry(kind: str, index: int, table: dict, common: dict, lines: _Lines, source: str,
           base: Path | None) -> SpecEntry:
    """One [[constraint]] or [[objective]] table -> a checked SpecEntry."""

    def fail(message: str, key: str | None = None):
        raise InputError(f"{_where(source, lines.of(kind, index, key))}: {kind} {index}: {message}")

    name = table.get("property")
    if name is None:
        fail("no property (e.g. property = \"step\")")
    try:
        option_names = property_options(str(name))
    except PluginError as exc:
        fail(str(exc).replace("objective", "property", 1), "property")
    own = ("min", "max") if kind == "constraint" else ("goal",)
    takes = tuple(option_names) + own
    for key in table:
        if key != "property" and key not in takes:
            fail(f"unknown key '{key}' ({name} takes: {', '.join(takes)})", key)
    options = {k: table[k] for k in option_names if k in table}
    if "target" in options and base is not None and isinstance(options["target"], str):
        options["target"] = str(base / options["target"])  # file paths are relative to the spec
    try:
        prop = registry.create("objective", name, **options, **common)
    except (InputError, PluginError) as exc:
        fail(str(exc), _first_key(str(exc), options))
    entry = SpecEntry(kind, index, prop, {k: table[k] for k in option_names if k in table})
    if kind == "constraint":
        _bounds(entry, table, fail)
    else:
        entry.goal = table.get("goal")
        if entry.goal not in GOALS:
            fail(f"goal must be 'min' or 'max', got {entry.goal!r}", "goal")
    return entry


def _bounds(entry: SpecEntry, table: dict, fail) -> None:
    if "min" not in table and "max" not in table:
        fail(f"give min and/or max for {entry.prop.name}")
    for key in ("min", "max"):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                fail(f"{key} must be a number, got {value!r}", key)
            setattr(entry, key, float(value))
    if entry.min > entry.max:
        fail(f"min {entry.min:g} is above max {entry.max:g}", "min")


def _first_key(message: str, options: dict) -> str | None:
    """The option an error message is about (for its line number)."""
    for key in options:
        if key in message:
            return key
    return None
