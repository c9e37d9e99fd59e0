"""Measured isotherms as instruments write them -> points the lattice model is fitted to.

A reader parses a file into a :class:`~invtoolkit.formats.RawIsotherm` (numbers and
unit names as written); :func:`measured_from_raw` makes it a :class:`MeasuredIsotherm`:
temperature in K and pressures as p/p0 (units through pint), p0 from the file's p0
column, else ``--p0``, else the fluid library at T; the adsorbate resolved to its
critical temperature (:mod:`invtoolkit.fluids`). Noise is handled the way the data
allow and every change is noted: points with p/p0 <= 0 or > 1 are dropped, pressures
are sorted within a branch, negative and repeated points are kept as measured.
Refusals carry the true reason in one line (supercritical, too few points, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.fluids import Fluid, resolve_fluid
from invtoolkit.pressure import ADSORPTION, DESORPTION, PressurePath

MIN_ADSORPTION_POINTS = 3
RELATIVE_UNITS = {"relative", "p/p0", "p/po", "rh", "relative pressure", "none", "", "1", "-"}


@dataclass
class MeasuredIsotherm:
    """Measured points in path order (adsorption rising, then desorption falling), in p/p0.

    Amounts stay in the file's loading unit ``unit``: the fit supplies the capacity.
    """

    pressures: np.ndarray
    amounts: np.ndarray
    n_adsorption: int
    T: float  # K
    fluid: Fluid
    unit: str | None
    p0_source: str
    source: str = "isotherm"
    material: str | None = None
    p0: float | None = None  # Pa (median over points) when known
    normalization: str = "pore"
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> PressurePath:
        """The measured points as a pressure path (what the objective scores)."""
        return PressurePath(self.pressures, self.n_adsorption)

    @property
    def simulation_path(self) -> PressurePath:
        """RH = 0 (empty pores), then every measured point: what the simulator runs.

        Adsorption starts from the empty state, so the first measured point lies on
        the least fixed point above it (path independence, DESIGN.md §1).
        """
        return PressurePath(np.concatenate([[0.0], self.pressures]), self.n_adsorption + 1)

    @property
    def branches(self) -> np.ndarray:
        return self.path.branches

    @property
    def has_desorption(self) -> bool:
        return self.n_adsorption < len(self.pressures)

    def describe(self) -> dict:
        return {"adsorbate": self.fluid.name, "T": self.T, "TC": self.fluid.TC, "unit": self.unit,
                "points": int(len(self.pressures)), "points_adsorption": int(self.n_adsorption),
                "p0_source": self.p0_source, "material": self.material}


def measured_from_raw(raw, *, tc: float | None = None, p0: float | None = None,
                      normalization: str = "pore", loading_unit: str | None = None) -> MeasuredIsotherm:
    """A parsed file -> a MeasuredIsotherm (units, p0, fluid, noise; see the module)."""
    meta = raw.metadata
    src = meta.get("source", "isotherm")
    T = temperature_kelvin(meta.get("temperature"), meta.get("units_temperature"), src)
    fluid = _fluid(meta.get("adsorbate"), tc, src)
    try:
        fluid.check_subcritical(T)
    except InputError as exc:
        raise InputError(f"{src}: {exc}") from None
    notes: list[str] = []
    if meta.get("units_temperature") in (None, ""):
        notes.append(f"temperature {T:g} has no unit: read as K")
    relative, p0_pa, p0_source = _relative_pressures(raw, fluid, T, p0, src)
    pressures, amounts, branches = _clean(relative, np.asarray(raw.amounts, float), np.asarray(raw.branches),
                                          src, notes)
    ads = branches == ADSORPTION
    return MeasuredIsotherm(
        pressures=pressures, amounts=amounts, n_adsorption=int(ads.sum()), T=T, fluid=fluid,
        unit=loading_unit or meta.get("units_loading"), p0_source=p0_source, source=src, material=meta.get("material"),
        p0=p0_pa, normalization=normalization, notes=notes,
    )


def _fluid(adsorbate, tc, src) -> Fluid:
    try:
        return resolve_fluid(adsorbate, tc=tc)
    except InputError as exc:
        raise InputError(f"{src}: {exc}") from None


# -- units --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _units():
    import pint

    return pint.UnitRegistry()


def _quantity(value, unit: str, kind: str, src):
    """``value`` in ``unit`` as a pint quantity of dimension ``kind`` ("[pressure]", ...)."""
    import pint

    ureg = _units()
    spelled = {"torr": "torr", "c": "degC", "°c": "degC", "deg c": "degC", "celsius": "degC", "k": "K",
               "mm hg": "mmHg", "mmhg": "mmHg"}.get(unit.strip().lower(), unit.strip())
    try:
        q = ureg.Quantity(value, spelled)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError,
            ValueError, AssertionError):
        raise InputError(f"{src}: unknown {kind.strip('[]')} unit '{unit}'") from None
    if not q.check(kind):
        raise InputError(f"{src}: '{unit}' is not a {kind.strip('[]')} unit")
    return q


def temperature_kelvin(value, unit, src) -> float:
    """The file's temperature in K (unit K or °C; no unit: K)."""
    if value is None or isinstance(value, str):
        raise InputError(f"{src}: the file gives no temperature (needed for p/p0 and the model's T)")
    if unit in (None, ""):
        kelvin = float(value)
    else:
        kelvin = float(_quantity(float(value), str(unit), "[temperature]", src).to("K").magnitude)
    if not kelvin > 0:
        raise InputError(f"{src}: temperature {value} {unit or ''} is not above absolute zero".rstrip())
    return kelvin


