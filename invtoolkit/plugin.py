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

import importlib

# Where each name lives. Resolved on first use (PEP 562) and then kept in this module,
# so a plugin pays only for what it imports: `invtoolkit simulate` loads the simulator's
# plugin, which needs a few core modules, not the search, learning and parsing packages
# (issue 30: start-up).
_SOURCES = {
    "invtoolkit.core.defaults": "DEFAULT_CHAIN DEFAULT_GRID_SHAPE DEFAULT_SIMULATOR",
    "invtoolkit.core.fileio": "torch_save write_json write_text",
    "invtoolkit.core.objective": "CurveMAE Objective PointErrors Target mae",
    "invtoolkit.core.population": "Population",
    "invtoolkit.core.pressure": "ADSORPTION DESORPTION PressurePath PressureSchedule schedule_for_points",
    "invtoolkit.core.problem": "Problem",
    "invtoolkit.core.progress": "progress_bar",
    "invtoolkit.core.properties": "Property branch check_branch check_rh uptake_at",
    "invtoolkit.core.roles": "Fittable FineTunable Generator Optimizer Sampler Saveable Simulator Surrogate "
                             "Trainable WithUncertainty",
    "invtoolkit.core.space": "GridSpace as_space",
    "invtoolkit.core.symmetry": "augment_torch canonical random_transform",
    "invtoolkit.core.binary": "binary_sigmoid",  # imports torch
    "invtoolkit.datasets.dataset": "Dataset",
    "invtoolkit.errors": "InputError InvToolkitError PluginError",
    "invtoolkit.hooks.contracts": "SimulatorOptions accepts",
    "invtoolkit.hooks.hookspecs": "hookimpl",
    "invtoolkit.hooks.options": "option",
    "invtoolkit.hooks.registry": "create",
    "invtoolkit.learning.training": "EarlyStopping EpochRecord History flush_denormals load_checkpoint modules_set "
                                    "plot_learning_curve plot_lines save_checkpoint split_indices warmup_cosine",
    "invtoolkit.parsing.formats": "AIF_ADSORPTIVE_TAGS AIF_AMOUNT_COLUMNS AIF_LOADING_UNIT_TAGS AIF_MATERIAL_TAGS "
                                  "RawIsotherm",
    "invtoolkit.parsing.io": "check_grids require_file",
    "invtoolkit.parsing.measured": "RELATIVE_UNITS MeasuredIsotherm measured_from_raw",
    "invtoolkit.parsing.targets": "check_amounts read_target target_from_points",
    "invtoolkit.search": "INVALID Algorithm Evaluator MaxEvaluations NoTermination Termination TimeLimit any_of "
                         "as_termination constrained porosity_guess random_grids sampled_grids search_space "
                         "starting_grids",
    "invtoolkit.search.chain": "Chain make_evaluator",
}
# name -> (module, attribute); a module itself is (module, None)
_WHERE = {name: (module, name) for module, names in _SOURCES.items() for name in names.split()}
_WHERE["registered_names"] = ("invtoolkit.hooks.registry", "names")
_WHERE["modelio"] = ("invtoolkit.learning.modelio", None)


def __getattr__(name: str):
    try:
        module, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'invtoolkit.plugin' has no attribute '{name}'") from None
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


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
    "modelio", "Dataset", "EarlyStopping", "EpochRecord", "History", "flush_denormals", "load_checkpoint", "save_checkpoint",
    "modules_set", "plot_learning_curve", "plot_lines", "split_indices", "warmup_cosine", "augment_torch",
    "binary_sigmoid", "torch_save", "write_json", "write_text", "progress_bar",
]
