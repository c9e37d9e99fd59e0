"""A pyGAPS ``PointIsotherm`` object -> :class:`~invtoolkit.parsing.formats.RawIsotherm`.

pyGAPS users hold isotherms as objects, not files: this reads one in the units it
carries (pressure mode and unit, loading basis and unit, material basis and unit), so
:func:`invtoolkit.parsing.measured.measured_from_raw` converts it exactly as it would the AIF
file it came from. pyGAPS itself is not imported: anything with a ``data_raw`` table
and pyGAPS' unit attributes is read.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.parsing.formats import RawIsotherm
from invtoolkit.core.pressure import ADSORPTION, DESORPTION

P0_COLUMN = "pressure_saturation"  # what pyGAPS' AIF reader calls the file's p0 column


def measured_from_pygaps(isotherm) -> RawIsotherm:
    """The points of a pyGAPS PointIsotherm as written in its units, branches kept.

    ``pressure_mode`` "relative" (or "relative%", divided by 100) gives relative
    pressures; "absolute" keeps ``pressure_unit`` and the ``pressure_saturation``
    column, if any, as the p0 column. The loading unit is written the way pyGAPS
    writes it in an AIF file (``mmol/g``, ``cm3(STP)/g``, ``fraction mass``).
    """
    data = getattr(isotherm, "data_raw", None)
    if data is None or not hasattr(isotherm, "pressure_key"):
        raise InputError(f"expected a pyGAPS PointIsotherm, got {type(isotherm).__name__} "
                         "(a ModelIsotherm has no measured points)")
    name = f"pyGAPS isotherm {getattr(isotherm, 'material', '?')} / {getattr(isotherm, 'adsorbate', '?')}"
    try:
        pressures = np.asarray(data[isotherm.pressure_key], dtype=np.float64)
        amounts = np.asarray(data[isotherm.loading_key], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{name}: no numeric pressure/loading columns") from None
    if "branch" in data:
        branches = np.where(np.asarray(data["branch"]).astype(bool), DESORPTION, ADSORPTION).astype(np.int8)
    else:
        branches = np.full(len(pressures), ADSORPTION, np.int8)
    mode = str(getattr(isotherm, "pressure_mode", "absolute") or "absolute").lower()
    relative = mode.startswith("relative")
    if mode == "relative%":
        pressures = pressures / 100.0
    p0 = None
    if not relative and P0_COLUMN in data:
        p0 = np.asarray(data[P0_COLUMN], dtype=np.float64)
    meta = {
        "adsorbate": _text(getattr(isotherm, "adsorbate", None)),
        "material": _text(getattr(isotherm, "material", None)),
        "temperature": float(isotherm.temperature) if getattr(isotherm, "temperature", None) is not None else None,
        "units_temperature": "K",  # pyGAPS' .temperature is in K whatever temperature_unit says
        "units_pressure": "relative" if relative else str(isotherm.pressure_unit),
        "units_loading": loading_label(isotherm),
        "loading_basis": getattr(isotherm, "loading_basis", None),  # volume_liquid: not gas at STP
        "source": name,
        "format": "pygaps-object",
    }
    return RawIsotherm(pressures, amounts, branches, relative, p0, meta)


def loading_label(isotherm) -> str | None:
    """pyGAPS' loading unit as one label, spelt as its AIF writer spells it."""
    basis = getattr(isotherm, "loading_basis", None)
    material_basis = getattr(isotherm, "material_basis", None)
    if basis == "fraction":
        return f"fraction {material_basis}"
    if basis == "percent":
        return f"% {material_basis}"
    unit, material_unit = getattr(isotherm, "loading_unit", None), getattr(isotherm, "material_unit", None)
    if unit and material_unit:
        return f"{unit}/{material_unit}"
    return unit


def _text(value):
    """pyGAPS Adsorbate/Material objects print as their names."""
    return None if value is None else str(value)