def pressure_pascal(values, unit: str, src) -> np.ndarray:
    return np.asarray(_quantity(np.asarray(values, float), unit, "[pressure]", src).to("Pa").magnitude, float)


def _relative_pressures(raw, fluid: Fluid, T: float, p0, src):
    """(p/p0 per point, p0 in Pa or None, where p0 came from)."""
    unit = str(raw.metadata.get("units_pressure") or "relative")
    pressures = np.asarray(raw.pressures, float)
    if raw.relative or unit.strip().lower() in RELATIVE_UNITS:
        if p0 is not None:
            raise InputError(f"{src}: pressures are already relative (p/p0): --p0 does not apply")
        return pressures, None, "relative pressures in the file"
    if p0 is not None:
        if not p0 > 0:
            raise InputError(f"--p0 must be positive, got {p0:g}")
        return pressures / p0, _maybe_pascal(p0, unit, src), f"--p0 {p0:g} {unit}"
    if raw.p0 is not None:
        column = np.asarray(raw.p0, float)
        if not np.all(column > 0):
            raise InputError(f"{src}: the p0 column must be positive")
        return pressures / column, _maybe_pascal(float(np.median(column)), unit, src), "p0 column of the file"
    try:
        sat, how = fluid.saturation_pressure(T)
    except InputError as exc:
        raise InputError(f"{src}: pressures in {unit} without a p0 column: {exc}") from None
    return pressure_pascal(pressures, unit, src) / sat, sat, f"{how} at {T:g} K: {sat:.6g} Pa"


def _maybe_pascal(value, unit, src):
    try:
        return float(pressure_pascal([value], unit, src)[0])
    except InputError:  # a unit pint does not know: p0 still divides, only the Pa value is missing
        return None


# -- noise ----------------------------------------------------------------------------------


def _clean(p, a, branches, src, notes):
    """Drop points outside 0 < p/p0 <= 1, order each branch, refuse what cannot be fitted."""
    if len(p) != len(a):
        raise InputError(f"{src}: {len(p)} pressures but {len(a)} amounts")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(a))):
        raise InputError(f"{src}: pressures and amounts must be finite numbers (found NaN or infinity)")
    if not (branches == ADSORPTION).any():
        raise InputError(f"{src}: no adsorption loop (the file has desorption points only)")
    keep = (p > 0) & (p <= 1)
    if (~keep).any():
        parts = [f"{n} point(s) {where}" for n, where in ((int((p <= 0).sum()), "at p/p0 <= 0"),
                                                          (int((p > 1).sum()), "above p/p0 = 1")) if n]
        notes.append(f"dropped {' and '.join(parts)} (the model covers 0 < p/p0 <= 1)")
    p, a, branches = p[keep], a[keep], branches[keep]
    ads, des = branches == ADSORPTION, branches == DESORPTION
    if ads.sum() < MIN_ADSORPTION_POINTS:
        raise InputError(f"{src}: {int(ads.sum())} adsorption point(s) with 0 < p/p0 <= 1, "
                         f"need at least {MIN_ADSORPTION_POINTS}")
    top = p[ads].max()
    above = des & (p > top)
    if above.any():  # measured above every adsorption point: the path reached it rising
        branches = np.where(above, ADSORPTION, branches)
        ads, des = branches == ADSORPTION, branches == DESORPTION
        notes.append(f"{int(above.sum())} desorption point(s) above the highest adsorption pressure "
                     "moved to the adsorption branch")
    p_ads, a_ads = _sorted_branch(p[ads], a[ads], rising=True, name="adsorption", notes=notes)
    p_des, a_des = _sorted_branch(p[des], a[des], rising=False, name="desorption", notes=notes)
    if (a < 0).any():
        notes.append(f"{int((a < 0).sum())} negative amount(s) kept as measured")
    n_ads = len(p_ads)
    pressures = np.concatenate([p_ads, p_des])
    branch_out = np.concatenate([np.full(n_ads, ADSORPTION, np.int8), np.full(len(p_des), DESORPTION, np.int8)])
    return pressures, np.concatenate([a_ads, a_des]), branch_out


def _sorted_branch(p, a, *, rising, name, notes):
    order = np.argsort(p if rising else -p, kind="stable")
    moved = int((order != np.arange(len(p))).sum())
    if moved:
        notes.append(f"{name}: {moved} point(s) out of pressure order, sorted within the branch")
    return p[order], a[order]
