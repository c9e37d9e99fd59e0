"""The plugin surface: everything a plugin imports from the core, in one module.

A plugin (built-in or third-party) writes ``from invtoolkit.plugin import ...`` and
nothing else from ``invtoolkit`` (``invtoolkit.errors`` and ``invtoolkit.testing``
aside), so the packages behind it can move without breaking plugins. In the spirit of
simonw/llm's ``llm.hookimpl``:

* **hooks**: :data:`hookimpl`, :func:`create` and :func:`registered_names`; each ``register_*`` hook gets ``register(name, factory,
  description)`` (see :mod:`invtoolkit.hooks.hookspecs`);
* **roles and capabilities**: the base classes a factory subclasses (``Simulator``,
  ``Surrogate``, ``Generator``, ``Optimizer``, ``Sampler``) and the capabilities it
  declares (``Trainable``, ``Fittable``, ``FineTunable``, ``WithUncertainty``, ``Saveable``);
* **options**: :func:`option` for an ``Options`` dataclass, and the typed contract of
  what the core passes a simulator (:class:`SimulatorOptions`, :func:`accepts`);
* **the grid space, pressures, populations, objectives and properties** a role works on;
* **the search toolkit** (:mod:`invtoolkit.search`): the template optimizer, evaluator,
  terminations and starting grids;
* **reader helpers**: :class:`RawIsotherm` and the AIF tags a reader fills,
  :func:`measured_from_raw`, :func:`target_from_points`;
* **learning helpers**: model files (:mod:`modelio <invtoolkit.learning.modelio>`),
  checkpoints, schedules, learning curves, the torch augmentation, datasets;
* **the defaults and chains** an evaluation plugin runs (``Chain``, ``DEFAULT_CHAIN``...);
* **errors**: :class:`InputError` (bad input: one line, exit code 2) and :class:`PluginError`.

The conformance kit a plugin's own tests call is :mod:`invtoolkit.testing`.
"""

from __future__ import annotations

from invtoolkit.core.defaults import DEFAULT_CHAIN, DEFAULT_GRID_SHAPE, DEFAULT_SIMULATOR
from invtoolkit.core.fileio import torch_save, write_json, write_text
from invtoolkit.core.objective import CurveMAE, Objective, PointErrors, Target, mae
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import ADSORPTION, DESORPTION, PressurePath, PressureSchedule, schedule_for_points
from invtoolkit.core.problem import Problem
from invtoolkit.core.progress import progress_bar
from invtoolkit.core.properties import Property, branch, check_branch, check_rh, uptake_at
from invtoolkit.core.roles import (Fittable, FineTunable, Generator, Optimizer, Sampler, Saveable, Simulator,
                                   Surrogate, Trainable, WithUncertainty)
from invtoolkit.core.space import GridSpace, as_space
from invtoolkit.core.symmetry import augment_torch, canonical, random_transform
from invtoolkit.datasets.dataset import Dataset
from invtoolkit.errors import InputError, InvToolkitError, PluginError
from invtoolkit.hooks.contracts import SimulatorOptions, accepts
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.hooks.options import option
from invtoolkit.hooks.registry import create
from invtoolkit.hooks.registry import names as registered_names
from invtoolkit.learning import modelio
from invtoolkit.learning.training import (EarlyStopping, History, flush_denormals, load_checkpoint, modules_set,
                                          plot_learning_curve, plot_lines, save_checkpoint, split_indices,
                                          warmup_cosine)
from invtoolkit.parsing.formats import (AIF_ADSORPTIVE_TAGS, AIF_AMOUNT_COLUMNS, AIF_LOADING_UNIT_TAGS,
                                        AIF_MATERIAL_TAGS, RawIsotherm)
from invtoolkit.parsing.io import check_grids, require_file
from invtoolkit.parsing.measured import RELATIVE_UNITS, MeasuredIsotherm, measured_from_raw
from invtoolkit.parsing.targets import check_amounts, read_target, target_from_points
from invtoolkit.search import (INVALID, Algorithm, Evaluator, MaxEvaluations, NoTermination, Termination, TimeLimit,
                               any_of, as_termination, constrained, porosity_guess, random_grids, sampled_grids,
                               search_space, starting_grids)
from invtoolkit.search.chain import Chain, make_evaluator

# Names whose modules import torch: loaded on first use, so that listing plugins stays fast.
_LAZY = {"binary_sigmoid": "invtoolkit.core.binary"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'invtoolkit.plugin' has no attribute '{name}'")


__all__ = [
    # hooks, roles, capabilities, options, errors
    "hookimpl", "Simulator", "Surrogate", "Generator", "Optimizer", "Sampler", "Trainable", "Fittable",
    "FineTunable", "WithUncertainty", "Saveable", "option", "SimulatorOptions", "accepts", "create",
    "registered_names", "InputError", "InvToolkitError", "PluginError",
    # grid space, pressures, populations, objectives, properties
    "GridSpace", "as_space", "PressurePath", "PressureSchedule", "ADSORPTION", "DESORPTION",
    "schedule_for_points", "Population", "Problem", "Target", "Objective", "PointErrors", "CurveMAE", "mae",
    "Property", "branch", "check_branch", "check_rh", "uptake_at", "canonical", "random_transform",
    # search toolkit
    "Algorithm", "Evaluator", "INVALID", "MaxEvaluations", "NoTermination", "Termination", "TimeLimit",
    "any_of", "as_termination", "constrained", "porosity_guess", "random_grids", "sampled_grids",
    "search_space", "starting_grids", "make_evaluator", "Chain", "DEFAULT_CHAIN", "DEFAULT_SIMULATOR", "DEFAULT_GRID_SHAPE",
    # readers
    "RawIsotherm", "AIF_ADSORPTIVE_TAGS", "AIF_AMOUNT_COLUMNS", "AIF_LOADING_UNIT_TAGS", "AIF_MATERIAL_TAGS",
    "MeasuredIsotherm", "measured_from_raw", "RELATIVE_UNITS", "read_target", "target_from_points",
    "check_amounts", "check_grids", "require_file",
    # learning, files, progress
    "modelio", "Dataset", "EarlyStopping", "History", "flush_denormals", "load_checkpoint", "save_checkpoint",
    "modules_set", "plot_learning_curve", "plot_lines", "split_indices", "warmup_cosine", "augment_torch",
    "binary_sigmoid", "torch_save", "write_json", "write_text", "progress_bar",
]
