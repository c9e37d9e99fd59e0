"""Plugin hooks. A plugin module implements any subset of these.

Each ``register_*`` hook receives a ``register(name, factory, description="", *, default=False)``
callback. ``factory(**options)`` must return an object of the role's interface
(see :mod:`invtoolkit.core.roles`). ``default=True`` declares the implementation the
role's default (what commands use when the user names none: ``registry.default(role)``).
"""

import pluggy

hookspec = pluggy.HookspecMarker("invtoolkit")
hookimpl = pluggy.HookimplMarker("invtoolkit")


@hookspec
def register_simulators(register):
    """Register exact forward models: grids (N,H,W) -> isotherms (N,P)."""


@hookspec
def register_surrogates(register):
    """Register learned, differentiable forward models (torch)."""


@hookspec
def register_generators(register):
    """Register learned inverse models: isotherm x latent code -> grids."""


@hookspec
def register_optimizers(register):
    """Register search stages: (problem, population) -> better population."""


@hookspec
def register_samplers(register):
    """Register grid samplers used to build datasets."""


@hookspec
def register_target_readers(register):
    """Register target file readers by suffix: ``register(".aif", reader, description)``.

    ``reader(path, **options)`` returns a model ``Target`` or a ``MeasuredIsotherm``.
    """


@hookspec
def register_objectives(register):
    """Register objectives (design properties): ``factory(schedule=, normalization=, **options)``
    returns an :class:`~invtoolkit.core.objective.Objective`, e.g. a :class:`~invtoolkit.core.properties.Property`."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``invtoolkit`` CLI group."""
