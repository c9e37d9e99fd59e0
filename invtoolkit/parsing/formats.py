"""Isotherm files: the parsed form readers hand over, and AIF output.

Readers (the ``target_reader`` plugins, built-ins in ``invtoolkit_plugins.readers``)
parse a file into a :class:`RawIsotherm`: the numbers and unit names as written.
:func:`invtoolkit.parsing.measured.measured_from_raw` turns it into points the model can be
fitted to. :func:`write_aif` writes an isotherm in relative pressure as an AIF file
(the Adsorption Information File of Evans et al., Langmuir 2021, a CIF dialect,
written with ``gemmi.cif``); :func:`write_result_aif` writes an inversion's best
grid's isotherm, in the measured file's loading unit when the target was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.fileio import atomic_path
from invtoolkit.core.pressure import ADSORPTION, DESORPTION

AIF_VERSION = "1.0"  # the version written by this module (tags below)
# Accepted spellings, oldest first: the AIF dictionary renamed several tags over time.
AIF_AMOUNT_COLUMNS = ("amount", "loading", "loading_absolute", "loading_excess")
AIF_ADSORPTIVE_TAGS = ("_exptl_adsorptive", "_adsorptive_name")
AIF_MATERIAL_TAGS = ("_adsnt_material_name", "_adsnt_material_id", "_sample_material_id")
AIF_LOADING_UNIT_TAGS = ("_units_loading", "_units_sorbed_amount")


@dataclass
class RawIsotherm:
    """A parsed isotherm file: points in file order, values and units as written.

    ``pressures`` are relative when ``relative`` is true, else absolute in
    ``metadata["units_pressure"]``; ``p0`` is the file's per-point saturation
    pressure column (same unit) or None. ``metadata``: adsorbate, material,
    temperature, units_temperature, units_pressure, units_loading, units_mass (what a
    loading unit without a per-what is per), loading_basis (pyGAPS), source, format, notes (the reader's).
    Points are in the reader's order (AIF: the adsorption loop's rows, then the
    desorption loop's): notes name a point by its branch and row in that order.
    """

    pressures: np.ndarray
    amounts: np.ndarray
    branches: np.ndarray  # ADSORPTION (0) / DESORPTION (1) per point
    relative: bool
    p0: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def has_desorption(self) -> bool:
        return bool((np.asarray(self.branches) == DESORPTION).any())


def branches_from_order(pressures: np.ndarray) -> np.ndarray:
    """Adsorption up to the highest pressure, desorption after it."""
    top = int(np.argmax(pressures))
    out = np.full(len(pressures), ADSORPTION, np.int8)
    out[top + 1 :] = DESORPTION
    return out


# -- writing ---------------------------------------------------------------------------


def write_aif(path, pressures, amounts, branches=None, metadata: dict | None = None) -> Path:
    """Write an isotherm in relative pressure as an AIF file (atomically); returns the path.

    ``branches`` marks desorption points (1) apart from adsorption ones (0); by
    default a point is on desorption once the pressure starts falling.
    ``metadata`` keys: ``material``, ``adsorbate``, ``temperature`` (K),
    ``units_loading`` (default ``fraction``), ``method`` (default ``simulation``),
    and any other key, written as ``_invtoolkit_<key>``.
    """
    from gemmi import cif

    path = Path(path)
    pressures = np.asarray(pressures, dtype=np.float64).reshape(-1)
    amounts = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if len(pressures) != len(amounts):
        raise InputError(f"{path}: {len(pressures)} pressures but {len(amounts)} amounts")
    if branches is None:
        branches = branches_from_order(pressures)
    branches = np.asarray(branches).reshape(-1)
    meta = dict(metadata or {})

    doc = cif.Document()
    block = doc.add_new_block(_block_name(meta.get("material") or path.stem))
    block.set_pair("_audit_aif_version", cif.quote(AIF_VERSION))
    block.set_pair("_audit_creation_method", cif.quote("invtoolkit"))
    block.set_pair("_exptl_method", cif.quote(str(meta.pop("method", "simulation"))))
    block.set_pair("_exptl_isotherm_type", cif.quote("absolute"))
    adsorbate = str(meta.pop("adsorbate", None) or "lattice fluid")
    for tag in AIF_ADSORPTIVE_TAGS:  # old and new spellings, for old and new readers
        block.set_pair(tag, cif.quote(adsorbate))
    temperature = meta.pop("temperature", None)
    if temperature is not None:
        block.set_pair("_exptl_temperature", f"{float(temperature):.6g}")
    material = str(meta.pop("material", None) or path.stem)
    block.set_pair("_adsnt_material_name", cif.quote(material))
    block.set_pair("_sample_material_id", cif.quote(material))
    block.set_pair("_units_temperature", "K")
    block.set_pair("_units_pressure", cif.quote("relative"))
    block.set_pair("_units_loading", cif.quote(str(meta.pop("units_loading", None) or "fraction")))
    for key, val in meta.items():
        if val is None:
            continue
        block.set_pair(f"_invtoolkit_{_tag_part(key)}", cif.quote(str(val)))
    for prefix, which in (("_adsorp_", ADSORPTION), ("_desorp_", DESORPTION)):
        mask = branches == which
        if not mask.any():
            continue
        loop = block.init_loop(prefix, ["pressure", "amount"])
        loop.set_all_values([[f"{p:.8g}" for p in pressures[mask]], [f"{a:.8g}" for a in amounts[mask]]])
    with atomic_path(path) as tmp:
        doc.write_file(str(tmp))
    return path


def write_result_aif(path, result, *, chain: str | None = None, fit=None) -> Path:
    """The best grid's simulated isotherm of a ChainResult as AIF.

    For a measured target (``fit``: a :class:`invtoolkit.fitting.answer.FileFit`) the
    curve at the measured pressures times the fitted capacity, in the file's
    loading unit, with the fitted parameters; else the filled fraction on the
    simulator's schedule (the full loop when simulated).
    """
    if not len(result.population):
        raise InputError(f"{path}: no verified grid to write")
    curve = np.asarray(result.curves[0], dtype=np.float64)
    meta = {"material": "invtoolkit best grid", "chain": chain,
            "porosity": f"{float(result.population.grids[0].mean()):.4g}"}
    if fit is not None:
        measured = fit.measured
        meta.update({"adsorbate": measured.fluid.name, "temperature": measured.T,
                     "units_loading": measured.unit or "as measured", "TC": f"{measured.fluid.TC:.6g}",
                     "y": f"{fit.y:.6g}", "capacity": f"{fit.capacity:.6g}", "mae": f"{fit.mae:.6g}",
                     "relative_mae": f"{fit.relative_mae:.6g}", "normalization": measured.normalization})
        return write_aif(path, measured.pressures, fit.capacity * curve[1:], measured.branches, meta)
    from invtoolkit.core.pressure import PressureSchedule

    steps = result.target.schedule.steps
    schedule = PressureSchedule(steps, adsorption_only=len(curve) == steps + 1)
    if len(schedule) != len(curve):
        raise InputError(f"{path}: {len(curve)} simulated points fit no {steps}-step schedule")
    meta.update({"units_loading": "fraction" if result.target.normalization == "pore" else "per site",
                 "normalization": result.target.normalization, "mae": f"{float(result.population.errors[0]):.6g}"})
    return write_aif(path, schedule.pressures, curve, schedule.branches, meta)


def _block_name(text: str) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text)).strip("_")
    return name or "isotherm"


def _tag_part(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(text).lower())
