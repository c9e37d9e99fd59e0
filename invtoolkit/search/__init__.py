"""The public search toolkit, one concern per module (in the spirit of pymoo's core).

* :mod:`~invtoolkit.core.termination` (in the core, beside Problem): when a search stops
  (time, evaluations, any of them);
* :mod:`~invtoolkit.search.evaluator`: counted, cached, budgeted evaluation with an archive
  of the best grids distinct up to torus symmetry and a progress bar;
* :mod:`~invtoolkit.search.seeding`: starting grids (the incoming population, seed shapes,
  samplers) and the seed shapes themselves, one module;
* :mod:`~invtoolkit.search.algorithm`: the template optimizer (start, propose, tell, finish)
  that owns the driver loop. Every built-in optimizer is written on it, and so can any plugin;
* :mod:`~invtoolkit.search.chain`: stages run left to right on one population, verified
  by the exact simulator (imported on its own: ``invtoolkit.search.chain``).

Plugins reach these names through :mod:`invtoolkit.plugin`.

May import: ``invtoolkit.core``, ``invtoolkit.hooks``, ``invtoolkit.errors``.
"""

from invtoolkit.search.algorithm import Algorithm, search_space
from invtoolkit.search.evaluator import INVALID, Evaluator, constrained, constrained_columns
from invtoolkit.search.seeding import (porosity_guess, random_grids, rect_arrays, sampled_grids, seeded_grids,
                                      starting_grids, structured_grids)
from invtoolkit.core.termination import (MaxEvaluations, NoTermination, Termination, TimeLimit, any_of,
                                         as_termination)

__all__ = [
    "Algorithm", "Evaluator", "INVALID", "MaxEvaluations", "NoTermination", "Termination", "TimeLimit",
    "constrained", "constrained_columns",
    "any_of", "as_termination", "porosity_guess", "random_grids", "rect_arrays", "sampled_grids", "search_space",
    "seeded_grids", "starting_grids", "structured_grids",
]
