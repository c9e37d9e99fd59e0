"""Fitting the lattice model to measured isotherms of one material.

:mod:`.capacity` (closed-form capacity and pore volume, the plateau test),
:mod:`.objective` (one material, several files, one structure), :mod:`.table` (pooled
grids scored on a fine y grid), :mod:`.solutions` (the tolerance and every pair the data
allow), :mod:`.search` (the procedure on a budget of evaluations), :mod:`.physical`
(nm, cm3/g, m2/g), :mod:`.answer` (the allowed solutions as an answer), :mod:`.api`
(files or pyGAPS objects in, an answer out), :mod:`.report`, :mod:`.figures` and
:mod:`.outputs` (what ``invert`` writes). It may import core, hooks, search, parsing and
results, never a plugin.
"""

from .api import as_measured, fit_isotherms
from .capacity import capacity_mae, fit_capacity, plateau
from .objective import MaterialObjective, MeasuredObjective, measured_simulator
from .search import MEASURED_BUDGET, Y_RANGE, FitSettings, MaterialFit, fit_material

__all__ = ["as_measured", "fit_isotherms", "MEASURED_BUDGET", "Y_RANGE", "FitSettings", "MaterialFit", "MaterialObjective", "MeasuredObjective",
           "capacity_mae", "fit_capacity", "fit_material", "measured_simulator", "plateau"]
