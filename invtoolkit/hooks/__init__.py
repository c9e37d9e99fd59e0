"""The plugin machinery: the hook specifications, the registry that finds plugins
through entry points and checks each against its role, declared options and the typed
option contracts (what the core may pass a simulator), duplicate names refused.
Plugins do not import this package: they use :mod:`invtoolkit.plugin`.

May import: ``invtoolkit.core``, ``invtoolkit.errors``.
"""
