"""invtoolkit: find pore structures whose sorption isotherm matches a target.

The core knows roles (Simulator, Surrogate, Generator, Optimizer, Sampler) and the
plugin machinery; concrete implementations are plugins found through the
``invtoolkit`` entry-point group.
"""

from invtoolkit.errors import InvToolkitError
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.population import Population
from invtoolkit.core.problem import Problem
from invtoolkit.core.roles import Generator, Optimizer, Sampler, Simulator, Surrogate
from invtoolkit.search.chain import Chain

__version__ = "0.1.0"

__all__ = [
    "InvToolkitError",
    "PressureSchedule",
    "Population",
    "Problem",
    "Simulator",
    "Surrogate",
    "Generator",
    "Optimizer",
    "Sampler",
    "Chain",
]
