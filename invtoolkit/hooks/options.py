"""``key=value`` options from the command line, and the options a plugin declares.

One parser for every ``--param``, ``--sampler-param`` and ``--arch`` item and every chain
stage's ``name[k=v,k=v]`` options: numbers, booleans, ``none``, JSON lists and mappings,
and comma-separated lists of numbers.
:func:`declared_options` reads what a plugin factory accepts (a dataclass ``Options``
on the factory, else its signature) so that ``invtoolkit plugins --options NAME``
can list it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from dataclasses import dataclass
from typing import Any, Iterable

from invtoolkit.errors import InputError

_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False,
          "none": None, "null": None}


def parse_value(text: str):
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True, 'none' -> None, '[0.2,0.8]' or '{"a":1}' ->
    the JSON value, '1,1,2' -> [1, 1, 2]; anything else stays a (stripped) string."""
    text = text.strip()
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    number = _number(text)
    if number is not None:
        return number
    if text[:1] in "[{\"":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "," in text:
        items = [_number(part.strip()) for part in text.split(",") if part.strip()]
        if items and all(item is not None for item in items):
            return items
    return text


def _number(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return None


def parse_options(items: Iterable[str], *, flag: str = "--param") -> dict:
    """``["T=298", "dilations=1,2"]`` -> ``{"T": 298, "dilations": [1, 2]}``; an item
    without ``=`` is an InputError naming ``flag``."""
    options = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{flag} '{item.strip()}': expected key=value")
        key, value = item.split("=", 1)
        if not key.strip():
            raise InputError(f"{flag} '{item.strip()}': empty key")
        options[key.strip()] = parse_value(value)
    return options


def format_value(value) -> str:
    """The text :func:`parse_value` reads back as ``value`` (lists and mappings as JSON)."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "none" if value is None else str(value)


def split_top_level(text: str, sep: str, *, what: str = "options") -> list[str]:
    """``text`` split at every ``sep`` outside brackets and braces (so that a chain's
    ``ga[w=[0.2,0.8]] | steepest`` splits into two stages, and its options into one);
    unbalanced brackets are an InputError naming ``what``."""
    closing = {"]": "[", "}": "{"}
    parts, stack, current = [], [], []
    for ch in text:
        if ch in "[{":
            stack.append(ch)
        elif ch in closing:
            if not stack or stack.pop() != closing[ch]:
                raise InputError(f"malformed {what} '{text.strip()}': unbalanced '{ch}'")
        if ch == sep and not stack:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if stack:
        raise InputError(f"malformed {what} '{text.strip()}': unbalanced '{stack[-1]}'")
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class OptionInfo:
    """One option a plugin accepts: its name, default (``REQUIRED`` if none) and help."""

    name: str
    default: Any
    help: str = ""


REQUIRED = inspect.Parameter.empty


def option(default, help: str = ""):  # noqa: A002 (the word users see)
    """A dataclass field with a default and a help text, for plugin ``Options`` classes."""
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def declared_options(factory) -> list[OptionInfo]:
    """The options ``factory(**options)`` accepts: the fields of its dataclass
    ``Options`` (with help), else the keyword parameters of its signature."""
    declared = next((vars(cls)["Options"] for cls in factory.__mro__ if "Options" in vars(cls)), None) \
        if isinstance(factory, type) else None
    if declared is not None and dataclasses.is_dataclass(declared):
        return [OptionInfo(f.name, _field_default(f), f.metadata.get("help", ""))
                for f in dataclasses.fields(declared)]
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [OptionInfo(p.name, p.default) for p in signature.parameters.values() if p.kind in kinds]


def _field_default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return REQUIRED
