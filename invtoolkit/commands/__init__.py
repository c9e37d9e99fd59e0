"""Core CLI commands: every module here defines ``register(cli)``; found automatically.
Plugins add theirs through the ``register_commands`` hook (e.g. ``benchmark``).

May import every package of the core (it sits on top; only ``invtoolkit.cli`` imports it).
"""

from __future__ import annotations

import importlib
import pkgutil


def add_core_commands(cli) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(cli)
