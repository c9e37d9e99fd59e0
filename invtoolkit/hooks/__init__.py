"""The plugin machinery: the hook specifications, the registry that finds plugins
through entry points and checks each against its role, and declared options.
Plugins do not import this package: they use :mod:`invtoolkit.plugin`.

May import: ``invtoolkit.core``, ``invtoolkit.errors``.
"""
