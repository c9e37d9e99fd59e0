"""The Python way in: measured isotherms of one material -> a physical answer.

    from invtoolkit.fitting import fit_isotherms
    answer = fit_isotherms(["DUT-67_MeOH.aif", "DUT-67_EtOH.aif"], budget=60_000, seed=0)
    answer.files[0].pore_volume, answer.summary["descriptors"]["dominant_width_nm"]

A target is a file path (AIF, pyGAPS JSON/CSV, ...), a
:class:`~invtoolkit.parsing.measured.MeasuredIsotherm`, or a pyGAPS ``PointIsotherm`` (its users
need not write a file first).
"""

from __future__ import annotations

from pathlib import Path

from invtoolkit.errors import InputError

from .answer import MaterialAnswer, make_answer
from .physical import file_scale
from .search import MEASURED_BUDGET, FitSettings, fit_material
from .starts import Screen

MEASURED_CHAIN = "ga | steepest"


def as_measured(target, *, tc=None, p0=None, loading_unit=None):
    """A MeasuredIsotherm from a path, a MeasuredIsotherm or a pyGAPS PointIsotherm."""
    from invtoolkit.parsing.measured import MeasuredIsotherm, measured_from_raw

    if isinstance(target, MeasuredIsotherm):
        return target
    if isinstance(target, (str, Path)):
        from invtoolkit.parsing.targets import read_target

        found = read_target(target, tc=tc, p0=p0, loading_unit=loading_unit)
        if not isinstance(found, MeasuredIsotherm):
            raise InputError(f"{target}: a model isotherm, not a measured file (use Chain.run for model targets)")
        return found
    from invtoolkit.parsing.pygaps_object import measured_from_pygaps

    return measured_from_raw(measured_from_pygaps(target), tc=tc, p0=p0, loading_unit=loading_unit)


def answer_files(files, chain, settings: FitSettings, *, space, lattice_spacing=None, capacity=None,
                 keep: int = 8) -> MaterialAnswer:
    """MeasuredIsotherms of one material -> the fitted answer (the CLI and the API both come here)."""
    if len(files) > 1 and capacity is not None:
        raise InputError("--capacity applies to a single file; a joint fit shares one pore volume")
    scales = [file_scale(m, lattice_spacing) for m in files]
    fit = fit_material(files, chain, settings, space=space, ratios=capacity_ratios(scales, files), capacity=capacity)
    return make_answer(fit, scales, keep)


def capacity_ratios(scales, files) -> list[float] | None:
    """File-unit capacity per cm3/g of shared pore volume; None for one file (its capacity
    is then fitted in its own unit). A joint fit needs every file's loading per mass."""
    if len(scales) == 1:
        return None
    bad = [f"{m.source} ('{m.unit}')" for m, s in zip(files, scales) if s.capacity_per_volume is None]
    if bad:
        raise InputError(f"a joint fit shares one pore volume (cm3/g), so every loading unit must be an amount per "
                         f"mass; not: {', '.join(bad)}")
    return [s.capacity_per_volume for s in scales]


def fit_isotherms(targets, *, chain: str = MEASURED_CHAIN, budget: int = MEASURED_BUDGET, seed: int = 0,
                  y: float | None = None, y_range=None, grid_size: str = "20", lattice_spacing: float | None = None,
                  keep: int = 8, time_limit: float | None = None, progress: bool = False,
                  screen: str | None = None) -> MaterialAnswer:
    """Fit one structure (and y per adsorbate, one pore volume) to the isotherms of one material;
    ``screen`` names a fluid-conditioned surrogate (``cnn-cond``) that picks the scan runs' starts."""
    from invtoolkit.core.space import GridSpace
    from invtoolkit.search.chain import Chain

    files = [as_measured(t) for t in (targets if isinstance(targets, (list, tuple)) else [targets])]
    settings = FitSettings(budget=budget, time_limit=time_limit, seed=seed, y=y,
                           y_range=tuple(y_range) if y_range else None, progress=progress,
                           screen=Screen(screen) if screen else None)
    return answer_files(files, Chain.parse(chain), settings, space=GridSpace.parse(grid_size),
                        lattice_spacing=lattice_spacing, keep=keep)
