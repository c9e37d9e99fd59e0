"""mkdocs hook: replace ``<!-- api-reference -->`` in api.md with the core API's docstrings.

Uses only :mod:`inspect`, so the reference builds offline and always matches the code.
"""

from __future__ import annotations

import importlib
import inspect
import re

MARKER = "<!-- api-reference -->"
# Core modules a user or plugin author calls; commands and internals are left out.
MODULES = [
    "invtoolkit.plugin",
    "invtoolkit.testing",
    "invtoolkit.core.roles",
    "invtoolkit.hooks.hookspecs",
    "invtoolkit.hooks.registry",
    "invtoolkit.hooks.contracts",
    "invtoolkit.core.pressure",
    "invtoolkit.core.problem",
    "invtoolkit.core.population",
    "invtoolkit.core.space",
    "invtoolkit.core.termination",
    "invtoolkit.search.evaluator",
    "invtoolkit.search.seeding",
    "invtoolkit.search.algorithm",
    "invtoolkit.search.chain",
    "invtoolkit.parsing.io",
    "invtoolkit.parsing.targets",
    "invtoolkit.parsing.formats",
    "invtoolkit.datasets.dataset",
    "invtoolkit.core.symmetry",
    "invtoolkit.errors",
]


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_modules(MODULES))


def render_modules(names) -> str:
    parts = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional module not in this checkout
            continue
        parts.append(render_module(module))
    return "\n".join(parts)


def render_module(module) -> str:
    lines = [f"## `{module.__name__}`", "", _doc(module), ""]
    for name, obj in _public_members(module):
        if inspect.isclass(obj):
            lines += [f"### class `{name}{_signature(obj)}`", "", _doc(obj), ""]
            for mname, member in _methods(obj):
                lines += [f"- **`{mname}{_signature(member)}`**: {_first_paragraph(member)}"]
            lines.append("")
        else:
            lines += [f"### `{name}{_signature(obj)}`", "", _doc(obj), ""]
    return "\n".join(lines)


def _public_members(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # imported from elsewhere
        yield name, obj


def _methods(cls):
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member) and name != "__init__":
            yield name, member


def _signature(obj) -> str:
    """Parameters and defaults; annotations are left to the docstrings (shorter lines)."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()
              if p.name not in ("self", "cls")]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _doc(obj) -> str:
    return _indent_blocks(_markdown(inspect.getdoc(obj) or ""))


def _first_paragraph(obj) -> str:
    doc = _markdown(inspect.getdoc(obj) or "")
    return doc.split("\n\n")[0].replace("\n", " ") or "(no docstring)"


def _markdown(doc: str) -> str:
    """reST ``code`` and :role:`target` in docstrings -> Markdown `code`."""
    return re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc.replace("``", "`"))


def _indent_blocks(text: str) -> str:
    """Lines indented in a docstring (formulas, examples) become code blocks."""
    out, in_code = [], False
    for line in text.splitlines():
        indented = line.startswith("    ")
        if indented and not in_code:
            out += ["", "```text"]
            in_code = True
        elif not indented and in_code and line.strip():
            out += ["```", ""]
            in_code = False
        out.append(line[4:] if in_code and indented else line)
    if in_code:
        out.append("```")
    return "\n".join(out)
