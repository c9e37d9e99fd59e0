"""Evaluation of the toolkit itself, outside the core: the ``benchmark`` command.

``invtoolkit benchmark inversion`` (:mod:`.inversion`: every chain on the same held-out
targets at equal time) is added to the CLI through the ``register_commands`` hook,
like any third-party command; this package imports the core only through
:mod:`invtoolkit.plugin`. The side-by-side scripts in ``benchmarks/`` and the training
evaluations in ``training/`` are the next to move here.
"""

from invtoolkit.plugin import hookimpl


@hookimpl
def register_commands(cli):
    from invtoolkit_plugins.benchmarking.command import register

    register(cli)
